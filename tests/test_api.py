"""The library API (`lanhmanh.score`, `lanhmanh.load_pack`, `lanhmanh.api`): the examples of
docs/api.md run as written and print what the page says; typed errors with the exit codes of the
command line; nothing recorded in a history database unless `db` is given; the commands share
the options of a batch; `carry_over` is checked by the loader."""
from __future__ import annotations

import contextlib
import io
import os
import re
import tempfile
from collections import Counter
from pathlib import Path

import pytest

import lanhmanh
from lanhmanh import api
from lanhmanh.engine.batch.history import runs
from lanhmanh.engine.batch.previous import PreviousError
from lanhmanh.engine.language.problems import RuleFileError
from lanhmanh.errors import (
    InputError,
    LanhmanhError,
    LanhmanhWarning,
    RuleError,
    UnreadableInputs,
    UsageError,
)

REPO = Path(__file__).resolve().parent.parent
DOC = REPO / "docs" / "api.md"
MA_TUY = REPO / "examples" / "nghe-an-2025-ma-tuy.csv"
XLM_TEST = REPO / "tests" / "packs" / "xlm-test.yaml"


def documented_examples() -> list[tuple[str, str | None]]:
    """(code, the output the page shows after it, or None) for every ```python block of docs/api.md."""
    text = DOC.read_text(encoding="utf-8")
    out = []
    for m in re.finditer(r"```python\n(.*?)```\n(?:\nprints\n\n```\n(.*?)```)?", text, re.S):
        out.append((m.group(1), m.group(2)))
    return out


def matches(expected: str, printed: str) -> bool:
    """The printed lines are the expected ones; `…` in an expected line stands for any text."""
    want, got = expected.rstrip("\n").split("\n"), printed.rstrip("\n").split("\n")
    return len(want) == len(got) and all(
        re.fullmatch(".*".join(re.escape(part) for part in w.split("…")), g) for w, g in zip(want, got))


@pytest.mark.slow
def test_the_examples_of_the_api_page_run_and_print_what_it_says(tmp_path, monkeypatch):
    examples = documented_examples()
    assert len(examples) >= 6 and sum(1 for _, shown in examples if shown) >= 5
    monkeypatch.chdir(REPO)  # the page's examples run from the root of a checkout
    made = tmp_path / "made"
    made.mkdir()
    monkeypatch.setattr(tempfile, "mkdtemp", lambda *a, **k: str(made))
    namespace: dict = {}
    for code, shown in examples:
        printed = io.StringIO()
        with contextlib.redirect_stdout(printed):
            exec(compile(code, str(DOC), "exec"), namespace)
        if shown is not None:
            said = printed.getvalue()
            assert matches(shown, said), f"{code}\nprinted:\n{said}\nthe page says:\n{shown}"
    result = namespace["result"]
    assert len(result.units) == 130 and result.year == 2025
    assert (made / "nghe-an-2025.xlsx").is_file() and (made / "nghe-an-2025.json").is_file()
    # the runs went to the databases the examples named, never to the user's
    assert not Path(os.environ["LANHMANH_HISTORY"]).exists()


def test_score_the_sample_as_the_command_line_does():
    result = lanhmanh.score([str(MA_TUY)], rules="qd-28-2025")
    assert len(result.units) == 130 and not result.rejected
    assert (result.pack.id, result.pack.version, result.year) == ("qd-28-2025", "2025.1", 2025)
    assert Counter(r.outcome.class_id for r in result.units) == {"drug_free": 24, "type_1": 5, "type_2": 13,
                                                                  "type_3": 88}
    assert [p.outcome.class_id for p in result.provinces if p.outcome] == ["key_area"]
    assert result.inputs[0]["path"] == str(MA_TUY) and result.inputs[0]["rows"] == 131
    # one path alone is one input, not a list of characters
    assert len(lanhmanh.score(MA_TUY, rules="qd-28-2025", engine="python").units) == 130


def test_nothing_is_recorded_without_db_and_a_run_is_recorded_with_it(tmp_path):
    user_db = Path(os.environ["LANHMANH_HISTORY"])  # conftest: the "user's" database, in tmp_path
    lanhmanh.score([MA_TUY], rules="qd-28-2025")
    assert not user_db.exists()
    db = tmp_path / "runs.sqlite"
    lanhmanh.score([MA_TUY], rules="qd-28-2025", db=db)
    (run,) = runs(db)
    assert (run.pack_id, run.year, run.units) == ("qd-28-2025", 2025, 130)
    assert not user_db.exists()


def test_a_missing_input_raises_input_error_with_exit_code_4():
    with pytest.raises(InputError, match="no-such-file.csv: no such file or folder") as e:
        lanhmanh.score(["no-such-file.csv"], rules="qd-28-2025")
    assert e.value.exit_code == 4 and e.value.path == "no-such-file.csv"


def test_inputs_none_of_which_can_be_read_are_each_named(tmp_path):
    bad = [tmp_path / "a.csv", tmp_path / "b.csv"]
    for p in bad:
        p.write_text("", encoding="utf-8")
    with pytest.raises(UnreadableInputs) as e:
        lanhmanh.score(bad, rules="qd-28-2025")
    assert e.value.exit_code == 4 and [x.path for x in e.value.errors] == [str(p) for p in bad]


def test_an_unknown_pack_raises_rule_error_with_exit_code_3():
    with pytest.raises(RuleError, match="no rule file or pack named 'qd-28-2052'; did you mean 'qd-28-2025'") as e:
        lanhmanh.score([MA_TUY], rules="qd-28-2052")
    assert e.value.exit_code == 3
    with pytest.raises(RuleError):
        lanhmanh.load_pack("qd-28-2052")


