"""Outputs never touch inputs (issue 12): `score` refuses, with exit 2 and both paths named, an
output that is an input, lies in an input folder, or (--out-dir) holds an input; the submission
is left byte for byte as it was and nothing is written."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from lanhmanh.errors import UsageError
from lanhmanh.scorecards.outputs.paths import refuse_outputs_over_inputs

REPO = Path(__file__).resolve().parent.parent
SAMPLE = REPO / "examples" / "nghe-an-2025-ma-tuy.xlsx"


@pytest.fixture
def submissions(workdir):
    folder = workdir / "nop"
    folder.mkdir()
    shutil.copy(SAMPLE, folder / "nghe-an.xlsx")
    return folder


def score(run_cli, *args):
    return run_cli("score", *args, "--rules", "qd-28-2025", "--no-db")


def test_out_onto_the_submission_is_refused_and_the_submission_kept(run_cli, submissions):
    sub = submissions / "nghe-an.xlsx"
    before = sub.read_bytes()
    res = score(run_cli, str(sub), "--out", str(sub))
    assert res.exit_code == 2, res.output
    assert f"--out {sub} is the input {sub}" in res.output
    assert sub.read_bytes() == before


def test_json_onto_an_input_json_is_refused(run_cli, workdir):
    src = workdir / "in.json"
    src.write_text('[{"unit_code": "16858"}]', encoding="utf-8")
    before = src.read_bytes()
    res = score(run_cli, str(src), "--json", str(src))
    assert res.exit_code == 2, res.output
    assert "--json" in res.output and str(src) in res.output
    assert src.read_bytes() == before


def test_out_dir_onto_the_submissions_folder_is_refused(run_cli, submissions):
    res = score(run_cli, str(submissions), "--out-dir", str(submissions))
    assert res.exit_code == 2, res.output
    assert f"--out-dir {submissions} is the input folder {submissions}" in res.output
    assert sorted(p.name for p in submissions.iterdir()) == ["nghe-an.xlsx"]


def test_a_scorecard_inside_the_submissions_folder_is_refused(run_cli, submissions):
    for option, name in (("--out", "bang-diem.xlsx"), ("--json", "ket-qua.json")):
        res = score(run_cli, str(submissions), option, str(submissions / name))
        assert res.exit_code == 2, res.output
        assert f"lies in the input folder {submissions}" in res.output
    assert sorted(p.name for p in submissions.iterdir()) == ["nghe-an.xlsx"]


def test_out_dir_holding_an_input_is_refused(run_cli, submissions, workdir):
    res = score(run_cli, str(submissions / "nghe-an.xlsx"), "--out-dir", str(workdir))
    assert res.exit_code == 2, res.output
    assert f"--out-dir {workdir} holds the input" in res.output


def test_outputs_elsewhere_are_written(run_cli, submissions, workdir):
    res = score(run_cli, str(submissions), "--out", str(workdir / "out" / "bang-diem.xlsx"),
                "--json", str(workdir / "out" / "ket-qua.json"))
    assert res.exit_code == 0, res.output
    assert (workdir / "out" / "bang-diem.xlsx").is_file() and (workdir / "out" / "ket-qua.json").is_file()


def test_a_hard_link_to_the_input_is_the_input(tmp_path):
    src = tmp_path / "a.csv"
    src.write_text("x\n", encoding="utf-8")
    link = tmp_path / "b.csv"
    link.hardlink_to(src)
    with pytest.raises(UsageError) as e:
        refuse_outputs_over_inputs([str(src)], [("--json", str(link))])
    assert e.value.exit_code == 2
