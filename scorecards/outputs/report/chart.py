"""The report's chart: units per class (and last year's beside them), a PNG made in memory with
matplotlib's Agg canvas (no display, no pyplot state). matplotlib is imported here, when a report
is made, to keep the command line's start-up quick."""
from __future__ import annotations

import io
import textwrap
from typing import Optional, Sequence

SERIF = ("Times New Roman", "Liberation Serif", "Tinos", "DejaVu Serif")  # first one installed; all have Vietnamese
LAST_YEAR_COLOUR = "#BFBFBF"


def class_chart(labels: Sequence[str], counts: Sequence[int], colours: Sequence[str],
                previous: Optional[Sequence[Optional[int]]] = None, year: Optional[int] = None,
                previous_year: Optional[int] = None) -> bytes:
    """A horizontal bar per class (best class on top), its count written at the end of the bar;
    with `previous`, last year's count as a grey bar under each. Returns the PNG's bytes."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    font = _serif()
    n = len(labels)
    height = 0.5 + 0.4 * n * (1.6 if previous else 1.0)
    fig = Figure(figsize=(5.5, height), dpi=200)  # printed 14 cm wide: type sizes as given
    FigureCanvasAgg(fig)
    ax = fig.add_subplot(1, 1, 1)
    rows = list(range(n))[::-1]  # the first class at the top
    bar = 0.38 if previous else 0.6
    now_at = [r + (bar / 2 if previous else 0) for r in rows]
    ax.barh(now_at, counts, height=bar, color=list(colours), edgecolor="#404040", linewidth=0.5,
            label=f"Năm {year}" if year else "Năm nay")
    top = max(list(counts) + [c or 0 for c in (previous or [])] + [1])
    for y, c in zip(now_at, counts):
        ax.text(c + top * 0.01, y, str(c), va="center", fontsize=9, family=font)
    if previous:
        before_at = [r - bar / 2 for r in rows]
        shown = [c or 0 for c in previous]
        ax.barh(before_at, shown, height=bar, color=LAST_YEAR_COLOUR, edgecolor="#404040", linewidth=0.5,
                label=f"Năm {previous_year}" if previous_year else "Năm trước")
        for y, last in zip(before_at, previous):
            ax.text((last or 0) + top * 0.01, y, "—" if last is None else str(last), va="center", fontsize=8,
                    family=font, color="#404040")
        ax.legend(loc="lower right", fontsize=8, prop={"family": font, "size": 8}, frameon=False)
    ax.set_yticks(rows)
    ax.set_yticklabels([textwrap.fill(label, 30) for label in labels], fontsize=9, family=font)
    ax.set_xlim(0, top * 1.12)
    ax.set_xlabel("Số đơn vị", fontsize=9, family=font)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))  # counts: no 2.5 on the axis
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    ax.tick_params(axis="x", labelsize=8)
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    return buf.getvalue()


def _serif() -> str:
    """The first of SERIF that matplotlib finds (never a missing one: matplotlib would log about it)."""
    from matplotlib import font_manager

    have = {f.name for f in font_manager.fontManager.ttflist}
    return next((name for name in SERIF if name in have), "DejaVu Sans")
