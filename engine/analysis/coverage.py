"""Coverage of a rule pack: which outcomes of its criteria, bands, vetoes and classes were reached,
by the scenario cases (`lanhmanh test --coverage`) or by the real units of a batch
(`lanhmanh score --coverage`), and which were never reached. What an outcome is, and when a case
reaches or asserts one: docs/auditing.md, "How coverage counts".
"""
from __future__ import annotations

import unicodedata
import warnings
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional

from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError

from lanhmanh.engine.analysis.scenarios import run_case
from lanhmanh.engine.evaluation.outcome import Outcome
from lanhmanh.engine.model.pack import UNCLASSIFIED, UNDETERMINED, Case, Criterion, Level, Pack
from lanhmanh.i18n import _

CRITERION, VETO, CLASS = "criterion", "veto", "class"


@dataclass(frozen=True)
class Item:
    """One outcome to reach. `slot` is what an Outcome is compared with: for a criterion the band
    index (None: no band / not met), for a veto True (applied) or False, for a class None."""
    level: str  # commune | province
    kind: str  # criterion | veto | class
    id: str
    slot: object
    name: str  # how the outcome reads (in the language in force): "met", "band 2 (5 points)", "applied"…
    line: Optional[int] = None

    @property
    def key(self) -> tuple:
        return (self.level, self.kind, self.id, self.slot)

    def describe(self, level: bool = True) -> str:
        province = level and self.level == "province"
        if self.kind == CLASS:
            said = _("province class {id}") if province else _("class {id}")
        elif self.kind == VETO:
            said = _("province veto {id} {outcome}") if province else _("veto {id} {outcome}")
        else:
            said = _("province criterion {id} {outcome}") if province else _("criterion {id} {outcome}")
        return said.format(id=self.id, outcome=self.name)


@dataclass
class Coverage:
    """Every outcome of a pack, how many units (or cases) reached each, and for cases how many
    asserted each. `counted` is the number of units or cases scored at each level."""
    pack: Pack
    items: list[Item]
    source: str  # "case" | "unit"
    reached: Counter = field(default_factory=Counter)  # Item.key → count
    asserted: Optional[Counter] = None  # Item.key → count (cases only)
    counted: Counter = field(default_factory=Counter)  # level → units/cases scored at that level
    unclassified: Counter = field(default_factory=Counter)  # level → units ending unclassified
    total: int = 0  # cases run (including those that reach nothing), or units + provinces

    def unreached(self) -> list[Item]:
        return [i for i in self.items if not self.reached[i.key]]

    def unasserted(self) -> list[Item]:
        """Outcomes some case reaches but none asserts."""
        if self.asserted is None:
            return []
        return [i for i in self.items if self.reached[i.key] and not self.asserted[i.key]]

    @property
    def n_reached(self) -> int:
        return sum(1 for i in self.items if self.reached[i.key])

    @property
    def n_asserted(self) -> int:
        return sum(1 for i in self.items if self.asserted and self.asserted[i.key])

    @property
    def complete(self) -> bool:
        return not self.unreached()

    def add(self, level_name: str, level: Level, out: Outcome, expect: Optional[dict] = None) -> None:
        """Count what one scored outcome reaches (and, with a case's `expect`, what it asserts)."""
        self.counted[level_name] += 1
        keys = reached_keys(level_name, level, out)
        self.reached.update(keys)
        if out.class_id == UNCLASSIFIED:
            self.unclassified[level_name] += 1
        if expect is not None and self.asserted is not None:
            self.asserted.update(asserted_keys(level_name, level, out, expect))


# ---- the outcomes of a pack ------------------------------------------------------------------

def levels_of(pack: Pack) -> list[tuple[str, Level]]:
    return [("commune", pack.commune)] + ([("province", pack.province)] if pack.province else [])


def band_name(c: Criterion, k: int) -> str:
    b = c.bands[k]
    if b.label:
        return _('band {k} "{label}" ({points} points)').format(k=k + 1, label=b.label, points=b.points)
    return _("band {k} ({points} points)").format(k=k + 1, points=b.points)


def criterion_items(level_name: str, c: Criterion) -> list[Item]:
    if len(c.bands) == 1:
        return [Item(level_name, CRITERION, c.id, 0, _("met")), Item(level_name, CRITERION, c.id, None, _("not met"))]
    return [Item(level_name, CRITERION, c.id, k, band_name(c, k)) for k in range(len(c.bands))] + \
        [Item(level_name, CRITERION, c.id, None, _("no band (0 points)"))]


