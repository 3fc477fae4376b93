"""`score --pdf`: the scorecard printed to PDF by LibreOffice (soffice, headless), as a council
would print it: every sheet meant for print, in order, with the workbook's own print setup.

soffice is looked up in $LANHMANH_SOFFICE, then on PATH, then where LibreOffice installs itself
(Windows, macOS). Each conversion runs with a private LibreOffice profile in a temporary folder
(no clash with a LibreOffice the user has open, nor with parallel runs) and a time limit; the PDF
is written beside its target under a temporary name and renamed at the end, so a failure never
leaves half a PDF behind.
"""
from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Optional

from lanhmanh.engine.evaluation.scoring import BatchResult
from lanhmanh.errors import OutputError, UsageError
from lanhmanh.i18n import _
from lanhmanh.scorecards.outputs.atomic import discard, new_temp_file
from lanhmanh.scorecards.outputs.profile import CouncilProfile
from lanhmanh.scorecards.outputs.scorecard.workbook import write_scorecard

SOFFICE_ENV = "LANHMANH_SOFFICE"  # the soffice program to use, when it is not found by itself
DOWNLOAD = "https://www.libreoffice.org/download/"
INSTALLED_AT = (
    r"C:\Program Files\LibreOffice\program\soffice.exe",
    r"C:\Program Files (x86)\LibreOffice\program\soffice.exe",
    "/Applications/LibreOffice.app/Contents/MacOS/soffice",
)  # where the installers put it and do not add it to PATH
TIMEOUT = 600  # seconds for one conversion (a 200-sheet scorecard takes about a minute)
TIMEOUT_ENV = "LANHMANH_PDF_TIMEOUT"  # another limit, in seconds (a national batch on a slow machine)


class SofficeMissing(UsageError):
    """LibreOffice is not installed, or $LANHMANH_SOFFICE names no program (exit 2)."""


def find_soffice() -> Optional[str]:
    """The soffice program: $LANHMANH_SOFFICE when set (and only it), else on PATH, else where
    LibreOffice installs itself. None when there is none."""
    wanted = os.environ.get(SOFFICE_ENV)
    if wanted:
        return wanted if Path(wanted).is_file() and os.access(wanted, os.X_OK) else None
    for name in ("soffice", "libreoffice"):
        found = shutil.which(name)
        if found:
            return found
    return next((p for p in INSTALLED_AT if Path(p).is_file() and os.access(p, os.X_OK)), None)


def missing_message(what: str) -> str:
    wanted = os.environ.get(SOFFICE_ENV)
    if wanted:
        return _("{what} needs LibreOffice, but {env}={value} is not a program; point it at "
                 "LibreOffice's soffice (on Windows {windows}) or unset it").format(
            what=what, env=SOFFICE_ENV, value=wanted, windows=INSTALLED_AT[0])
    return _("{what} needs LibreOffice (soffice), which is not installed: install LibreOffice from "
             "{url} (Debian, Ubuntu: apt install libreoffice-calc-nogui libreoffice-writer-nogui), "
             "or set {env} to its soffice program").format(what=what, url=DOWNLOAD, env=SOFFICE_ENV)


def not_written(pdf: Path) -> str:
    return _("{pdf} was not written").format(pdf=pdf)


