"""Why a unit (or a province) got its class: the logic behind `lanhmanh explain`.

Works on a scored batch (`scoring.BatchResult`); reads and prints nothing. How an explanation is
built, and why it cannot disagree with the engine: docs/auditing.md, "How explain works".
"""
from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction
from typing import Any, Optional

from lanhmanh.engine.evaluation.evidence import catalogue, criteria_evidence, value_for_output
from lanhmanh.engine.evaluation.outcome import Outcome
from lanhmanh.engine.evaluation.python_backend import Compiler
from lanhmanh.engine.evaluation.scoring import BatchResult, ProvinceResult, UnitResult, condition_env
from lanhmanh.engine.language import nodes
from lanhmanh.engine.language.problems import _fold
from lanhmanh.engine.language.visitor import Visitor
from lanhmanh.engine.model.pack import (
    UNCLASSIFIED,
    UNCLASSIFIED_LABEL,
    UNDETERMINED,
    ClassDef,
    Level,
    Pack,
    higher_than,
)
from lanhmanh.i18n import N_, _


class ExplanationMismatch(RuntimeError):
    """The class conditions, evaluated over the engine's own criteria results, disagree with the
    class the engine gave: a bug in lanhmanh, never a property of the data."""


# ---------------------------------------------------------------------------------------------
# values for people


def decimal_comma(text: str) -> str:
    """'750.25' → '750,25' (the Vietnamese decimal comma); integers unchanged."""
    return text.replace(".", ",")


def percent_text(value: Fraction) -> str:
    """A fraction as a percentage: exact when it has at most 6 decimals ('0,6%', '12,5%'),
    otherwise rounded to at least 3 significant digits and marked '≈' ('≈ 0,134%')."""
    p = value * 100
    exact = _decimal_digits(p)
    if exact is not None and exact <= 6:
        return decimal_comma(_fixed(p, exact)) + "%"
    places = 2
    while places < 12 and p != 0 and abs(p) * 10 ** places < 100:
        places += 1
    return "≈ " + decimal_comma(_fixed(p, places)) + "%"


def _decimal_digits(f: Fraction) -> Optional[int]:
    """How many decimals `f` needs, or None when its decimal expansion does not end."""
    d, twos, fives = f.denominator, 0, 0
    while d % 2 == 0:
        d //= 2
        twos += 1
    while d % 5 == 0:
        d //= 5
        fives += 1
    return max(twos, fives) if d == 1 else None


def _fixed(f: Fraction, places: int) -> str:
    """`f` rounded (half to even, exactly) to `places` decimals, as text with a dot."""
    scaled = round(f * 10 ** places)
    sign = "-" if scaled < 0 else ""
    digits = str(abs(scaled)).rjust(places + 1, "0")
    return sign + (digits[:-places] + "." + digits[-places:] if places else digits)


def rate_text(num: Any, den: Any, zero: Any = "reject") -> str:
    """'60/10000 = 0,6%'; a zero denominator says what the pack's policy made of it."""
    n = Fraction(num) if not isinstance(num, Fraction) else num
    d = Fraction(den) if not isinstance(den, Fraction) else den
    head = f"{decimal_comma(str(value_for_output(num)))}/{decimal_comma(str(value_for_output(den)))}"
    if d == 0:
        if zero in ("unknown", "reject"):
            return _("{rate} (zero denominator: no value)").format(rate=head)
        return _("{rate} (zero denominator: counted as {value})").format(rate=head, value=percent_text(Fraction(zero)))
    pct = percent_text(n / d)
    return f"{head} {pct}" if pct.startswith("≈") else f"{head} = {pct}"