def pack_items(pack: Pack) -> list[Item]:
    """Every outcome of the pack in rule-file order, with the line that defines it when found."""
    lines = definition_lines(pack)
    items: list[Item] = []
    for name, level in levels_of(pack):
        for c in level.criteria.values():
            items.extend(criterion_items(name, c))
        for vid in level.vetoes:
            items += [Item(name, VETO, vid, True, _("applied")), Item(name, VETO, vid, False, _("not applied"))]
        for cl in level.classes:
            items.append(Item(name, CLASS, cl.id, None, _("reached")))
    return [Item(i.level, i.kind, i.id, i.slot, i.name, lines.get((i.level, i.kind, i.id, i.slot),
                                                                  lines.get((i.level, i.kind, i.id))))
            for i in items]


def reached_keys(level_name: str, level: Level, out: Outcome) -> list[tuple]:
    keys = []
    for cid, (met, _pts, band) in zip(level.criteria, out.outcomes):
        if met is None:  # undetermined (a province with communes of the official list missing): neither
            continue
        keys.append((level_name, CRITERION, cid, (band if band is not None else 0) if met else None))
    applied = set(out.vetoes)
    keys += [(level_name, VETO, vid, vid in applied) for vid in level.vetoes]
    if out.class_id not in (UNCLASSIFIED, UNDETERMINED):
        keys.append((level_name, CLASS, out.class_id, None))
    return keys


def admitted_slots(c: Criterion, expect: dict) -> Optional[set]:
    """The outcomes of criterion `c` that a case's `expect` allows; None when it says nothing."""
    every = set(range(len(c.bands))) | {None}
    allowed, said = set(every), False
    if c.id in (expect.get("met") or []):
        allowed -= {None}
        said = True
    if c.id in (expect.get("not_met") or []):
        allowed &= {None}
        said = True
    points = expect.get("points") or {}
    if c.id in points:
        p = points[c.id]
        allowed &= {k for k, b in enumerate(c.bands) if b.points == p} | ({None} if p == 0 else set())
        said = True
    return allowed if said else None


def asserted_keys(level_name: str, level: Level, out: Outcome, expect: dict) -> list[tuple]:
    keys = []
    for c, (met, _pts, band) in zip(level.criteria.values(), out.outcomes):
        if met is None:
            continue
        slot = (band if band is not None else 0) if met else None
        if admitted_slots(c, expect) == {slot}:
            keys.append((level_name, CRITERION, c.id, slot))
    if expect.get("vetoes") is not None and sorted(expect["vetoes"]) == sorted(out.vetoes):
        keys += [(level_name, VETO, vid, vid in out.vetoes) for vid in level.vetoes]
    if expect.get("class") is not None and expect["class"] == out.class_id not in (UNCLASSIFIED, UNDETERMINED):
        keys.append((level_name, CLASS, out.class_id, None))
    return keys


# ---- where each outcome is defined -------------------------------------------------------------

def definition_lines(pack: Pack) -> dict[tuple, int]:
    """(level, kind, id[, band index]) → 1-based line in the rule file; {} when it cannot be read.
    The loader keeps no line numbers for these, so the rule file's YAML is read again here."""
    try:
        text = unicodedata.normalize("NFC", Path(pack.path).read_bytes().decode("utf-8-sig"))
        raw = YAML(typ="rt").load(text)
    except (OSError, UnicodeDecodeError, YAMLError):
        # the pack loaded, so only a file changed since then gets here; the report goes without lines
        return {}
    if not isinstance(raw, dict):
        return {}
    out: dict[tuple, Optional[int]] = {}
    sections = [("commune", raw)]
    if isinstance(raw.get("province"), dict):
        sections.append(("province", raw["province"]))
    for level, node in sections:
        _criteria_lines(out, level, node.get("criteria"))
        vetoes = node.get("vetoes")
        if isinstance(vetoes, dict):
            for vid in vetoes:
                out[(level, VETO, str(vid))] = _key_line(vetoes, vid)
        classes = node.get("classes")
        if isinstance(classes, list):
            for i, c in enumerate(classes):
                if isinstance(c, dict) and "id" in c:
                    out[(level, CLASS, str(c["id"]))] = _item_line(classes, i)
    return {k: v for k, v in out.items() if v is not None and v}


def _criteria_lines(out: dict, level: str, criteria) -> None:
    if not isinstance(criteria, dict):
        return
    for cid, spec in criteria.items():
        out[(level, CRITERION, str(cid))] = _key_line(criteria, cid)
        bands = spec.get("bands") if isinstance(spec, dict) else None
        if isinstance(bands, list):
            for k in range(len(bands)):
                out[(level, CRITERION, str(cid), k)] = _item_line(bands, k)


def _item_line(sequence: Any, i: int) -> int:
    """The 1-based line of item i of a YAML list read by ruamel.yaml."""
    return sequence.lc.item(i)[0] + 1


def _key_line(node, key) -> Optional[int]:
    try:
        return node.lc.key(key)[0] + 1
    except (AttributeError, KeyError, TypeError):
        return None


