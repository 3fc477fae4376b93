"""Rebuilds the committed sample inputs of this folder (reproducible: same files on every run).

    python examples/make_samples.py            # writes the CSV files and workbooks next to this script
    python examples/make_samples.py --check    # only checks that the committed files are current

Codes, names and types of Nghệ An's 130 units are official (package `vietnam-provinces`, list in
force since 1 July 2025). Every FIGURE is synthetic: made up, plausible, not real statistics.
The figures are drawn with bench/generate.py's helpers and a fixed seed, commune by commune
towards a chosen class, and checked with its exact oracles (`qd28_class`, `xlm_score`).
"""
from __future__ import annotations

import argparse
import filecmp
import importlib.util
import random
import sys
import tempfile
from collections import Counter
from decimal import Decimal
from fractions import Fraction
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent


def _load_generate():
    spec = importlib.util.spec_from_file_location("lanhmanh_bench_generate", ROOT / "bench" / "generate.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


gen = _load_generate()

PROVINCE = 40
PROVINCE_NAME = "Tỉnh Nghệ An"
SEED = "nghe-an-2025"
QD28_FILE = "nghe-an-2025-ma-tuy.csv"
XLM_FILE = "nghe-an-2025-lanh-manh.csv"
BAD_FILE = "bad-rows.csv"
# The same figures typed into the data-entry templates (`lanhmanh template --province 40`), as a
# council receives them back from the communes.
QD28_BOOK = "nghe-an-2025-ma-tuy.xlsx"
XLM_BOOK = "nghe-an-2025-lanh-manh.xlsx"
CSV_FILES = (QD28_FILE, XLM_FILE, BAD_FILE)
BOOKS = (QD28_BOOK, XLM_BOOK)

# Old districts (before 1 July 2025) of the western mountains, by the ranges of the old commune
# codes that the new communes kept: Quế Phong, Quỳ Châu, Kỳ Sơn, Tương Dương, Quỳ Hợp, Con Cuông.
MOUNTAIN_CODES = [(16738, 16775), (16777, 16810), (16813, 16873), (16876, 16937), (17035, 17100),
                  (17230, 17263)]

# Target classes (cumulative reading). Names are the official new units.
TYPE_1 = ["Xã Keng Đu", "Xã Na Ngoi", "Xã Mường Lống", "Xã Nhôn Mai", "Xã Tri Lễ"]
TYPE_2 = ["Xã Mường Xén", "Xã Nậm Cắn", "Xã Huồi Tụ", "Xã Mỹ Lý", "Xã Yên Na", "Xã Hữu Khuông",
          "Xã Thông Thụ", "Xã Châu Khê", "Xã Mường Chọng", "Phường Thành Vinh", "Phường Vinh Hưng",
          "Phường Hoàng Mai"]
FALL_THROUGH = "Xã Mường Típ"  # 0.6 %, 0.2 %, 600 plants on 200 m²: type II cumulatively, unclassified literally
N_DRUG_FREE = 24
# Units along the national roads (NH7, NH48, NH1) and the Lao border: likely on a key route.
ROUTE_CORRIDOR = [
    "Xã Mường Xén", "Xã Nậm Cắn", "Xã Hữu Kiệm", "Xã Keng Đu", "Xã Na Ngoi", "Xã Mường Lống",
    "Xã Tương Dương", "Xã Yên Na", "Xã Nhôn Mai", "Xã Con Cuông", "Xã Môn Sơn", "Xã Thông Thụ",
    "Xã Quế Phong", "Xã Tri Lễ", "Xã Quỳ Châu", "Xã Quỳ Hợp", "Phường Hoàng Mai", "Phường Tân Mai",
    "Phường Quỳnh Mai", "Xã Quỳnh Lưu", "Xã Diễn Châu", "Phường Thành Vinh", "Phường Vinh Hưng",
    "Phường Trường Vinh", "Xã Hưng Nguyên", "Xã Nghi Lộc",
]
# xa-lanh-manh: prostitution hotspots (a veto) in a few urban and tourist wards.
HOTSPOTS = {"Phường Cửa Lò": 2, "Phường Vinh Lộc": 1, "Phường Trường Vinh": 1}
N_HEALTHY = 45
N_NOT_MET = 24

QD28_COLUMNS = gen.IDENTITY + gen.QD28_INDICATORS + ["on_interprovincial_route"]
XLM_COLUMNS = gen.IDENTITY + gen.XLM_INDICATORS


def setting_of(code: str, utype: str) -> str:
    if utype == "phường":
        return "urban"
    c = int(code)
    return "mountain" if any(lo <= c <= hi for lo, hi in MOUNTAIN_CODES) else "lowland"


def units() -> list[tuple[str, str, str, str]]:
    us = gen.province_units(PROVINCE)
    names = {u[1] for u in us}
    for n in TYPE_1 + TYPE_2 + [FALL_THROUGH] + ROUTE_CORRIDOR + list(HOTSPOTS):
        if n not in names:
            raise SystemExit(f"{n} is not an official unit of province {PROVINCE}")
    return us


def identity(u) -> dict:
    code, name, utype, pcode = u
    return {"unit_code": code, "unit_name": name, "unit_type": utype, "province_code": pcode,
            "year": gen.YEAR}


def qd28_rows(us) -> list[dict]:
    rng = random.Random(SEED + ":qd28")
    lowland_xa = [u for u in us if setting_of(u[0], u[2]) == "lowland" and u[1] not in ROUTE_CORRIDOR]
    drug_free = {u[1] for u in rng.sample(lowland_xa, N_DRUG_FREE)}
    rows = []
    for u in us:
        code, name, utype, _ = u
        setting = setting_of(code, utype)
        row = identity(u)
        if name == FALL_THROUGH:
            # user_rate 60/10,000 = 0.6 %, arrest_rate 20/10,000 = 0.2 %, 600 plants on 200 m² (neither
            # under 500 plants nor under 125 m²: III.c not met), no harbouring point, not on a route,
            # not drug-free (untreated users, violators).
            row.update({"population": 10000, "users_with_records": 60, "harbouring_points": 0,
                        "drug_arrests": 20, "drug_plants": 600, "drug_plant_area_m2": Decimal("200.00"),
                        "on_key_route": False, "resident_users_untreated": 24,
                        "resident_drug_violators": 11, "wanted_drug_fugitives": 0})
        else:
            target = ("type_1" if name in TYPE_1 else "type_2" if name in TYPE_2
                      else "drug_free" if name in drug_free else "type_3")
            pop_range = {"urban": (25000, 60000), "mountain": (8000, 16000)}.get(setting, (12000, 40000))
            route_p = 0.85 if name in ROUTE_CORRIDOR else 0.04
            row.update(gen.qd28_figures(rng, utype, target, setting=setting, boundary_p=0.2,
                                        pop_range=pop_range, route_p=route_p))
        row["on_interprovincial_route"] = None
        rows.append(row)
    province = {k: None for k in QD28_COLUMNS}
    province.update({"unit_code": None, "unit_name": PROVINCE_NAME, "unit_type": "tỉnh",
                     "province_code": f"{PROVINCE:02d}", "year": gen.YEAR, "on_interprovincial_route": True})
    rows.append(province)
    return [{k: r[k] for k in QD28_COLUMNS} for r in rows]


def xlm_rows(us, qd: list[dict]) -> list[dict]:
    rng = random.Random(SEED + ":xlm")
    by_code = {r["unit_code"]: r for r in qd if r["unit_code"]}
    vetoed = [u for u in us if by_code[u[0]]["harbouring_points"] > 0 or u[1] in HOTSPOTS]
    free = [u for u in us if u not in vetoed]
    drug_free = [u for u in free if gen.qd28_class(by_code[u[0]]) == "drug_free"]
    others = [u for u in free if u not in drug_free]
    healthy = rng.sample(drug_free, round(len(drug_free) * 0.85))
    healthy += rng.sample(others, N_HEALTHY - len(healthy))
    rest = [u for u in free if u not in healthy]
    not_met = rng.sample(rest, N_NOT_MET)
    target = {u[0]: "vetoed" for u in vetoed}
    target.update({u[0]: "healthy" for u in healthy})
    target.update({u[0]: "not_met" for u in not_met})
    exact = {}  # boundary totals: healthy at exactly 90, reduced at exactly 75, vetoed at exactly 90
    exact[sorted(healthy)[3][0]] = 90
    exact[sorted(healthy)[17][0]] = 90
    reduced = sorted(u for u in rest if u not in not_met)
    exact[reduced[5][0]] = 75
    exact[reduced[20][0]] = 75
    exact[sorted(vetoed)[2][0]] = 90
    rows = []
    for u in us:
        q = by_code[u[0]]
        t = target.get(u[0], "reduced")
        users = q["users_with_records"]
        addicts = round(users * Fraction(rng.randint(50, 90), 100))
        row = identity(u)
        row.update(gen.xlm_figures(
            rng, u[2], t, total=exact.get(u[0]), harbouring=q["harbouring_points"],
            hotspots=HOTSPOTS.get(u[1], 0), addicts_total=int(addicts),
            no_new_addicts=gen.qd28_class(q) == "drug_free" and t == "healthy", prev_blank_p=0.1))
        rows.append({k: row[k] for k in XLM_COLUMNS})
    return rows


def bad_rows(us) -> list[dict]:
    """Good rows next to rejected ones (xa-lanh-manh), each bad row with exactly one fault."""
    rng = random.Random(SEED + ":bad")
    pick = {u[1]: u for u in us}
    names = ["Xã Anh Sơn", "Xã Con Cuông", "Xã Diễn Châu", "Xã Đô Lương", "Xã Nam Đàn", "Xã Quỳ Hợp",
             "Xã Yên Thành"]
    good = {}
    for n, t in zip(names, ["healthy", "reduced", "healthy", "not_met", "reduced", "healthy", "reduced"]):
        r = identity(pick[n])
        r.update(gen.xlm_figures(rng, "xã", t, prev_blank_p=0))
        good[n] = {k: r[k] for k in XLM_COLUMNS}
    good["Xã Diễn Châu"]["new_drug_addicts_prev"] = None  # optional, blank: still a good row
    rows = [good["Xã Anh Sơn"], good["Xã Diễn Châu"]]
    rows.append({**good["Xã Con Cuông"], "new_drug_addicts": -2})                      # negative count
    rows.append({**good["Xã Đô Lương"], "communication_sessions": "mười"})             # text, not a number
    r = {**good["Xã Nam Đàn"], "villages_total": 12, "villages_reached": 14}            # reached > total
    r["villages_healthy"] = min(r["villages_healthy"], 12)
    rows.append(r)
    rows.append({**good["Xã Quỳ Hợp"], "unit_type": "huyện"})                          # not a commune type
    rows.append({**good["Xã Anh Sơn"],                                                  # duplicate unit_code
                 "communication_sessions": good["Xã Anh Sơn"]["communication_sessions"] + 2})
    rows.append(good["Xã Yên Thành"])
    return rows


def build(out: Path) -> dict:
    us = units()
    qd = qd28_rows(us)
    xlm = xlm_rows(us, qd)
    gen.write_csv(qd, out / QD28_FILE)
    gen.write_csv(xlm, out / XLM_FILE)
    gen.write_csv(bad_rows(us), out / BAD_FILE)
    filled_template("qd-28-2025", qd, out / QD28_BOOK)
    filled_template("xa-lanh-manh", xlm, out / XLM_BOOK)
    communes = [r for r in qd if r["unit_code"]]
    scores = [gen.xlm_score(r) for r in xlm]
    return {
        "qd-28-2025 cumulative": dict(Counter(gen.qd28_class(r) for r in communes).most_common()),
        "qd-28-2025 literal": dict(Counter(gen.qd28_class(r, "literal") for r in communes).most_common()),
        "xa-lanh-manh": dict(Counter(s[2] for s in scores).most_common()),
        "xa-lanh-manh vetoed": sum(bool(s[1]) for s in scores),
    }


def filled_template(pack_id: str, rows: list[dict], path: Path) -> None:
    """`lanhmanh template --rules PACK --province 40 --year 2025`, with every row's figures typed in
    (numbers as numbers, booleans as Có / Không), saved as Excel would."""
    import openpyxl

    from lanhmanh.engine.model import versions
    from lanhmanh.engine.model.admin_units import current
    from lanhmanh.engine.model.loader import load_pack
    from lanhmanh.scorecards.outputs.template import DATA_SHEET, FIRST_ROW, ID_ROW, write_template

    pack, _ = load_pack(versions.for_year(versions.versions_of(pack_id), 2025).path)  # the 2025 version
    write_template(pack, path, units=current().units_of(str(PROVINCE)), province_code=str(PROVINCE), year=2025)
    wb = openpyxl.load_workbook(path)
    ws = wb[DATA_SHEET]
    ids = [c.value for c in ws[ID_ROW]]
    by_key = {r["unit_code"] or "province": r for r in rows}
    for rowno in range(FIRST_ROW, ws.max_row + 1):
        row = by_key.pop(ws.cell(rowno, 1).value or "province")
        for col, ident in enumerate(ids, start=1):
            v = row.get(ident)
            if ident in ("unit_code", "unit_name", "unit_type", "province_code", "year") or v is None:
                continue
            ws.cell(rowno, col).value = ("Có" if v else "Không") if isinstance(v, bool) else \
                int(v) if isinstance(v, int) else float(v)
    assert not by_key, f"rows without a template row: {sorted(by_key)}"
    wb.save(path)


def same_workbook(a: Path, b: Path) -> bool:
    """Same sheets and cell values (the files' bytes differ: a workbook records when it was saved)."""
    import openpyxl

    wa, wb = openpyxl.load_workbook(a), openpyxl.load_workbook(b)
    if wa.sheetnames != wb.sheetnames:
        return False
    return all([[c.value for c in r] for r in wa[n].iter_rows()] == [[c.value for c in r] for r in wb[n].iter_rows()]
               for n in wa.sheetnames)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--check", action="store_true", help="only check that the committed files are current")
    a = ap.parse_args()
    if a.check:
        with tempfile.TemporaryDirectory() as d:
            build(Path(d))
            stale = [n for n in CSV_FILES
                     if not (HERE / n).exists() or not filecmp.cmp(Path(d) / n, HERE / n, shallow=False)]
            stale += [n for n in BOOKS if not (HERE / n).exists() or not same_workbook(Path(d) / n, HERE / n)]
        if stale:
            print("out of date: " + ", ".join(stale), file=sys.stderr)
            return 1
        print("samples are current")
        return 0
    for k, v in build(HERE).items():
        print(f"{k}: {v}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
