"""The Vietnamese interface: the catalogue is complete and compiled, messages are wrapped for it, and
the command line speaks Vietnamese by default and English on request."""
from __future__ import annotations

import ast
import gettext
import re
import sys
from pathlib import Path

import pytest

from lanhmanh import i18n
from lanhmanh.cli import cli

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))
import messages  # noqa: E402  (tools/messages.py)

EXAMPLES = ROOT / "examples"


@pytest.fixture(scope="module")
def catalogue() -> dict[str, str]:
    return messages.translations([messages.PO])


@pytest.fixture(scope="module")
def wanted() -> dict[str, list[tuple[str, int]]]:
    return messages.all_messages()


def test_every_message_has_its_vietnamese_translation():
    gaps = [f"{where}:{line}: {m!r}" for m, where, line in messages.missing()]  # the code's and --help's
    assert not gaps, (f"{len(gaps)} message(s) without a Vietnamese translation; add them to "
                      f"{messages.PO.relative_to(ROOT)} (python tools/messages.py update, then translate):\n"
                      + "\n".join(gaps[:40]))


def test_click_messages_users_meet_are_translated(catalogue):
    for m in ("Usage:", "Options", "Commands", "Show this message and exit.", "Error: {message}",
              "Missing argument", "No such option {name!r}.", "Invalid value for {param_hint}: {message}",
              "{value!r} is not one of {choices}.", "{name} {filename!r} does not exist.",
              "Try '{command} {option}' for help."):
        assert catalogue.get(m), m


def test_translations_keep_the_placeholders(catalogue):
    wrong = [(m, t) for m, t in catalogue.items() if messages.fields(m) != messages.fields(t)]
    assert not wrong, wrong[:10]
    percent = re.compile(r"%\(\w+\)s")
    assert not [(m, t) for m, t in catalogue.items() if set(percent.findall(m)) != set(percent.findall(t))]


def test_the_compiled_catalogue_is_the_po_file(catalogue):
    with messages.MO.open("rb") as f:
        compiled = gettext.GNUTranslations(f)
    held = {k: v for k, v in compiled._catalog.items() if k}  # type: ignore[attr-defined]
    assert held == catalogue, "locale/vi/LC_MESSAGES/lanhmanh.mo is stale: run python tools/messages.py compile"


def test_no_message_left_in_the_catalogue_that_nothing_says(catalogue, wanted):
    stale = sorted(set(catalogue) - set(wanted))
    assert not stale, f"translations of messages no longer in the code (run tools/messages.py update): {stale[:10]}"


# ---- messages wrapped for translation ----------------------------------------------------------------

_SAYERS = {"echo", "secho", "warn", "fail"}
_ROOTS = {"LanhmanhError", "LanhmanhWarning", "ClickException", "BadParameter", "UsageError", "InputError",
          "OutputError", "RuleError", "UnreadableInputs", "Problem", "Rejection", "RowWarning", "CellError",
          "HistoryError", "PreviousError", "TargetsError", "DurableError", "ExprSyntaxError"}
_WORDS = re.compile(r"[A-Za-z]{3,} [A-Za-z]{2,}")


