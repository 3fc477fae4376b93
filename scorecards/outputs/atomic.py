"""Writing output files atomically: a temporary file beside the target, renamed over it at the end,
so a failure never leaves a half-written workbook or JSON file behind.

A run that is killed (SIGKILL, a power cut) cannot remove its temporary file (".s.xlsx.1a2b3c4d.tmp")
or the staging folder of a national run (".out.k3j_x9a2.partial", made by national.py); the next run
writing into that folder removes them (`sweep_stale`): only names of lanhmanh's own patterns, and
only when untouched for `STALE_AFTER_S` (a run still writing, perhaps in another process, keeps its
own)."""
from __future__ import annotations

import os
import re
import secrets
import shutil
import stat
import time
from pathlib import Path
from typing import Any, Callable, TypeVar

from lanhmanh.i18n import _

T = TypeVar("T")

STALE_AFTER_S = 15 * 60  # a temporary file or staging folder untouched this long is a killed run's
TEMP_FILE = re.compile(r"^\..+\.[0-9a-f]{8}\.tmp$")  # new_temp_file's names
STAGING_DIR = re.compile(r"^\..+\.[a-z0-9_]{8}\.partial$")  # national.py: mkdtemp(prefix=".NAME.", suffix=".partial")


def sweep_stale(folder: Path, now: float | None = None) -> list[Path]:
    """Remove from `folder` the temporary files and national staging folders that killed runs left:
    names of lanhmanh's patterns only, untouched for STALE_AFTER_S (for a folder: nothing in it
    either). Returns what was removed; what cannot be removed is left quietly."""
    now = time.time() if now is None else now
    removed: list[Path] = []
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return removed
    for entry in entries:
        try:
            if TEMP_FILE.match(entry.name) and entry.is_file(follow_symlinks=False):
                if now - entry.stat(follow_symlinks=False).st_mtime >= STALE_AFTER_S:
                    os.unlink(entry.path)
                    removed.append(Path(entry.path))
            elif STAGING_DIR.match(entry.name) and entry.is_dir(follow_symlinks=False):
                if now - _newest_mtime(Path(entry.path)) >= STALE_AFTER_S:
                    shutil.rmtree(entry.path)
                    removed.append(Path(entry.path))
        except OSError:
            continue
    return removed


def _newest_mtime(folder: Path) -> float:
    """The latest modification time of a staging folder and of anything in it (a run still writing
    there touches it)."""
    newest = folder.lstat().st_mtime
    for root, dirs, names in os.walk(folder):
        for name in dirs + names:
            st = os.lstat(os.path.join(root, name))
            if not stat.S_ISLNK(st.st_mode):
                newest = max(newest, st.st_mtime)
    return newest


def new_temp_file(target: Path) -> str:
    """A new empty file beside the target (".s.xlsx.1a2b3c4d.tmp"), made with the mode any new
    file gets under the umask (mkstemp's would be private, 0600, and stay so after the rename).
    The stale temporary files of killed runs in that folder are removed first (`sweep_stale`)."""
    sweep_stale(target.parent)
    for _attempt in range(100):
        tmp = target.parent / f".{target.name}.{secrets.token_hex(4)}.tmp"
        try:
            os.close(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))
        except FileExistsError:
            continue
        return str(tmp)
    raise FileExistsError(_("cannot make a temporary file beside {target}").format(target=target))


def discard(tmp: str) -> None:
    """Remove a temporary file after a failure; a file already gone is fine."""
    try:
        os.unlink(tmp)
    except OSError:
        pass


def write_workbook(out: Path, options: dict, build: Callable[[Any], T]) -> T:
    """Make an XlsxWriter workbook at a temporary name beside `out`, let `build(wb)` fill it, close
    it and rename it over `out`. Returns what `build` returned. An error at any point removes the
    temporary file and leaves `out` as it was; a file that cannot be written raises OSError."""
    import xlsxwriter  # type: ignore[import-untyped]
    from xlsxwriter.exceptions import FileCreateError  # type: ignore[import-untyped]

    target = Path(out)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = new_temp_file(target)
    try:
        wb = xlsxwriter.Workbook(tmp, options)
        result = build(wb)
        try:
            wb.close()
        except FileCreateError as e:  # an OSError underneath: let the CLI report it as such
            cause = e.args[0] if e.args and isinstance(e.args[0], OSError) else None
            raise (cause or OSError(str(e))) from e
        os.replace(tmp, target)
    except BaseException:
        discard(tmp)
        raise
    return result
