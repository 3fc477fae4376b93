"""Writing results: the scorecard workbook (scorecard/), the national folder, the template, the diff
workbook, the JSON; `verify`. Their shared look and Vietnamese labels: presentation.py."""
