"""What a provincial variant changes in its base pack, compared on the two loaded packs (the
lines `lanhmanh check` prints under a variant)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

from lanhmanh.engine.analysis.diff import diff_packs
from lanhmanh.engine.model.pack import Pack
from lanhmanh.i18n import _


@dataclass(frozen=True)
class Override:
    """One thing a variant changes in its base: `kind` (criterion, veto, class, group, …), the
    item's `id`, the `field` changed (condition, points, band 2 condition, cite, label…), its
    text in the base and in the variant, and the `level` (pack, commune, province)."""
    kind: str
    id: str
    field: str
    base: Optional[str]
    variant: Optional[str]
    level: str = "commune"


def overrides(pack: Pack) -> list[Override]:
    """Everything the variant changes in its base, compared on the two loaded packs (so an override
    that repeats the base's value is not listed); [] for a pack that extends nothing."""
    if pack.base is None:
        return []
    return [Override(c.kind, c.id, c.field or "", c.old, c.new, c.level)
            for c in diff_packs(pack.base, pack) if c.level != "pack" or c.kind != "pack"]


def describe_overrides(pack: Pack) -> list[str]:
    """Lines for `lanhmanh check`: the base the variant extends, then one line per override."""
    if pack.extends is None:
        return []
    b = pack.extends
    items = overrides(pack)
    head = "  " + _("extends {id} {version} ({path}, sha256 {sha256}…): {n} override(s)").format(
        id=b["id"], version=b["version"], path=b["path"], sha256=b["sha256"][:12], n=len(items))
    lines = [head]
    for o in items:
        # kind and field are ids (as `lanhmanh diff` names them); only the level is said
        line = _("province {kind} {id}, {field}: {base} → {variant}") if o.level == "province" \
            else "{kind} {id}, {field}: {base} → {variant}"
        lines.append("    " + line.format(kind=o.kind, id=o.id, field=o.field, base=_shown(o.base),
                                          variant=_shown(o.variant)))
    if not items:
        lines.append("    " + _("(none: the variant scores exactly as its base)"))
    return lines


def _shown(text: Optional[str]) -> str:
    return _("(none)") if text is None else text