def display_value(level: Level, name: str, value: Any) -> str:
    """One value read by a criterion, for people. `value` is as `value_for_output` writes it (or
    a raw int / Decimal / bool / (num, den) pair)."""
    if value is None:
        return _("(blank)")
    if isinstance(value, bool):
        return "có" if value else "không"
    d = level.derived.get(name)
    zero = d.zero if d is not None else "unknown"
    if isinstance(value, tuple) and len(value) == 2:
        return rate_text(value[0], value[1], zero)
    if isinstance(value, str) and "/" in value and (d is not None or name in level.shares):
        num, den = value.split("/", 1)
        try:
            return rate_text(_number(num), _number(den), zero)
        except (ValueError, ArithmeticError):
            return value
    if isinstance(value, (Decimal, Fraction)):
        return decimal_comma(str(value_for_output(value)))
    if isinstance(value, str):
        ind = level.indicators.get(name)
        if ind is not None and ind.type == "decimal":
            return decimal_comma(value)
        return value
    return str(value)


def _number(text: str) -> Any:
    """'60' → 60, '750.25' → Decimal('750.25') (so that it prints as it was written)."""
    return int(text) if text.lstrip("-").isdigit() else Decimal(text)


# ---------------------------------------------------------------------------------------------
# explaining one condition


@dataclass
class NodeExplanation:
    """One node of a condition, explained: its text, whether it holds, a sentence, and the
    structured parts (`needed`, `met`, `unmet` for at_least / all / any / and / or)."""
    condition: str
    holds: bool
    kind: str  # at_least all any and or not compare criterion veto vetoed indicator or_higher given constant
    explanation: str  # a sentence: "needs at least 3 of I.a, ...; met 2: I.a, I.c"
    detail: str = ""  # the values-only part, shown in parentheses when the node is a part of another
    needed: Optional[int] = None
    met: list[str] = field(default_factory=list)
    unmet: list[str] = field(default_factory=list)
    values: dict[str, Any] = field(default_factory=dict)  # names read → exact value (JSON form)
    parts: list["NodeExplanation"] = field(default_factory=list)

    def as_dict(self) -> dict:
        d: dict[str, Any] = {"condition": self.condition, "holds": self.holds, "kind": self.kind,
                             "explanation": self.explanation}
        if self.needed is not None:
            d["needed"] = self.needed
        if self.kind in ("at_least", "all", "any", "and", "or", "or_higher"):
            d["met"], d["unmet"] = list(self.met), list(self.unmet)
        if self.kind == "vetoed":
            d["applied"] = list(self.met)
        if self.values:
            d["values"] = dict(self.values)
        if self.parts:
            d["parts"] = [p.as_dict() for p in self.parts]
        return d


