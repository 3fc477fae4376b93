#!/usr/bin/env bash
# Re-renders docs/img/bao-cao.png, the README's picture of the province's report: the first page of
# `lanhmanh report` on the Nghệ An sample, printed by LibreOffice (headless) through `report --pdf`
# and rasterised by poppler's pdftoppm at 80 dpi. Run from the repository root with lanhmanh
# installed in .venv. The council profile is given by flags (a --profile file does the same).
set -euo pipefail
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
.venv/bin/lanhmanh report examples/nghe-an-2025-ma-tuy.xlsx --rules qd-28-2025 \
    --superior-body "UBND TỈNH NGHỆ AN" --issuing-body "CÔNG AN TỈNH NGHỆ AN" --place "Nghệ An" \
    --doc-number 125 --doc-symbol BC-CAT --doc-date 2025-12-18 \
    --out "$work/bao-cao.docx" --pdf "$work/bao-cao.pdf" >/dev/null
mkdir -p docs/img
pdftoppm -png -r 80 -f 1 -l 1 -singlefile "$work/bao-cao.pdf" docs/img/bao-cao
echo "docs/img/bao-cao.png rendered"
