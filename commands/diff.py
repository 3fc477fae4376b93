"""`lanhmanh diff OLD_RULES NEW_RULES [INPUT...]`: what changed between two rule packs and, given
inputs, what the change does to them (the units that change class, total or rank, and why; the
old-class × new-class table; the province roll-up). The comparing is in `engine/analysis/diff.py`; this
module reads, scores and prints."""
from __future__ import annotations

import json
import re
import textwrap
from pathlib import Path

import click

from lanhmanh import api
from lanhmanh.commands.common import ENGINE_HELP, UNIT_LIST_HELP, print_rejects, reports_errors, warnings_printed
from lanhmanh.commands.explain import width_of
from lanhmanh.engine.analysis.diff import REJECTED, Impact, RuleChange, compare_batches, diff_packs, impact_dict
from lanhmanh.engine.evaluation.scoring import ENGINES
from lanhmanh.engine.model.versions import RULES_DIR
from lanhmanh.errors import EXIT_OK, EXIT_OUTPUT, EXIT_REJECTED
from lanhmanh.i18n import N_, _
from lanhmanh.scorecards.outputs.xlsx_diff import class_counts_text, write_diff_workbook

WRAP = 96  # text wrapped in blocks
INLINE = 150  # an `old → new` change up to this long stays on one line


@click.command()
@click.argument("old_rules", metavar="OLD_RULES")
@click.argument("new_rules", metavar="NEW_RULES")
@click.argument("inputs", nargs=-1, metavar="[INPUT...]")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True,
              help="table: for reading; json: the same on standard output, for scripts.")
@click.option("--all", "show_all", is_flag=True,
              help="Also list the units whose rank alone changed, or only criteria (not class, total or rank).")
@click.option("--wording", is_flag=True,
              help="Print the old and new text of changed titles, notes, citations and labels "
                   "(by default only which ones changed).")
@click.option("--out", "out", type=click.Path(dir_okay=False),
              help="Also write the comparison as an Excel workbook (.xlsx), in Vietnamese.")
@click.option("--engine", type=click.Choice(ENGINES), default="durable", show_default=True, help=ENGINE_HELP)
@click.option("--unit-list", "unit_list", default="official", show_default=True, metavar="official|none|FILE.csv",
              help=UNIT_LIST_HELP)
@reports_errors
def diff(old_rules: str, new_rules: str, inputs: tuple[str, ...], fmt: str, show_all: bool, wording: bool,
         out: str | None, engine: str, unit_list: str) -> int:
    """Compare two rule packs (shipped ids or rule files). Without INPUT: the rule changes
    (indicators, derived values, constraints, criteria and their bands, vetoes, classes, ranking,
    the province level). With INPUT files (as for `score`): every unit whose class, total or rank
    changes, old and new, and the criteria that made the difference; the old-class by new-class
    table; the province roll-up.

    Exit 0 whether or not the packs differ (like `git diff`); 1 when input rows were rejected by
    either pack (the units the other pack scored are listed as scored on one side only); 3 an
    invalid rule file; 4 an unreadable input; 6 the workbook (--out) cannot be written."""
    if out and Path(out).suffix.lower() != ".xlsx":
        raise click.BadParameter(_("{path}: the comparison is an Excel workbook; name it .xlsx").format(path=out),
                                 param_hint="--out")
    old_batch = new_batch = impact = None
    with warnings_printed():
        old_pack, new_pack = api.load_pack(old_rules), api.load_pack(new_rules)
        if inputs:  # each pack exactly as given: no version is chosen for a batch year
            old_batch = api.score_intake(old_pack, api.read_inputs(inputs, old_pack, unit_list), engine)
            new_batch = api.score_intake(new_pack, api.read_inputs(inputs, new_pack, unit_list), engine)
    changes = diff_packs(old_pack, new_pack)
    if old_batch is not None and new_batch is not None:
        impact = compare_batches(old_batch, new_batch)
    if out:
        try:
            write_diff_workbook(Path(out), old_pack, new_pack, changes, old_batch, new_batch, impact)
        except OSError as e:
            why = _("{error} (is the file open in Excel?)").format(error=e.strerror or e)
            click.echo(_("lanhmanh: cannot write {path}: {why}; nothing half-written was left behind")
                       .format(path=e.filename or out, why=why), err=True)
            return EXIT_OUTPUT
    if fmt == "json":
        click.echo(json.dumps(_json(old_pack, new_pack, changes, old_batch, new_batch, impact),
                              ensure_ascii=False, indent=1))
    else:
        _print_rules(old_pack, new_pack, changes, wording)
        if impact is not None:
            _print_impact(old_batch, new_batch, impact, show_all)
    if out:
        click.echo(_("comparison written to {path}").format(path=out), err=fmt == "json")
    rejected = _rejections(old_batch, new_batch)
    print_rejects(rejected)
    return EXIT_REJECTED if rejected else EXIT_OK


