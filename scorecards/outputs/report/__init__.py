"""`lanhmanh report`: the province's report to the level above as a Word document in the format of
Nghị định 30/2020/NĐ-CP (document.py lays it out, content.py says what it holds, chart.py draws
the chart)."""
from lanhmanh.scorecards.outputs.report.document import build_report, write_report

__all__ = ["build_report", "write_report"]
