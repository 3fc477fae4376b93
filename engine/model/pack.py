"""A loaded, checked rule pack: what both backends, the validator and the ranking read.

Built by `loader.py` from a rule file; every expression here is already parsed and type-checked.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction
from typing import Optional, Union

from lanhmanh.engine.language import nodes

UNCLASSIFIED = "unclassified"
UNCLASSIFIED_LABEL = "Không xếp được loại"
# a province whose class depends on communes of the official list that were not scored (ranked
# like `unclassified`); see engine/evaluation/scoring.py, roll_up
UNDETERMINED = "undetermined"
UNDETERMINED_LABEL = "Chưa xác định"


@dataclass
class Indicator:
    id: str
    label: str
    type: str  # integer | decimal | boolean
    unit: Optional[str] = None
    min: Optional[Decimal] = None
    max: Optional[Decimal] = None
    decimals: int = 2
    required: bool = True
    description: Optional[str] = None

    @property
    def numeric(self) -> bool:
        return self.type != "boolean"


@dataclass
class Derived:
    """NUM / DEN, both sums of indicators, with a zero-denominator policy."""
    id: str
    label: str
    num: tuple[str, ...]
    den: tuple[str, ...]
    zero: Union[str, Fraction]  # "reject" | "unknown" | the value to use
    text: str = ""
    # how the evidence shows a zero denominator (`zero_denominator: {value: 100%, shown: không
    # phát sinh}`); None: the default wording (evidence.ZERO_SHOWN)
    zero_shown: Optional[str] = None

    @property
    def reads(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(self.num + self.den))


@dataclass
class Band:
    cond: nodes.Node
    points: int
    text: str
    label: Optional[str] = None


@dataclass
class Criterion:
    id: str
    title: str
    bands: list[Band]
    scored: bool  # carries points
    cite: Optional[str] = None
    note: Optional[str] = None
    group: Optional[str] = None
    tier: Optional[str] = None
    aspect: Optional[str] = None
    reads: tuple[str, ...] = ()  # indicators and derived values it reads, for evidence
    form_title: Optional[str] = None  # the printed form's short wording; None: the title

    @property
    def max_points(self) -> int:
        return max((b.points for b in self.bands), default=0)

    @property
    def threshold(self) -> str:
        if len(self.bands) == 1 and not self.scored:
            return self.bands[0].text
        return "; ".join(f"{b.text} → {b.points}" for b in self.bands)


@dataclass
class Veto:
    id: str
    title: str
    cond: nodes.Node
    text: str
    cite: Optional[str] = None
    note: Optional[str] = None
    reads: tuple[str, ...] = ()


@dataclass
class ClassDef:
    id: str
    label: str
    cond: Optional[nodes.Node]  # None for the residual class
    residual: bool
    text: str
    cite: Optional[str] = None
    note: Optional[str] = None
    # classes after this one that a unit of this class may also meet (first match wins hides
    # them): the first whose condition holds is reported as the unit's `also_meets`
    also_report: tuple[str, ...] = ()


@dataclass
class Constraint:
    id: str
    cond: nodes.Node
    text: str
    message: str
    first: str  # the indicator named in a rejection (or warning); a rate's numerator for a derived value
    severity: str = "error"  # error: the row is rejected; warning: scored, with a warning naming the cell
    note: Optional[str] = None


@dataclass
class RankKey:
    by: str
    descending: bool


@dataclass
class Level:
    """One level of assessment: communes, or provinces rolled up from their communes."""
    name: str  # commune | province
    indicators: dict[str, Indicator]
    derived: dict[str, Derived]
    criteria: dict[str, Criterion]
    vetoes: dict[str, Veto]
    classes: list[ClassDef]
    constraints: list[Constraint] = field(default_factory=list)  # severity error: a row breaking one is rejected
    # severity warning (plausibility): a row breaking one is scored as it is, with a warning naming the cell
    soft_constraints: list[Constraint] = field(default_factory=list)
    best_first: list[str] = field(default_factory=list)
    then: list[RankKey] = field(default_factory=list)
    tiers: list[str] = field(default_factory=list)  # most severe first, for or_higher()
    # province level: which commune indicators are summed, and the class groups share() reads
    summed: tuple[str, ...] = ()
    shares: dict[str, tuple[str, ...]] = field(default_factory=dict)

    @property
    def scored(self) -> bool:
        return any(c.scored for c in self.criteria.values())

    def is_condition(self, node: nodes.Node) -> bool:
        """True when a (type-checked) expression is true/false rather than a number."""
        if isinstance(node, (nodes.Bool, nodes.Not, nodes.BoolOp, nodes.Compare)):
            return True
        if isinstance(node, nodes.Name):
            if node.id in self.indicators:
                return not self.indicators[node.id].numeric
            return node.id in self.criteria or node.id in self.vetoes or node.id == "vetoed"
        return isinstance(node, nodes.Call) and node.fn != "share"

    def class_label(self, class_id: str) -> str:
        for c in self.classes:
            if c.id == class_id:
                return c.label
        return UNDETERMINED_LABEL if class_id == UNDETERMINED else UNCLASSIFIED_LABEL

    def class_rank(self, class_id: str) -> int:
        order = self.best_first or [c.id for c in self.classes]
        return order.index(class_id) if class_id in order else len(order)


@dataclass
class Case:
    name: str
    level: str
    given: dict
    expect: dict
    line: int
    path: Optional[str] = None  # the file the case is written in (a variant may inherit its base's)


@dataclass(frozen=True)
class Advisory:
    """A note for the batches of the years from_year..to_year (no to_year: every later year)."""
    from_year: int
    to_year: Optional[int]
    text: str

    def applies(self, year: int) -> bool:
        return self.from_year <= year and (self.to_year is None or year <= self.to_year)


@dataclass(frozen=True)
class Role:
    """A signatory of the printed documents (pack.roles): `title` may hold {unit_type} and {province}."""
    id: str
    title: str
    level: str  # "unit" or "province"
    note: str

    def title_for(self, unit_type: Optional[str] = None, province: Optional[str] = None) -> str:
        return (self.title.replace("{unit_type}", (unit_type or "XÃ/PHƯỜNG/ĐẶC KHU").upper())
                .replace("{province}", province or "……"))


@dataclass(frozen=True)
class Document:
    """A printed document (pack.documents): its kind and its signatories' roles, left to right."""
    kind: str  # self_assessment, proposal, approval or report
    signatures: tuple[Role, ...]