def _rejections(old_batch, new_batch) -> list:
    """Every rejected row of either run, once (both packs usually reject a bad row alike)."""
    if old_batch is None:
        return []
    seen, out = set(), []
    for r in [*old_batch.rejected, *new_batch.rejected]:
        key = (r.path, r.sheet, r.row, r.column, r.reason)
        if key not in seen:
            seen.add(key)
            out.append(r)
    return out


def _json(old_pack, new_pack, changes, old_batch, new_batch, impact) -> dict:
    doc = {
        "old": old_pack.meta(),
        "new": new_pack.meta(),
        "rules": {"identical": not changes, "effect": sum(1 for c in changes if c.effect),
                  "changes": [c.as_dict() for c in changes]},
    }
    if impact is not None:
        doc["inputs"] = old_batch.inputs
        doc.update(impact_dict(old_batch, new_batch, impact))
        doc["rejected"] = {"old": [r.as_dict() for r in old_batch.rejected],
                           "new": [r.as_dict() for r in new_batch.rejected]}
    return doc


# ---- the rule changes, as text ------------------------------------------------------------------

SECTIONS = (("pack", N_("Pack")), ("commune", N_("Commune level")), ("province", N_("Province level")))
# what changed, as the change lines name it (the id follows): kinds of item ...
KINDS = {"group": N_("group {id}"), "indicator": N_("indicator {id}"), "derived": N_("derived {id}"),
         "constraint": N_("constraint {id}"), "criterion": N_("criterion {id}"), "veto": N_("veto {id}"),
         "class": N_("class {id}")}
PROVINCE_KINDS = {"group": N_("province group {id}"), "indicator": N_("province indicator {id}"),
                  "derived": N_("province derived {id}"), "constraint": N_("province constraint {id}"),
                  "criterion": N_("province criterion {id}"), "veto": N_("province veto {id}"),
                  "class": N_("province class {id}")}
# ... and the items a level has once
WHOLE = {("pack", "pack"): N_("pack"), ("commune", "classes"): N_("classes"),
         ("province", "classes"): N_("province classes"), ("commune", "ranking"): N_("ranking"),
         ("province", "ranking"): N_("province ranking"), ("province", "level"): N_("province level")}


def _print_rules(old_pack, new_pack, changes: list[RuleChange], wording: bool) -> None:
    click.echo(f"{_name(old_pack)} → {_name(new_pack)}")
    if not changes:
        click.echo(_("Rules: identical (no change in criteria, thresholds, points, classes, ranking or wording)"))
        return
    effect = [c for c in changes if c.effect]
    text = [c for c in changes if not c.effect]
    click.echo(_("Rule changes (can change results): {n}").format(n=len(effect)) if effect
               else _("Rule changes (can change results): none"))
    for key, title in SECTIONS:
        mine = [c for c in effect if c.level == key]
        if mine:
            click.echo(f"  {_(title)}")
            for c in mine:
                click.echo(_rule_line(c))
    if text:
        click.echo((_("Text changes (titles, notes, citations, labels; no effect on results): {n}") if wording
                    else _("Text changes (titles, notes, citations, labels; no effect on results): {n} "
                           "(--wording prints them)")).format(n=len(text)))
        if wording:
            for c in text:
                click.echo(_rule_line(c))
        else:
            for line in _text_summary(text):
                click.echo(line)


def _name(pack) -> str:
    """A pack as the header names it: id and version, and the file unless it is a shipped pack."""
    shipped = Path(pack.path).resolve().parent == RULES_DIR.resolve()
    return f"{pack.id} {pack.version}" + ("" if shipped else f" ({pack.path})")


def _what(c: RuleChange) -> str:
    """The changed item as a change line names it: 'criterion T1', 'province classes', 'pack'."""
    province = c.level == "province"
    if c.kind == "pack":
        return _("pack")
    if c.kind in ("classes", "ranking", "level"):
        whole = WHOLE.get((c.level, c.kind))
        return _(whole) if whole else ("province " if province else "") + c.kind
    named = (PROVINCE_KINDS if province else KINDS).get(c.kind)
    return _(named).format(id=c.id) if named else f"{'province ' if province else ''}{c.kind} {c.id}"