def test_an_invalid_rule_file_raises_rule_file_error_with_its_problems(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("pack: [not, a, mapping]\n", encoding="utf-8")
    with pytest.raises(RuleFileError) as e:
        lanhmanh.load_pack(bad)
    assert isinstance(e.value, RuleError) and e.value.exit_code == 3 and e.value.problems


def test_a_pack_not_in_force_raises_usage_error_with_exit_code_2_unless_forced(tmp_path):
    last_year = tmp_path / "2024.csv"
    last_year.write_text(MA_TUY.read_text(encoding="utf-8-sig").replace(",40,2025,", ",40,2024,"), encoding="utf-8")
    with pytest.raises(UsageError, match="is in force from 2025-08-24; it does not apply to the 2024 batch") as e:
        lanhmanh.score([last_year], rules="qd-28-2025", unit_list="none")
    assert e.value.exit_code == 2
    with pytest.warns(LanhmanhWarning, match="--force: pack qd-28-2025 2025.1 is in force from 2025-08-24"):
        forced = lanhmanh.score([last_year], rules="qd-28-2025", unit_list="none", force=True)
    assert len(forced.units) == 130 and forced.year == 2024 and len(forced.notes) == 1


def test_other_usage_errors(tmp_path):
    with pytest.raises(UsageError, match="--year 2024, but the rows give the year 2025"):
        lanhmanh.score([MA_TUY], rules="qd-28-2025", year=2024)
    with pytest.raises(UsageError, match="give it together with --previous"):
        lanhmanh.score([MA_TUY], rules="qd-28-2025", crosswalk=tmp_path / "x.csv")
    with pytest.raises(UsageError) as e:
        lanhmanh.score([MA_TUY], rules="qd-28-2025", unit_list=tmp_path / "no-list.csv")
    assert e.value.argument == "unit_list"
    with pytest.raises(UsageError, match="unknown engine 'rete'"):
        lanhmanh.score([MA_TUY], rules="qd-28-2025", engine="rete")


def test_last_years_results_of_another_pack_speak_of_last_years_results(tmp_path):
    from lanhmanh.scorecards.outputs.json_out import result_dict, write_json_atomic

    lanh_manh = REPO / "examples" / "nghe-an-2025-lanh-manh.csv"
    other = tmp_path / "other.json"
    write_json_atomic(str(other), result_dict(lanhmanh.score([lanh_manh], rules="xa-lanh-manh")))
    with pytest.raises(PreviousError) as e:
        lanhmanh.score([MA_TUY], rules="qd-28-2025", previous=other)
    assert isinstance(e.value, UsageError) and e.value.exit_code == 2
    assert str(e.value).startswith(f"last year's results {other}: last year's results were made with the pack "
                                   "'xa-lanh-manh'")
    assert "--previous" not in str(e.value)


def test_every_error_is_a_lanhmanh_error_with_a_documented_exit_code():
    from lanhmanh.engine.batch.history import HistoryError
    from lanhmanh.engine.batch.targets import TargetsError
    from lanhmanh.engine.model.versions import AmbiguousVersions

    for cls, code in ((TargetsError, 2), (PreviousError, 2), (AmbiguousVersions, 3), (RuleFileError, 3),
                      (HistoryError, 4)):
        assert issubclass(cls, LanhmanhError) and cls.exit_code == code, cls


def test_the_steps_give_the_result_of_score(tmp_path):
    pack, intake = api.prepare([MA_TUY], "qd-28-2025")
    assert intake.year == 2025 and not intake.notes and intake.previous is None
    seen = []
    batch = api.score_intake(pack, intake, "python", progress=lambda units: (seen.append(u) or u for u in units))
    assert len(seen) == 131 and len(batch.units) == 130
    assert api.record(batch, tmp_path / "h.sqlite") == 1


def test_the_commands_that_read_a_batch_share_its_options():
    from lanhmanh.commands.explain import explain
    from lanhmanh.commands.score import score
    from lanhmanh.commands.verify import verify

    batch = {"rules", "engine", "unit_list", "year", "force", "previous", "crosswalk", "db"}
    for command in (score, verify, explain):
        assert batch <= {p.name for p in command.params}, command.name


@pytest.mark.parametrize("declared, message", [
    ("{new_drug_addicts_prev: new_drug_adicts}", "carry_over: unknown indicator 'new_drug_adicts'; did you mean "
                                                 "'new_drug_addicts'?"),
    ("{new_drug_addict_prev: new_drug_addicts}", "carry_over: unknown indicator 'new_drug_addict_prev'; did you "
                                                 "mean 'new_drug_addicts_prev'?"),
    ("{new_drug_addicts_prev: has_annual_plan}", "carry_over: 'has_annual_plan' is a boolean indicator; only "
                                                 "integer indicators (counts) are carried over"),
])
def test_carry_over_names_two_integer_indicators(tmp_path, declared, message):
    text = XLM_TEST.read_text(encoding="utf-8")
    assert "carry_over: {new_drug_addicts_prev: new_drug_addicts}" in text
    bad = tmp_path / "carry.yaml"
    bad.write_text(text.replace("{new_drug_addicts_prev: new_drug_addicts}", declared), encoding="utf-8")
    with pytest.raises(RuleFileError) as e:
        lanhmanh.load_pack(bad)
    assert any(message in p.message for p in e.value.problems), e.value.problems


def test_the_shipped_packs_declare_what_they_carry_over():
    assert lanhmanh.load_pack("xa-lanh-manh").carry_over == {"new_drug_addicts_prev": "new_drug_addicts"}
    assert lanhmanh.load_pack("xa-lanh-manh-nghe-an").carry_over == {"new_drug_addicts_prev": "new_drug_addicts"}
    assert lanhmanh.load_pack("qd-28-2025").carry_over == {}
