"""The council's guide (docs/huong-dan-su-dung.md) and the README stay true to the command line:
every `lanhmanh …` command they show names a real command and only its real options, and every
picture and link to another document exists."""
from __future__ import annotations

import re
import shlex
from pathlib import Path

import click
import pytest

from lanhmanh.cli import cli

ROOT = Path(__file__).resolve().parent.parent
DOCS = [ROOT / "docs" / "huong-dan-su-dung.md", ROOT / "README.md"]


def commands_in(doc: Path) -> list[tuple[int, list[str]]]:
    """(line, words) of every `lanhmanh …` line inside a fenced sh/bat block."""
    found, fenced = [], False
    for n, line in enumerate(doc.read_text(encoding="utf-8").splitlines(), start=1):
        if line.startswith("```"):
            fenced = not fenced and line[3:].strip() in ("sh", "bat", "console")
            continue
        text = line.strip().removeprefix("$ ")
        text = re.sub(r"^(\.venv[\\/](Scripts|bin)[\\/])", "", text)
        if fenced and text.startswith("lanhmanh "):
            found.append((n, shlex.split(text.split("  #")[0], posix=True)))
    return found


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: p.name)
def test_every_command_shown_is_real(doc):
    shown = commands_in(doc)
    assert shown, f"{doc.name} shows no lanhmanh command"
    for line, words in shown:
        name = words[1]
        if name.startswith("-"):
            continue  # `lanhmanh --help`
        command = cli.get_command(click.Context(cli), name)
        assert command is not None, f"{doc.name}:{line}: no command {name!r}"
        options = {o for p in command.params for o in [*p.opts, *p.secondary_opts]} | {"--help"}
        for word in words[2:]:
            if word.startswith("--"):
                option = word.split("=")[0]
                assert option in options, f"{doc.name}:{line}: `lanhmanh {name}` has no option {option}"


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: p.name)
def test_every_picture_and_document_linked_exists(doc):
    text = doc.read_text(encoding="utf-8")
    for target in re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", text):
        if target.startswith(("http://", "https://")):
            continue
        assert (doc.parent / target).exists(), f"{doc.name} links to {target}, which does not exist"


def test_the_readme_links_the_guide_in_its_first_lines():
    head = "\n".join((ROOT / "README.md").read_text(encoding="utf-8").splitlines()[:15])
    assert "docs/huong-dan-su-dung.md" in head


def test_every_command_module_is_listed_and_loads():
    # the commands are imported lazily by name (cli.COMMANDS): each entry loads a command of that name,
    # and every module of commands/ defining a command is listed
    from lanhmanh import cli as cli_module

    ctx = click.Context(cli)
    assert cli.list_commands(ctx) == sorted(cli_module.COMMANDS)
    for name in cli_module.COMMANDS:
        assert cli.get_command(ctx, name).name == name
    defined = {p.stem for p in (ROOT / "commands").glob("*.py")} - {"__init__", "common", "progress"}
    assert defined == {target.split(":")[0].rsplit(".", 1)[1] for target in cli_module.COMMANDS.values()}


# ---- the guide quotes what lanhmanh says (in Vietnamese, as a council sees it) ------------------------

GUIDE = ROOT / "docs" / "huong-dan-su-dung.md"


def test_the_summary_quoted_in_the_guide_is_what_score_prints(run_cli, vietnamese, workdir):
    text = GUIDE.read_text(encoding="utf-8")
    block = re.search(r"```\n(qd-28-2025 2025\.1 \(chính thức\).*?)\n```", text, re.S)
    assert block, "the guide no longer quotes the summary of the sample"
    r = run_cli("score", ROOT / "examples" / "nghe-an-2025-ma-tuy.xlsx", "--rules", "qd-28-2025",
                "--out", "ket-qua/nghe-an-2025.xlsx", "--no-db")
    assert r.exit_code == 0, r.output
    assert r.output.strip().splitlines() == block.group(1).splitlines()


def test_the_messages_the_guide_explains_are_messages_lanhmanh_says():
    """Each message quoted in the table of section 7: its words between the "…" are in the
    Vietnamese catalogue (with the placeholders of a message standing for the "…") or, for the
    cross-field checks, in the shipped packs' own messages."""
    import sys

    sys.path.insert(0, str(ROOT / "tools"))
    import messages

    said = [re.sub(r"\{[^}]*\}", "…", t) for t in messages.translations([messages.PO]).values()]
    said += [p.read_text(encoding="utf-8") for p in (ROOT / "rules").glob("*.yaml")]
    section = GUIDE.read_text(encoding="utf-8").split("## 7.")[1].split("## 8.")[0]
    rows = [line.split("|")[1] for line in section.splitlines() if line.startswith("| `")]
    assert len(rows) >= 15
    for cell in rows:
        for quoted in re.findall(r"`([^`]+)`", cell):
            if quoted.startswith("--"):  # an option named beside the message
                continue
            parts = [p.strip(" ,:") for p in quoted.split("…") if len(p.strip(" ,:")) >= 3]
            assert parts, quoted
            for part in parts:
                assert any(part in t for t in said), f"the guide quotes {quoted!r}: {part!r} is in no message"
