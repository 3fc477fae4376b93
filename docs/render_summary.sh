#!/usr/bin/env bash
# Re-renders the README's pictures of a printed scorecard with LibreOffice (headless) and poppler:
# docs/img/tong-hop.png (the first page of the summary "Tổng hợp") and docs/img/phieu-xa-qd28.png
# (the one page of Phường Thành Vinh's QĐ 28 form), from the Nghệ An sample scored
# with the example council profile and printed through `score --pdf`. Run from the repository root
# with lanhmanh installed in .venv. --no-db: a picture is no assessment, nothing goes into the
# history database.
set -euo pipefail
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
.venv/bin/lanhmanh score examples/nghe-an-2025-ma-tuy.xlsx --rules qd-28-2025 --no-db \
    --profile examples/ho-so-hoi-dong.yaml --out "$work/s.xlsx" --pdf "$work/s.pdf" >/dev/null
mkdir -p docs/img
pdftoppm -png -r 80 -f 1 -l 1 -singlefile "$work/s.pdf" docs/img/tong-hop
# the form's first page: the first page headed by the ward's People's Committee
first=$(pdftotext -layout "$work/s.pdf" - | awk -v RS='\f' '/UBND PHƯỜNG THÀNH VINH/ && !n {n = NR} END {print n}')
pdftoppm -png -r 80 -f "$first" -l "$first" -singlefile "$work/s.pdf" docs/img/phieu-xa-qd28
echo "docs/img/tong-hop.png and docs/img/phieu-xa-qd28.png rendered"