def _english(node: ast.expr) -> bool:
    """A literal text with English words in it (an f-string's literal parts count)."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return bool(_WORDS.search(node.value))
    if isinstance(node, ast.JoinedStr):
        return any(_english(v) for v in node.values if isinstance(v, ast.Constant))
    if isinstance(node, ast.BinOp):
        return _english(node.left) or _english(node.right)
    return False


def test_no_message_said_without_translation():
    """Text printed, raised or warned with is wrapped in `_()`: an English literal handed straight to
    click.echo, an error or a warning is a message the catalogue cannot translate."""
    found = []
    for path in messages.package_files():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
            if name not in _SAYERS and name not in _ROOTS:
                continue
            args = list(node.args) + [k.value for k in node.keywords if k.arg in ("message", "reason", "hint")]
            for a in args:
                if _english(a):
                    found.append(f"{path.relative_to(ROOT)}:{node.lineno}: {name}({ast.unparse(a)[:70]})")
    assert not found, "messages not wrapped in _():\n" + "\n".join(found)


# ---- what users see ------------------------------------------------------------------------------------

_ENGLISH = re.compile(r"\b(the|row|rows|column|value|unit|units|scored|rejected|must|not|written|warning|"
                      r"error|engine|file|sheet|below|above|unknown|duplicate|number)\b")


def _english_lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if _ENGLISH.search(re.sub(r"'[^']*'|\([a-z_]+\)|\S+\.csv", "", line))]


def test_score_speaks_vietnamese_by_default(runner, workdir):
    r = runner.invoke(cli, ["score", str(EXAMPLES / "bad-rows.csv"), "--rules", "xa-lanh-manh", "--no-db"],
                      env={"LANHMANH_LANG": None})
    assert r.exit_code == 1, r.output
    out = r.output
    assert "đã chấm điểm 3 đơn vị, 5 dòng bị loại" in out
    assert "dòng 4" in out and "cột new_drug_addicts" in out
    assert not _english_lines(out), _english_lines(out)


def test_score_help_is_vietnamese(runner):
    r = runner.invoke(cli, ["score", "--help"], env={"LANHMANH_LANG": None})
    assert r.exit_code == 0
    assert "Cách dùng:" in r.output and "Tùy chọn:" in r.output
    assert "Chấm điểm mọi đơn vị" in r.output
    assert "Hiện hướng dẫn này rồi thoát." in r.output
    assert not re.search(r"\b(the|Write|Score|Show)\b", r.output), r.output


def test_english_on_request(runner, workdir):
    args = ["score", str(EXAMPLES / "bad-rows.csv"), "--rules", "xa-lanh-manh", "--no-db"]
    by_env = runner.invoke(cli, args, env={"LANHMANH_LANG": "en"})
    by_option = runner.invoke(cli, ["--lang", "en", *args], env={"LANHMANH_LANG": None})
    on_command = runner.invoke(cli, [*args, "--lang", "en"], env={"LANHMANH_LANG": "vi"})
    for r in (by_env, by_option, on_command):
        assert r.exit_code == 1
        assert "3 unit(s) scored, 5 row(s) rejected" in r.output
    help_en = runner.invoke(cli, ["score", "--lang", "en", "--help"], env={"LANHMANH_LANG": "vi"})
    assert "Usage:" in help_en.output and "Score every unit in INPUT files" in help_en.output


def test_exit_codes_and_json_do_not_change_with_the_language(runner, workdir):
    args = ["score", str(EXAMPLES / "bad-rows.csv"), "--rules", "xa-lanh-manh", "--no-db", "--json", "-"]
    vi = runner.invoke(cli, args, env={"LANHMANH_LANG": "vi"})
    en = runner.invoke(cli, args, env={"LANHMANH_LANG": "en"})
    assert vi.exit_code == en.exit_code == 1
    import json

    doc_vi, doc_en = json.loads(vi.stdout), json.loads(en.stdout)
    assert doc_vi.keys() == doc_en.keys()
    assert [u["unit_code"] for u in doc_vi["units"]] == [u["unit_code"] for u in doc_en["units"]]
    assert [u["class"] for u in doc_vi["units"]] == [u["class"] for u in doc_en["units"]]


@pytest.mark.parametrize("value, expected", [("vi", "vi"), ("en", "en"), ("EN", "en"), ("vi_VN.UTF-8", "vi"),
                                             ("en-US", "en"), ("fr", None), ("", None), (None, None)])
def test_language_settings(value, expected):
    assert i18n.chosen(value) == expected


def test_an_unknown_language_setting_speaks_vietnamese(monkeypatch):
    monkeypatch.setenv("LANHMANH_LANG", "fr")
    assert i18n.set_language() == "vi"
    assert i18n._("Usage:") == "Cách dùng:"
