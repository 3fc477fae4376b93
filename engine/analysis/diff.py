"""What `lanhmanh diff` computes, without any command-line code: the rule-level differences
between two checked packs (`diff_packs`), and the effect of the change on a batch scored with
each pack (`compare_batches`). How packs are compared: docs/auditing.md, "How diff compares packs".
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any, Callable, Optional

from lanhmanh.engine.evaluation.evidence import criteria_evidence, value_for_output
from lanhmanh.engine.evaluation.scoring import BatchResult, ProvinceResult, UnitResult
from lanhmanh.engine.language import nodes
from lanhmanh.engine.language.visitor import Visitor
from lanhmanh.engine.model.pack import UNCLASSIFIED, Level, Pack
from lanhmanh.i18n import N_, _

REJECTED = "rejected"  # the matrix row/column of units the other pack did not score
# a residual class's condition in a RuleChange: kept as this English text (the diff workbook replaces
# it by its Vietnamese words); a printer says it through _(RESIDUAL)
RESIDUAL = N_("residual (every unit no earlier class took)")


# ---- rule-level changes ---------------------------------------------------------------------------

@dataclass(frozen=True)
class RuleChange:
    """One difference between two packs: `op` is '+' (added), '-' (removed) or '~' (changed);
    `level` is 'pack', 'commune' or 'province'; `kind` what changed (criterion, class…); for '~'
    `field` names the part that changed, `old` / `new` its canonical text."""
    op: str
    level: str
    kind: str
    id: str
    field: Optional[str] = None
    old: Optional[str] = None
    new: Optional[str] = None
    effect: bool = True

    def as_dict(self) -> dict:
        return {"op": self.op, "level": self.level, "kind": self.kind, "id": self.id, "field": self.field,
                "old": self.old, "new": self.new, "effect": self.effect}


@dataclass(frozen=True)
class _Field:
    """How to compare one field of an item: `key` gives what is compared, `text` what is shown."""
    name: str
    key: Callable[[Any], Any]
    text: Callable[[Any], Optional[str]]
    effect: bool = True


class _Shape(Visitor[tuple]):
    """An expression as nested tuples of node kinds, operators, names and exact values."""

    def visit_Num(self, node: nodes.Num) -> tuple:
        return ("num", node.value)

    def visit_Bool(self, node: nodes.Bool) -> tuple:
        return ("bool", node.value)

    def visit_Name(self, node: nodes.Name) -> tuple:
        return ("name", node.id)

    def visit_Call(self, node: nodes.Call) -> tuple:
        return ("call", node.fn, tuple(self.visit(a) for a in node.args))

    def visit_Neg(self, node: nodes.Neg) -> tuple:
        return ("Neg", self.visit(node.operand))

    def visit_Not(self, node: nodes.Not) -> tuple:
        return ("Not", self.visit(node.operand))

    def visit_Arith(self, node: nodes.Arith) -> tuple:
        return ("Arith", node.op, self.visit(node.left), self.visit(node.right))

    def visit_Compare(self, node: nodes.Compare) -> tuple:
        return ("Compare", node.op, self.visit(node.left), self.visit(node.right))

    def visit_BoolOp(self, node: nodes.BoolOp) -> tuple:
        return ("boolop", node.op, tuple(self.visit(a) for a in node.items))

    def generic_visit(self, node: nodes.Node) -> tuple:
        raise TypeError(node)


_SHAPE = _Shape()


def shape(node: Optional[nodes.Node]) -> Any:
    """An expression's structure without positions or number spelling: equal shapes mean the same
    condition (`0.5%` and `0.005` are the same number; `a>=1` and `a >= 1` the same comparison)."""
    return None if node is None else _SHAPE.visit(node)


def _txt(x: Any) -> Optional[str]:
    if x is None:
        return None
    if isinstance(x, bool):
        return _("yes") if x else _("no")
    return str(x)


def _attr(name: str, effect: bool = True, show: Callable[[Any], Optional[str]] = _txt) -> _Field:
    return _Field(name, lambda o: getattr(o, name), lambda o: show(getattr(o, name)), effect)


def _fraction_text(f: Any) -> str:
    """A zero-denominator policy as written: reject, unknown, or a value (100%)."""
    if isinstance(f, Fraction):
        pct = f * 100
        if pct.denominator == 1:
            return f"{pct.numerator}%"
        return str(value_for_output(f))
    return str(f)


def _compare(level: str, kind: str, ident: str, old: Any, new: Any, fields: list[_Field]) -> list[RuleChange]:
    out = []
    for f in fields:
        if f.key(old) != f.key(new):
            out.append(RuleChange("~", level, kind, ident, f.name, f.text(old), f.text(new), f.effect))
    return out


def _keyed(level: str, kind: str, olds: dict, news: dict, fields: list[_Field],
           summary: Callable[[Any], Optional[str]], effect: bool = True) -> list[RuleChange]:
    """Items matched by id: removed ones, then changed and added ones in the new pack's order.
    `effect`: whether adding or removing such an item can change results."""
    out = [RuleChange("-", level, kind, i, old=summary(o), effect=effect) for i, o in olds.items() if i not in news]
    for i, n in news.items():
        if i in olds:
            out.extend(_compare(level, kind, i, olds[i], n, fields))
        else:
            out.append(RuleChange("+", level, kind, i, new=summary(n), effect=effect))
    return out


# ---- pack metadata ------------------------------------------------------------------------------

_META = [
    _attr("id", effect=False), _attr("version", effect=False), _attr("status", effect=False),
    _attr("effective_from"), _attr("effective_to"), _attr("engine_min"),
    _attr("title", effect=False), _attr("reading", effect=False),
    _Field("advisories", lambda p: p.advisories, lambda p: "; ".join(
        f"{a.from_year}–{a.to_year or ''}: {a.text}" for a in p.advisories) or _("(none)"), effect=False),
    _Field("sources", lambda p: p.sources, lambda p: "; ".join(
        f"{k}: " + ", ".join(str(x) for x in v.values()) for k, v in p.sources.items()), effect=False),
    _Field("tiers", lambda p: p.tiers, lambda p: ", ".join(p.tiers) or _("(none)")),
]

_GROUP = [
    _Field("title", lambda g: g.get("title"), lambda g: g.get("title"), effect=False),
    _Field("points", lambda g: g.get("points"), lambda g: _txt(g.get("points")), effect=False),
]


def _group_summary(g: dict) -> str:
    if g.get("points") is None:
        return f"{g.get('title', '')}"
    return _("{title} ({points} points)").format(title=g.get("title", ""), points=g["points"])


# ---- one level ----------------------------------------------------------------------------------

_INDICATOR = [
    _attr("type"), _attr("min"), _attr("max"), _attr("decimals"), _attr("required"),
    _attr("label", effect=False), _attr("unit", effect=False), _attr("description", effect=False),
]


def _indicator_summary(i) -> str:
    bounds = "".join([f", ≥ {i.min}" if i.min is not None else "", f", ≤ {i.max}" if i.max is not None else ""])
    if i.required:
        return f"{i.type}{bounds}: {i.label}"
    return _("{type}{bounds}, optional: {label}").format(type=i.type, bounds=bounds, label=i.label)


_DERIVED = [
    _Field("expr", lambda d: (d.num, d.den), lambda d: d.text),
    _Field("zero_denominator", lambda d: d.zero, lambda d: _fraction_text(d.zero)),
    _attr("label", effect=False),
]

_CONSTRAINT = [
    _Field("rule", lambda c: shape(c.cond), lambda c: c.text),
    _attr("message", effect=False),
    _attr("severity"),
]

_VETO = [
    _Field("condition", lambda v: shape(v.cond), lambda v: v.text),
    _attr("title", effect=False), _attr("cite", effect=False), _attr("note", effect=False),
]


def _criterion_fields(old, new) -> list[_Field]:
    """The fields of a criterion: its bands one by one when both have the same number of bands
    (a single `when` is 'condition' and 'points'), all bands at once otherwise."""
    fields: list[_Field] = []
    if len(old.bands) == len(new.bands):
        one = len(old.bands) == 1
        for k in range(len(old.bands)):
            fields += _band_fields("" if one else f"band {k + 1} ", k)
    else:
        fields.append(_Field("bands", lambda c: [(shape(b.cond), b.points if c.scored else None)
                                                 for b in c.bands], _bands_text))
    fields += [_attr("tier"), _attr("aspect"), _attr("title", effect=False), _attr("form_title", effect=False),
               _attr("cite", effect=False), _attr("note", effect=False), _attr("group", effect=False)]
    return fields


def _band_fields(prefix: str, k: int) -> list[_Field]:
    """The condition, points and label of band k of a criterion, named `prefix` + field."""
    return [
        _Field(f"{prefix}condition", lambda c: shape(c.bands[k].cond), lambda c: c.bands[k].text),
        _Field(f"{prefix}points", lambda c: c.bands[k].points if c.scored else None,
               lambda c: str(c.bands[k].points) if c.scored else _("(no points)")),
        _Field(f"{prefix}label", lambda c: c.bands[k].label, lambda c: c.bands[k].label, effect=False),
    ]


def _bands_text(c) -> str:
    """A criterion's bands, without arrows (which mean old → new here): `cond: N points; ...`."""
    if not c.scored:
        return "; ".join(b.text for b in c.bands)
    return "; ".join(_("{condition}: {points} points").format(condition=b.text, points=b.points) for b in c.bands)