def _rule_line(c: RuleChange) -> str:
    if c.op in "+-":
        body = c.new if c.op == "+" else c.old
        return _wrap(f"    {c.op} {_what(c)}", body)
    old, new = c.old if c.old is not None else _("(none)"), c.new if c.new is not None else _("(none)")
    head = f"    ~ {_what(c)}  {c.field}"
    if len(head) + len(old) + len(new) + 5 <= INLINE and "\n" not in old + new:
        return f"{head}: {old} → {new}"
    return "\n".join([head + ":", *_block("- ", old), *_block("+ ", new)])


def _wrap(head: str, body) -> str:
    if body is None:
        return head
    line = f"{head}: {body}"
    return line if len(line) <= WRAP else "\n".join([head + ":", *_block("  ", body)])


def _block(mark: str, text: str) -> list[str]:
    """A long text under its change line, marked on its first line, re-wrapped paragraph by paragraph."""
    out: list[str] = []
    for k, para in enumerate(re.split(r"\n\s*\n", str(text).strip()) or [""]):
        if k:
            out.append("")
        for ln in textwrap.wrap(" ".join(para.split()), WRAP - 10) or [""]:
            out.append(f"        {mark if not out else '  '}{ln}")
    return out


def _text_summary(text: list[RuleChange]) -> list[str]:
    """One line per changed item: which of its texts changed."""
    by_item: dict[tuple, list[str]] = {}
    for c in text:
        by_item.setdefault((c.op, c.level, c.kind, c.id), []).append(c.field or "")
    out = []
    for (op, level, kind, ident), fields in by_item.items():
        what = _what(RuleChange(op, level, kind, ident))
        out.append(f"    {op} {what}: {', '.join(f for f in fields if f)}" if op == "~" else f"    {op} {what}")
    return out


# ---- the effect on the inputs, as text ----------------------------------------------------------

def _print_impact(old_batch, new_batch, impact: Impact, show_all: bool) -> None:
    op, np_ = old_batch.pack, new_batch.pack
    click.echo("")
    click.echo(_("Units: {compared} scored by both packs; {cls} change class, {total} change total only, "
                 "{rank} change rank only, {criteria} change criteria only; {unchanged} unchanged")
               .format(compared=impact.compared, cls=impact.count("class"), total=impact.count("total"),
                       rank=impact.count("rank"), criteria=impact.count("criteria"),
                       unchanged=impact.compared - len(impact.changes)))
    listed = ("class", "total") + (("rank", "criteria") if show_all else ())
    for kind, title in (("class", N_("Class changes")), ("total", N_("Total changes")),
                        ("rank", N_("Rank changes only")),
                        ("criteria", N_("Criteria changes only, same class, total and rank"))):
        mine = [c for c in impact.changes if c.change == kind]
        if not mine:
            continue
        if kind not in listed:
            click.echo(_("{title}: {n} unit(s) (--all lists them)").format(title=_(title), n=len(mine)))
            continue
        click.echo(_("{title} ({n}, by old national rank):").format(title=_(title), n=len(mine)))
        scored = op.commune.scored or np_.commune.scored
        for c in mine:
            if kind == "rank":  # compact: one line, the criteria that differ named only
                ids = ", ".join(x.id for x in c.criteria)
                line = _unit_line(c.old, c.new, scored)
                click.echo(_("{line} · criteria differ: {ids}").format(line=line, ids=ids) if ids else line)
                continue
            click.echo(_unit_line(c.old, c.new, scored))
            for x in c.criteria:
                click.echo(_criterion_line(x))
            if not c.criteria and kind == "class":
                click.echo("      " + _("(every criterion as before: the class conditions changed)"))
    for sided, title in (
            (impact.only_old, N_("Scored by the old ({old}) pack only, rejected by the new ({new}) ({n}):")),
            (impact.only_new, N_("Scored by the new ({new}) pack only, rejected by the old ({old}) ({n}):"))):
        if sided:
            click.echo(_(title).format(old=op.id, new=np_.id, n=len(sided)))
            for s in sided:
                u = s.result.unit
                reasons = list(s.reasons[:3])
                if len(s.reasons) > 3:
                    reasons.append(_("… ({n} more)").format(n=len(s.reasons) - 3))
                click.echo(f"  {u.code} {u.name} ({u.province_code}): {s.result.outcome.class_id}; "
                           + "; ".join(reasons))
    _print_matrix(op, np_, impact)
    _print_provinces(op, np_, impact)


