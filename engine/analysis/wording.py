"""Thresholds in Vietnamese words, generated from the rule tree, for printed pages:
`user_rate >= 0.5%` → "Từ 0,5% trở lên", `harbouring_points >= 2` → "Có từ 2 điểm trở lên",
`at_least(2, or_higher(II.a), …) and on_key_route` → "Ít nhất 2 tiêu chí loại II trở lên và nằm
trên tuyến …". Indicators are named by their labels, classes by theirs, never by their ids;
numbers with a decimal comma and a thousands dot. The expression stays in the JSON."""
from __future__ import annotations

from decimal import Decimal
from fractions import Fraction
from typing import Optional

from lanhmanh.engine.evaluation.evidence import terminates
from lanhmanh.engine.language import nodes
from lanhmanh.engine.model.pack import Band, ClassDef, Criterion, Level, Pack, Veto

# (words with the subject named, words when the subject is clear from the row)
_LABELLED = {">=": "từ {n} trở lên", ">": "trên {n}", "<": "dưới {n}", "<=": "không quá {n}",
             "==": "bằng {n}", "!=": "khác {n}"}
_COUNT = {">=": "có từ {n} trở lên", ">": "có trên {n}", "<": "có dưới {n}", "<=": "có không quá {n}",
          "==": "có đúng {n}", "!=": "khác {n}"}
_MIRROR = {">=": "<=", "<=": ">=", ">": "<", "<": ">", "==": "==", "!=": "!="}
_RELATION = {">=": "không ít hơn", ">": "nhiều hơn", "<": "ít hơn", "<=": "không nhiều hơn",
             "==": "bằng", "!=": "khác"}
_ARITH = {"+": "cộng", "-": "trừ", "*": "nhân", "/": "chia cho"}


def number_text(value, decimals: Optional[int] = None) -> str:
    """1000000 → "1.000.000", 0.5 → "0,5" (a fraction that does not end: "1/3")."""
    if type(value) is int and decimals is None:  # the common case, without Decimal
        return ("-" if value < 0 else "") + f"{abs(value):,}".replace(",", ".")
    if isinstance(value, Fraction):
        if value.denominator != 1 and not terminates(value):
            return f"{number_text(value.numerator)}/{number_text(value.denominator)}"
        value = Decimal(value.numerator) / Decimal(value.denominator)
    number = Decimal(value)
    if decimals is not None:
        number = number.quantize(Decimal(1).scaleb(-decimals))
    whole, _, fraction = f"{abs(number):f}".partition(".")
    if decimals is None:
        fraction = fraction.rstrip("0")
    text = f"{int(whole):,}".replace(",", ".") + ("," + fraction if fraction else "")
    return ("-" if number < 0 else "") + text


def lower_first(text: str) -> str:
    """"Số người" → "số người" (an acronym such as "HIV" stays)."""
    if len(text) > 1 and text[0].isupper() and not text[1].isupper():
        return text[0].lower() + text[1:]
    return text


def upper_first(text: str) -> str:
    return text[:1].upper() + text[1:]


