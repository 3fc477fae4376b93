"""Loading a rule file: YAML (with line numbers) → schema check → names and types → `Pack`.

Every problem is reported with file:line:column; all are collected before failing, so
`lanhmanh check` lists them one per line. Nothing in a rule file is ever executed: conditions are
parsed by `engine/language/parser.py` and type-checked by `engine/language/typecheck.py`, to which
this module describes each level's names (`Vocabulary`) and passes a callback that places a
problem's offset in the file.
"""
from __future__ import annotations

import hashlib
import typing
import unicodedata
from decimal import Decimal, InvalidOperation
from fractions import Fraction
from pathlib import Path
from typing import Any, Optional

from pydantic import BaseModel, ValidationError
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import MarkedYAMLError
from ruamel.yaml.scalarstring import (
    DoubleQuotedScalarString,
    FoldedScalarString,
    LiteralScalarString,
    SingleQuotedScalarString,
)

from lanhmanh.engine.language import nodes, parser
from lanhmanh.engine.language.problems import Problem, RuleFileError, did_you_mean
from lanhmanh.engine.language.typecheck import SPECIALS, Checker, Vocabulary
from lanhmanh.engine.model import fast_yaml, schema, variants, versions, yaml_limits
from lanhmanh.engine.model.pack import (
    UNCLASSIFIED,
    UNDETERMINED,
    Advisory,
    Band,
    Case,
    ClassDef,
    Constraint,
    Criterion,
    Derived,
    Document,
    Indicator,
    Level,
    Pack,
    RankKey,
    Role,
    Veto,
    references,
)
from lanhmanh.engine.model.versions import RULES_DIR
from lanhmanh.i18n import N_, _
from lanhmanh.version import __version__

FORM_TITLE_MAX = 160  # characters of a criterion's `form_title`: two or three lines on the form
# a rule of an official pack without `cite`, by kind of rule
UNCITED = {
    "criterion": N_("criterion {id} has no `cite`: every rule of an official pack cites its source"),
    "veto": N_("veto {id} has no `cite`: every rule of an official pack cites its source"),
    "class": N_("class {id} has no `cite`: every rule of an official pack cites its source"),
}


def resolve(ref: str) -> Path:
    """A pack id (`qd-28-2025`: its newest version among the shipped packs and the folders of
    LANHMANH_RULES_PATH, see versions.py) or a path to a rule file."""
    p = Path(ref)
    if p.suffix.lower() in (".yaml", ".yml") or p.exists():
        return p
    found = versions.newest(versions.versions_of(ref))
    if found is not None:
        return found.path
    shipped = RULES_DIR / f"{ref}.yaml"
    if shipped.exists():  # its `pack:` block cannot be read: loading it reports why
        return shipped
    known = versions.known_ids()
    raise FileNotFoundError(_("no rule file or pack named {ref}{hint} (packs: {packs})").format(
        ref=repr(ref), hint=did_you_mean(ref, known), packs=", ".join(known)))


def load_pack(ref: str | Path) -> tuple[Pack, list[Problem]]:
    """Load and check a pack. Returns it with its warnings; raises RuleFileError on any error."""
    path = resolve(str(ref)) if not isinstance(ref, Path) else ref
    loader = _Loader(path)
    pack = loader.run()
    errors = [p for p in loader.problems if p.severity == "error"]
    if errors or pack is None:
        raise RuleFileError(loader.problems)
    return pack, [p for p in loader.problems if p.severity == "warning"]


class _Origin:
    """A rule file a node of the YAML tree came from: its name and its lines. A variant's tree
    holds its base's nodes beside its own, so a position must say which file it is in."""

    def __init__(self, name: str, lines: list[str]):
        self.name, self.lines = name, lines


class _Line(int):
    """A 1-based line number that remembers its file (see _Origin); `err` reports it there."""

    origin: Optional[_Origin]

    def __new__(cls, value: int, origin: Optional[_Origin] = None):
        obj = super().__new__(cls, value)
        obj.origin = origin
        return obj


class _Src:
    """Where an expression string sits in the file, to turn offsets into line:column."""

    def __init__(self, line: int, col: int, value: Any, lines: Optional[list[str]] = None,
                 origin: Optional[_Origin] = None):
        self.line, self.col = line, col
        self.block = isinstance(value, (LiteralScalarString, FoldedScalarString))
        self.quoted = isinstance(value, (DoubleQuotedScalarString, SingleQuotedScalarString))
        self.lines = lines or []
        self.origin = origin

    def at(self, offset: int, text: str) -> tuple[int, int]:
        line, col = self._at(offset)
        return _Line(line, self.origin), col

    def _at(self, offset: int) -> tuple[int, int]:
        if not self.block:
            return self.line, self.col + offset + (1 if self.quoted else 0)
        # a block scalar (| or >): its content starts on the next line, indented; each content
        # line contributes its text plus one joining character (newline, or space when folded)
        first = self.line  # 1-based line of the indicator; content lines follow it
        content: list[str] = []
        for raw in self.lines[first:]:
            if raw.strip() == "" and not content:
                continue
            content.append(raw)
        indent = len(content[0]) - len(content[0].lstrip(" ")) if content else 0
        pos = 0
        for k, raw in enumerate(self.lines[first:], start=first + 1):
            if raw.strip() and len(raw) - len(raw.lstrip(" ")) < indent:
                break
            seg = raw[indent:].rstrip("\n")
            if offset <= pos + len(seg):
                return k, indent + (offset - pos) + 1
            pos += len(seg) + 1
        return first + 1, indent + 1