def _criteria(level: str, olds: dict, news: dict) -> list[RuleChange]:
    out = [RuleChange("-", level, "criterion", i, old=_bands_text(o)) for i, o in olds.items() if i not in news]
    for i, n in news.items():
        if i in olds:
            out.extend(_compare(level, "criterion", i, olds[i], n, _criterion_fields(olds[i], n)))
        else:
            out.append(RuleChange("+", level, "criterion", i, new=_bands_text(n)))
    return out


_CLASS = [
    _Field("condition", lambda c: ("residual",) if c.residual else shape(c.cond),
           lambda c: RESIDUAL if c.residual else c.text),
    _attr("label", effect=False), _attr("cite", effect=False), _attr("note", effect=False),
]


def _classes(level: str, old: Level, new: Level) -> list[RuleChange]:
    olds = {c.id: c for c in old.classes}
    news = {c.id: c for c in new.classes}
    out = _keyed(level, "class", olds, news, _CLASS,
                 lambda c: f"{c.label}: {RESIDUAL if c.residual else c.text}")
    common_old = [c for c in olds if c in news]
    common_new = [c for c in news if c in olds]
    if common_old != common_new:  # first match wins: the order of evaluation is a rule
        out.append(RuleChange("~", level, "classes", "order", "order", ", ".join(common_old), ", ".join(common_new)))
    return out