class Wording:
    """The words of every condition of one level of a pack."""

    def __init__(self, pack: Pack, level: Level):
        self.pack, self.level = pack, level

    # ---- what a name is ------------------------------------------------------------------------

    def label(self, name: str) -> str:
        """The Vietnamese label of an indicator, derived value, criterion, veto or class."""
        lv = self.level
        if name in lv.indicators:
            return lv.indicators[name].label
        if name in lv.derived:
            return lv.derived[name].label
        commune = self.pack.commune
        if name in commune.indicators:  # a province level sums the communes' indicators
            return commune.indicators[name].label
        if name in lv.vetoes:
            return lv.vetoes[name].title
        if name in lv.criteria:
            return f"tiêu chí {name}"
        if name == "total":
            return "Tổng điểm"
        if name == "vetoed":
            return "có điểm liệt"
        for c in lv.classes + commune.classes:
            if c.id == name:
                return c.label
        return name

    def _indicator(self, name: str):
        return self.level.indicators.get(name) or self.pack.commune.indicators.get(name)

    def unit(self, name: str) -> Optional[str]:
        """What a subject is counted in: the indicator's unit, '%' for a rate, None when unknown."""
        if name in self.level.derived:
            return "%"
        ind = self._indicator(name)
        return ind.unit if ind is not None and ind.numeric else None

    def is_count(self, name: str) -> bool:
        ind = self._indicator(name)
        return ind is not None and ind.type == "integer"

    def subjects(self, node: nodes.Node) -> list[str]:
        """The indicators, rates and `total` a condition compares, in order, each once."""
        out: list[str] = []
        for n in nodes.walk(node):
            if isinstance(n, nodes.Compare):
                for side in (n.left, n.right):
                    if isinstance(side, nodes.Name) and side.id not in out:
                        out.append(side.id)
            elif isinstance(n, nodes.Name) and self._indicator(n.id) is not None and \
                    not self._indicator(n.id).numeric and n.id not in out:
                out.append(n.id)
        return out

    def needs_labels(self, names: list[str]) -> bool:
        """True when the values of `names` cannot be told apart by their units alone."""
        if len(names) <= 1:
            return False
        units = [self.unit(n) for n in names]
        return None in units or len(set(units)) < len(units)

    # ---- conditions ----------------------------------------------------------------------------

    def condition(self, node: nodes.Node) -> str:
        """A condition in words, first letter capitalised ("Từ 0,5% trở lên")."""
        if isinstance(node, nodes.Name) and self._is_flag(node.id):
            return "Có"
        if isinstance(node, nodes.Not) and isinstance(node.operand, nodes.Name) and self._is_flag(node.operand.id):
            return "Không"
        named = self.needs_labels(self.subjects(node))
        return upper_first(self._words(node, named))

    def _is_flag(self, name: str) -> bool:
        ind = self._indicator(name)
        return ind is not None and not ind.numeric

    def _words(self, node: nodes.Node, named: bool) -> str:
        if isinstance(node, nodes.BoolOp):
            span = self._range(node, named)
            if span is not None:
                return span
            joiner = " và " if node.op == "and" else " hoặc "
            return joiner.join(self._part(item, named) for item in node.items)
        if isinstance(node, nodes.Not):
            return self._negate(node.operand, named)
        if isinstance(node, nodes.Compare):
            return self._compare(node, named)
        if isinstance(node, nodes.Call):
            return self._call(node, named)
        if isinstance(node, nodes.Name):
            return self._name(node.id)
        if isinstance(node, nodes.Bool):
            return "luôn đạt" if node.value else "không bao giờ đạt"
        return self._quantity(node)

    def _part(self, node: nodes.Node, named: bool) -> str:
        """An operand of and/or: a nested and/or in parentheses."""
        text = self._words(node, named)
        return f"({text})" if isinstance(node, nodes.BoolOp) and self._range(node, named) is None else text

    def _name(self, name: str) -> str:
        """A true/false name: a yes/no indicator by its label, a criterion as met, a veto as present."""
        if name in self.level.criteria:
            return f"đạt tiêu chí {name}"
        return lower_first(self.label(name))

    def _negate(self, node: nodes.Node, named: bool) -> str:
        if isinstance(node, nodes.Name):
            if node.id == "vetoed":
                return "không có điểm liệt"
            if node.id in self.level.criteria:
                return f"không đạt tiêu chí {node.id}"
            if node.id in self.level.vetoes:
                return f"không có điểm liệt «{lower_first(self.label(node.id))}»"
            return f"không {lower_first(self.label(node.id))}"
        return f"không phải ({self._words(node, named)})"

    def _subject(self, node: nodes.Node) -> str:
        """The thing compared, named in words."""
        if isinstance(node, nodes.Name):
            return lower_first(self.label(node.id))
        if isinstance(node, nodes.Call) and node.fn == "share":
            classes = " hoặc ".join(lower_first(self.label(a.id)) for a in node.args)
            return f"tỷ lệ đơn vị cấp xã là {classes}"
        return self._quantity(node)

    def _quantity(self, node: nodes.Node) -> str:
        if isinstance(node, nodes.Num):
            return self._number(node, None)
        if isinstance(node, nodes.Neg):
            return f"âm {self._quantity(node.operand)}"
        if isinstance(node, nodes.Arith):
            return f"{self._quantity(node.left)} {_ARITH[node.op]} {self._quantity(node.right)}"
        return self._subject(node)

    def _number(self, num: nodes.Num, subject: Optional[nodes.Node]) -> str:
        """A threshold number with its unit: "0,5%", "3.000 cây", "90"."""
        percent = num.text.endswith("%") or self._is_rate(subject)
        if percent:
            return number_text(num.value * 100) + "%"
        unit = self.unit(subject.id) if isinstance(subject, nodes.Name) else None
        return number_text(num.value) + (f" {unit}" if unit and unit != "%" else "")

    def _is_rate(self, subject: Optional[nodes.Node]) -> bool:
        if isinstance(subject, nodes.Call):
            return subject.fn == "share"
        return isinstance(subject, nodes.Name) and subject.id in self.level.derived

    def _compare(self, node: nodes.Compare, named: bool) -> str:
        op, left, right = node.op, node.left, node.right
        if isinstance(left, nodes.Num) and not isinstance(right, nodes.Num):  # 3 <= x: x >= 3
            op, left, right = _MIRROR[op], right, left
        if not isinstance(right, nodes.Num):  # two quantities: "x ít hơn y"
            return f"{self._subject(left)} {_RELATION[op]} {self._subject(right)}"
        n = self._number(right, left)
        name = left.id if isinstance(left, nodes.Name) else None
        always_named = name is None or name in ("total",)
        if named or always_named:
            if op == "==" and right.value == 0:
                return f"{self._subject(left)} bằng 0"
            return f"{self._subject(left)} {_LABELLED[op].format(n=n)}"
        if name is not None and self.is_count(name):
            if right.value == 0 and op == "==":
                return "không có"
            if right.value == 0 and op in (">", "!="):
                return "có từ " + number_text(1) + n[1:] + " trở lên"
            return _COUNT[op].format(n=n)
        if op == "==" and n.endswith("%"):
            return f"đạt {n}"
        return _LABELLED[op].format(n=n)

    def _range(self, node: nodes.BoolOp, named: bool) -> Optional[str]:
        """`x >= a and x < b` → "từ a đến dưới b"."""
        if node.op != "and" or len(node.items) != 2 or not all(isinstance(i, nodes.Compare) for i in node.items):
            return None
        low, high = node.items
        if low.op not in (">=", ">") or high.op not in ("<", "<=") or not all(
                isinstance(i.left, nodes.Name) and isinstance(i.right, nodes.Num) for i in node.items):
            return None
        if low.left.id != high.left.id:
            return None
        a, b = self._number(low.right, low.left), self._number(high.right, high.left)
        text = ("từ " if low.op == ">=" else "trên ") + a + (" đến dưới " if high.op == "<" else " đến ") + b
        if named:
            text = f"{self._subject(low.left)} {text}"
        return text

    def _call(self, node: nodes.Call, named: bool) -> str:
        fn, args = node.fn, node.args
        if fn == "given":
            return f"có số liệu {lower_first(self.label(args[0].id))}"
        if fn == "share":
            return self._subject(node)
        if fn == "or_higher":
            return self._or_higher(args[0].id)
        if fn in ("all", "any"):
            return self._criteria_set(fn, None, args, named)
        if fn == "at_least":
            return self._criteria_set(fn, args[0], args[1:], named)
        return f"{fn}({', '.join(self._words(a, named) for a in args)})"

    def _or_higher(self, cid: str) -> str:
        c = self.level.criteria.get(cid)
        tier = c.tier if c is not None else None
        return f"tiêu chí {cid} (loại {tier} trở lên)" if tier else f"đạt tiêu chí {cid}"

    def _listed(self, ids: list[str]) -> str:
        """Criteria ids, a run of three or more in the pack's order as "II.a–II.d"."""
        order = list(self.level.criteria)
        at = [order.index(i) if i in order else -1 for i in ids]
        if len(ids) >= 3 and -1 not in at and at == list(range(at[0], at[0] + len(ids))):
            return f"{ids[0]}–{ids[-1]}"
        return ", ".join(ids)

    def _criteria_set(self, fn: str, count: Optional[nodes.Node], items: tuple, named: bool) -> str:
        """all / any / at_least over criteria: "Ít nhất 2 tiêu chí loại II trở lên", "Đạt cả 3
        tiêu chí DF.1, DF.2, DF.3"."""
        ids = [i.id for i in items if isinstance(i, nodes.Name) and i.id in self.level.criteria]
        higher = [i.args[0].id for i in items if isinstance(i, nodes.Call) and i.fn == "or_higher"]
        plain = len(ids) == len(items)
        how_many = self._quantity(count) if count is not None else None
        if higher and len(higher) == len(items):
            tiers = {self.level.criteria[h].tier for h in higher if h in self.level.criteria}
            tier = tiers.pop() if len(tiers) == 1 else None
            what = f"tiêu chí loại {tier} trở lên" if tier else "tiêu chí"
            listed = self._listed(higher)
            if fn == "at_least":
                return f"ít nhất {how_many} {what} ({listed})"
            return ("đạt cả " if fn == "all" else "đạt ít nhất 1 trong ") + f"{len(higher)} {what} ({listed})"
        if plain:
            tiers = {self.level.criteria[i].tier for i in ids}
            tier = tiers.pop() if len(tiers) == 1 else None
            what = f"tiêu chí loại {tier}" if tier else "tiêu chí"
            listed = self._listed(ids)
            if fn == "at_least":
                return f"đạt ít nhất {how_many} trong {len(ids)} {what} ({listed})"
            if fn == "all":
                return f"đạt cả {len(ids)} {what} ({listed})"
            return f"đạt ít nhất 1 trong {len(ids)} {what} ({listed})"
        parts = "; ".join(self._words(i, named) for i in items)
        if fn == "at_least":
            return f"ít nhất {how_many} trong các điều kiện: {parts}"
        return ("tất cả các điều kiện: " if fn == "all" else "ít nhất 1 trong các điều kiện: ") + parts

    # ---- the pack's rules ----------------------------------------------------------------------

    def band(self, band: Band) -> str:
        """A band in words: the pack's own label when it gives one, else the generated words."""
        return band.label or self.condition(band.cond)

    def criterion(self, c: Criterion, points: bool = True) -> str:
        """A criterion's threshold in words; a criterion with several bands lists them with their
        points ("Từ 12 buổi trở lên: 8 điểm; Từ 6 đến 11 buổi: 4 điểm")."""
        if len(c.bands) == 1:  # its points, if any, are printed beside it
            return self.band(c.bands[0])
        if not c.scored or not points:
            return "; ".join(self.band(b) for b in c.bands)
        return "; ".join(f"{self.band(b)}: {number_text(b.points)} điểm" for b in c.bands)

    def class_(self, cls: ClassDef) -> str:
        if cls.cond is None:
            return "Các đơn vị còn lại"
        return self.condition(cls.cond)

    def veto(self, v: Veto) -> str:
        return self.condition(v.cond)