@dataclass
class Pack:
    id: str
    title: str
    version: str
    status: str
    effective_from: dt.date
    effective_to: Optional[dt.date]
    engine_min: str
    sources: dict[str, dict]
    reading: Optional[str]
    path: str
    sha256: str
    commune: Level
    province: Optional[Level]
    tiers: list[str]
    groups: dict[str, dict]
    cases: list[Case]
    # a variant (pack.extends): its base pack's id, version, sha256 and path, and the base as loaded
    extends: Optional[dict] = None
    base: Optional["Pack"] = field(default=None, repr=False, compare=False)
    # this year's commune indicator → last year's indicator that fills it when left blank
    carry_over: dict[str, str] = field(default_factory=dict)
    advisories: list[Advisory] = field(default_factory=list)  # pack.advisories
    roles: dict[str, Role] = field(default_factory=dict)  # pack.roles
    documents: dict[str, Document] = field(default_factory=dict)  # pack.documents: unit_form, summary, national

    def advisories_for(self, year: Optional[int]) -> list[str]:
        """The texts of the pack's advisories that apply to a batch of `year` (none without a year)."""
        return [] if year is None else [a.text for a in self.advisories if a.applies(year)]

    def meta(self) -> dict:
        return {
            "id": self.id,
            "version": self.version,
            "sha256": self.sha256,
            "effective_from": self.effective_from.isoformat(),
            "effective_to": self.effective_to.isoformat() if self.effective_to else None,
            "status": self.status,
            "title": self.title,
            # a variant: the base it extends (id, version, sha256; its path stays out of the results)
            **({"extends": {k: self.extends[k] for k in ("id", "version", "sha256")}} if self.extends else {}),
        }


# ---- reading the model: what a condition refers to, and exact rates ----

def references(node: nodes.Node, level: Level) -> set[str]:
    """Criteria and vetoes a condition reads, directly or through or_higher()."""
    out = set()
    for x in nodes.walk(node):
        if isinstance(x, nodes.Name) and (x.id in level.criteria or x.id in level.vetoes):
            out.add(x.id)
        elif isinstance(x, nodes.Call) and x.fn == "or_higher":
            out |= set(higher_than(level, x.args[0].id))
    return out


def higher_than(level: Level, cid: str) -> list[str]:
    """C itself and every criterion of the same aspect at a more severe tier (or_higher)."""
    c = level.criteria.get(cid)
    if c is None or c.tier is None:
        return [cid]
    order = level.tiers
    rank = order.index(c.tier) if c.tier in order else len(order)
    out = [cid]
    for other in level.criteria.values():
        if other.id != cid and other.aspect == c.aspect and other.tier in order and order.index(other.tier) < rank:
            out.append(other.id)
    return out


def ratio_of(values: dict, num: tuple, den: tuple):
    """(sum of num, sum of den), exact (Decimals become Fractions); None when a value is blank."""
    sums: list[Union[int, Fraction]] = []
    for names in (num, den):
        total: Union[int, Fraction] = 0
        for name in names:
            value = values.get(name)
            if value is None:
                return None
            total += Fraction(value) if isinstance(value, Decimal) else value
        sums.append(total)
    return sums[0], sums[1]