def convert_to_pdf(source: Path, pdf: Path, what: Optional[str] = None, timeout: Optional[int] = None) -> None:
    """Print `source` (a workbook or a Word document) to `pdf` with LibreOffice. SofficeMissing
    (exit 2) without LibreOffice; OutputError (exit 6) when the conversion fails or takes longer
    than `timeout` seconds (default: $LANHMANH_PDF_TIMEOUT, else TIMEOUT); the PDF is then left as
    it was."""
    timeout = timeout or _timeout()
    soffice = find_soffice()
    if soffice is None:
        raise SofficeMissing(missing_message(what or _("the PDF")) + "; " + not_written(pdf))
    pdf = Path(pdf)
    with tempfile.TemporaryDirectory(prefix="lanhmanh-pdf-") as tmp:
        out_dir = Path(tmp) / "out"
        out_dir.mkdir()
        # LibreOffice names the PDF after its input: a plain copy keeps odd names out of its way
        src = Path(tmp) / ("in" + source.suffix.lower())
        shutil.copyfile(source, src)
        cmd = [soffice, f"-env:UserInstallation={(Path(tmp) / 'profile').as_uri()}", "--headless",
               "--invisible", "--norestore", "--nologo", "--nolockcheck", "--nodefault",
               "--convert-to", "pdf", "--outdir", str(out_dir), str(src)]
        code, output = _run(cmd, timeout)
        made = out_dir / "in.pdf"
        if code is None:
            raise OutputError(_("{pdf}: LibreOffice did not finish printing {name} within {timeout} s "
                                "(set {env} to allow longer); the PDF was not written").format(
                pdf=pdf, name=source.name, timeout=timeout, env=TIMEOUT_ENV))
        if not made.is_file() or not made.read_bytes()[:5] == b"%PDF-":
            detail = " ".join(output.split())[-300:] or _("exit code {code}").format(code=code)
            if "could not be loaded" in output:  # a LibreOffice installed without Calc or Writer
                part = "Writer (libreoffice-writer)" if source.suffix.lower() == ".docx" else "Calc (libreoffice-calc)"
                detail += " " + _("(is LibreOffice {part} installed?)").format(part=part)
            raise OutputError(_("{pdf}: LibreOffice ({soffice}) could not print {name}: {detail}; "
                                "the PDF was not written").format(pdf=pdf, soffice=soffice, name=source.name,
                                                                  detail=detail))
        try:
            _move_into_place(made, pdf)
        except OSError as e:
            raise OutputError(_("cannot write {pdf}: {error} (is it open in a PDF reader?); "
                                "the file that was there is as it was").format(pdf=pdf, error=e.strerror or e))


def scorecard_pdf(batch: BatchResult, pdf: Path, xlsx: Optional[Path], profile: CouncilProfile) -> None:
    """The scorecard as a PDF: `xlsx` (the workbook just written) printed by LibreOffice, or, when
    no workbook was asked for, one written to a temporary folder first."""
    if xlsx is not None:
        convert_to_pdf(xlsx, pdf, "--pdf")
        return
    if find_soffice() is None:  # before the workbook is made for nothing
        raise SofficeMissing(missing_message("--pdf") + "; " + not_written(pdf))
    with tempfile.TemporaryDirectory(prefix="lanhmanh-pdf-book-") as tmp:
        book = Path(tmp) / (Path(pdf).stem + ".xlsx")
        write_scorecard(batch, book, profile=profile)
        convert_to_pdf(book, pdf, "--pdf")


def _timeout() -> int:
    try:
        return max(1, int(os.environ.get(TIMEOUT_ENV, "")))
    except ValueError:
        return TIMEOUT


def _run(cmd: list[str], timeout: int) -> tuple[Optional[int], str]:
    """Run soffice; (exit code, output), or (None, output) when it took longer than `timeout`, in
    which case it is stopped with every process it started."""
    posix = os.name == "posix"
    flags = 0 if posix else getattr(subprocess, "CREATE_NEW_PROCESS_GROUP", 0)
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                            start_new_session=posix, creationflags=flags)
    try:
        out, _err = proc.communicate(timeout=timeout)
        return proc.returncode, out.decode(errors="replace")
    except subprocess.TimeoutExpired:
        _stop(proc)
        out, _err = proc.communicate()
        return None, out.decode(errors="replace")
    except BaseException:  # interrupted: leave no LibreOffice running behind us
        _stop(proc)
        raise


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is not None:
        return
    if os.name == "posix":
        try:
            os.killpg(proc.pid, signal.SIGKILL)  # soffice and soffice.bin: its own session
        except OSError:
            proc.kill()
    elif sys.platform == "win32":
        subprocess.run(["taskkill", "/F", "/T", "/PID", str(proc.pid)], capture_output=True)
    else:
        proc.kill()
    proc.wait()


def _move_into_place(made: Path, target: Path) -> None:
    """Copy the PDF beside its target under a temporary name and rename it over the target."""
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = new_temp_file(target)
    try:
        shutil.copyfile(made, tmp)
        os.replace(tmp, target)
    except BaseException:
        discard(tmp)
        raise