def _ranking(level: str, old: Level, new: Level) -> list[RuleChange]:
    out = []
    ob = old.best_first or [c.id for c in old.classes]
    nb = new.best_first or [c.id for c in new.classes]
    if ob != nb:
        out.append(RuleChange("~", level, "ranking", "best_first", "best first", ", ".join(ob), ", ".join(nb)))
    ot = [(k.by, k.descending) for k in old.then]
    nt = [(k.by, k.descending) for k in new.then]
    if ot != nt:
        out.append(RuleChange("~", level, "ranking", "then", "then", _then_text(ot), _then_text(nt)))
    return out


def _then_text(keys: list[tuple[str, bool]]) -> str:
    """Tie-breakers as written: `user_rate asc, population desc`, or (none)."""
    return ", ".join(f"{by} {'desc' if descending else 'asc'}" for by, descending in keys) or _("(none)")


def _own_indicators(level: Level) -> dict:
    """The indicators of a level that are not summed from the communes."""
    return {k: v for k, v in level.indicators.items() if k not in level.summed}


def diff_level(name: str, old: Level, new: Level) -> list[RuleChange]:
    """Every difference between two levels of the same name (commune or province). For the province
    level only its own indicators are compared; the summed ones are the commune's."""
    return [
        *_keyed(name, "indicator", _own_indicators(old), _own_indicators(new), _INDICATOR, _indicator_summary),
        *_keyed(name, "derived", old.derived, new.derived, _DERIVED, lambda d: f"{d.text} ({d.label})"),
        *_keyed(name, "constraint", {c.id: c for c in old.constraints + old.soft_constraints},
                {c.id: c for c in new.constraints + new.soft_constraints}, _CONSTRAINT, lambda c: c.text),
        *_criteria(name, old.criteria, new.criteria),
        *_keyed(name, "veto", old.vetoes, new.vetoes, _VETO, lambda v: v.text),
        *_classes(name, old, new),
        *_ranking(name, old, new),
    ]


