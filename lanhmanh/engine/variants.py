"""Provincial variants: a rule file whose `pack:` block says `extends: BASE`.

A variant takes its base pack's whole content (indicators, constraints, derived values, criteria,
vetoes, classes, ranking, province level, case defaults) and changes it only through its
`overrides:` mapping (schema.Overrides): a criterion's condition (`when`, or all its `bands`),
points, title, citation and note; a veto's; a class's condition, label, citation and note (by
class id); a group's title and points; the same for the province level's criteria and classes.
Adding criteria, vetoes, classes or indicators is refused: a variant is the base with other
numbers, so every result can be traced to a base rule (copy the file to make a new pack).

The variant has its own id, title, version, status, dates, sources (merged over the base's) and
cases; `pack.inherit_cases: true` also runs the base's cases (a variant case of the same name
replaces the base's). `extends` names the base by id (the version in force on the variant's
effective_from, see versions.py) or by a path relative to the variant's file; a base may itself
be a variant (a cycle of `extends` is refused).

`merge` builds the variant's YAML tree from its base's for the loader, keeping every node's file
and line so that errors point into the file that holds the offending text. `overrides` lists what
the variant changes, compared on the loaded packs, for `lanhmanh check` (`describe_overrides`).
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Optional

from pydantic import ValidationError
from ruamel.yaml.comments import CommentedMap, CommentedSeq

from . import schema as S
from .problems import did_you_mean

if TYPE_CHECKING:
    from .loader import _Loader
    from .pack import Pack

VARIANT_KEYS = ("pack", "overrides", "case_defaults", "cases")


# ---- what a variant overrides ---------------------------------------------------------------------

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


def overrides(pack: "Pack") -> list[Override]:
    """Everything the variant changes in its base, compared on the two loaded packs (so an override
    that repeats the base's value is not listed); [] for a pack that extends nothing."""
    if pack.base is None:
        return []
    from .diff import diff_packs

    return [Override(c.kind, c.id, c.field or "", c.old, c.new, c.level)
            for c in diff_packs(pack.base, pack) if c.level != "pack" or c.kind != "pack"]


def describe_overrides(pack: "Pack") -> list[str]:
    """Lines for `lanhmanh check`: the base the variant extends, then one line per override."""
    if pack.extends is None:
        return []
    b = pack.extends
    items = overrides(pack)
    head = (f"  extends {b['id']} {b['version']} ({b['path']}, sha256 {b['sha256'][:12]}…): "
            f"{len(items)} override(s)")
    lines = [head]
    for o in items:
        where = f"{o.level} " if o.level == "province" else ""
        lines.append(f"    {where}{o.kind} {o.id}, {o.field}: {_shown(o.base)} → {_shown(o.variant)}")
    if not items:
        lines.append("    (none: the variant scores exactly as its base)")
    return lines


def _shown(text: Optional[str]) -> str:
    return "(none)" if text is None else text


# ---- building the variant's tree --------------------------------------------------------------------

def merge(L: "_Loader", raw: CommentedMap) -> Optional[CommentedMap]:
    """The YAML tree of a variant: its base's tree (loaded and checked on its own first) with the
    variant's overrides, pack block, case defaults and cases put in. Problems go to `L`; None when
    the variant cannot be built."""
    _check_keys(L, raw)
    try:
        spec = S.VariantFile.model_validate(_plain(raw))
    except ValidationError as e:
        for d in e.errors():
            line, col = L._locate(raw, d["loc"])
            L.err(line, col, f"{'.'.join(str(x) for x in d['loc'])}: {d['msg']}")
        return None
    if any(p.severity == "error" for p in L.problems):
        return None
    base_path = _base_path(L, raw, spec)
    if base_path is None:
        return None
    base = _load_base(L, raw, base_path)
    if base is None:
        return None
    base_loader, base_pack = base
    tree = base_loader.raw
    _adopt_origins(L, base_loader, tree)
    ov_raw = raw.get("overrides")
    if isinstance(ov_raw, CommentedMap):
        _apply_level(L, tree, ov_raw, "commune")
        if "province" in ov_raw:
            if not isinstance(tree.get("province"), CommentedMap):
                L.err(*L.keypos(ov_raw, "province"), f"the base pack {base_pack.id} has no province level to override")
            elif isinstance(ov_raw["province"], CommentedMap):
                _apply_level(L, tree["province"], ov_raw["province"], "province")
        if isinstance(ov_raw.get("groups"), CommentedMap):
            _apply_items(L, tree.get("groups"), ov_raw["groups"], "group", _graft_fields)
    _pack_block(L, tree, raw)
    _case_defaults(L, tree, raw)
    _cases(L, tree, raw, spec.pack.inherit_cases)
    if any(p.severity == "error" for p in L.problems):
        return None
    L.base = base_pack
    L.base_loader = base_loader  # keeps the base's nodes (and their ids) alive with the tree
    return tree


def _check_keys(L: "_Loader", raw: CommentedMap) -> None:
    for key in raw:
        if key not in VARIANT_KEYS:
            line, col = L.keypos(raw, key)
            if key in S.PackFile.model_fields:
                L.err(line, col, f"a variant (pack.extends) takes its base's `{key}`; it changes them only "
                                 f"under `overrides:`")
            else:
                L.err(line, col, f"unknown key {key!r}: a variant has {', '.join(VARIANT_KEYS)}"
                                 f"{did_you_mean(str(key), VARIANT_KEYS)}")
            continue
        if key == "overrides":
            L._unknown_keys(S.Overrides, raw[key], "error")
        else:
            L._recurse_unknown(S.VariantFile.model_fields[key].annotation, raw[key])


def _base_path(L: "_Loader", raw: CommentedMap, spec: S.VariantFile) -> Optional[Path]:
    from . import versions

    ref = spec.pack.extends or ""
    at = L.pos(raw["pack"], "extends")
    if ref.lower().endswith((".yaml", ".yml")) or "/" in ref or "\\" in ref:
        path = (L.path.parent / ref)
        if not path.is_file():
            L.err(*at, f"extends {ref!r}: no such rule file (a path is relative to this file's folder)")
            return None
    else:
        if ref == spec.pack.id:
            L.err(*at, f"pack {ref!r} extends itself")
            return None
        found = versions.versions_of(ref)
        if not found:
            L.err(*at, f"extends {ref!r}: no pack of that id{did_you_mean(ref, versions.known_ids())}")
            return None
        try:
            v = versions.in_force_version(found, spec.pack.effective_from)
        except versions.AmbiguousVersions as e:
            L.err(*at, str(e))
            return None
        if v is None:
            L.err(*at, f"extends {ref!r}: no version of {ref} is in force on {spec.pack.effective_from}, "
                       f"this variant's effective_from (versions: {versions.describe(found)}); "
                       "name the base by its file to extend another version")
            return None
        path = v.path
    chain = L.chain + (L.path.resolve(),)
    if path.resolve() in chain:
        names = [str(p) for p in chain[chain.index(path.resolve()):]] + [str(path)]
        L.err(*at, f"extends cycle: {' → '.join(names)}")
        return None
    return path


def _load_base(L: "_Loader", raw: CommentedMap, path: Path):
    from .loader import _Loader

    base_loader = _Loader(path, L.chain + (L.path.resolve(),))
    pack = base_loader.run()
    errors = [p for p in base_loader.problems if p.severity == "error"]
    if errors or pack is None:
        L.problems.extend(errors)
        L.err(*L.pos(raw["pack"], "extends"), f"the base pack {path} is invalid ({len(errors)} error(s))")
        return None
    return base_loader, pack


def _adopt_origins(L: "_Loader", base_loader: "_Loader", tree: Any) -> None:
    """Every container of the base's tree keeps its own file (or its base's, for a base that is
    itself a variant) in the variant's loader."""
    L.key_origin.update(base_loader.key_origin)
    stack = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, (CommentedMap, CommentedSeq)):
            L.node_origin.setdefault(id(node), base_loader.node_origin.get(id(node), base_loader.origin))
            stack.extend(node.values() if isinstance(node, CommentedMap) else node)


