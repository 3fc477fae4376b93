"""The scorecard workbook of `lanhmanh score ... --out FILE.xlsx`: its sheets, drawn in tab order
by the modules beside this one, and its document properties. Written to a temporary file and
renamed onto the target: never a half-written workbook (see docs/scorecard.md)."""
from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Optional

from lanhmanh.engine.evaluation.scoring import BatchResult
from lanhmanh.scorecards.outputs.atomic import write_workbook
from lanhmanh.scorecards.outputs.digest import DIGEST_FORMAT
from lanhmanh.scorecards.outputs.presentation import WORKBOOK_OPTIONS
from lanhmanh.scorecards.outputs.profile import CouncilProfile
from lanhmanh.scorecards.outputs.scorecard.book import UNIT_FORMS_MAX, Book
from lanhmanh.scorecards.outputs.scorecard.charts import charts_sheet
from lanhmanh.scorecards.outputs.scorecard.evidence import evidence_sheet
from lanhmanh.scorecards.outputs.scorecard.info import info_sheet
from lanhmanh.scorecards.outputs.scorecard.problems import rejected_sheet, warnings_sheet
from lanhmanh.scorecards.outputs.scorecard.province_ranking import province_ranking_sheet
from lanhmanh.scorecards.outputs.scorecard.provinces import province_criteria_sheet, province_sheet
from lanhmanh.scorecards.outputs.scorecard.summary import summary_sheet
from lanhmanh.scorecards.outputs.scorecard.unit_form import unit_sheet
from lanhmanh.version import __version__

UNIT_SHEETS_MAX = UNIT_FORMS_MAX  # one printable form per unit up to this many units


def write_scorecard(batch: BatchResult, out: Path, now: Optional[dt.datetime] = None,
                    unit_sheets: Optional[bool] = None, profile: Optional[CouncilProfile] = None) -> None:
    """Write the scorecard workbook for a scored batch to `out` (atomically). `unit_sheets`: one
    printable sheet per unit; by default when the batch has up to UNIT_SHEETS_MAX units."""
    if unit_sheets is None:
        unit_sheets = len(batch.units) <= UNIT_SHEETS_MAX
    when = now or dt.datetime.now(dt.timezone.utc)
    write_workbook(out, WORKBOOK_OPTIONS,
                   lambda wb: build(wb, batch, when, bool(unit_sheets), profile or CouncilProfile()))


def build(wb, batch: BatchResult, now: dt.datetime, unit_sheets: bool,
          profile: Optional[CouncilProfile] = None) -> None:
    """Every sheet of the scorecard, in tab order."""
    bk = Book(wb, batch, now, unit_sheets, profile or CouncilProfile())
    summary_sheet(bk)
    if bk.has_province_sheet:
        province_sheet(bk)
    if bk.has_province_level:
        province_criteria_sheet(bk)
    if bk.multi_province:
        for code in bk.province_codes:
            province_ranking_sheet(bk, code)
    charts_sheet(bk)
    evidence_sheet(bk)
    rejected_sheet(bk)
    warnings_sheet(bk)
    info_sheet(bk)
    if bk.unit_sheets:
        for r in batch.units:
            unit_sheet(bk, r)
    document_properties(bk)


def document_properties(bk: Book) -> None:
    """Title, author, time; and the pack and results digest as custom properties (`verify`
    reads them)."""
    pack = bk.pack
    bk.wb.set_properties({
        "title": f"Bảng xếp hạng theo bộ tiêu chí {pack.id} {pack.version}",
        "subject": pack.title,
        "author": f"lanhmanh {__version__}",
        "comments": "Tạo bằng lanhmanh: phân loại, chấm điểm, xếp hạng đơn vị cấp xã theo bộ tiêu chí.",
        "created": bk.now.astimezone(dt.timezone.utc).replace(tzinfo=None),
    })
    for name, value in (("lanhmanh.pack_id", pack.id), ("lanhmanh.pack_version", pack.version),
                        ("lanhmanh.pack_sha256", pack.sha256), ("lanhmanh.results_digest", bk.digest),
                        ("lanhmanh.digest_format", DIGEST_FORMAT), ("lanhmanh.version", __version__)):
        bk.wb.set_custom_property(name, value, "text")