class _Explainer(Visitor[NodeExplanation]):
    """Explains each node of a condition over one unit's `env` (see `condition_env`); whether a
    node holds is always the Python backend's answer."""

    def __init__(self, level: Level, env: dict):
        self.level = level
        self.env = env
        self.compiler = Compiler(level)

    def truth(self, node: nodes.Node) -> bool:
        return bool(self.compiler.condition(node)(self.env))

    def explain(self, node: nodes.Node) -> NodeExplanation:
        return self.visit(node)

    def visit_Call(self, node: nodes.Call) -> NodeExplanation:
        if node.fn == "at_least":
            return self.at_least(node)
        if node.fn in ("all", "any"):
            return self.all_any(node, node.fn, node.args)
        if node.fn == "or_higher":
            return self.or_higher(node)
        if node.fn == "given":
            return self.given(node)
        return self.generic_visit(node)

    def visit_BoolOp(self, node: nodes.BoolOp) -> NodeExplanation:
        return self.all_any(node, node.op, node.items)

    def visit_Bool(self, node: nodes.Bool) -> NodeExplanation:
        said = _("`{condition}` is always true") if node.value else _("`{condition}` is always false")
        return NodeExplanation(nodes.to_text(node), node.value, "constant", said.format(condition=nodes.to_text(node)))

    def generic_visit(self, node: nodes.Node) -> NodeExplanation:
        raise TypeError(f"not a condition: {nodes.to_text(node)}")

    # -- parts ------------------------------------------------------------------------------

    @staticmethod
    def part_text(node: nodes.Node) -> str:
        text = nodes.to_text(node)
        return text if isinstance(node, nodes.Name) else f"`{text}`"

    def part_with_detail(self, x: NodeExplanation, node: nodes.Node) -> str:
        text = self.part_text(node)
        return f"{text} ({x.detail})" if x.detail and not isinstance(node, nodes.Name) else text

    def at_least(self, node: nodes.Call) -> NodeExplanation:
        k = int(node.args[0].value)
        items = node.args[1:]
        parts = [self.explain(a) for a in items]
        met = [nodes.to_text(a) for a, p in zip(items, parts) if p.holds]
        unmet = [nodes.to_text(a) for a, p in zip(items, parts) if not p.holds]
        shown = [self.part_with_detail(p, a) for a, p in zip(items, parts) if p.holds]
        listing = ", ".join(self.part_text(a) for a in items)
        if met:
            text = _("needs at least {k} of {listing}; met {n}: {met}").format(k=k, listing=listing, n=len(met),
                                                                               met=", ".join(shown))
            detail = _("met {n} of {total}: {met}").format(n=len(met), total=len(items), met=", ".join(met))
        else:
            text = _("needs at least {k} of {listing}; met {n}").format(k=k, listing=listing, n=len(met))
            detail = _("met {n} of {total}").format(n=len(met), total=len(items))
        return NodeExplanation(nodes.to_text(node), self.truth(node), "at_least", text, detail,
                               needed=k, met=met, unmet=unmet, parts=parts)

    def all_any(self, node: nodes.Node, op: str, items: tuple) -> NodeExplanation:
        parts = [self.explain(a) for a in items]
        met = [nodes.to_text(a) for a, p in zip(items, parts) if p.holds]
        unmet = [nodes.to_text(a) for a, p in zip(items, parts) if not p.holds]
        listing = ", ".join(self.part_text(a) for a in items)
        holds = self.truth(node)
        if op in ("all", "and"):
            failed = [self.part_with_detail(p, a) for a, p in zip(items, parts) if not p.holds]
            # the parts that hold are worth showing when they carry values (`total >= 90` (total = 95))
            held = [self.part_with_detail(p, a) for a, p in zip(items, parts)
                    if p.holds and not isinstance(a, nodes.Name) and p.detail]
            if held and failed:
                text = _("needs all of {listing}; met: {met}; not met: {unmet}").format(
                    listing=listing, met=", ".join(held), unmet=", ".join(failed))
            elif failed:
                text = _("needs all of {listing}; not met: {unmet}").format(listing=listing, unmet=", ".join(failed))
            else:
                text = _("needs all of {listing}; all met").format(listing=listing)
            detail = _("not met: {unmet}").format(unmet=", ".join(unmet)) if unmet else _("all met")
        else:
            held = [self.part_with_detail(p, a) for a, p in zip(items, parts) if p.holds]
            text = _("needs any of {listing}; met: {met}").format(listing=listing, met=", ".join(held)) if held \
                else _("needs any of {listing}; none met").format(listing=listing)
            detail = _("met: {met}").format(met=", ".join(met)) if met else _("none met")
        return NodeExplanation(nodes.to_text(node), holds, op, text, detail,
                               needed=len(items) if op in ("all", "and") else 1,
                               met=met, unmet=unmet, parts=parts)

    def or_higher(self, node: nodes.Call) -> NodeExplanation:
        ids = higher_than(self.level, node.args[0].id)
        met = [i for i in ids if self.env.get(i) is True]
        unmet = [i for i in ids if i not in met]
        holds = self.truth(node)
        detail = _("met by {met}").format(met=", ".join(met)) if met else \
            _("none of {classes} met").format(classes=", ".join(ids))
        text = _("{condition} (any of {classes}): {detail}").format(condition=nodes.to_text(node),
                                                                   classes=", ".join(ids), detail=detail)
        return NodeExplanation(nodes.to_text(node), holds, "or_higher", text, detail,
                               needed=1, met=met, unmet=unmet)

    def given(self, node: nodes.Call) -> NodeExplanation:
        n = node.args[0].id
        holds = self.truth(node)
        detail = _("given") if holds else _("blank")
        text = (_("{name} is given") if holds else _("{name} is blank")).format(name=n)
        return NodeExplanation(nodes.to_text(node), holds, "given", text, detail,
                               values={n: value_for_output(self.env.get(n))})

    def visit_Not(self, node: nodes.Not) -> NodeExplanation:
        inner = self.explain(node.operand)
        holds = self.truth(node)
        text = (_("`{condition}` holds: {explanation}") if holds else
                _("`{condition}` does not hold: {explanation}")).format(condition=nodes.to_text(node),
                                                                        explanation=inner.explanation)
        return NodeExplanation(nodes.to_text(node), holds, "not", text, inner.detail or inner.explanation,
                               values=dict(inner.values), parts=[inner])

    def visit_Compare(self, node: nodes.Compare) -> NodeExplanation:
        holds = self.truth(node)
        values: dict[str, Any] = {}
        shown: list[str] = []
        # the class ids inside share(...) are not values: the share itself is shown
        class_args = {id(a) for x in nodes.walk(node) if isinstance(x, nodes.Call) and x.fn == "share"
                      for a in x.args}
        for x in nodes.walk(node):
            key = None
            if id(x) in class_args:
                continue
            if isinstance(x, nodes.Name) and x.id not in values:
                key = x.id
            elif isinstance(x, nodes.Call) and x.fn == "share":
                key = nodes.to_text(x)
            if key is None or key in values:
                continue
            raw = self.env.get(key)
            values[key] = value_for_output(raw)
            shown.append(f"{key} = {display_value(self.level, key, raw)}")
        detail = ", ".join(shown)
        if detail:
            said = _("`{condition}` holds ({values})") if holds else _("`{condition}` does not hold ({values})")
        else:
            said = _("`{condition}` holds") if holds else _("`{condition}` does not hold")
        text = said.format(condition=nodes.to_text(node), values=detail)
        return NodeExplanation(nodes.to_text(node), holds, "compare", text, detail, values=values)

    def visit_Name(self, node: nodes.Name) -> NodeExplanation:
        n, level = node.id, self.level
        holds = self.truth(node)
        if n in level.criteria:
            word = _("met") if holds else _("not met")
            text = (_("{id} is met") if holds else _("{id} is not met")).format(id=n)
            return NodeExplanation(n, holds, "criterion", text, word)
        if n in level.vetoes:
            veto = level.vetoes[n]
            inner = self.explain(veto.cond)
            text = (_("veto {id} ({title}) applies: {explanation}") if holds else
                    _("veto {id} ({title}) does not apply: {explanation}")).format(
                id=n, title=veto.title, explanation=inner.explanation)
            if inner.detail:
                detail = (_("applies: {detail}") if holds else _("does not apply: {detail}")).format(
                    detail=inner.detail)
            else:
                detail = _("applies") if holds else _("does not apply")
            return NodeExplanation(n, holds, "veto", text, detail, values=dict(inner.values), parts=[inner])
        if n == "vetoed":
            applied = [v for v in level.vetoes if self.env.get(v) is True]
            if applied:
                titles = ", ".join(f"{v} ({level.vetoes[v].title})" for v in applied)
                one = len(applied) == 1
                text = (_("vetoed: {vetoes} applies") if one else _("vetoed: {vetoes} apply")).format(vetoes=titles)
                detail = (_("{vetoes} applies") if one else _("{vetoes} apply")).format(vetoes=", ".join(applied))
            else:
                text = detail = _("no veto applies")
            return NodeExplanation(n, holds, "vetoed", text, detail, met=applied,
                                   unmet=[v for v in level.vetoes if v not in applied])
        raw = self.env.get(n)
        shown = display_value(level, n, raw)
        return NodeExplanation(n, holds, "indicator", f"{n} = {shown}", f"{n} = {shown}",
                               values={n: value_for_output(raw)})


