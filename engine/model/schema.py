"""The schema of a rule file, declared in one place (pydantic).

The loader checks every mapping of a rule file against these models: unknown keys are warnings
(with the closest known key suggested), wrong types are errors with file:line:column. Meaning
(names, cycles, citations) is checked afterwards by `loader.py`, the types of expressions by
`engine/language/typecheck.py`.
"""
from __future__ import annotations

import datetime as dt
from typing import Any, Literal, Optional, Union

from pydantic import BaseModel, ConfigDict, Field
from ruamel.yaml.comments import CommentedMap, CommentedSeq

from lanhmanh.i18n import N_, _


class _Model(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True)


class SourceDoc(_Model):
    document: str
    date: Optional[dt.date] = None
    title: Optional[str] = None
    url: Optional[str] = None


class CiteSpec(_Model):
    source: Optional[str] = None
    article: Optional[Union[int, str]] = None
    clause: Optional[Union[int, str]] = None
    point: Optional[str] = None
    text: Optional[str] = None


Cite = Union[str, CiteSpec]


class AdvisorySpec(_Model):
    """`advisories: [{from_year: 2026, text: ...}]` in `pack:`: a note that every batch of those
    years (from_year to to_year, both included; no to_year: every later year) scored with the pack
    carries: in the JSON `notes`, on the scorecard, and printed by `score`. Data, not code: e.g.
    the legal basis of the criteria changes from a given year."""
    from_year: int = Field(ge=1900, le=9999)
    to_year: Optional[int] = Field(default=None, ge=1900, le=9999)
    text: str = Field(min_length=1)


class RoleSpec(_Model):
    """`roles: {prepares: {title: ..., level: unit}}` in `pack:`: who prepares, signs, appraises or
    approves the printed documents. `title` is printed above the signature; in it `{unit_type}`
    stands for the unit's type in capitals (XÃ, PHƯỜNG, ĐẶC KHU) and `{province}` for the
    province's name. `level`: whose official it is (unit: the commune's; province: the province's)."""
    title: str = Field(min_length=1)
    level: Literal["unit", "province"] = "province"
    note: str = "(Ký, ghi rõ họ tên)"


class DocumentSpec(_Model):
    """`documents: {unit_form: {kind: self_assessment, signatures: [prepares, signs]}}` in `pack:`:
    what each printed document is and who signs it, in order left to right. `unit_form`: the
    form of one unit; `summary`: the province's list; `national`: the national summary."""
    kind: Literal["self_assessment", "proposal", "approval", "report"] = "report"
    signatures: list[str] = []


class PackMeta(_Model):
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$")
    title: str
    version: str
    status: Literal["official", "illustrative"]
    effective_from: dt.date
    effective_to: Optional[dt.date] = None
    engine_min: str = "0.1"
    sources: dict[str, SourceDoc] = {}
    reading: Optional[str] = None
    advisories: list[AdvisorySpec] = []  # notes for the batches of given years (see AdvisorySpec)
    roles: dict[str, RoleSpec] = {}  # who signs the printed documents (see RoleSpec)
    documents: dict[Literal["unit_form", "summary", "national"], DocumentSpec] = {}
    # a provincial variant: the base pack (an id, or a path relative to this file) whose whole
    # content it takes, changed only by its `overrides:`; see VariantFile
    extends: Optional[str] = None
    inherit_cases: bool = False  # a variant also runs its base's cases (same name: the variant's wins)


class IndicatorSpec(_Model):
    label: str
    unit: Optional[str] = None
    type: Literal["integer", "decimal", "boolean"]
    min: Optional[Union[int, float, str]] = None
    max: Optional[Union[int, float, str]] = None
    decimals: int = Field(default=2, ge=0, le=6)
    required: bool = True
    description: Optional[str] = None


class ConstraintSpec(_Model):
    id: str = Field(pattern=r"^[A-Za-z_][A-Za-z0-9_.]*$")
    rule: str
    message: str
    # error: a row that breaks it is rejected; warning: a plausibility check, the row is scored and
    # a warning names the cell (docs/rule-language.md, "Constraints")
    severity: Literal["error", "warning"] = "error"
    note: Optional[str] = None  # why the check (and its bound) is there, for auditors and the template


