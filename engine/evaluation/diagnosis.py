"""One line first: when most rows of a table are rejected for one cause, say the cause once
(another pack's file, columns missing, one reason on every row), and report repeated rejections
of one reason capped (the first MAX_SAME_REASON and a count); every rejection is still in the JSON
and the scorecard's rejected sheet."""
from __future__ import annotations

import functools
from collections import Counter
from typing import Any, Optional

from lanhmanh.engine.evaluation.headings import IDENTITY, MISSING_COLUMN, fold_header
from lanhmanh.i18n import _

MAX_SAME_REASON = 10  # rejections of one reason listed per file on the command line; then a count
REJECTS_SHEET = "Hồ sơ bị loại"  # the scorecard's sheet of rejected rows (outputs.presentation.REJECTS)


def headline(validator: Any, path: str, sheet: Optional[str], headers: list[str], n_rows: int,
             rejections: list) -> Optional[str]:
    """Why most rows of a table were rejected, in one line; None when most were not."""
    rows = {r.row for r in rejections if r.row is not None}
    if n_rows < 3 or len(rows) * 2 <= n_rows:
        return None
    pack = validator.pack
    other = _other_pack(pack, headers)
    if other is not None:
        ids, n, total = other
        pid = ids[0]
        if len(ids) > 1:
            text = _("{rejected} of {rows} rows rejected: these columns match the pack {pack} (or {others}) "
                     "({n} of {total} columns), not {own}: score the file with --rules {pack}")
        else:
            text = _("{rejected} of {rows} rows rejected: these columns match the pack {pack} ({n} of {total} "
                     "columns), not {own}: score the file with --rules {pack}")
        return text.format(rejected=len(rows), rows=n_rows, pack=pid, others=", ".join(ids[1:]), n=n,
                           total=total, own=pack.id)
    missing = sorted({r.column for r in rejections if r.reason == _(MISSING_COLUMN)})
    if missing:
        return _("{rejected} of {rows} rows rejected: the file has no column {columns} (required by {pack} "
                 "{version})").format(rejected=len(rows), rows=n_rows, pack=pack.id, version=pack.version,
                                      columns=", ".join(missing[:8]) + (", …" if len(missing) > 8 else ""))
    by_reason: Counter = Counter()
    for row in rows:
        by_reason.update({r.reason for r in rejections if r.row == row})
    if not by_reason:
        return None
    reason, n = by_reason.most_common(1)[0]
    if n * 2 <= n_rows:
        return None
    cols = Counter(r.column for r in rejections if r.reason == reason)
    col = ", ".join(c for c, _n in cols.most_common(3))
    return _("{n} of {rows} rows rejected for one reason: {reason} (column {column})").format(
        n=n, rows=n_rows, reason=reason, column=col)


def _fold(s: Any) -> str:
    return fold_header(str(s))


@functools.lru_cache(maxsize=None)
def _shipped_vocabularies() -> tuple[tuple[str, frozenset[str]], ...]:
    """Per shipped pack id: the folded ids and labels of its commune indicators."""
    from lanhmanh.engine.model import loader, versions

    out: dict[str, set[str]] = {}
    for path in versions.shipped_packs():
        try:
            pack, _problems = loader.load_pack(path)
        except Exception:  # noqa: BLE001 - a diagnosis never fails the run
            continue
        words = out.setdefault(pack.id, set())
        for ind in pack.commune.indicators.values():
            words.update({_fold(ind.id), _fold(ind.label)})
    return tuple((k, frozenset(v)) for k, v in out.items())


def _vocabulary(pack: Any) -> set[str]:
    words: set[str] = set()
    for ind in pack.commune.indicators.values():
        words.update({_fold(ind.id), _fold(ind.label)})
    if pack.province is not None:
        for ind in pack.province.indicators.values():
            words.update({_fold(ind.id), _fold(ind.label)})
    return words


def _other_pack(pack: Any, headers: list[str]) -> Optional[tuple[list[str], int, int]]:
    """(ids of the packs, headers they name, headers) when shipped packs other than `pack` name
    more of the table's indicator columns than `pack` does, and at least half of them: those
    naming the most, in order of id."""
    cols = {_fold(h) for h in headers if h and _fold(h) not in IDENTITY}
    if not cols:
        return None
    own = len(cols & _vocabulary(pack))
    scores = {pid: len(cols & words) for pid, words in _shipped_vocabularies() if pid != pack.id}
    best = max(scores.values(), default=0)
    if best <= own or best * 2 < len(cols):
        return None
    return sorted(p for p, n in scores.items() if n == best), best, len(cols)


def reject_lines(rejected: list, cap: int = MAX_SAME_REASON) -> list[str]:
    """The command line's report of rejections: per file (or sheet) its headline first, then each
    rejection, at most `cap` of one reason, then how many more of that reason."""
    groups: dict[tuple[str, Optional[str]], list] = {}
    for r in rejected:
        groups.setdefault((r.path, r.sheet), []).append(r)
    out: list[str] = []
    for group in groups.values():
        for r in group:
            if r.headline:
                out.append(f"{r.table()}: {r.headline}")
                break
        seen: Counter = Counter()
        for r in group:
            seen[r.reason] += 1
            if seen[r.reason] <= cap:
                out.append(r.line())
        for reason, n in seen.items():
            if n > cap:
                out.append(f"{group[0].table()}: " + _(
                    "… and {n} more rejection(s) for the same reason ({reason}); every one is listed in the "
                    "JSON (--json) and in the scorecard's sheet '{sheet}'").format(
                        n=n - cap, reason=reason, sheet=REJECTS_SHEET))
    return out