def explain_condition(level: Level, node: nodes.Node, env: dict) -> NodeExplanation:
    """Explain one condition of `level` over `env` (see `condition_env`)."""
    return _Explainer(level, env).explain(node)


# ---------------------------------------------------------------------------------------------
# classes and vetoes


RESIDUAL_TEXT = N_("the residual class: every unit that reaches no earlier class gets it")  # said through _()


@dataclass
class ClassExplanation:
    cls: ClassDef
    reached: bool
    node: Optional[NodeExplanation]  # None for a residual class

    def as_dict(self) -> dict:
        d = {"class": self.cls.id, "label": self.cls.label, "cite": self.cls.cite,
             "residual": self.cls.residual, "reached": self.reached}
        if self.node is None:
            d.update({"condition": None, "explanation": _(RESIDUAL_TEXT)})
        else:
            node = self.node.as_dict()
            d.update(node)
            d["condition"] = self.cls.text
            d.pop("holds", None)
        return d

    @property
    def text(self) -> str:
        if self.node is None:
            return _(RESIDUAL_TEXT)
        return self.node.explanation


def explain_classes(level: Level, env: dict, class_id: str) -> tuple[Optional[ClassExplanation],
                                                                       list[ClassExplanation]]:
    """(the class reached, explained; every class listed before it, explained). For
    `unclassified`, (None, every class). Raises ExplanationMismatch when the conditions evaluated
    over the engine's criteria results do not give `class_id` (first match wins)."""
    explainer = _Explainer(level, env)
    earlier: list[ClassExplanation] = []
    for c in level.classes:
        node = None if c.residual or c.cond is None else explainer.explain(c.cond)
        holds = True if node is None else node.holds
        if c.id == class_id:
            if not holds:
                raise ExplanationMismatch(f"class {c.id}: its condition `{c.text}` does not hold over "
                                          "the engine's criteria results")
            return ClassExplanation(c, True, node), earlier
        if holds:
            raise ExplanationMismatch(f"class {c.id} comes before {class_id} and its condition holds")
        earlier.append(ClassExplanation(c, False, node))
    if class_id != UNCLASSIFIED:
        raise ExplanationMismatch(f"class {class_id!r} is not a class of this level")
    return None, earlier