class ZeroDenominatorSpec(_Model):
    """`zero_denominator: {value: 100%, shown: không phát sinh}`: what a rate is worth when its
    denominator is 0 (a number, or `unknown`) and how the evidence shows it."""
    value: Union[int, float, str]
    shown: Optional[str] = None


class DerivedSpec(_Model):
    label: str
    expr: str
    zero_denominator: Union[ZeroDenominatorSpec, int, float, str] = "reject"
    unit: Optional[str] = None


class BandSpec(_Model):
    when: str
    points: int = Field(ge=0)
    label: Optional[str] = None


class CriterionSpec(_Model):
    title: str
    # a short wording for the printed commune form (the title stays the legal wording)
    form_title: Optional[str] = Field(default=None, min_length=1)
    cite: Optional[Cite] = None
    note: Optional[str] = None
    group: Optional[str] = None
    tier: Optional[str] = None
    aspect: Optional[str] = None
    when: Optional[str] = None
    points: Optional[int] = Field(default=None, ge=0)
    bands: Optional[list[BandSpec]] = None


class VetoSpec(_Model):
    title: str
    when: str
    cite: Optional[Cite] = None
    note: Optional[str] = None


class ClassSpec(_Model):
    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    label: str
    when: Optional[str] = None
    residual: bool = False
    cite: Optional[Cite] = None
    note: Optional[str] = None
    # later classes this class may shadow (first match wins): the first of them whose condition
    # also holds is reported as the unit's `also_meets`, with a warning
    also_report: list[str] = []


class GroupSpec(_Model):
    title: str
    points: Optional[int] = None


class RankKey(_Model):
    by: str
    order: Literal["asc", "desc"] = "asc"


class RankingSpec(_Model):
    best_first: Optional[list[str]] = None
    then: list[RankKey] = []


class ProvinceSpec(_Model):
    indicators: dict[str, IndicatorSpec] = {}
    derived: dict[str, DerivedSpec] = {}
    criteria: dict[str, CriterionSpec] = {}
    classes: list[ClassSpec]


class ExpectSpec(_Model):
    class_: Optional[str] = Field(default=None, alias="class")
    total: Optional[int] = None
    vetoes: Optional[list[str]] = None
    met: list[str] = []
    not_met: list[str] = []
    points: dict[str, int] = {}
    rejected: Optional[bool] = None
    warnings: Optional[list[str]] = None  # the ids of the `severity: warning` constraints the row breaks
    also_meets: Optional[str] = None  # the class also met (`also_report`); "none" for no class
    undetermined: list[str] = []  # province criteria the missing communes leave undetermined


class CaseSpec(_Model):
    name: str
    level: Literal["commune", "province"] = "commune"
    given: dict[str, Any]
    expect: ExpectSpec


class PackFile(_Model):
    pack: PackMeta
    indicators: dict[str, IndicatorSpec]
    # this year's indicator → last year's indicator it is filled from when left blank (last year's
    # results given): `carry_over: {new_drug_addicts_prev: new_drug_addicts}`
    carry_over: dict[str, str] = {}
    constraints: list[ConstraintSpec] = []
    derived: dict[str, DerivedSpec] = {}
    tiers: list[str] = []
    groups: dict[str, GroupSpec] = {}
    criteria: dict[str, CriterionSpec]
    vetoes: dict[str, VetoSpec] = {}
    classes: list[ClassSpec]
    ranking: RankingSpec = RankingSpec()
    province: Optional[ProvinceSpec] = None
    case_defaults: dict[str, Any] = {}
    cases: list[CaseSpec] = []


# ---- a variant (pack.extends): the base's content, changed by `overrides:` -----------------------
# Only the fields listed here can be overridden; any other key inside `overrides:` is an error
# (docs/rule-language.md, "Provincial variants").

