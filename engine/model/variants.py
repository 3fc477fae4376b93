"""Provincial variants: a rule file whose `pack:` block says `extends: BASE`.

What a variant may change, and how its base is found, is in docs/rule-language.md ("Provincial
variants"). `merge` builds the variant's YAML tree from its base's for the loader: the base is
loaded and checked on its own first, then the variant's overrides, pack block, case defaults
and cases are put in, keeping every node's file and line so that errors point into the file
that holds the offending text. What a variant changes, compared on the loaded packs, is listed
by engine/analysis/overrides.py.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Optional

from pydantic import ValidationError
from ruamel.yaml.comments import CommentedMap, CommentedSeq

from lanhmanh.engine.language.problems import did_you_mean
from lanhmanh.engine.model import schema, versions
from lanhmanh.i18n import N_, _

# The loader of the variant's own file (loader.py's _Loader, which imports this module), passed
# in: problems go to it, and the base is loaded by a loader of the same class.
_Loader = Any

VARIANT_KEYS = ("pack", "overrides", "case_defaults", "cases")
# an override of an id the base does not have, by kind of item ({hint}: "; did you mean ...?" or nothing)
UNKNOWN_OVERRIDE = {
    "criterion": N_("override of unknown criterion {id}{hint} (a variant overrides its base's criteria; "
                    "it cannot add new ones)"),
    "veto": N_("override of unknown veto {id}{hint} (a variant overrides its base's vetoes; it cannot add new ones)"),
    "class": N_("override of unknown class {id}{hint} (a variant overrides its base's classes; "
                "it cannot add new ones)"),
    "group": N_("override of unknown group {id}{hint} (a variant overrides its base's groups; it cannot add new ones)"),
}


# ---- building the variant's tree --------------------------------------------------------------------

def merge(loader: _Loader, raw: CommentedMap) -> Optional[CommentedMap]:
    """The YAML tree of a variant: its base's tree (loaded and checked on its own first) with the
    variant's overrides, pack block, case defaults and cases put in. Problems go to `loader`; None when
    the variant cannot be built."""
    _check_keys(loader, raw)
    try:
        spec = schema.VariantFile.model_validate(schema.plain(raw))
    except ValidationError as e:
        for d in e.errors():
            line, col = loader._locate(raw, d["loc"])
            loader.err(line, col, f"{'.'.join(str(x) for x in d['loc'])}: {schema.message(d)}")
        return None
    if any(p.severity == "error" for p in loader.problems):
        return None
    base_path = _base_path(loader, raw, spec)
    if base_path is None:
        return None
    base = _load_base(loader, raw, base_path)
    if base is None:
        return None
    base_loader, base_pack = base
    tree = base_loader.raw
    _adopt_origins(loader, base_loader, tree)
    ov_raw = raw.get("overrides")
    if isinstance(ov_raw, CommentedMap):
        _apply_level(loader, tree, ov_raw, "commune")
        if "province" in ov_raw:
            if not isinstance(tree.get("province"), CommentedMap):
                loader.err(*loader.keypos(ov_raw, "province"),
                           _("the base pack {id} has no province level to override").format(id=base_pack.id))
            elif isinstance(ov_raw["province"], CommentedMap):
                _apply_level(loader, tree["province"], ov_raw["province"], "province")
        if isinstance(ov_raw.get("groups"), CommentedMap):
            _apply_items(loader, tree.get("groups"), ov_raw["groups"], "group", _graft_fields)
    _pack_block(loader, tree, raw)
    _case_defaults(loader, tree, raw)
    _cases(loader, tree, raw, spec.pack.inherit_cases)
    if any(p.severity == "error" for p in loader.problems):
        return None
    loader.base = base_pack
    loader.base_loader = base_loader  # keeps the base's nodes (and their ids) alive with the tree
    return tree


def _check_keys(loader: _Loader, raw: CommentedMap) -> None:
    for key in raw:
        if key not in VARIANT_KEYS:
            line, col = loader.keypos(raw, key)
            if key in schema.PackFile.model_fields:
                loader.err(line, col, _("a variant (pack.extends) takes its base's `{key}`; it changes them only "
                                        "under `overrides:`").format(key=key))
            else:
                loader.err(line, col, _("unknown key {key}: a variant has {keys}").format(
                    key=repr(key), keys=", ".join(VARIANT_KEYS)) + did_you_mean(str(key), VARIANT_KEYS))
            continue
        if key == "overrides":
            loader._unknown_keys(schema.Overrides, raw[key], "error")
        else:
            loader._recurse_unknown(schema.VariantFile.model_fields[key].annotation, raw[key])


def _base_path(loader: _Loader, raw: CommentedMap, spec: schema.VariantFile) -> Optional[Path]:
    ref = spec.pack.extends or ""
    at = loader.pos(raw["pack"], "extends")
    if ref.lower().endswith((".yaml", ".yml")) or "/" in ref or "\\" in ref:
        path = (loader.path.parent / ref)
        if not path.is_file():
            loader.err(*at, _("extends {ref}: no such rule file (a path is relative to this file's folder)")
                       .format(ref=repr(ref)))
            return None
    else:
        if ref == spec.pack.id:
            loader.err(*at, _("pack {ref} extends itself").format(ref=repr(ref)))
            return None
        found = versions.versions_of(ref)
        if not found:
            loader.err(*at, _("extends {ref}: no pack of that id").format(ref=repr(ref))
                       + did_you_mean(ref, versions.known_ids()))
            return None
        try:
            v = versions.in_force_version(found, spec.pack.effective_from)
        except versions.AmbiguousVersions as e:
            loader.err(*at, str(e))
            return None
        if v is None:
            loader.err(*at, _("extends {ref}: no version of {id} is in force on {day}, this variant's "
                              "effective_from (versions: {versions}); name the base by its file to extend "
                              "another version").format(ref=repr(ref), id=ref, day=spec.pack.effective_from,
                                                        versions=versions.describe(found)))
            return None
        path = v.path
    chain = loader.chain + (loader.path.resolve(),)
    if path.resolve() in chain:
        names = [str(p) for p in chain[chain.index(path.resolve()):]] + [str(path)]
        loader.err(*at, _("extends cycle: {files}").format(files=" → ".join(names)))
        return None
    return path


def _load_base(loader: _Loader, raw: CommentedMap, path: Path):
    base_loader = type(loader)(path, loader.chain + (loader.path.resolve(),))
    pack = base_loader.run()
    errors = [p for p in base_loader.problems if p.severity == "error"]
    if errors or pack is None:
        loader.problems.extend(errors)
        loader.err(*loader.pos(raw["pack"], "extends"),
                   _("the base pack {path} is invalid ({n} error(s))").format(path=path, n=len(errors)))
        return None
    return base_loader, pack


def _adopt_origins(loader: _Loader, base_loader: _Loader, tree: Any) -> None:
    """Every container of the base's tree keeps its own file (or its base's, for a base that is
    itself a variant) in the variant's loader."""
    loader.key_origin.update(base_loader.key_origin)
    stack = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, (CommentedMap, CommentedSeq)):
            loader.node_origin.setdefault(id(node), base_loader.node_origin.get(id(node), base_loader.origin))
            stack.extend(node.values() if isinstance(node, CommentedMap) else node)