def explain_vetoes(level: Level, env: dict) -> list[dict]:
    """Every veto of the level: whether it applies and why (its condition over the values)."""
    explainer = _Explainer(level, env)
    out = []
    for v in level.vetoes.values():
        node = explainer.explain(v.cond)
        applies = bool(env.get(v.id))
        if node.holds != applies:
            raise ExplanationMismatch(f"veto {v.id}: its condition gives {node.holds}, the engine {applies}")
        out.append({"id": v.id, "title": v.title, "applies": applies, "condition": v.text,
                    "explanation": node.explanation, "values": node.values, "cite": v.cite, "note": v.note})
    return out


# ---------------------------------------------------------------------------------------------
# whole documents


def criteria_rows(level: Level, values: dict, out: Outcome) -> list[dict]:
    """The criteria evidence exactly as `score --json` writes it, plus each criterion's title
    and interpretation note."""
    static = {c["id"]: c for c in catalogue(level)}
    rows = []
    for e in criteria_evidence(level, values, out):
        c = static[e["id"]]
        rows.append({"id": e["id"], "title": c["title"], **{k: v for k, v in e.items() if k != "id"},
                     "note": c["note"]})
    return rows


def _classes_part(level: Level, env: dict, class_id: str) -> dict:
    reached, earlier = explain_classes(level, env, class_id)
    return {"why": reached.as_dict() if reached is not None else None,
            "why_not": [x.as_dict() for x in earlier]}