class CriterionOverride(_Model):
    title: Optional[str] = None
    cite: Optional[Cite] = None
    note: Optional[str] = None
    when: Optional[str] = None
    points: Optional[int] = Field(default=None, ge=0)
    bands: Optional[list[BandSpec]] = None


class VetoOverride(_Model):
    title: Optional[str] = None
    when: Optional[str] = None
    cite: Optional[Cite] = None
    note: Optional[str] = None


class ClassOverride(_Model):
    label: Optional[str] = None
    when: Optional[str] = None
    cite: Optional[Cite] = None
    note: Optional[str] = None


class GroupOverride(_Model):
    title: Optional[str] = None
    points: Optional[int] = None


class ProvinceOverrides(_Model):
    criteria: dict[str, CriterionOverride] = {}
    classes: dict[str, ClassOverride] = {}


class Overrides(_Model):
    criteria: dict[str, CriterionOverride] = {}
    vetoes: dict[str, VetoOverride] = {}
    classes: dict[str, ClassOverride] = {}
    groups: dict[str, GroupOverride] = {}
    province: Optional[ProvinceOverrides] = None


class VariantFile(_Model):
    pack: PackMeta
    overrides: Overrides = Overrides()
    case_defaults: dict[str, Any] = {}
    cases: list[CaseSpec] = []


# pydantic's messages (by error type) that the language in force words its own way; the English
# msgids are pydantic's own texts, and its context fills their placeholders
PYDANTIC = {
    "missing": N_("Field required"),
    "extra_forbidden": N_("Extra inputs are not permitted"),
    "model_type": N_("Input should be a valid dictionary or instance of {class_name}"),
    "model_attributes_type": N_("Input should be a valid dictionary or object to extract fields from"),
    "greater_than_equal": N_("Input should be greater than or equal to {ge}"),
    "less_than_equal": N_("Input should be less than or equal to {le}"),
    "finite_number": N_("Input should be a finite number"),
    "string_type": N_("Input should be a valid string"),
    "dict_type": N_("Input should be a valid dictionary"),
    "list_type": N_("Input should be a valid list"),
    "bool_type": N_("Input should be a valid boolean"),
    "bool_parsing": N_("Input should be a valid boolean, unable to interpret input"),
    "int_type": N_("Input should be a valid integer"),
    "int_parsing": N_("Input should be a valid integer, unable to parse string as an integer"),
    "int_from_float": N_("Input should be a valid integer, got a number with a fractional part"),
    "float_type": N_("Input should be a valid number"),
    "float_parsing": N_("Input should be a valid number, unable to parse string as a number"),
    "literal_error": N_("Input should be {expected}"),
    "date_type": N_("Input should be a valid date"),
    "date_parsing": N_("Input should be a valid date in the format YYYY-MM-DD, {error}"),
    "date_from_datetime_parsing": N_("Input should be a valid date or datetime, {error}"),
    "date_from_datetime_inexact": N_("Datetimes provided to dates should have zero time - e.g. be exact dates"),
}


def message(error: Any) -> str:
    """The message of one of pydantic's errors (`ValidationError.errors()`) in the language in force."""
    text = str(error.get("msg", ""))
    template = PYDANTIC.get(error.get("type", ""))
    if template is None or _(template) == template:
        return text
    ctx = {k: str(v) for k, v in (error.get("ctx") or {}).items()}
    if "expected" in ctx:  # "'error' or 'warning'"
        ctx["expected"] = ctx["expected"].replace(" or ", " " + _("or") + " ")
    try:
        return _(template).format(**ctx)
    except (KeyError, IndexError, ValueError):
        return text


def plain(node: Any) -> Any:
    """ruamel's round-trip containers → plain dicts/lists/scalars for pydantic."""
    if isinstance(node, CommentedMap):
        return {str(k) if not isinstance(k, (int, bool)) else k: plain(v) for k, v in node.items()}
    if isinstance(node, (CommentedSeq, list)):
        return [plain(v) for v in node]
    if isinstance(node, str):
        return str(node)
    if isinstance(node, bool) or node is None:
        return node
    if isinstance(node, int):
        return int(node)
    if isinstance(node, float):
        return float(node)
    return node