def _graft(loader: _Loader, dst: Any, key: Any, src: Any, skey: Any = None) -> None:
    """dst[key] = src[skey], with src's position and file for that key."""
    skey = key if skey is None else skey
    dst[key] = src[skey]
    data = (src.lc.data or {}).get(skey)
    if data is not None:
        dst.lc.add_kv_line_col(key, list(data))
    loader.key_origin[(id(dst), key)] = loader.origin_of(src, skey)


def _graft_fields(loader: _Loader, kind: str, ident: str, target: CommentedMap, ov: CommentedMap) -> None:
    for key in ov:
        _graft(loader, target, key, ov)


def _criterion(loader: _Loader, kind: str, ident: str, target: CommentedMap, ov: CommentedMap) -> None:
    """A criterion's override: `bands` replaces the base's condition and points; `when` replaces
    its condition (and its bands: give `points` with it); `points` alone changes a `when`'s points."""
    if "when" in ov and "bands" in ov:
        loader.err(*loader.keypos(ov, "bands"),
                   _("criterion {id}: override `when` or `bands`, not both").format(id=repr(ident)))
        return
    if "bands" in ov:
        for k in ("when", "points"):
            target.pop(k, None)
    elif "when" in ov:
        had_bands = target.pop("bands", None) is not None
        if had_bands and "points" not in ov:
            loader.err(*loader.keypos(ov, "when"), _("criterion {id} has bands in the base; give `points` with "
                                                     "the `when` that replaces them").format(id=repr(ident)))
            return
    elif "points" in ov and "bands" in target:
        loader.err(*loader.keypos(ov, "points"), _("criterion {id} has bands: override `bands` (each band "
                                                   "with its points) to change its points").format(id=repr(ident)))
        return
    _graft_fields(loader, kind, ident, target, ov)