def _graft(L: "_Loader", dst: Any, key: Any, src: Any, skey: Any = None) -> None:
    """dst[key] = src[skey], with src's position and file for that key."""
    skey = key if skey is None else skey
    dst[key] = src[skey]
    data = (src.lc.data or {}).get(skey)
    if data is not None:
        dst.lc.add_kv_line_col(key, list(data))
    L.key_origin[(id(dst), key)] = L.origin_of(src, skey)


def _graft_fields(L: "_Loader", kind: str, ident: str, target: CommentedMap, ov: CommentedMap) -> None:
    for key in ov:
        _graft(L, target, key, ov)


def _criterion(L: "_Loader", kind: str, ident: str, target: CommentedMap, ov: CommentedMap) -> None:
    """A criterion's override: `bands` replaces the base's condition and points; `when` replaces
    its condition (and its bands: give `points` with it); `points` alone changes a `when`'s points."""
    if "when" in ov and "bands" in ov:
        L.err(*L.keypos(ov, "bands"), f"criterion {ident!r}: override `when` or `bands`, not both")
        return
    if "bands" in ov:
        for k in ("when", "points"):
            target.pop(k, None)
    elif "when" in ov:
        had_bands = target.pop("bands", None) is not None
        if had_bands and "points" not in ov:
            L.err(*L.keypos(ov, "when"), f"criterion {ident!r} has bands in the base; give `points` with "
                                         "the `when` that replaces them")
            return
    elif "points" in ov and "bands" in target:
        L.err(*L.keypos(ov, "points"), f"criterion {ident!r} has bands: override `bands` (each band "
                                       "with its points) to change its points")
        return
    _graft_fields(L, kind, ident, target, ov)