def _max_total(level: Level) -> Optional[int]:
    return sum(c.max_points for c in level.criteria.values() if c.scored) if level.scored else None


def unit_document(batch: BatchResult, r: UnitResult) -> dict:
    """The explanation of one scored unit, JSON-ready."""
    pack, level, u, out = batch.pack, batch.pack.commune, r.unit, r.outcome
    env = condition_env(level, u.values, out)
    in_province = sum(1 for x in batch.units if x.unit.province_code == u.province_code)
    return {
        "level": "commune",
        "unit_code": u.code, "unit_name": u.name, "unit_type": u.type, "province_code": u.province_code,
        "district_code": u.district_code, "year": u.year,
        "source": {"path": u.path, "row": u.row, **({"sheet": u.sheet} if u.sheet is not None else {})},
        "pack": _pack_meta(pack), "engine": batch.engine,
        "class": out.class_id, "class_label": level.class_label(out.class_id),
        "total": out.total, "max_total": _max_total(level),
        "vetoes": list(out.vetoes), "veto_checks": explain_vetoes(level, env),
        "rank_province": r.rank_province, "units_in_province": in_province,
        "rank_national": r.rank_national, "units_in_batch": len(batch.units),
        "criteria": criteria_rows(level, u.values, out),
        **_classes_part(level, env, out.class_id),
        **_also_part(level, env, out.class_id, r.also_meets),
    }


def _also_part(level: Level, env: dict, class_id: str, also: Optional[str]) -> dict:
    """`also_meets`: the later class of the pack's `also_report` whose condition also holds, with
    its condition explained over the same outcome (the order of classes hid it)."""
    if also is None:
        return {"also_meets": None}
    cls = next(c for c in level.classes if c.id == also)
    assert cls.cond is not None  # the loader refuses a residual class in also_report
    node = explain_condition(level, cls.cond, env)
    return {"also_meets": {"class": also, "label": cls.label, "cite": cls.cite, "condition": cls.text,
                           "explanation": node.explanation,
                           "order": _("the conditions of {cls} and {also} both hold; {cls} comes first in the "
                                      "pack's order of classes, so the class is {cls}").format(cls=class_id,
                                                                                               also=also)}}


def province_shares(level: Level, p: ProvinceResult) -> dict:
    """The share(...) values of a province, as the roll-up computed them: (count, denominator),
    the denominator being the province's communes in the official list (or those scored)."""
    return dict(p.shares) if p.shares else {
        key: (sum(p.class_counts.get(c, 0) for c in ids), p.denominator) for key, ids in level.shares.items()}


def province_document(batch: BatchResult, p: ProvinceResult) -> dict:
    """The explanation of one province's roll-up (packs with a province level), JSON-ready."""
    pack = batch.pack
    level, out = pack.province, p.outcome
    if level is None or out is None:
        raise ValueError(_("province {code} was not scored: the pack has no province level").format(
            code=p.province_code))
    shares = province_shares(level, p)
    env = condition_env(level, p.values, p.evaluated or out, shares)
    commune = pack.commune
    return {
        "level": "province",
        "province_code": p.province_code, "units": p.n_units,
        "class_counts": {c: p.class_counts[c] for c in [x.id for x in commune.classes] + [UNCLASSIFIED]
                         if c in p.class_counts},
        "pack": _pack_meta(pack), "engine": batch.engine,
        "class": out.class_id, "class_label": level.class_label(out.class_id),
        "total": out.total, "max_total": _max_total(level),
        "vetoes": list(out.vetoes), "veto_checks": explain_vetoes(level, env),
        "values": {k: value_for_output(v) for k, v in p.values.items()},
        "summed": [k for k in level.summed if k not in p.supplied],
        "supplied": list(p.supplied),
        "own": [k for k in level.indicators if k not in level.summed],
        "province_row": ({"path": p.row.path, "row": p.row.row, **({"sheet": p.row.sheet} if p.row.sheet else {})}
                         if p.row is not None else None),
        "official_units": p.n_official, "missing_units": p.n_missing,
        "undetermined": list(p.undetermined), "undetermined_reason": p.reason,
        "criteria": criteria_rows(level, p.values, out),
        **(_classes_part(level, env, out.class_id) if out.class_id != UNDETERMINED else
           {"why": None, "why_not": []}),
        **(_also_part(level, env, out.class_id, p.also_meets) if out.class_id != UNDETERMINED else
           {"also_meets": None}),
    }