def _unit_line(o, n, scored: bool) -> str:
    u = o.unit
    cls = o.outcome.class_id if o.outcome.class_id == n.outcome.class_id \
        else f"{o.outcome.class_id} → {n.outcome.class_id}"
    parts = [cls]
    if scored:
        parts.append(_arrow(_("total"), o.outcome.total, n.outcome.total))
    if o.outcome.vetoes or n.outcome.vetoes:
        parts.append(_arrow(_("vetoes"), ",".join(o.outcome.vetoes) or _("none"),
                            ",".join(n.outcome.vetoes) or _("none")))
    parts.append(_arrow(_("rank"), o.rank_national, n.rank_national))
    if (o.rank_province, n.rank_province) != (o.rank_national, n.rank_national):
        parts.append(_arrow(_("in province"), o.rank_province, n.rank_province))
    return f"  {u.code} {u.name} ({u.province_code}): " + " · ".join(parts)


def _arrow(name: str, old, new) -> str:
    return f"{name} {old}" if old == new else f"{name} {old} → {new}"


def _side(s, which: str) -> str:
    if s is None:
        return _("not in the old pack") if which == "old" else _("not in the new pack")
    met, pts = s
    if pts is None:
        return _("met") if met else _("not met")
    return (_("met ({points} pt)") if met else _("not met ({points} pt)")).format(points=pts)


def _criterion_line(x) -> str:
    vals = ", ".join(f"{k} {v}" for k, v in x.inputs.items())
    line = f"      {x.id}: {_side(x.old, 'old')} → {_side(x.new, 'new')}"
    return line + (f"   [{vals}]" if vals else "")


def _print_matrix(op, np_, impact: Impact) -> None:
    m = impact.matrix
    click.echo(_("Classes (rows: old, {old}; columns: new, {new}):").format(old=op.id, new=np_.id))
    names = {REJECTED: _("(rejected)")}
    cols = [names.get(c, c) for c in m.columns] + [_("total")]
    rows = [names.get(r, r) for r in m.rows] + [_("total")]
    w0 = max(width_of(r) for r in rows)
    ws = [max(width_of(c), 3) for c in cols]
    right = lambda text, w: " " * (w - width_of(text)) + text  # noqa: E731  (terminal columns, not len)
    click.echo("  " + " " * w0 + "".join(f"  {right(c, w)}" for c, w in zip(cols, ws)))
    body = [[m.counts[r][c] for c in m.columns] + [m.row_total(r)] for r in m.rows]
    body.append([m.column_total(c) for c in m.columns] + [impact.compared + len(impact.only_old)
                                                          + len(impact.only_new)])
    for name, vals in zip(rows, body):
        cells = "".join(f"  {right(str(v) if v else '·', w)}" for v, w in zip(vals, ws))
        click.echo(f"  {name}{' ' * (w0 - width_of(name))}{cells}")
    labels = dict.fromkeys([*m.rows, *m.columns])
    legend = [f"{c} = {(op.commune if c in m.rows else np_.commune).class_label(c)}"
              for c in labels if c != REJECTED]
    click.echo(_wrap_plain("  (" + "; ".join(legend) + ")"))


def _wrap_plain(text: str) -> str:
    return "\n".join(textwrap.wrap(text, WRAP, subsequent_indent="   "))


def _print_provinces(op, np_, impact: Impact) -> None:
    if op.province is None and np_.province is None:
        return
    click.echo(_("Provinces:"))
    for p in impact.provinces:
        oc = p.old.outcome.class_id if p.old is not None and p.old.outcome else _("(no province class)")
        nc = p.new.outcome.class_id if p.new is not None and p.new.outcome else _("(no province class)")
        if not p.changed:
            click.echo("  " + _("{province}: {cls}, unchanged").format(province=p.province_code, cls=oc))
            continue
        click.echo("  " + (_("{province}: {cls} (class unchanged)").format(province=p.province_code, cls=oc)
                           if oc == nc else f"{p.province_code}: {oc} → {nc}"))
        oc_, nc_ = class_counts_text(op, p.old), class_counts_text(np_, p.new)
        if oc_ != nc_:
            click.echo("      " + _("communes by class: {old} → {new}").format(old=oc_, new=nc_))
        for x in p.criteria:
            click.echo(_criterion_line(x))
