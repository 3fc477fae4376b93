"""Running the scenario cases written inside rule files (used by `lanhmanh test` and by pytest)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

from lanhmanh.engine.evaluation.outcome import Outcome
from lanhmanh.engine.evaluation.scoring import score_units
from lanhmanh.engine.evaluation.validate import Validator, shown
from lanhmanh.engine.model.pack import Case, Level, Pack
from lanhmanh.i18n import _


@dataclass
class CaseResult:
    pack: str
    case: Case
    engine: str
    failures: list[str]
    # what the case examined, as scored: (level name, level, outcome); None when its input was
    # rejected (expected or not). Coverage reads it.
    reached: Optional[tuple[str, Level, Outcome]] = None

    @property
    def ok(self) -> bool:
        return not self.failures


def _identity(i: int, name: str) -> dict:
    return {"unit_code": f"{i:05d}", "unit_name": name, "unit_type": "xã", "province_code": "01"}


def run_case(pack: Pack, case: Case, engine: str) -> CaseResult:
    exp = case.expect
    failures: list[str] = []
    v = Validator(pack)
    if case.level == "commune":
        unit = v.row(pack.path, case.line, {**_identity(1, case.name), **case.given})
        if exp.get("rejected"):
            if unit is not None:
                failures.append(_("expected the row to be rejected, but it was accepted"))
            return CaseResult(pack.id, case, engine, failures)
        if unit is None:
            failures.append(_("the case's input is rejected: {reasons}").format(reasons=_reasons(v)))
            return CaseResult(pack.id, case, engine, failures)
        batch = score_units(pack, [unit], engine)
        level, out = pack.commune, batch.units[0].outcome
        also = batch.units[0].also_meets
        undetermined: list[str] = []
        reached = ("commune", level, out)
    else:
        units = []
        for i, c in enumerate(case.given.get("communes", []), start=1):
            u = v.row(pack.path, case.line, {**_identity(i, f"{case.name} #{i}"), **c})
            if u is None:
                return CaseResult(pack.id, case, engine, [
                    _("commune {i} of the case is rejected: {reasons}").format(i=i, reasons=_reasons(v))])
            units.append(u)
        prow = {"unit_code": "", "unit_name": "Tỉnh", "unit_type": "tỉnh", "province_code": "01",
                **case.given.get("province", {})}
        u = v.row(pack.path, case.line, prow)
        if u is None:
            return CaseResult(pack.id, case, engine,
                              [_("the province row is rejected: {reasons}").format(reasons=_reasons(v))])
        official = case.given.get("official_units")  # the province's communes in the official list
        batch = score_units(pack, units + [u], engine, official=None if official is None else {"01": official})
        province_outcome = batch.provinces[0].outcome
        if pack.province is None or province_outcome is None:
            return CaseResult(pack.id, case, engine, [_("the province was not scored")])
        level, out = pack.province, province_outcome
        also, undetermined = batch.provinces[0].also_meets, batch.provinces[0].undetermined
        reached = ("province", level, out)
    if exp.get("warnings") is not None:
        got = sorted(w.check for w in v.warnings if w.check is not None)
        if got != sorted(exp["warnings"]):
            failures.append(_("warnings: expected {expected}, got {got}").format(expected=sorted(exp["warnings"]),
                                                                                  got=got))
    ids = list(level.criteria)
    if exp.get("class") is not None and out.class_id != exp["class"]:
        failures.append(_("class: expected {expected}, got {got}").format(expected=exp["class"], got=out.class_id))
    if exp.get("total") is not None and out.total != exp["total"]:
        failures.append(_("total: expected {expected}, got {got}").format(expected=exp["total"], got=out.total))
    if exp.get("vetoes") is not None and sorted(out.vetoes) != sorted(exp["vetoes"]):
        failures.append(_("vetoes: expected {expected}, got {got}").format(expected=sorted(exp["vetoes"]),
                                                                           got=sorted(out.vetoes)))
    if exp.get("also_meets") is not None and (also or "none") != exp["also_meets"]:
        failures.append(_("also_meets: expected {expected}, got {got}").format(expected=exp["also_meets"],
                                                                               got=also or "none"))
    if exp.get("undetermined") and sorted(undetermined) != sorted(exp["undetermined"]):
        failures.append(_("undetermined: expected {expected}, got {got}").format(
            expected=sorted(exp["undetermined"]), got=sorted(undetermined)))
    for cid in exp.get("met", []):
        if out.outcomes[ids.index(cid)][0] is not True:
            failures.append(_("{id}: expected met, got {got}").format(
                id=cid, got=_met_word(out.outcomes[ids.index(cid)][0])))
    for cid in exp.get("not_met", []):
        if out.outcomes[ids.index(cid)][0] is not False:
            failures.append(_("{id}: expected not met, got {got}").format(
                id=cid, got=_met_word(out.outcomes[ids.index(cid)][0])))
    for cid, pts in (exp.get("points") or {}).items():
        got = out.outcomes[ids.index(cid)][1]
        if got != pts:
            failures.append(_("{id}: expected {expected} points, got {got}").format(id=cid, expected=pts, got=got))
    return CaseResult(pack.id, case, engine, failures, reached)


def _met_word(met) -> str:
    return _("undetermined") if met is None else _("met") if met else _("not met")


def _reasons(v: Validator) -> str:
    """Why the validator rejected the case's row: `column=value: reason; …`."""
    return "; ".join(f"{r.column}={shown(r.value)}: {r.reason}" for r in v.rejected)