# ---- coverage of the scenario cases -------------------------------------------------------------

def case_coverage(pack: Pack, cases: Optional[Iterable[Case]] = None, engine: str = "python") -> Coverage:
    """What the pack's scenario cases (or the cases given) reach and assert, scored on `engine`."""
    cov = Coverage(pack, pack_items(pack), "case", asserted=Counter())
    for case in (pack.cases if cases is None else cases):
        cov.total += 1
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            got = run_case(pack, case, engine).reached
        if got is not None:
            level_name, level, out = got
            cov.add(level_name, level, out, expect=case.expect)
    return cov


# ---- coverage of a scored batch -----------------------------------------------------------------

def batch_coverage(batch) -> Coverage:
    """What the real units of a scored batch (`BatchResult`) and its provinces reach."""
    pack = batch.pack
    cov = Coverage(pack, pack_items(pack), "unit")
    for r in batch.units:
        cov.add("commune", pack.commune, r.outcome)
    if pack.province is not None:
        for p in batch.provinces:
            if p.outcome is not None:
                cov.add("province", pack.province, p.outcome)
    cov.total = cov.counted["commune"] + cov.counted["province"]
    return cov


# ---- text -----------------------------------------------------------------------------------------

def _cases(n: int) -> str:
    return _("1 case") if n == 1 else _("{n} cases").format(n=n)


def _units(n: int) -> str:
    return _("1 unit") if n == 1 else _("{n} units").format(n=n)


def _provinces(n: int) -> str:
    return _("1 province") if n == 1 else _("{n} provinces").format(n=n)


def summary_line(cov: Coverage) -> str:
    """`xa-lanh-manh: 38/40 outcomes reached by 130 units` (and, for cases, how many are asserted)."""
    n = len(cov.items)
    said = {"pack": cov.pack.id, "reached": cov.n_reached, "n": n, "asserted": cov.n_asserted}
    if cov.source == "case":
        scored = cov.counted["commune"] + cov.counted["province"]
        if scored < cov.total:
            return _("{pack}: {reached}/{n} outcomes reached by {cases} ({rejected} of them rejected, reaching "
                     "nothing), {asserted}/{n} asserted").format(cases=_cases(cov.total),
                                                                 rejected=cov.total - scored, **said)
        return _("{pack}: {reached}/{n} outcomes reached by {cases}, {asserted}/{n} asserted").format(
            cases=_cases(cov.total), **said)
    if cov.pack.province is not None:
        return _("{pack}: {reached}/{n} outcomes reached by {units} and {provinces}").format(
            units=_units(cov.counted["commune"]), provinces=_provinces(cov.counted["province"]), **said)
    return _("{pack}: {reached}/{n} outcomes reached by {units}").format(units=_units(cov.counted["commune"]),
                                                                          **said)


def _where(cov: Coverage, item: Item) -> str:
    return f"{cov.pack.path}:{item.line}" if item.line else cov.pack.path


def count_lines(cov: Coverage) -> list[str]:
    """Per level, one line per outcome: how many units (or cases) reached it."""
    out: list[str] = []
    for level_name, level in levels_of(cov.pack):
        n = cov.counted[level_name]
        if cov.source == "case":
            noun = _cases(n)
        else:
            noun = _provinces(n) if level_name == "province" else _units(n)
        said = _("province level, {counted}:") if level_name == "province" else _("commune level, {counted}:")
        out.append("  " + said.format(counted=noun))
        for i in cov.items:
            if i.level == level_name:
                out.append("    " + _("{outcome}: {count} of {n}").format(outcome=i.describe(level=False),
                                                                          count=cov.reached[i.key], n=n))
        if cov.unclassified[level_name]:
            out.append("    " + _("{outcome}: {count} of {n}").format(outcome=UNCLASSIFIED,
                                                                      count=cov.unclassified[level_name], n=n))
    return out


def render(cov: Coverage, counts: bool = False, unasserted: bool = False) -> list[str]:
    """The report as text lines: the summary line, the counts per outcome (`counts`), every outcome
    never reached with the file:line defining it, and (`unasserted`) those reached but asserted by
    no case."""
    lines = [summary_line(cov)]
    if counts:
        lines += count_lines(cov)
    missing = cov.unreached()
    if missing:
        lines.append("  " + _("not reached ({n}):").format(n=len(missing)))
        lines += [f"    {_where(cov, i)}: {i.describe()}" for i in missing]
    if unasserted and cov.unasserted():
        lines.append("  " + _("reached but asserted by no case ({n}):").format(n=len(cov.unasserted())))
        lines += [f"    {_where(cov, i)}: {i.describe()}" for i in cov.unasserted()]
    return lines


def batch_report(batch) -> list[str]:
    """`score --coverage`: the report of a scored batch as text lines, with the counts."""
    return render(batch_coverage(batch), counts=True)
