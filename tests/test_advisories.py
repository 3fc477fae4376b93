"""A pack's `advisories:` (pack block): notes that every batch of the given years scored with the
pack carries, in the JSON `notes`, on the scorecard and printed by `score`. The QĐ 28/2025 packs
use it to say, from 2026, that the law moves (Luật Phòng, chống ma túy 2025, in force 1/7/2026)."""
from __future__ import annotations

import json

import openpyxl
import pytest
from lmtest import QD28_TEST, identity, qd28_values

from lanhmanh.engine.model.loader import load_pack
from lanhmanh.scorecards.outputs.presentation import NOTE_LABEL

ADVISORY = ('  advisories:\n'
            '    - {from_year: 2026, to_year: 2027, text: "Lưu ý thử: đối chiếu với văn bản mới"}\n'
            '    - from_year: 2030\n'
            '      text: >-\n'
            '        Lưu ý thứ hai,\n'
            '        gấp dòng.\n')


def with_advisories(files, name: str, block: str = ADVISORY):
    text = QD28_TEST.read_text(encoding="utf-8")
    head = "  status: official\n"
    assert text.count(head) == 1
    return files.rules(name, text.replace(head, head + block))


def rows(year: int, n: int = 2) -> list[dict]:
    return [{**identity(i, year=year), **qd28_values(resident_users_untreated=i - 1)} for i in range(1, n + 1)]


@pytest.mark.parametrize("ref", ["qd-28-2025", "qd-28-2025-literal"])
def test_the_qd28_packs_advise_from_2026_that_the_law_moves(ref):
    pack, _ = load_pack(ref)
    assert pack.advisories_for(2025) == [] and pack.advisories_for(None) == []
    for year in (2026, 2031):
        [text] = pack.advisories_for(year)
        assert "120/2025/QH15" in text and "01/7/2026" in text and "152/QĐ-TTg" in text
        assert "đối chiếu lại" in text
    # the reading says it too
    assert "120/2025/QH15" in pack.reading and "152/QĐ-TTg ngày 20/01/2026" in pack.reading


def test_advisories_apply_to_their_years_only(files):
    pack, problems = load_pack(with_advisories(files, "adv.yaml"))
    assert not [p for p in problems if p.severity == "error"]
    assert [(a.from_year, a.to_year) for a in pack.advisories] == [(2026, 2027), (2030, None)]
    assert pack.advisories_for(2025) == []
    assert pack.advisories_for(2026) == pack.advisories_for(2027) == ["Lưu ý thử: đối chiếu với văn bản mới"]
    assert pack.advisories_for(2028) == []
    assert pack.advisories_for(2030) == pack.advisories_for(2099) == ["Lưu ý thứ hai, gấp dòng."]


def test_an_advisory_ending_before_it_starts_is_an_error(run_cli, files):
    path = with_advisories(files, "bad.yaml", '  advisories: [{from_year: 2026, to_year: 2024, text: "x"}]\n')
    result = run_cli("check", str(path))
    assert result.exit_code == 3, result.output
    assert "advisory to_year 2024 is before its from_year 2026" in result.output


def test_an_advisory_without_text_or_year_is_an_error(run_cli, files):
    path = with_advisories(files, "bad.yaml", '  advisories: [{from_year: 2026}]\n')
    assert run_cli("check", str(path)).exit_code == 3
    path = with_advisories(files, "bad2.yaml", '  advisories: [{text: "x"}]\n')
    assert run_cli("check", str(path)).exit_code == 3


def score(run_cli, inp, rules: str):
    return run_cli("score", str(inp), "--rules", rules, "--unit-list", "none", "--json", "o.json",
                   "--out", "o.xlsx", "--no-db")


def summary_note(path) -> str:
    ws = openpyxl.load_workbook(path).worksheets[0]
    return str(ws.cell(1, 1).value or "")


def test_a_2026_batch_carries_the_advisory_everywhere(run_cli, files, workdir):
    [text] = load_pack("qd-28-2025")[0].advisories_for(2026)
    result = score(run_cli, files.csv("in.csv", rows(2026)), "qd-28-2025")
    assert result.exit_code == 0, result.output
    doc = json.loads((workdir / "o.json").read_text(encoding="utf-8"))
    assert doc["notes"] == [text]
    assert f"warning: pack qd-28-2025 2025.1, batch 2026: {text}" in result.stderr
    assert summary_note(workdir / "o.xlsx") == f"{NOTE_LABEL}: {text}"
    # the workbook's note is among what verify re-derives
    verified = run_cli("verify", "o.xlsx", str(files.path("in.csv")), "--rules", "qd-28-2025", "--unit-list", "none")
    assert verified.exit_code == 0, verified.output


def test_a_2025_batch_has_no_advisory(run_cli, files, workdir):
    result = score(run_cli, files.csv("in.csv", rows(2025)), "qd-28-2025-literal")
    assert result.exit_code == 0, result.output
    assert json.loads((workdir / "o.json").read_text(encoding="utf-8"))["notes"] == []
    assert "120/2025/QH15" not in result.stderr
    assert NOTE_LABEL not in summary_note(workdir / "o.xlsx")


def test_a_pack_without_advisories_gives_no_note_in_2026(run_cli, files, workdir):
    result = score(run_cli, files.csv("in.csv", rows(2026)), str(QD28_TEST))
    assert result.exit_code == 0, result.output
    assert json.loads((workdir / "o.json").read_text(encoding="utf-8"))["notes"] == []


def test_a_variant_takes_its_base_advisories_unless_it_has_its_own(files):
    base = with_advisories(files, "base.yaml")
    head = ('pack: {id: adv-variant, extends: base.yaml, title: T, version: "1", status: official, '
            'effective_from: 2025-08-24%s}\n')
    inherits = files.rules("v1.yaml", head % "")
    own = files.rules("v2.yaml", head % ', advisories: [{from_year: 2026, text: "Của biến thể"}]')
    assert load_pack(base)[0].advisories_for(2026) == ["Lưu ý thử: đối chiếu với văn bản mới"]
    assert load_pack(inherits)[0].advisories_for(2026) == ["Lưu ý thử: đối chiếu với văn bản mới"]
    assert load_pack(own)[0].advisories_for(2026) == ["Của biến thể"]
    assert load_pack(own)[0].advisories_for(2030) == ["Của biến thể"]


def test_diff_lists_a_changed_advisory_as_a_text_change(run_cli, files):
    base = files.rules("base.yaml", QD28_TEST.read_text(encoding="utf-8"))
    new = with_advisories(files, "new.yaml")
    result = run_cli("diff", str(base), str(new), "--format", "json")
    assert result.exit_code == 0, result.output
    rules = json.loads(result.stdout)["rules"]
    assert rules["effect"] == 0
    assert [(c["kind"], c["field"], c["old"], c["effect"]) for c in rules["changes"]] == \
        [("pack", "advisories", "(none)", False)]
    assert rules["changes"][0]["new"].startswith("2026–2027: Lưu ý thử")