def diff_packs(old: Pack, new: Pack) -> list[RuleChange]:
    """Every rule-level difference between two loaded packs, grouped: the pack itself, its groups,
    the commune level, then the province level (added or removed as a whole, or compared)."""
    out = _compare("pack", "pack", "pack", old, new, _META)
    out += _keyed("pack", "group", old.groups, new.groups, _GROUP, _group_summary, effect=False)
    out += diff_level("commune", old.commune, new.commune)
    if old.province is not None and new.province is not None:
        out += diff_level("province", old.province, new.province)
    elif old.province is not None:
        out.append(RuleChange("-", "province", "level", "province", old=_level_summary(old.province)))
    elif new.province is not None:
        out.append(RuleChange("+", "province", "level", "province", new=_level_summary(new.province)))
    return out


def _level_summary(level: Level) -> str:
    return _("{n} criteria, classes {classes}").format(n=len(level.criteria),
                                                       classes=", ".join(c.id for c in level.classes))


# ---- the effect on a batch -----------------------------------------------------------------------

@dataclass
class CriterionChange:
    """A criterion whose result differs for one unit; `old` / `new` are (met, points) or None when
    the criterion is not in that pack; `inputs` the values it read (new side, else old)."""
    id: str
    old: Optional[tuple]
    new: Optional[tuple]
    inputs: dict = field(default_factory=dict)

    def as_dict(self) -> dict:
        def side(result: Optional[tuple]) -> Optional[dict]:
            return None if result is None else {"met": result[0], "points": result[1]}

        return {"id": self.id, "old": side(self.old), "new": side(self.new), "inputs": self.inputs}


CHANGE_KINDS = ("class", "total", "rank", "criteria")


@dataclass
class UnitChange:
    """One unit scored by both packs whose result differs. `change` is the largest difference:
    class; total (or vetoes); rank (national or in its province); criteria (met or points only)."""
    change: str
    old: UnitResult
    new: UnitResult
    criteria: list[CriterionChange]

    @property
    def code(self) -> str:
        return self.old.unit.code


@dataclass
class OneSided:
    """A unit scored by one pack only (the other rejected its row): why the other did not score it."""
    result: UnitResult
    reasons: list[str]


@dataclass
class ProvinceChange:
    province_code: str
    old: Optional[ProvinceResult]
    new: Optional[ProvinceResult]
    criteria: list[CriterionChange]

    @property
    def changed(self) -> bool:
        return (_pclass(self.old) != _pclass(self.new) or bool(self.criteria)
                or _counts(self.old) != _counts(self.new) or _n(self.old) != _n(self.new))


def _pclass(p: Optional[ProvinceResult]) -> Optional[str]:
    return p.outcome.class_id if p is not None and p.outcome is not None else None


def _counts(p: Optional[ProvinceResult]) -> dict:
    return {k: v for k, v in (p.class_counts if p else {}).items() if v}


def _n(p: Optional[ProvinceResult]) -> int:
    return p.n_units if p else 0