class _Loader:
    def __init__(self, path: Path, chain: tuple[Path, ...] = ()):
        self.path = path
        self.name = str(path)
        self.chain = chain  # the variants that extend this file, outermost first (cycle detection)
        self.problems: list[Problem] = []
        self.origin = _Origin(self.name, [])
        self.node_origin: dict[int, _Origin] = {}  # id(container) → its file, for a base's nodes
        self.key_origin: dict[tuple[int, Any], _Origin] = {}  # (id(container), key) → file of an override
        self.base: Optional[Pack] = None  # a variant's base pack, as loaded (variants.merge sets it)
        self.base_loader: Optional["_Loader"] = None  # keeps the base's YAML nodes alive with the tree

    # ---- reporting -------------------------------------------------------------------------
    def err(self, line: int, col: int, msg: str, severity: str = "error") -> None:
        origin = getattr(line, "origin", None) or self.origin
        self.problems.append(Problem(origin.name, int(line), int(col), msg, severity))

    def origin_of(self, node: Any, key: Any = None) -> _Origin:
        if key is not None:
            hit = self.key_origin.get((id(node), key))
            if hit is not None:
                return hit
        return self.node_origin.get(id(node), self.origin)

    def pos(self, node: Any, key: Any = None) -> tuple[int, int]:
        """1-based line, column of node[key] (or of node itself)."""
        line, col = self._pos(node, key)
        return _Line(line, self.origin_of(node, key)), col

    def _pos(self, node: Any, key: Any = None) -> tuple[int, int]:
        try:
            if key is None:
                return node.lc.line + 1, node.lc.col + 1
            if isinstance(node, CommentedMap):
                line, col = node.lc.value(key) if key in node else (node.lc.line, node.lc.col)
                return line + 1, col + 1
            if isinstance(node, CommentedSeq):
                line, col = node.lc.item(key)
                return line + 1, col + 1
        except (AttributeError, KeyError, IndexError, TypeError):
            pass
        return 0, 0

    def keypos(self, node: Any, key: Any) -> tuple[int, int]:
        try:
            line, col = node.lc.key(key)
            return _Line(line + 1, self.origin_of(node, key)), col + 1
        except (AttributeError, KeyError, TypeError):
            return self.pos(node, key)

    def src(self, node: Any, key: Any) -> _Src:
        line, col = self.pos(node, key)
        origin = self.origin_of(node, key)
        return _Src(line, col, node[key] if node is not None else None, origin.lines, origin)

    # ---- the phases --------------------------------------------------------------------------
    def run(self) -> Optional[Pack]:
        try:
            data = self.path.read_bytes()
        except OSError as e:
            self.err(0, 0, _("cannot read rule file: {reason}").format(reason=e.strerror or e))
            return None
        self.sha256 = hashlib.sha256(data).hexdigest()
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError as e:
            self.err(0, 0, _("rule file is not UTF-8 text (byte {byte})").format(byte=e.start))
            return None
        # NFD files (as some Mac and web editors save them) mean the same names as NFC ones
        text = unicodedata.normalize("NFC", text)
        self.lines = text.splitlines()
        self.origin.lines = self.lines
        too_big = yaml_limits.check_text(text)
        if too_big is not None:
            self.err(too_big.line, too_big.col, too_big.message)
            return None
        yaml = YAML(typ="rt")
        yaml.preserve_quotes = True
        yaml.allow_duplicate_keys = False
        try:
            try:
                raw = fast_yaml.load(text)  # libyaml; the same tree as ruamel.yaml's, ~5x sooner
            except fast_yaml.Declined:  # anything irregular: ruamel.yaml reads it and words its errors
                raw = yaml.load(text)
        except MarkedYAMLError as e:
            mark = e.problem_mark or e.context_mark
            msg = " ".join(str(x) for x in (e.context, e.problem) if x)
            if "duplicate key" in msg:
                msg = _("duplicate id or key: {message}").format(message=msg)
            self.err(mark.line + 1 if mark else 0, mark.column + 1 if mark else 0, msg)
            return None
        except RecursionError:
            self.err(0, 0, _("collections nested too deep (the limit is {limit} levels)").format(
                limit=yaml_limits.MAX_NESTING))
            return None
        except Exception as e:  # any other YAML failure is still a rule-file problem
            self.err(0, 0, _("not valid YAML: {reason}").format(reason=e))
            return None
        too_big = yaml_limits.check_tree(raw)  # aliases written out: bounded before anything walks them
        if too_big is not None:
            self.err(too_big.line, too_big.col, too_big.message)
            return None
        if not isinstance(raw, CommentedMap):
            self.err(1, 1, _("a rule file must be a mapping with `pack`, `indicators`, `criteria`, `classes`"))
            return None
        self.raw = raw
        if isinstance(raw.get("pack"), CommentedMap) and "extends" in raw["pack"]:
            merged = variants.merge(self, raw)
            if merged is None:
                return None
            raw = self.raw = merged
        else:
            self._unknown_keys(schema.PackFile, raw)
        try:
            spec = schema.PackFile.model_validate(schema.plain(raw))
        except ValidationError as e:
            for d in e.errors():
                loc = d["loc"]
                line, col = self._locate(raw, loc)
                where = ".".join(str(x) for x in loc)
                self.err(line, col, f"{where}: {schema.message(d)}")
            return None
        return self._build(spec)

    def _locate(self, raw: Any, loc: tuple) -> tuple[int, int]:
        node, last = raw, (1, 1)
        for key in loc:
            if isinstance(node, CommentedMap) and key in node:
                last = self.pos(node, key)
                node = node[key]
            elif isinstance(node, CommentedSeq) and isinstance(key, int) and key < len(node):
                last = self.pos(node, key)
                node = node[key]
            else:
                break
        return last

    def _unknown_keys(self, model: type[BaseModel], raw: Any, severity: str = "warning") -> None:
        """Warn about keys the schema does not know (pre-commit style), recursively. Inside a
        variant's `overrides:` they are errors (an override that is ignored misleads)."""
        if not isinstance(raw, CommentedMap):
            return
        fields = {}
        for name, f in model.model_fields.items():
            fields[f.alias or name] = f
        for key in raw:
            if key not in fields:
                line, col = self.keypos(raw, key)
                if severity == "warning":
                    message = _("unknown key {key} is ignored{hint}")
                else:
                    message = _("unknown key {key} cannot be overridden{hint}")
                self.err(line, col, message.format(key=repr(key), hint=did_you_mean(str(key), fields)), severity)
                continue
            self._recurse_unknown(fields[key].annotation, raw[key], severity)

    def _recurse_unknown(self, ann: Any, value: Any, severity: str = "warning") -> None:
        origin = typing.get_origin(ann)
        args = typing.get_args(ann)
        if isinstance(ann, type) and issubclass(ann, BaseModel):
            self._unknown_keys(ann, value, severity)
        elif origin is dict and len(args) == 2 and isinstance(value, CommentedMap):
            for v in value.values():
                self._recurse_unknown(args[1], v, severity)
        elif origin is list and args and isinstance(value, CommentedSeq):
            for v in value:
                self._recurse_unknown(args[0], v, severity)
        elif origin is typing.Union:
            for a in args:
                if isinstance(a, type) and issubclass(a, BaseModel) and isinstance(value, CommentedMap):
                    self._unknown_keys(a, value, severity)

    # ---- building the pack ---------------------------------------------------------------------
    def _documents(self, meta: schema.PackMeta, raw: Any) -> tuple[dict[str, Role], dict[str, Document]]:
        """pack.roles and pack.documents; a document's signature naming no role is an error."""
        roles = {rid: Role(rid, r.title.strip(), r.level, r.note) for rid, r in meta.roles.items()}
        documents: dict[str, Document] = {}
        for name, doc in meta.documents.items():
            for i, rid in enumerate(doc.signatures):
                if rid not in roles:
                    where = raw["documents"][name]["signatures"]
                    self.err(*self.pos(where, i), _("documents.{name}: no role {role} in pack.roles{hint}").format(
                        name=name, role=repr(rid), hint=did_you_mean(rid, roles)))
            documents[name] = Document(doc.kind, tuple(roles[r] for r in doc.signatures if r in roles))
        return roles, documents

    def _build(self, spec: schema.PackFile) -> Optional[Pack]:
        raw = self.raw
        meta = spec.pack
        if versions.version_key(meta.engine_min) > versions.version_key(__version__):
            self.err(*self.pos(raw["pack"], "engine_min"),
                     _("this pack needs lanhmanh {needed} or newer (this is {this})").format(
                         needed=meta.engine_min, this=__version__))
        if meta.effective_to and meta.effective_to < meta.effective_from:
            self.err(*self.pos(raw["pack"], "effective_to"), _("effective_to is before effective_from"))
        for i, adv in enumerate(meta.advisories):
            if adv.to_year is not None and adv.to_year < adv.from_year:
                self.err(*self.pos(raw["pack"]["advisories"][i], "to_year"),
                         _("advisory to_year {to_year} is before its from_year {from_year}").format(
                             to_year=adv.to_year, from_year=adv.from_year))
        self.official = meta.status == "official"
        self.sources = {k: v.model_dump(exclude_none=True) for k, v in meta.sources.items()}
        self.tiers = list(spec.tiers)
        roles, documents = self._documents(meta, raw["pack"])
        if self.base is not None and not meta.roles and not meta.documents:  # a variant signs as its base
            roles, documents = self.base.roles, self.base.documents
        commune = self._level("commune", spec, raw)
        self._carry_over(spec.carry_over, raw.get("carry_over"), commune)
        province = None
        if spec.province is not None:
            province = self._province(spec.province, raw["province"], commune)
        if any(p.severity == "error" for p in self.problems):
            return None
        pack = Pack(
            id=meta.id, title=meta.title, version=meta.version, status=meta.status,
            effective_from=meta.effective_from, effective_to=meta.effective_to,
            engine_min=meta.engine_min, sources=self.sources, reading=meta.reading,
            path=self.name, sha256=self.sha256, commune=commune, province=province,
            tiers=self.tiers,
            groups={k: v.model_dump(exclude_none=True) for k, v in spec.groups.items()},
            cases=[],
            carry_over=dict(spec.carry_over),
            advisories=[Advisory(a.from_year, a.to_year, a.text.strip()) for a in meta.advisories],
            roles=roles, documents=documents,
        )
        if self.base is not None:
            b = self.base
            pack.extends = {"id": b.id, "version": b.version, "sha256": b.sha256, "path": b.path}
            pack.base = b
        self._cases(spec, pack)
        if any(p.severity == "error" for p in self.problems):
            return None
        return pack

    def _carry_over(self, spec: dict[str, str], raw: Any, commune: Level) -> None:
        """`carry_over: {this_year: last_year}`: two commune indicators, integers (counts: a merged
        unit's are summed)."""
        for target, source in spec.items():
            for name, (line, col) in ((target, self.keypos(raw, target)), (source, self.pos(raw, target))):
                ind = commune.indicators.get(name)
                if ind is None:
                    self.err(line, col, _("carry_over: unknown indicator {name}").format(name=repr(name))
                             + did_you_mean(name, commune.indicators))
                elif ind.type != "integer":
                    self.err(line, col, _("carry_over: {name} is a {type} indicator; only integer "
                                          "indicators (counts) are carried over").format(
                                              name=repr(name), type=ind.type))

    def _indicators(self, specs: dict, raw: Any) -> dict[str, Indicator]:
        out = {}
        for name, ind in specs.items():
            rawi = raw[name]
            if not _is_ident(name):
                self.err(*self.keypos(raw, name),
                         _("indicator id {name} must be letters, digits and _").format(name=repr(name)))
            lo = self._bound(ind.min, rawi, "min")
            hi = self._bound(ind.max, rawi, "max")
            if ind.type == "boolean" and (lo is not None or hi is not None):
                self.err(*self.keypos(raw, name),
                         _("boolean indicator {name} cannot have min/max").format(name=repr(name)))
            if lo is not None and hi is not None and lo > hi:
                self.err(*self.pos(rawi, "max"), _("max {max} is below min {min}").format(max=hi, min=lo))
            out[name] = Indicator(name, ind.label, ind.type, ind.unit, lo, hi, ind.decimals,
                                  ind.required, ind.description)
        return out

    def _bound(self, value: Any, rawi: Any, key: str) -> Optional[Decimal]:
        if value is None:
            return None
        try:
            number = Decimal(str(value))
        except InvalidOperation:
            self.err(*self.pos(rawi, key), _("{key} must be a number, not {value}").format(key=key, value=repr(value)))
            return None
        # the digits a number in a condition may have (engine/language/parser.py MAX_DIGITS)
        if not number.is_finite() or len(number.as_tuple().digits) > parser.MAX_DIGITS or \
                abs(number.adjusted()) > parser.MAX_DIGITS:
            self.err(*self.pos(rawi, key), _("{key} must be a finite number of at most {limit} digits, not {value}")
                     .format(key=key, limit=parser.MAX_DIGITS, value=str(value)[:40]))
            return None
        return number

    def _derived(self, specs: dict, raw: Any, indicators: dict[str, Indicator]) -> dict[str, Derived]:
        out = {}
        for name, d in specs.items():
            rawd = raw[name]
            src = self.src(rawd, "expr")
            node = self._parse(d.expr, src)
            if node is None:
                continue
            if not (isinstance(node, nodes.Arith) and node.op == "/"):
                self._at(src, d.expr, node.pos, _("a derived value must be NUM / DEN (sums of indicators)"))
                continue
            num = self._sum_terms(node.left, d.expr, src, indicators)
            den = self._sum_terms(node.right, d.expr, src, indicators)
            spec = d.zero_denominator
            shown = spec.shown if isinstance(spec, schema.ZeroDenominatorSpec) else None
            if isinstance(spec, schema.ZeroDenominatorSpec):
                zero = self._zero_policy(spec.value, rawd.get("zero_denominator"), "value")
                if zero == "reject":  # a rejected row is never shown
                    self.err(*self.pos(rawd["zero_denominator"], "value"),
                             _("zero_denominator: {{value: ..., shown: ...}} takes a number or unknown; "
                               "write `zero_denominator: reject` for rows to be rejected"))
                    zero = None
            else:
                zero = self._zero_policy(spec, rawd)
            if num is None or den is None or zero is None:
                continue
            out[name] = Derived(name, d.label, tuple(num), tuple(den), zero, nodes.to_text(node),
                                zero_shown=shown.strip() or None if shown else None)
        return out

    def _sum_terms(self, node: nodes.Node, text: str, src: _Src, indicators: dict) -> Optional[list[str]]:
        if isinstance(node, nodes.Name):
            ind = indicators.get(node.id)
            if ind is None:
                self._at(src, text, node.pos, _("unknown indicator {name}").format(name=repr(node.id))
                         + did_you_mean(node.id, indicators))
                return None
            if not ind.numeric:
                self._at(src, text, node.pos, _("{name} is a boolean; a rate needs numbers").format(name=repr(node.id)))
                return None
            if not ind.required:
                self._at(src, text, node.pos,
                         _("{name} is optional; a rate must read required indicators").format(name=repr(node.id)))
                return None
            if ind.min is None or ind.min < 0:
                self._at(src, text, node.pos,
                         _("{name} may be negative; a rate reads indicators with min >= 0").format(name=repr(node.id)))
                return None
            return [node.id]
        if isinstance(node, nodes.Arith) and node.op == "+":
            left = self._sum_terms(node.left, text, src, indicators)
            right = self._sum_terms(node.right, text, src, indicators)
            return left + right if left is not None and right is not None else None
        self._at(src, text, node.pos, _("a rate's numerator and denominator must be indicators joined by '+'"))
        return None

    def _zero_policy(self, value: Any, rawd: Any, key: str = "zero_denominator"):
        if isinstance(value, str) and value in ("reject", "unknown"):
            return value
        try:
            toks = parser.tokenize(str(value))
            if len(toks) == 2 and toks[0].kind == "num" and toks[0].value is not None:
                return Fraction(toks[0].value)
        except parser.ExprSyntaxError:
            pass
        self.err(*self.pos(rawd, key),
                 _("zero_denominator must be reject, unknown or a number such as 100%, not {value}").format(
                     value=repr(value)))
        return None

    def _parse(self, text: str, src: _Src) -> Optional[nodes.Node]:
        try:
            return parser.parse(str(text))
        except parser.ExprSyntaxError as e:
            shown = str(text) if len(str(text)) <= 120 else str(text)[:60] + " … " + str(text)[-40:]
            if str(text).count("(") > str(text).count(")"):
                message = _("syntax: {problem} in `{text}` (inside a YAML {{...}} mapping, quote an expression "
                            "that contains commas)")
            else:
                message = _("syntax: {problem} in `{text}`")
            self._at(src, str(text), e.offset, message.format(problem=e.message, text=shown))
            return None

    def _at(self, src: _Src, text: str, offset: int, msg: str, severity: str = "error") -> None:
        line, col = src.at(offset, str(text))
        self.err(line, col, msg, severity)

    def _condition(self, checker: Checker, text: str, src: _Src, owner: Optional[str], reads: dict[str, None],
                   in_class: bool = False, indicators_only: bool = False) -> Optional[nodes.Node]:
        """Parse and type-check a condition; None (with its problems reported) when it is wrong."""
        node = self._parse(text, src)
        if node is None:
            return None

        def report(offset: int, message: str, severity: str) -> None:
            self._at(src, text, offset, message, severity)

        ok = checker.check_condition(node, str(text), report, owner, reads, in_class=in_class,
                                     indicators_only=indicators_only)
        return node if ok else None

    def _cite(self, cite: Any, node: Any, where: tuple[int, int], what: tuple[str, str]) -> Optional[str]:
        """The citation of a rule, as text; `what` is (kind, id) of the rule: criterion, veto or class."""
        if cite is None:
            if self.official:
                line, col = where
                self.err(line, col, _(UNCITED[what[0]]).format(id=repr(what[1])))
            return None
        if isinstance(cite, str):
            return cite
        if cite.source and cite.source not in self.sources:
            self.err(*self.pos(node, "cite"),
                     _("cite names source {source}, which pack.sources does not list").format(
                         source=repr(cite.source)) + did_you_mean(cite.source, self.sources))
        parts = []
        if cite.source:
            doc = self.sources.get(cite.source, {}).get("document", cite.source)
            parts.append(str(doc))
        if cite.article is not None:
            parts.append(f"Điều {cite.article}")
        if cite.clause is not None:
            parts.append(f"khoản {cite.clause}")
        if cite.point is not None:
            parts.append(f"điểm {cite.point}")
        if cite.text:
            parts.append(cite.text)
        return ", ".join(parts)

    def _level(self, name: str, spec: schema.PackFile, raw: Any) -> Level:
        indicators = self._indicators(spec.indicators, raw["indicators"])
        derived = self._derived(spec.derived, raw.get("derived"), indicators) if spec.derived else {}
        level = Level(name, indicators, derived, {}, {}, [], tiers=self.tiers)
        checker = Checker(Vocabulary(indicators, derived))
        self._names_unique(level, spec.criteria, spec.vetoes, raw)
        level.criteria = self._criteria(spec.criteria, raw["criteria"], checker, spec.groups)
        level.vetoes = self._vetoes(spec.vetoes, raw.get("vetoes"), checker)
        checker.vocabulary.vetoes = level.vetoes  # from here on: classes may name them
        self._cycles(level, raw)
        checks = self._constraints(spec.constraints, raw.get("constraints"), checker, derived)
        level.constraints = [c for c in checks if c.severity == "error"]
        level.soft_constraints = [c for c in checks if c.severity == "warning"]
        level.classes = self._classes(spec.classes, raw["classes"], checker)
        self._ranking(spec.ranking, raw.get("ranking"), level)
        return level

    def _province(self, spec: schema.ProvinceSpec, raw: Any, commune: Level) -> Level:
        own = self._indicators(spec.indicators, raw.get("indicators", {})) if spec.indicators else {}
        summed = {k: v for k, v in commune.indicators.items() if v.numeric}
        for k in own:
            if k in commune.indicators:
                self.err(*self.keypos(raw["indicators"], k),
                         _("province indicator {name} clashes with the commune indicator of that name").format(
                             name=repr(k)))
        indicators = {**summed, **own}
        derived = self._derived(spec.derived, raw.get("derived"), indicators) if spec.derived else {}
        level = Level("province", indicators, derived, {}, {}, [], summed=tuple(summed))
        commune_booleans = [k for k, v in commune.indicators.items() if not v.numeric]
        checker = Checker(Vocabulary(indicators, derived, commune_booleans=commune_booleans,
                                     commune_classes=[c.id for c in commune.classes]))
        self._names_unique(level, spec.criteria, {}, raw)
        level.criteria = self._criteria(spec.criteria, raw["criteria"], checker, {})
        self._cycles(level, raw)
        level.classes = self._classes(spec.classes, raw["classes"], checker)
        level.shares = checker.shares
        return level

    def _names_unique(self, level: Level, criteria: dict, vetoes: dict, raw: Any) -> None:
        seen: dict[str, str] = {}  # id → the message of a later id that repeats it (what it names)
        for kind, names in ((N_("duplicate id {id}: already used by an indicator"), level.indicators),
                            (N_("duplicate id {id}: already used by a derived value"), level.derived)):
            for n in names:
                seen.setdefault(n, kind)
        for kind, names, sect in ((N_("duplicate id {id}: already used by a criterion"), criteria, "criteria"),
                                  (N_("duplicate id {id}: already used by a veto"), vetoes, "vetoes")):
            for n in names:
                if n in seen:
                    self.err(*self.keypos(raw[sect], n), _(seen[n]).format(id=repr(n)))
                elif n in SPECIALS or n in parser.KEYWORDS:
                    self.err(*self.keypos(raw[sect], n), _("{name} is a reserved word").format(name=repr(n)))
                else:
                    seen[n] = kind

    def _criteria(self, specs: dict, raw: Any, checker: Checker, groups: dict) -> dict[str, Criterion]:
        out: dict[str, Criterion] = {}
        checker.vocabulary.criteria = specs  # every criterion is known to every other one
        for cid, c in specs.items():
            rawc = raw[cid]
            if c.group is not None and c.group not in groups:
                self.err(*self.pos(rawc, "group"),
                         _("unknown group {group}").format(group=repr(c.group)) + did_you_mean(c.group, groups))
            if c.tier is not None and c.tier not in self.tiers:
                self.err(*self.pos(rawc, "tier"), _("unknown tier {tier}; pack.tiers lists {tiers}").format(
                    tier=repr(c.tier), tiers=self.tiers))
            bands: list[Band] = []
            if (c.when is None) == (c.bands is None):
                self.err(*self.keypos(raw, cid),
                         _("criterion {id} needs exactly one of `when` or `bands`").format(id=repr(cid)))
                continue
            if c.bands is not None and c.points is not None:
                self.err(*self.pos(rawc, "points"), _("`points` goes inside each band when `bands` is used"))
            reads: dict[str, None] = {}
            if c.when is not None:
                node = self._condition(checker, c.when, self.src(rawc, "when"), cid, reads)
                if node is not None:
                    bands.append(Band(node, c.points or 0, nodes.to_text(node)))
            else:
                if not c.bands:
                    self.err(*self.pos(rawc, "bands"), _("`bands` is empty"))
                for i, b in enumerate(c.bands):
                    node = self._condition(checker, b.when, self.src(rawc["bands"][i], "when"), cid, reads)
                    if node is not None:
                        bands.append(Band(node, b.points, nodes.to_text(node), b.label))
            cite = self._cite(c.cite, rawc, self.keypos(raw, cid), ("criterion", cid))
            form_title = " ".join(c.form_title.split()) if c.form_title is not None else None
            if form_title == "":
                self.err(*self.pos(rawc, "form_title"),
                         _("`form_title` of criterion {id} is blank").format(id=repr(cid)))
            elif form_title is not None and len(form_title) > FORM_TITLE_MAX:
                self.err(*self.pos(rawc, "form_title"),
                         _("`form_title` of criterion {id} has {n} characters; at most {limit} fit the "
                           "printed form (the full wording goes in `title`)").format(
                             id=repr(cid), n=len(form_title), limit=FORM_TITLE_MAX))
            out[cid] = Criterion(cid, c.title, bands, scored=c.points is not None or c.bands is not None,
                                 cite=cite, note=c.note, group=c.group, tier=c.tier, aspect=c.aspect,
                                 reads=tuple(reads), form_title=form_title)
        return out

    def _vetoes(self, specs: dict, raw: Any, checker: Checker) -> dict[str, Veto]:
        out = {}
        for vid, v in specs.items():
            reads: dict[str, None] = {}
            node = self._condition(checker, v.when, self.src(raw[vid], "when"), vid, reads)
            cite = self._cite(v.cite, raw[vid], self.keypos(raw, vid), ("veto", vid))
            if node is not None:
                out[vid] = Veto(vid, v.title, node, nodes.to_text(node), cite, v.note, tuple(reads))
        return out

    def _constraints(self, specs: list, raw: Any, checker: Checker, derived: dict[str, Derived]) -> list[Constraint]:
        """Cross-field rules (`severity: error`, the row is rejected) and plausibility checks
        (`severity: warning`, the row is scored and warned). A rule may read indicators and derived
        values; the column it names is its first indicator (a rate's: its numerator's first)."""
        out = []
        seen: set[str] = set()
        for i, c in enumerate(specs):
            if c.id in seen:
                self.err(*self.pos(raw[i], "id"), _("duplicate constraint id {id}").format(id=repr(c.id)))
            seen.add(c.id)
            node = self._condition(checker, c.rule, self.src(raw[i], "rule"), None, {}, indicators_only=True)
            if node is None:
                continue
            columns: list[str] = []
            for n in nodes.names_in(node):
                columns += list(derived[n.id].num + derived[n.id].den) if n.id in derived else [n.id]
            out.append(Constraint(c.id, node, nodes.to_text(node), c.message, columns[0] if columns else "",
                                  c.severity, c.note))
        return out

    def _cycles(self, level: Level, raw: Any) -> None:
        graph: dict[str, set[str]] = {cid: set() for cid in level.criteria}
        for cid, c in level.criteria.items():
            for b in c.bands:
                graph[cid] |= references(b.cond, level)
        state: dict[str, int] = {}

        def visit(n: str, stack: list[str]) -> None:
            state[n] = 1
            for m in sorted(graph.get(n, ())):
                if state.get(m) == 1:
                    cyc = stack[stack.index(m):] + [m] if m in stack else [n, m]
                    sect = raw["criteria"] if "criteria" in raw else raw
                    if m == n:
                        message = _("reference cycle: {cycle} (through or_higher(...): {id} has the same aspect "
                                    "and a more severe tier, so it is one of the criteria that or_higher reads)")
                    else:
                        message = _("reference cycle: {cycle}")
                    self.err(*self.keypos(sect, m), message.format(cycle=" → ".join(cyc), id=repr(m)))
                elif m not in state:
                    visit(m, stack + [m])
            state[n] = 2

        for n in graph:
            if n not in state:
                visit(n, [n])

    def _classes(self, specs: list, raw: Any, checker: Checker) -> list[ClassDef]:
        out: list[ClassDef] = []
        seen: dict[str, int] = {}
        texts: dict[str, tuple] = {}
        always: Optional[str] = None
        for i, c in enumerate(specs):
            rawc = raw[i]
            line, col = self.pos(raw, i)
            if c.id in seen or c.id in (UNCLASSIFIED, UNDETERMINED):
                self.err(line, col, (_("duplicate class id {id}") if c.id in seen else
                                     _("{id} is reserved (units that reach no class; provinces whose class "
                                       "depends on communes not scored)")).format(id=repr(c.id)))
            seen[c.id] = i
            if always is not None:
                self.err(line, col, _("class {id} can never be reached: class {earlier} before it "
                                      "catches every unit").format(id=repr(c.id), earlier=repr(always)))
            cite = self._cite(c.cite, rawc, (line, col), ("class", c.id))
            if c.residual:
                if c.when is not None:
                    self.err(*self.pos(rawc, "when"), _("a residual class takes no `when`"))
                always = c.id
                out.append(ClassDef(c.id, c.label, None, True, "(mọi đơn vị còn lại)", cite, c.note))
                continue
            if c.when is None:
                self.err(line, col, _("class {id} needs `when` (or `residual: true`)").format(id=repr(c.id)))
                continue
            node = self._condition(checker, c.when, self.src(rawc, "when"), None, {}, in_class=True)
            if node is None:
                continue
            text = nodes.to_text(node)
            if isinstance(node, nodes.Bool) and node.value:
                always = c.id
            mine = _conjuncts(node)
            for earlier, (eid, theirs) in texts.items():
                if theirs <= mine:  # every condition of the earlier class is among mine
                    if theirs == mine:
                        message = _("class {id} can never be reached: class {earlier} has the same condition "
                                    "and comes first")
                    else:
                        message = _("class {id} can never be reached: class {earlier} has a condition "
                                    "({condition}) that this one implies and comes first")
                    self.err(*self.pos(rawc, "when"), message.format(id=repr(c.id), earlier=repr(eid),
                                                                     condition=earlier))
                    break
            texts[text] = (c.id, mine)
            out.append(ClassDef(c.id, c.label, node, False, text, cite, c.note))
        if not out:
            self.err(*self.keypos(self.raw, "classes"), _("no classes"))
        self._also_report(specs, raw, out)
        return out

    def _also_report(self, specs: list, raw: Any, classes: list[ClassDef]) -> None:
        """`also_report: [class ids]`: classes after this one, each with a condition of its own (a
        residual class has none to test)."""
        order = [c.id for c in specs]
        by_id = {c.id: c for c in classes}
        for i, c in enumerate(specs):
            if not c.also_report or c.id not in by_id:
                continue
            where = self.pos(raw[i], "also_report")
            ok = True
            for other in c.also_report:
                if other not in order:
                    self.err(*where, _("class {id}: also_report names unknown class {other}").format(
                        id=repr(c.id), other=repr(other)) + did_you_mean(other, order))
                elif order.index(other) <= i:
                    self.err(*where, _("class {id}: also_report names {other}, which is not after it "
                                       "(a class tried earlier never holds for a unit of this class)").format(
                                           id=repr(c.id), other=repr(other)))
                elif other in by_id and by_id[other].residual:
                    self.err(*where, _("class {id}: also_report names the residual class {other}, "
                                       "which has no condition of its own to test").format(
                                           id=repr(c.id), other=repr(other)))
                else:
                    continue
                ok = False
            if ok:
                by_id[c.id].also_report = tuple(dict.fromkeys(c.also_report))

    def _ranking(self, spec: schema.RankingSpec, raw: Any, level: Level) -> None:
        ids = [c.id for c in level.classes]
        if spec.best_first is not None:
            if sorted(spec.best_first) != sorted(ids):
                missing = set(ids) - set(spec.best_first)
                extra = set(spec.best_first) - set(ids)
                self.err(*self.pos(raw, "best_first"),
                         _("ranking.best_first must list every class once (missing {missing}, "
                           "unknown {unknown})").format(missing=sorted(missing), unknown=sorted(extra)))
            level.best_first = list(spec.best_first)
        else:
            level.best_first = ids
        for i, k in enumerate(spec.then):
            if k.by not in level.derived and not (k.by in level.indicators and level.indicators[k.by].numeric):
                known = list(level.derived) + [n for n, v in level.indicators.items() if v.numeric]
                self.err(*self.pos(raw["then"], i), _("ranking key {key} is not a numeric indicator "
                                                      "or derived value").format(key=repr(k.by))
                         + did_you_mean(k.by, known))
                continue
            level.then.append(RankKey(k.by, k.order == "desc"))

    def _cases(self, spec: schema.PackFile, pack: Pack) -> None:
        raw_cases = self.raw.get("cases")
        names = set()
        for i, c in enumerate(spec.cases):
            line, _col = self.pos(raw_cases, i)
            case = repr(c.name)
            if c.name in names:
                self.err(line, 1, _("duplicate case name {case}").format(case=case))
            names.add(c.name)
            level = pack.commune if c.level == "commune" else pack.province
            if level is None:
                self.err(line, 1,
                         _("case {case} is at province level but the pack has no province level").format(case=case))
                continue
            exp = c.expect
            for cid in list(exp.met) + list(exp.not_met) + list(exp.points):
                if cid not in level.criteria:
                    self.err(line, 1, _("case {case} expects unknown criterion {id}").format(case=case, id=repr(cid))
                             + did_you_mean(cid, level.criteria))
            for vid in exp.vetoes or []:
                if vid not in level.vetoes:
                    self.err(line, 1, _("case {case} expects unknown veto {id}").format(case=case, id=repr(vid))
                             + did_you_mean(vid, level.vetoes))
            soft = [k.id for k in pack.commune.soft_constraints]
            for wid in exp.warnings or []:
                if wid not in soft:
                    self.err(line, 1, _("case {case} expects a warning from {id}, which is not a "
                                        "`severity: warning` constraint").format(case=case, id=repr(wid))
                             + did_you_mean(wid, soft))
            ids = [k.id for k in level.classes] + [UNCLASSIFIED] + ([UNDETERMINED] if c.level == "province" else [])
            if exp.class_ is not None and exp.class_ not in ids:
                self.err(line, 1, _("case {case} expects unknown class {id}").format(case=case, id=repr(exp.class_))
                         + did_you_mean(exp.class_, ids))
            if exp.also_meets is not None and exp.also_meets != "none" and exp.also_meets not in ids:
                self.err(line, 1, _("case {case} expects also_meets unknown class {id}").format(
                    case=case, id=repr(exp.also_meets)) + did_you_mean(exp.also_meets, ids))
            for cid in exp.undetermined:
                if c.level != "province" or cid not in level.criteria:
                    self.err(line, 1, _("case {case} expects undetermined {id}: only a province "
                                        "criterion can be undetermined").format(case=case, id=repr(cid)))
            if c.level == "commune":
                given = {**spec.case_defaults, **c.given}
                for k in given:
                    if k not in level.indicators:
                        self.err(line, 1, _("case {case} gives unknown indicator {name}").format(
                            case=case, name=repr(k)) + did_you_mean(k, level.indicators))
            else:
                given = c.given
                communes = given.get("communes", [])
                official = given.get("official_units")
                given = {"province": given.get("province", {}),
                         "communes": [{**spec.case_defaults, **x} for x in communes]}
                if official is not None:
                    if isinstance(official, bool) or not isinstance(official, int) or official < len(communes):
                        self.err(line, 1, _("case {case}: official_units must be a whole number at least "
                                            "the number of communes given ({n}), not {value}").format(
                                                case=case, n=len(communes), value=repr(official)))
                    else:
                        given["official_units"] = official
                for k in given["province"]:
                    if k not in level.indicators:
                        self.err(line, 1, _("case {case} gives unknown province indicator {name}").format(
                            case=case, name=repr(k)) + did_you_mean(k, level.indicators))
            pack.cases.append(Case(c.name, c.level, given, exp.model_dump(by_alias=True), int(line),
                                   getattr(line, "origin", self.origin).name))


def _conjuncts(node: nodes.Node) -> frozenset:
    """The parts of a condition joined by `and` (or `all(...)`), as canonical text."""
    if isinstance(node, nodes.BoolOp) and node.op == "and":
        return frozenset().union(*(_conjuncts(x) for x in node.items))
    if isinstance(node, nodes.Call) and node.fn == "all":
        return frozenset().union(*(_conjuncts(x) for x in node.args))
    return frozenset([nodes.to_text(node)])


def _is_ident(name: str) -> bool:
    return bool(name) and (name[0].isalpha() or name[0] == "_") and all(ch.isalnum() or ch == "_" for ch in name)
