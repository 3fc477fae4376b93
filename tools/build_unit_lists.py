"""Build `data/units-2024.csv.gz`: the list of administrative units in force just before the
1 July 2025 reform (63 provinces, 696 districts, 10,051 communes, wards and townships), taken from the
PyPI package `vietnam-provinces` 0.6.0 (data retrieved from the GSO on 2025-01-04).

The installed `vietnam-provinces` (2025.x) carries the post-reform list; two versions of one package
cannot be installed side by side, so the old list is extracted once from the 0.6.0 wheel (a zip:
nothing is installed or imported from it) into a small gzip CSV shipped inside lanhmanh, with a
sidecar JSON recording where it came from (package, version, sha256 of the wheel, data date).

    python tools/build_unit_lists.py [--wheel PATH.whl] [--out-dir data]

Without --wheel, the wheel is fetched with `pip download vietnam-provinces==0.6.0 --no-deps`.
The output is deterministic: rebuilding from the same wheel gives identical bytes (rows sorted,
gzip header without a timestamp or file name, fixed compression level).

Version 0.6.0 of the package labels every ward "xã" and every district "huyện" in its division_type
fields (a bug of that release); the names carry the real type word ("Thị trấn Kim Nhan", "Phường
Đông Vĩnh", "Thị xã Hoàng Mai"), so the unit type is read from the name.
"""
from __future__ import annotations

import argparse
import csv
import gzip
import hashlib
import io
import json
import re
import subprocess
import sys
import tempfile
import unicodedata
import zipfile
from pathlib import Path

PACKAGE, VERSION = "vietnam-provinces", "0.6.0"
COLUMNS = ("province_code", "province_name", "district_code", "district_name",
           "unit_code", "unit_name", "unit_type")
UNIT_TYPES = ("thị trấn", "phường", "xã")  # the type word that starts a commune-level unit's name
DISTRICT_TYPES = ("quận", "huyện", "thị xã", "thành phố")
REFORM_EVE = "2025-06-30"  # the last day before Nghị quyết 202/2025/QH15 and the commune reorganisation
ROOT = Path(__file__).resolve().parent.parent


def fetch_wheel(dest: Path) -> Path:
    """pip download the wheel into dest; returns its path."""
    subprocess.run([sys.executable, "-m", "pip", "download", f"{PACKAGE}=={VERSION}", "--no-deps",
                    "--only-binary", ":all:", "-d", str(dest)], check=True)
    (whl,) = dest.glob("vietnam_provinces-0.6.0-*.whl")
    return whl


def nfc(s: str) -> str:
    return unicodedata.normalize("NFC", " ".join(s.split()))


def type_of(name: str, types: tuple[str, ...]) -> str:
    """The type word a name starts with ('Thị trấn Kim Nhan' → 'thị trấn'); ValueError if none."""
    low = name.lower()
    for t in types:
        if low.startswith(t + " "):
            return t
    raise ValueError(f"{name!r} starts with none of {', '.join(types)}")


def read_wheel(whl: Path) -> tuple[list[dict], str]:
    """The flat rows of the wheel's data file and the package's __data_version__."""
    with zipfile.ZipFile(whl) as z:
        flat = json.loads(z.read("vietnam_provinces/data/flat-divisions.json"))
        init = z.read("vietnam_provinces/__init__.py").decode("utf-8")
    m = re.search(r"__data_version__\s*=\s*['\"]([^'\"]+)['\"]", init)
    return flat, (m.group(1) if m else "")


def rows_of(flat: list[dict]) -> list[tuple[str, ...]]:
    """One row per unit, sorted by unit code; a district without units (the island districts
    Bạch Long Vĩ, Cồn Cỏ, Hoàng Sa, Lý Sơn, Côn Đảo) is one row with blank unit columns."""
    rows = []
    for r in flat:
        district = nfc(r["district_name"])
        type_of(district, DISTRICT_TYPES)  # a check: every district name carries its type word
        pcode, dcode = f"{int(r['province_code']):02d}", f"{int(r['district_code']):03d}"
        if r["ward_code"] is None:
            rows.append((pcode, nfc(r["province_name"]), dcode, district, "", "", ""))
            continue
        name = nfc(r["ward_name"])
        rows.append((pcode, nfc(r["province_name"]), dcode, district, f"{int(r['ward_code']):05d}",
                     name, type_of(name, UNIT_TYPES)))
    rows.sort(key=lambda t: (t[4] or "~", t[2]))
    codes = [t[4] for t in rows if t[4]]
    if len(codes) != len(set(codes)):
        raise ValueError("duplicate unit codes in the source")
    return rows


def csv_gz(rows: list[tuple[str, ...]]) -> bytes:
    """The rows as UTF-8 CSV (LF line ends), gzip-compressed without timestamp or name."""
    text = io.StringIO()
    w = csv.writer(text, lineterminator="\n")
    w.writerow(COLUMNS)
    w.writerows(rows)
    buf = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=buf, compresslevel=9, mtime=0) as gz:
        gz.write(text.getvalue().encode("utf-8"))
    return buf.getvalue()


def sidecar(whl: Path, data_version: str, rows: list[tuple[str, ...]], payload: bytes) -> dict:
    units = [t for t in rows if t[4]]
    return {
        "file": "units-2024.csv.gz",
        "title": "the last list of administrative units in force before the 1 July 2025 reform",
        "source": {"package": PACKAGE, "version": VERSION, "wheel": whl.name,
                   "wheel_sha256": hashlib.sha256(whl.read_bytes()).hexdigest(),
                   "data_file": "vietnam_provinces/data/flat-divisions.json",
                   "data_version": data_version,
                   "origin": "General Statistics Office of Viet Nam, danhmuchanhchinh.gso.gov.vn"},
        "in_force": {"as_of": data_version, "until": REFORM_EVE,
                     "note": "the GSO list as retrieved on data_version, which includes the mergers "
                             "of 1 January 2025; taken as the list in force until the reform"},
        "applies_to_batch_years": "up to 2024",
        "counts": {"provinces": len({t[0] for t in rows}), "districts": len({t[2] for t in rows}),
                   "units": len(units), **{t: sum(1 for u in units if u[6] == t) for t in UNIT_TYPES}},
        "sha256": hashlib.sha256(payload).hexdigest(),
        "built_by": "tools/build_unit_lists.py",
    }


def build(whl: Path, out_dir: Path) -> dict:
    flat, data_version = read_wheel(whl)
    rows = rows_of(flat)
    payload = csv_gz(rows)
    meta = sidecar(whl, data_version, rows, payload)
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "units-2024.csv.gz").write_bytes(payload)
    (out_dir / "units-2024.json").write_text(json.dumps(meta, ensure_ascii=False, indent=2) + "\n",
                                             encoding="utf-8")
    return meta


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--wheel", type=Path, help="vietnam_provinces-0.6.0-py3-none-any.whl (default: pip download)")
    ap.add_argument("--out-dir", type=Path, default=ROOT / "data")
    args = ap.parse_args(argv)
    if args.wheel is not None:
        meta = build(args.wheel, args.out_dir)
    else:
        with tempfile.TemporaryDirectory() as tmp:
            meta = build(fetch_wheel(Path(tmp)), args.out_dir)
    print(json.dumps(meta["counts"], ensure_ascii=False), "→", args.out_dir / meta["file"])
    return 0


if __name__ == "__main__":
    sys.exit(main())
