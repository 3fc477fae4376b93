"""`score … --pdf`: the scorecard printed by LibreOffice. Without LibreOffice: exit 2, a message
naming what to install, the workbook and the JSON still written; a conversion that fails or
hangs: exit 6, no PDF (or the old one as it was), nothing half-written. Printed for real (slow):
the PDF's text holds the scorecard's units and classes."""
from __future__ import annotations

import json
import os
import subprocess
import time
from pathlib import Path

import pytest
from lmtest import identity, need_tool, qd28_values

from lanhmanh.errors import OutputError
from lanhmanh.scorecards.outputs import pdf as pdf_module
from lanhmanh.scorecards.outputs.pdf import DOWNLOAD, SOFFICE_ENV, SofficeMissing, convert_to_pdf

posix_only = pytest.mark.skipif(os.name != "posix", reason="a stand-in soffice written as a shell script")


def small_batch(files) -> Path:
    rows = [{**identity(16681, name="Phường Thành Vinh", unit_type="phường", province="40"), **qd28_values()},
            {**identity(16690, name="Phường Trường Vinh", unit_type="phường", province="40"),
             **qd28_values(users_with_records=60, resident_users_untreated=3)}]
    return files.csv("in.csv", rows)


def score_args(path: Path, *more: str) -> list:
    return ["score", path, "--rules", "qd-28-2025", "--engine", "python", "--unit-list", "none", *more]


@pytest.fixture
def no_soffice(monkeypatch, tmp_path):
    """LibreOffice nowhere: PATH holds an empty folder, and the places it installs itself are gone."""
    empty = tmp_path / "empty-path"
    empty.mkdir()
    monkeypatch.delenv(SOFFICE_ENV, raising=False)
    monkeypatch.setenv("PATH", str(empty))
    monkeypatch.setattr(pdf_module, "INSTALLED_AT", ())


def fake_soffice(tmp_path: Path, script: str) -> Path:
    p = tmp_path / "fake-soffice"
    p.write_text("#!/bin/sh\n" + script + "\n", encoding="utf-8")
    p.chmod(0o755)
    return p


# ---- without LibreOffice ------------------------------------------------------------------------

def test_without_libreoffice_exit_2_names_what_to_install_and_keeps_the_workbook(run_cli, files, workdir,
                                                                                   no_soffice):
    path = small_batch(files)
    result = run_cli(*score_args(path, "--out", "s.xlsx", "--json", "s.json", "--pdf", "s.pdf"))
    assert result.exit_code == 2, result.output
    assert "LibreOffice" in result.output and DOWNLOAD in result.output
    assert "s.pdf was not written" in result.output
    assert (workdir / "s.xlsx").is_file()
    assert json.loads((workdir / "s.json").read_text(encoding="utf-8"))["units"]
    assert not (workdir / "s.pdf").exists()
    assert "scorecard written to s.xlsx" in result.output
    assert "run 1 recorded" in result.output  # the run itself went through
    assert sorted(p.name for p in workdir.iterdir()) == ["s.json", "s.xlsx"]


def test_lanhmanh_soffice_naming_a_missing_program_is_said(run_cli, files, workdir, monkeypatch, tmp_path):
    monkeypatch.setenv(SOFFICE_ENV, str(tmp_path / "nowhere" / "soffice.exe"))
    path = small_batch(files)
    result = run_cli(*score_args(path, "--out", "s.xlsx", "--pdf", "s.pdf"))
    assert result.exit_code == 2, result.output
    assert f"{SOFFICE_ENV}={tmp_path / 'nowhere' / 'soffice.exe'} is not a program" in result.output
    assert (workdir / "s.xlsx").is_file()
    assert not (workdir / "s.pdf").exists()


def test_pdf_alone_without_libreoffice_writes_nothing(run_cli, files, workdir, no_soffice):
    path = small_batch(files)
    result = run_cli(*score_args(path, "--pdf", "s.pdf", "--no-db"))
    assert result.exit_code == 2, result.output
    assert "install LibreOffice" in result.output
    assert list(workdir.iterdir()) == []


def test_the_pdf_must_be_named_pdf(run_cli, files, workdir):
    result = run_cli(*score_args(small_batch(files), "--pdf", "s.xlsx"))
    assert result.exit_code == 2
    assert "name the PDF .pdf" in result.output


def test_find_soffice_takes_the_environment_variable_first(monkeypatch, tmp_path):
    program = fake_soffice(tmp_path, "exit 0")
    monkeypatch.setenv(SOFFICE_ENV, str(program))
    assert pdf_module.find_soffice() == str(program)
    monkeypatch.setenv(SOFFICE_ENV, str(tmp_path / "missing"))
    assert pdf_module.find_soffice() is None