@dataclass
class ClassMatrix:
    """Units by old class (rows) and new class (columns). A unit scored by one pack only is counted
    under REJECTED on the other side, so row sums are the old pack's class counts and column
    sums the new pack's."""
    rows: list[str]
    columns: list[str]
    counts: dict[str, dict[str, int]]

    def row_total(self, r: str) -> int:
        return sum(self.counts[r].values())

    def column_total(self, c: str) -> int:
        return sum(self.counts[r][c] for r in self.rows)


@dataclass
class Impact:
    changes: list[UnitChange]  # by old national rank
    compared: int  # units scored by both packs
    only_old: list[OneSided]
    only_new: list[OneSided]
    matrix: ClassMatrix
    provinces: list[ProvinceChange]

    def count(self, kind: str) -> int:
        return sum(1 for c in self.changes if c.change == kind)


def _sides(level: Optional[Level], outcome) -> dict[str, tuple]:
    if level is None or outcome is None:
        return {}
    return {c.id: (met, pts if c.scored else None)
            for c, (met, pts, _band) in zip(level.criteria.values(), outcome.outcomes)}


def criterion_changes(old_level: Optional[Level], old_values: dict, old_out,
                      new_level: Optional[Level], new_values: dict, new_out) -> list[CriterionChange]:
    """The criteria whose (met, points) differ between the two results, in the new pack's order then
    the old pack's removed ones; a criterion of one pack only is always listed."""
    olds, news = _sides(old_level, old_out), _sides(new_level, new_out)
    ids = list(dict.fromkeys([*news, *olds]))
    diff_ids = [i for i in ids if olds.get(i) != news.get(i)]
    if not diff_ids:
        return []
    inputs = {}
    for level, values, out in ((old_level, old_values, old_out), (new_level, new_values, new_out)):
        if level is not None and out is not None:
            for ev in criteria_evidence(level, values, out):
                if ev["id"] in diff_ids:
                    inputs[ev["id"]] = ev["inputs"]
    return [CriterionChange(i, olds.get(i), news.get(i), inputs.get(i, {})) for i in diff_ids]


def _change_kind(o: UnitResult, n: UnitResult, crit: list) -> Optional[str]:
    if o.outcome.class_id != n.outcome.class_id:
        return "class"
    if o.outcome.total != n.outcome.total or o.outcome.vetoes != n.outcome.vetoes:
        return "total"
    if o.rank_national != n.rank_national or o.rank_province != n.rank_province:
        return "rank"
    if crit:
        return "criteria"
    return None


def _reasons(unit, rejected) -> list[str]:
    """Why the other pack did not score this unit's row: its rejections of the same file and row."""
    out = [f"{r.column}: {r.reason}" if r.column else r.reason
           for r in rejected if r.path == unit.path and r.row == unit.row and r.sheet == unit.sheet]
    return list(dict.fromkeys(out)) or [_("not scored")]


def class_matrix(old: BatchResult, new: BatchResult) -> ClassMatrix:
    """The old-class × new-class table over every unit either pack scored."""
    oc = {r.unit.code: r.outcome.class_id for r in old.units}
    nc = {r.unit.code: r.outcome.class_id for r in new.units}
    pairs = Counter((oc.get(k, REJECTED), nc.get(k, REJECTED)) for k in {*oc, *nc})
    rows = _axis(old.pack.commune, [a for a, _b in pairs])
    cols = _axis(new.pack.commune, [b for _a, b in pairs])
    return ClassMatrix(rows, cols, {r: {c: pairs.get((r, c), 0) for c in cols} for r in rows})


def _axis(level: Level, seen: list[str]) -> list[str]:
    """Every class of the pack in its order; unclassified and REJECTED only when they occur."""
    axis = [c.id for c in level.classes]
    for extra in (UNCLASSIFIED, REJECTED):
        if extra in seen:
            axis.append(extra)
    return axis