def _pack_meta(pack: Pack) -> dict:
    return {"id": pack.id, "version": pack.version, "status": pack.status, "sha256": pack.sha256,
            "title": pack.title}


# ---------------------------------------------------------------------------------------------
# finding what the user typed


def typed_code(text: str) -> Optional[str]:
    """The digits of a typed code, spaces removed ('  16858' → '16858'); None if not digits."""
    t = "".join(str(text).split())
    return t if t.isdigit() else None


def find_unit(batch: BatchResult, code: str) -> Optional[UnitResult]:
    """The scored unit whose code is `code` (leading zeros optional: '1' finds '00001')."""
    want = code.zfill(5)
    return next((r for r in batch.units if r.unit.code == want), None)


def find_province(batch: BatchResult, code: str) -> Optional[ProvinceResult]:
    """The province roll-up of a 1–2 digit code, for a pack with a province level."""
    if batch.pack.province is None or len(code) > 2:
        return None
    want = code.zfill(2)
    return next((p for p in batch.provinces if p.province_code == want and p.outcome is not None), None)


def code_suggestion(typed: str, units: list[tuple[str, str]]) -> Optional[tuple[str, str]]:
    """The (code, name) the user probably meant, from `units` [(code, name)]: by name when what
    was typed is a name ('Mường Típ', any case or accents), else by code: the fewest typing slips
    (a digit wrong, missing, extra or two swapped; at most 2), then the nearest number."""
    if not units:
        return None
    digits = typed_code(typed)
    if digits is None:
        folded = _fold(" ".join(typed.split()))
        names: dict[str, tuple[str, str]] = {}
        for code, name in units:
            f = _fold(name)
            names.setdefault(f, (code, name))
            for prefix in ("xa ", "phuong ", "dac khu ", "thi tran "):
                if f.startswith(prefix):
                    names.setdefault(f[len(prefix):], (code, name))
        hit = difflib.get_close_matches(folded, list(names), n=1, cutoff=0.6)
        return names[hit[0]] if hit else None
    want = digits.zfill(5)
    scored = sorted((_typo_distance(want, code), abs(int(code) - int(want)), code, name) for code, name in units)
    best = scored[0]
    return (best[2], best[3]) if best[0] <= 2 else None


def _typo_distance(a: str, b: str) -> int:
    """Edits between two codes: a digit wrong, missing, extra, or two neighbours swapped count 1."""
    d = [[0] * (len(b) + 1) for _row in range(len(a) + 1)]
    for i in range(len(a) + 1):
        d[i][0] = i
    for j in range(len(b) + 1):
        d[0][j] = j
    for i in range(1, len(a) + 1):
        for j in range(1, len(b) + 1):
            d[i][j] = min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (a[i - 1] != b[j - 1]))
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                d[i][j] = min(d[i][j], d[i - 2][j - 2] + 1)
    return d[len(a)][len(b)]


__all__ = ["ExplanationMismatch", "NodeExplanation", "ClassExplanation", "condition_env", "explain_condition",
           "explain_classes", "explain_vetoes", "criteria_rows", "unit_document", "province_document",
           "province_shares", "find_unit", "find_province", "code_suggestion", "typed_code", "display_value",
           "rate_text", "percent_text", "UNCLASSIFIED_LABEL"]