def test_find_soffice_looks_where_libreoffice_installs_itself(monkeypatch, tmp_path, no_soffice):
    program = fake_soffice(tmp_path, "exit 0")
    assert pdf_module.find_soffice() is None
    monkeypatch.setattr(pdf_module, "INSTALLED_AT", (str(tmp_path / "absent"), str(program)))
    assert pdf_module.find_soffice() == str(program)


# ---- a conversion that fails ---------------------------------------------------------------------

@posix_only
def test_a_failing_conversion_exits_6_and_leaves_the_old_pdf(run_cli, files, workdir, monkeypatch, tmp_path):
    monkeypatch.setenv(SOFFICE_ENV, str(fake_soffice(tmp_path, "echo 'Error: source file could not be loaded'; "
                                                               "exit 1")))
    (workdir / "s.pdf").write_bytes(b"%PDF-1.4 last year's")
    result = run_cli(*score_args(small_batch(files), "--out", "s.xlsx", "--pdf", "s.pdf"))
    assert result.exit_code == 6, result.output
    assert "could not print" in result.output and "source file could not be loaded" in result.output
    assert (workdir / "s.pdf").read_bytes() == b"%PDF-1.4 last year's"
    assert (workdir / "s.xlsx").is_file()
    assert sorted(p.name for p in workdir.iterdir()) == ["s.pdf", "s.xlsx"]  # no temporary file left


@posix_only
def test_a_conversion_that_hangs_is_stopped(monkeypatch, tmp_path):
    marker = tmp_path / "still-running"
    # the stand-in starts a child (as soffice starts soffice.bin) that would write a file later
    script = f"(sleep 2; touch {marker}) & sleep 30"
    monkeypatch.setenv(SOFFICE_ENV, str(fake_soffice(tmp_path, script)))
    src = tmp_path / "in.xlsx"
    src.write_bytes(b"not really")
    started = time.monotonic()
    with pytest.raises(OutputError, match="did not finish"):
        convert_to_pdf(src, tmp_path / "out.pdf", timeout=1)
    assert time.monotonic() - started < 20
    time.sleep(max(0.0, started + 2.5 - time.monotonic()))
    assert not marker.exists()  # the whole process group was stopped
    assert not (tmp_path / "out.pdf").exists()


@posix_only
def test_the_time_limit_can_be_set_in_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv(SOFFICE_ENV, str(fake_soffice(tmp_path, "sleep 30")))
    monkeypatch.setenv("LANHMANH_PDF_TIMEOUT", "1")
    src = tmp_path / "in.xlsx"
    src.write_bytes(b"x")
    with pytest.raises(OutputError, match="within 1 s .set LANHMANH_PDF_TIMEOUT"):
        convert_to_pdf(src, tmp_path / "out.pdf")


@posix_only
def test_a_conversion_that_writes_a_pdf_is_moved_into_place(monkeypatch, tmp_path):
    # a stand-in soffice that "prints" by writing a minimal PDF where LibreOffice would (--outdir)
    script = 'while [ "$1" != "--outdir" ]; do shift; done; printf "%%PDF-1.4 fake" > "$2/in.pdf"'
    monkeypatch.setenv(SOFFICE_ENV, str(fake_soffice(tmp_path, script)))
    src = tmp_path / "Bảng điểm (1).xlsx"  # an awkward name is no trouble: soffice sees a plain copy
    src.write_bytes(b"x")
    out = tmp_path / "out" / "the.pdf"
    convert_to_pdf(src, out)
    assert out.read_bytes() == b"%PDF-1.4 fake"
    assert sorted(p.name for p in out.parent.iterdir()) == ["the.pdf"]


def test_missing_is_a_usage_error():
    assert SofficeMissing("x").exit_code == 2


# ---- printed for real ----------------------------------------------------------------------------

def pdf_text(pdf: Path) -> str:
    out = subprocess.run([need_tool("pdftotext"), str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    return " ".join(out.split())


@pytest.fixture
def soffice_or_skip():
    need_tool("soffice", "libreoffice")


@pytest.mark.slow
@pytest.mark.parametrize("with_workbook", [True, False], ids=["with --out", "pdf only"])
def test_score_pdf_prints_the_scorecard(run_cli, files, workdir, soffice_or_skip, with_workbook):
    path = small_batch(files)
    more = ["--out", "s.xlsx"] if with_workbook else []
    result = run_cli(*score_args(path, *more, "--pdf", "s.pdf", "--no-db"))
    assert result.exit_code == 0, result.output
    assert "PDF written to s.pdf" in result.output
    pdf = workdir / "s.pdf"
    assert pdf.read_bytes()[:5] == b"%PDF-"
    text = pdf_text(pdf)
    assert "Phường Thành Vinh" in text and "Phường Trường Vinh" in text
    assert "Địa bàn không ma túy" in text  # a class label
    assert "Tổng hợp" in text or "TỔNG HỢP" in text  # the summary sheet's title
    assert sorted(p.name for p in workdir.iterdir()) == sorted(["s.pdf"] + (["s.xlsx"] if with_workbook else []))