def _class(loader: _Loader, kind: str, ident: str, target: CommentedMap, ov: CommentedMap) -> None:
    if "when" in ov and target.get("residual"):
        loader.err(*loader.keypos(ov, "when"), _("class {id} is the residual class (every unit no earlier class "
                                                 "took); its condition cannot be overridden").format(id=repr(ident)))
        return
    _graft_fields(loader, kind, ident, target, ov)


def _apply_level(loader: _Loader, level: CommentedMap, ov: CommentedMap, name: str) -> None:
    if isinstance(ov.get("criteria"), CommentedMap):
        _apply_items(loader, level.get("criteria"), ov["criteria"], "criterion", _criterion)
    if name == "commune" and isinstance(ov.get("vetoes"), CommentedMap):
        _apply_items(loader, level.get("vetoes"), ov["vetoes"], "veto", _graft_fields)
    if isinstance(ov.get("classes"), CommentedMap):
        classes = level.get("classes")
        by_id = {}
        if isinstance(classes, CommentedSeq):
            by_id = {c.get("id"): c for c in classes if isinstance(c, CommentedMap)}
        _apply_items(loader, by_id, ov["classes"], "class", _class)


def _apply_items(loader: _Loader, base: Any, ov: CommentedMap, kind: str, apply) -> None:
    """Apply each override of `ov` to the base item of that id; an id the base does not have is an
    error with the closest id (a variant cannot add items)."""
    base = base if isinstance(base, dict) else {}
    for ident, item in ov.items():
        if ident not in base:
            loader.err(*loader.keypos(ov, ident),
                       _(UNKNOWN_OVERRIDE[kind]).format(id=repr(ident), hint=did_you_mean(str(ident), base)))
            continue
        if isinstance(item, CommentedMap) and isinstance(base[ident], CommentedMap):
            apply(loader, kind, str(ident), base[ident], item)


def _pack_block(loader: _Loader, tree: CommentedMap, raw: CommentedMap) -> None:
    """The variant's own `pack:` block, with the base's sources it does not redefine and the base's
    `reading` and `advisories` when it has none."""
    mine, theirs = raw["pack"], tree["pack"]
    if isinstance(theirs.get("sources"), CommentedMap):
        if not isinstance(mine.get("sources"), CommentedMap):
            _graft(loader, mine, "sources", theirs)
        else:
            for k in theirs["sources"]:
                if k not in mine["sources"]:
                    _graft(loader, mine["sources"], k, theirs["sources"])
    for key in ("reading", "advisories"):
        if key not in mine and key in theirs:
            _graft(loader, mine, key, theirs)
    _graft(loader, tree, "pack", raw)


def _case_defaults(loader: _Loader, tree: CommentedMap, raw: CommentedMap) -> None:
    if not isinstance(raw.get("case_defaults"), CommentedMap):
        return
    if not isinstance(tree.get("case_defaults"), CommentedMap):
        _graft(loader, tree, "case_defaults", raw)
        return
    for k in raw["case_defaults"]:
        _graft(loader, tree["case_defaults"], k, raw["case_defaults"])


def _cases(loader: _Loader, tree: CommentedMap, raw: CommentedMap, inherit: bool) -> None:
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
        loader.key_origin[(id(seq), i)] = loader.origin_of(src, j)
    if picked:
        tree["cases"] = seq
    else:
        tree.pop("cases", None)


