"""`lanhmanh template`: the data-entry workbook of a pack."""
from __future__ import annotations

from pathlib import Path

import click

from lanhmanh import api
from lanhmanh.commands.common import reports_errors, warnings_printed
from lanhmanh.engine.model import admin_units
from lanhmanh.errors import EXIT_OK, EXIT_OUTPUT
from lanhmanh.scorecards.outputs.template import write_template


@click.command()
@click.option("--rules", "rules", required=True, help="A shipped pack id or a rule file.")
@click.option("--province", "province", metavar="CODE",
              help="Pre-fill one row per official unit of this province (2-digit code, e.g. 40).")
@click.option("--year", "year", type=int, help="The batch year written in every row (default: this year).")
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False), help="The workbook to write (.xlsx).")
@reports_errors
def template(rules: str, province: str | None, year: int | None, out: str) -> int:
    """Write the data-entry workbook for a pack: one row per official unit of the province, a
    column per indicator with its Vietnamese label, Excel data validation, and instructions."""
    import datetime as dt


    if Path(out).suffix.lower() != ".xlsx":
        raise click.BadParameter(f"{out}: name the template .xlsx", param_hint="--out")
    with warnings_printed():
        pack = api.load_pack(rules)
    year = year or dt.date.today().year
    units = []
    if province is not None:
        lst = admin_units.UnitLists().for_year(year)
        code = province.strip().zfill(2)
        if lst is None:
            raise click.BadParameter(f"no official list of units is bundled for {year}", param_hint="--year")
        if lst.province(code) is None:
            codes = ", ".join(f"{c} {n}" for c, n in sorted(lst.provinces.items()))
            raise click.BadParameter(f"no province {province!r} in {lst.title}; the codes are: {codes}",
                                     param_hint="--province")
        units = lst.units_of(code)
        province = code
    try:
        n = write_template(pack, Path(out), units=units, province_code=province, year=year)
    except OSError as e:
        click.echo(f"lanhmanh: cannot write {out}: {e.strerror or e} (is the file open in Excel?)", err=True)
        return EXIT_OUTPUT
    rows = f"{n} official unit(s) of province {province} pre-filled" if units else \
        f"{n} blank row(s) to fill (give --province to pre-fill the official units)"
    click.echo(f"template for {pack.id} {pack.version} written to {out}: {rows}")
    return EXIT_OK
