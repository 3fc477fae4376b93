"""`score --pdf`: the scorecard printed to PDF by LibreOffice (soffice, headless). To be written."""
from __future__ import annotations

from pathlib import Path
from typing import Optional

from lanhmanh.engine.evaluation.scoring import BatchResult
from lanhmanh.scorecards.outputs.profile import CouncilProfile


def scorecard_pdf(batch: BatchResult, pdf: Path, xlsx: Optional[Path], profile: CouncilProfile) -> None:
    raise NotImplementedError
