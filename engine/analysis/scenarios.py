"""Running the scenario cases written inside rule files (used by `lanhmanh test` and by pytest)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

from lanhmanh.engine.evaluation.outcome import Outcome
from lanhmanh.engine.evaluation.scoring import score_units
from lanhmanh.engine.evaluation.validate import Validator, shown
from lanhmanh.engine.model.pack import Case, Level, Pack


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
                failures.append("expected the row to be rejected, but it was accepted")
            return CaseResult(pack.id, case, engine, failures)
        if unit is None:
            reasons = "; ".join(f"{r.column}={shown(r.value)}: {r.reason}" for r in v.rejected)
            failures.append(f"the case's input is rejected: {reasons}")
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
                reasons = "; ".join(f"{r.column}={shown(r.value)}: {r.reason}" for r in v.rejected)
                return CaseResult(pack.id, case, engine, [f"commune {i} of the case is rejected: {reasons}"])
            units.append(u)
        prow = {"unit_code": "", "unit_name": "Tỉnh", "unit_type": "tỉnh", "province_code": "01",
                **case.given.get("province", {})}
        u = v.row(pack.path, case.line, prow)
        if u is None:
            reasons = "; ".join(f"{r.column}={shown(r.value)}: {r.reason}" for r in v.rejected)
            return CaseResult(pack.id, case, engine, [f"the province row is rejected: {reasons}"])
        official = case.given.get("official_units")  # the province's communes in the official list
        batch = score_units(pack, units + [u], engine, official=None if official is None else {"01": official})
        province_outcome = batch.provinces[0].outcome
        if pack.province is None or province_outcome is None:
            return CaseResult(pack.id, case, engine, ["the province was not scored"])
        level, out = pack.province, province_outcome
        also, undetermined = batch.provinces[0].also_meets, batch.provinces[0].undetermined
        reached = ("province", level, out)
    if exp.get("warnings") is not None:
        got = sorted(w.check for w in v.warnings if w.check is not None)
        if got != sorted(exp["warnings"]):
            failures.append(f"warnings: expected {sorted(exp['warnings'])}, got {got}")
    ids = list(level.criteria)
    if exp.get("class") is not None and out.class_id != exp["class"]:
        failures.append(f"class: expected {exp['class']}, got {out.class_id}")
    if exp.get("total") is not None and out.total != exp["total"]:
        failures.append(f"total: expected {exp['total']}, got {out.total}")
    if exp.get("vetoes") is not None and sorted(out.vetoes) != sorted(exp["vetoes"]):
        failures.append(f"vetoes: expected {sorted(exp['vetoes'])}, got {sorted(out.vetoes)}")
    if exp.get("also_meets") is not None and (also or "none") != exp["also_meets"]:
        failures.append(f"also_meets: expected {exp['also_meets']}, got {also or 'none'}")
    if exp.get("undetermined") and sorted(undetermined) != sorted(exp["undetermined"]):
        failures.append(f"undetermined: expected {sorted(exp['undetermined'])}, got {sorted(undetermined)}")
    for cid in exp.get("met", []):
        if out.outcomes[ids.index(cid)][0] is not True:
            failures.append(f"{cid}: expected met, got {_met_word(out.outcomes[ids.index(cid)][0])}")
    for cid in exp.get("not_met", []):
        if out.outcomes[ids.index(cid)][0] is not False:
            failures.append(f"{cid}: expected not met, got {_met_word(out.outcomes[ids.index(cid)][0])}")
    for cid, pts in (exp.get("points") or {}).items():
        got = out.outcomes[ids.index(cid)][1]
        if got != pts:
            failures.append(f"{cid}: expected {pts} points, got {got}")
    return CaseResult(pack.id, case, engine, failures, reached)


def _met_word(met) -> str:
    return "undetermined" if met is None else "met" if met else "not met"
