"""The scorecard workbook, one module per sheet (in tab order):

- summary: "Tổng hợp"
- provinces: "Tỉnh" and "Tiêu chí cấp tỉnh"
- province_ranking: one ranking sheet per province ("40 Nghệ An")
- charts: "Biểu đồ"
- evidence: "Chứng cứ"
- problems: "Hồ sơ bị loại" and "Cảnh báo"
- info: "Thông tin"
- unit_form: the printable form of each unit (a sheet named by its code)

workbook assembles them (`write_scorecard`); book holds what they share. Styles, labels and how
values are shown: ../presentation.py.
"""
