"""Writing output files atomically: a temporary file beside the target, renamed over it at the end,
so a failure never leaves a half-written workbook or JSON file behind."""
from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Any, Callable, TypeVar

T = TypeVar("T")


def new_temp_file(target: Path) -> str:
    """A new empty file beside the target (".s.xlsx.1a2b3c4d.tmp"), made with the mode any new
    file gets under the umask (mkstemp's would be private, 0600, and stay so after the rename)."""
    for _ in range(100):
        tmp = target.parent / f".{target.name}.{secrets.token_hex(4)}.tmp"
        try:
            os.close(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))
        except FileExistsError:
            continue
        return str(tmp)
    raise FileExistsError(f"cannot make a temporary file beside {target}")


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