def compare_provinces(old: BatchResult, new: BatchResult) -> list[ProvinceChange]:
    olds = {p.province_code: p for p in old.provinces}
    news = {p.province_code: p for p in new.provinces}
    out = []
    for code in sorted({*olds, *news}):
        o, n = olds.get(code), news.get(code)
        crit = criterion_changes(old.pack.province, o.values if o else {}, o.outcome if o else None,
                                 new.pack.province, n.values if n else {}, n.outcome if n else None)
        out.append(ProvinceChange(code, o, n, crit))
    return out


def compare_batches(old: BatchResult, new: BatchResult) -> Impact:
    """Match the two batches' units by unit_code and say what moved."""
    news = {r.unit.code: r for r in new.units}
    olds = {r.unit.code: r for r in old.units}
    changes = []
    for o in old.units:  # national rank order of the old batch
        n = news.get(o.unit.code)
        if n is None:
            continue
        crit = criterion_changes(old.pack.commune, o.unit.values, o.outcome,
                                 new.pack.commune, n.unit.values, n.outcome)
        kind = _change_kind(o, n, crit)
        if kind is not None:
            changes.append(UnitChange(kind, o, n, crit))
    only_old = [OneSided(r, _reasons(r.unit, new.rejected)) for r in old.units if r.unit.code not in news]
    only_new = [OneSided(r, _reasons(r.unit, old.rejected)) for r in new.units if r.unit.code not in olds]
    compared = sum(1 for c in olds if c in news)
    return Impact(changes, compared, only_old, only_new, class_matrix(old, new), compare_provinces(old, new))


# ---- plain data for JSON -------------------------------------------------------------------------

def unit_side(level: Level, r: UnitResult) -> dict:
    return {"class": r.outcome.class_id, "class_label": level.class_label(r.outcome.class_id),
            "total": r.outcome.total, "vetoes": list(r.outcome.vetoes),
            "rank_national": r.rank_national, "rank_province": r.rank_province}


def impact_dict(old: BatchResult, new: BatchResult, impact: Impact) -> dict:
    ol, nl = old.pack.commune, new.pack.commune
    m = impact.matrix
    return {
        "summary": {"compared": impact.compared, **{k: impact.count(k) for k in CHANGE_KINDS},
                    "unchanged": impact.compared - len(impact.changes),
                    "only_old": len(impact.only_old), "only_new": len(impact.only_new)},
        "units": [{"unit_code": c.code, "unit_name": c.old.unit.name, "province_code": c.old.unit.province_code,
                   "change": c.change, "old": unit_side(ol, c.old), "new": unit_side(nl, c.new),
                   "criteria": [x.as_dict() for x in c.criteria]} for c in impact.changes],
        "only_old": [{"unit_code": s.result.unit.code, "unit_name": s.result.unit.name,
                      "province_code": s.result.unit.province_code, "old": unit_side(ol, s.result),
                      "reasons": s.reasons} for s in impact.only_old],
        "only_new": [{"unit_code": s.result.unit.code, "unit_name": s.result.unit.name,
                      "province_code": s.result.unit.province_code, "new": unit_side(nl, s.result),
                      "reasons": s.reasons} for s in impact.only_new],
        "matrix": {"rows": m.rows, "columns": m.columns, "counts": m.counts,
                   "labels": {"old": {r: ol.class_label(r) for r in m.rows if r != REJECTED},
                              "new": {c: nl.class_label(c) for c in m.columns if c != REJECTED}}},
        "provinces": [_province_dict(old, new, p) for p in impact.provinces],
    }


def _province_dict(old: BatchResult, new: BatchResult, p: ProvinceChange) -> dict:
    def side(pack: Pack, r: Optional[ProvinceResult]) -> Optional[dict]:
        if r is None:
            return None
        cls = _pclass(r)
        return {"class": cls, "class_label": pack.province.class_label(cls) if cls and pack.province else None,
                "units": r.n_units, "class_counts": _counts(r)}

    return {"province_code": p.province_code, "changed": p.changed, "old": side(old.pack, p.old),
            "new": side(new.pack, p.new), "criteria": [x.as_dict() for x in p.criteria]}

