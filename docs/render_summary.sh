#!/usr/bin/env bash
# Re-renders docs/summary-sheet.png, the README's picture of a scorecard's summary sheet, with
# LibreOffice (headless) and poppler's pdftoppm: the top of the first printed page of the sample's
# scorecard. Run from the repository root with lanhmanh installed in .venv.
set -euo pipefail
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
.venv/bin/lanhmanh score examples/nghe-an-2025-lanh-manh.xlsx --rules xa-lanh-manh --out "$work/s.xlsx" >/dev/null
soffice --headless --convert-to pdf --outdir "$work" "$work/s.xlsx" >/dev/null
pdftoppm -png -r 110 -f 1 -l 1 -x 0 -y 0 -W 1286 -H 520 -singlefile "$work/s.pdf" docs/summary-sheet
echo "docs/summary-sheet.png rendered"
