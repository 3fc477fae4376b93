"""`lanhmanh template`: the data-entry workbook of a pack."""
from __future__ import annotations

import datetime as dt
import warnings
from pathlib import Path

import click

from lanhmanh import api
from lanhmanh.commands.common import reports_errors, warnings_printed
from lanhmanh.engine.model import admin_units, versions
from lanhmanh.engine.model.pack import Pack
from lanhmanh.errors import EXIT_OK, EXIT_OUTPUT, LanhmanhWarning
from lanhmanh.i18n import _
from lanhmanh.scorecards.outputs.template import write_template


@click.command()
@click.option("--rules", "rules", required=True, metavar="PACK", help="A shipped pack id or a rule file.")
@click.option("--province", "province", metavar="CODE",
              help="Pre-fill one row per official unit of this province (2-digit code, e.g. 40).")
@click.option("--year", "year", type=int,
              help="The batch year written in every row; a pack id is taken in the version in force for it "
                   "(default: the assessment year of today, 15 Dec onward counting as the next year).")
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False), help="The workbook to write (.xlsx).")
@reports_errors
def template(rules: str, province: str | None, year: int | None, out: str) -> int:
    """Write the data-entry workbook for a pack: one row per official unit of the province, a
    column per indicator with its Vietnamese label, Excel data validation, and instructions. A pack
    named by id is taken in the version that applies to the batch year (in force on 14 Dec of it),
    as `score` takes it."""
    if Path(out).suffix.lower() != ".xlsx":
        raise click.BadParameter(_("{path}: name the template .xlsx").format(path=out), param_hint="--out")
    year = year or versions.assessment_year(dt.date.today())
    with warnings_printed():
        pack = pack_for_year(rules, year)
    units = []
    if province is not None:
        lst = admin_units.UnitLists().for_year(year)
        code = province.strip().zfill(2)
        if lst is None:
            raise click.BadParameter(_("no official list of units is bundled for {year}").format(year=year),
                                     param_hint="--year")
        if lst.province(code) is None:
            codes = ", ".join(f"{c} {n}" for c, n in sorted(lst.provinces.items()))
            raise click.BadParameter(_("no province {province} in {title}; the codes are: {codes}").format(
                province=repr(province), title=lst.title, codes=codes), param_hint="--province")
        units = lst.units_of(code)
        province = code
    try:
        n = write_template(pack, Path(out), units=units, province_code=province, year=year)
    except OSError as e:
        why = _("{error} (is the file open in Excel?)").format(error=e.strerror or e)
        click.echo(_("lanhmanh: cannot write {path}: {why}").format(path=out, why=why), err=True)
        return EXIT_OUTPUT
    if units:
        click.echo(_("template for {pack} {version} written to {path}: {n} official unit(s) of province "
                     "{province} pre-filled").format(pack=pack.id, version=pack.version, path=out, n=n,
                                                     province=province))
    else:
        click.echo(_("template for {pack} {version} written to {path}: {n} blank row(s) to fill (give "
                     "--province to pre-fill the official units)").format(pack=pack.id, version=pack.version,
                                                                           path=out, n=n))
    return EXIT_OK


def pack_for_year(rules: str, year: int) -> Pack:
    """A pack id in the version that applies to batch `year` (the nearest one, with a warning, when
    none does); a rule file as it is, with a warning when it is not in force for `year`."""
    p = Path(rules)
    found = [] if p.suffix.lower() in (".yaml", ".yml") or p.exists() else versions.versions_of(rules)
    chosen = (versions.for_year(found, year) or versions.nearest(found, year)) if found else None
    pack = api.load_pack(str(chosen.path) if chosen is not None else rules)
    if not versions.in_force(pack, year):
        said = (_("pack {pack} {version} is in force from {start} to {end}, not on {day}: the template for "
                  "{year} is written with it, and `score` will refuse its rows without --force")
                if pack.effective_to else
                _("pack {pack} {version} is in force from {start}, not on {day}: the template for {year} is "
                  "written with it, and `score` will refuse its rows without --force"))
        warnings.warn(LanhmanhWarning(said.format(pack=pack.id, version=pack.version, start=pack.effective_from,
                                                  end=pack.effective_to, day=versions.period_end(year), year=year)))
    return pack