def _class(L: "_Loader", kind: str, ident: str, target: CommentedMap, ov: CommentedMap) -> None:
    if "when" in ov and target.get("residual"):
        L.err(*L.keypos(ov, "when"), f"class {ident!r} is the residual class (every unit no earlier class "
                                     "took); its condition cannot be overridden")
        return
    _graft_fields(L, kind, ident, target, ov)


def _apply_level(L: "_Loader", level: CommentedMap, ov: CommentedMap, name: str) -> None:
    if isinstance(ov.get("criteria"), CommentedMap):
        _apply_items(L, level.get("criteria"), ov["criteria"], "criterion", _criterion)
    if name == "commune" and isinstance(ov.get("vetoes"), CommentedMap):
        _apply_items(L, level.get("vetoes"), ov["vetoes"], "veto", _graft_fields)
    if isinstance(ov.get("classes"), CommentedMap):
        classes = level.get("classes")
        by_id = {c.get("id"): c for c in classes if isinstance(c, CommentedMap)} if isinstance(classes, CommentedSeq) else {}
        _apply_items(L, by_id, ov["classes"], "class", _class)


def _apply_items(L: "_Loader", base: Any, ov: CommentedMap, kind: str, apply) -> None:
    """Apply each override of `ov` to the base item of that id; an id the base does not have is an
    error with the closest id (a variant cannot add items)."""
    base = base if isinstance(base, dict) else {}
    plural = {"criterion": "criteria", "class": "classes"}.get(kind, kind + "s")
    for ident, item in ov.items():
        if ident not in base:
            L.err(*L.keypos(ov, ident), f"override of unknown {kind} {ident!r}{did_you_mean(str(ident), base)} "
                                        f"(a variant overrides its base's {plural}; it cannot add new ones)")
            continue
        if isinstance(item, CommentedMap) and isinstance(base[ident], CommentedMap):
            apply(L, kind, str(ident), base[ident], item)


def _pack_block(L: "_Loader", tree: CommentedMap, raw: CommentedMap) -> None:
    """The variant's own `pack:` block, with the base's sources it does not redefine and the base's
    `reading` when it has none."""
    mine, theirs = raw["pack"], tree["pack"]
    if isinstance(theirs.get("sources"), CommentedMap):
        if not isinstance(mine.get("sources"), CommentedMap):
            _graft(L, mine, "sources", theirs)
        else:
            for k in theirs["sources"]:
                if k not in mine["sources"]:
                    _graft(L, mine["sources"], k, theirs["sources"])
    if "reading" not in mine and "reading" in theirs:
        _graft(L, mine, "reading", theirs)
    _graft(L, tree, "pack", raw)


def _case_defaults(L: "_Loader", tree: CommentedMap, raw: CommentedMap) -> None:
    if not isinstance(raw.get("case_defaults"), CommentedMap):
        return
    if not isinstance(tree.get("case_defaults"), CommentedMap):
        _graft(L, tree, "case_defaults", raw)
        return
    for k in raw["case_defaults"]:
        _graft(L, tree["case_defaults"], k, raw["case_defaults"])


def _cases(L: "_Loader", tree: CommentedMap, raw: CommentedMap, inherit: bool) -> None:
    """The variant's cases; with inherit_cases, the base's first (those the variant renames not)."""
    mine = raw.get("cases") if isinstance(raw.get("cases"), CommentedSeq) else CommentedSeq()
    theirs = tree.get("cases") if isinstance(tree.get("cases"), CommentedSeq) else CommentedSeq()
    names = {c.get("name") for c in mine if isinstance(c, CommentedMap)}
    picked = [(theirs, j) for j, c in enumerate(theirs)
              if inherit and not (isinstance(c, CommentedMap) and c.get("name") in names)]
    picked += [(mine, j) for j in range(len(mine))]
    seq = CommentedSeq()
    for i, (src, j) in enumerate(picked):
        seq.append(src[j])
        data = (src.lc.data or {}).get(j)
        if data is not None:
            seq.lc.add_idx_line_col(i, list(data))
        L.key_origin[(id(seq), i)] = L.origin_of(src, j)
    if picked:
        tree["cases"] = seq
    else:
        tree.pop("cases", None)


def _plain(node: Any) -> Any:
    from .loader import _plain as plain

    return plain(node)
