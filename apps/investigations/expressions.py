"""A safe, small expression language for checklist validation, red-flag and cross-check rules.

Rules are policy data typed by administrators (domain reference §3.2, §8.3), so they are never
handed to `eval`/`exec`. We parse with Python's own `ast` module in "eval" mode and then walk a
strict whitelist of node types with our own interpreter. Why `ast` rather than a hand-written
Pratt parser: the grammar we want (precedence of arithmetic, comparisons, chained comparisons,
and/or/not, `in [...]`, calls, literals) *is* Python's expression grammar, `ast` gives exact
positions for error messages, and a parser we do not write is a parser we do not get wrong.
Parsing alone executes nothing; the risk is only in what the walker accepts, and it accepts:

    literals     123  0.70  1_000  "text"  true false null   (True/False/None also accepted)
    answers      D7            bare identifier = the answer of item D7
                 D1.amount     column `amount` of table item D1, as a list (for sum/count/max)
                 D1.cash.amount   cell: column `amount` of the row whose code is `cash`
                 answer("D7")  the same as D7, for tooling that builds rules as text
    policy       policy("xcheck.sales.r2_deviation")   a threshold from policy data, never a
                 literal in code (§0.2); resolved by the caller's resolver, recorded per use
    evidence     evidence("bank.inflows_12m")   a figure parsed from the application's
                 documents (`apps.investigations.evidence.FIGURE_KEYS`; unknown keys are refused
                 when the rule is saved); null when no document gives it, recorded per use
    operators    + - * /   < <= > >= == !=   in / not in [..]   and or not   a if cond else b
    functions    the fixed registry in `FUNCTIONS` below; nothing else is callable

Everything else is refused with a position: attribute access on anything but an item code,
subscripts, lambdas, comprehensions, f-strings, `**` (no exponents, so no 10**10**10), `//`, `%`,
bit operators, keyword arguments, starred arguments, walrus, dunder names, and calls of any name
outside the registry. Text is limited to `MAX_LENGTH` characters, the tree to `MAX_DEPTH` levels
and `MAX_NODES` nodes, list literals to `MAX_LIST_ITEMS` (DoS: a rule is evaluated for every
investigation, and the parser itself recurses).

Numbers are `Decimal`, never float: a literal's source text is turned into a Decimal, and answers
are converted on the way in (floats are refused rather than silently rounded).

Null (a missing answer) is *unknown*, with three-valued logic, so missing data never makes a
rule fire by accident and never crashes it:
  - arithmetic, ordering comparisons (< <= > >=) and `in` with a null operand give null;
  - `x == null` / `x != null` are ordinary tests (True/False), so a rule may ask for absence;
  - `and`/`or`/`not` are Kleene logic: `null and false` is false, `null or true` is true,
    `not null` is null; division by zero gives null (as `ratio` does);
  - a rule "fires" only when its result is exactly True (`Evaluation.fired`); null is reported
    as "could not be evaluated" by callers, not as a pass.
"""

from __future__ import annotations

import ast
import datetime as dt
import keyword
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation, localcontext
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from apps.investigations.evidence import FIGURE_KEYS

MAX_LENGTH = 2000
MAX_DEPTH = 64   # a left-nested sum of n terms is n deep: 60 balance-sheet lines fit
MAX_NODES = 400
MAX_LIST_ITEMS = 100

# Static types. ANY is an answer whose type we cannot know (documents, derived values, policy
# lookups of unknown keys): checks at evaluation time cover it.
NUM, STR, BOOL, DATE, LIST, NULL, ANY = "number", "text", "boolean", "date", "list", "null", "any"

RESERVED_NAMES = {"true": True, "false": False, "null": None}

# The static types in an author's language (the English words are the codes themselves).
TYPE_LABELS = {NUM: gettext_lazy("number"), STR: gettext_lazy("text"),
               BOOL: gettext_lazy("boolean"), DATE: gettext_lazy("date"),
               LIST: gettext_lazy("list"), NULL: gettext_lazy("null"), ANY: gettext_lazy("any")}


def type_label(kind: str) -> str:
    return str(TYPE_LABELS.get(kind, kind))


class RuleError(ValueError):
    """A rule that cannot be accepted (syntax, unknown name, type) or evaluated.

    `position` is the 0-based character offset in the rule text (None when not known), so an
    editor can point at it; `str()` gives a message a template author can act on.
    """

    def __init__(self, message: str, position: int | None = None, text: str = ""):
        self.message, self.position, self.text = message, position, text
        super().__init__(message if position is None else _(
            "%(message)s (at character %(position)s)") % {"message": message,
                                                          "position": position + 1})


class RuleEvaluationError(RuleError):
    """The rule compiled, but the data it met does not fit (e.g. text where a number belongs,
    a policy key with no value in force)."""


# ---------------------------------------------------------------------------------------------
# Evaluation context and result


@dataclass
class EvalContext:
    """What a rule may read: answers by item code, and policy values through a resolver.

    `answers` maps item code → value (Decimal/int/str/bool/date/None, list for multiple choice,
    list of row dicts for tables). `policy` maps a key to its value in force (None = no value).
    """

    answers: Mapping[str, Any]
    policy: Callable[[str], Any] = lambda key: None
    evidence: Callable[[str], Any] = lambda key: None
    # A dict to keep each table's (list's, dict's) converted value in, for a context that
    # several rules read in turn (`rules.derived_values`): a table read by CODE.row.column was
    # converted whole on every read, ~250 conversions a score. Reused only while the answer
    # is the same object; evaluations then share the converted value (never mutated).
    memo: dict | None = None


@dataclass
class Evaluation:
    """The value of a rule and what it was computed from, for explanations and the audit trail
    (§8.3: "evaluating a rule records the policy version and the input values that fired it")."""

    value: Any
    inputs: dict[str, Any] = field(default_factory=dict)
    policies: dict[str, Any] = field(default_factory=dict)
    steps: list[str] = field(default_factory=list)

    @property
    def fired(self) -> bool:
        return self.value is True

    @property
    def unknown(self) -> bool:
        return self.value is None

    def explain(self) -> str:
        """e.g. "ratio(D7_LIABILITIES, D7_ASSETS) = 0.82 > policy("leverage.r2_max") = 0.70"."""
        return "; ".join(self.steps)


def format_value(value: Any) -> str:
    if value is None:
        return "null"
    if value is True or value is False:
        return "true" if value else "false"
    if isinstance(value, Decimal):
        # Fixed notation, at most 4 places, trailing zeros trimmed to 2: a policy stored as
        # 0.700000 reads "0.70", a ratio 0.93333… reads "0.9333", money stays whole.
        if value.as_tuple().exponent < -4:
            value = value.quantize(Decimal("0.0001"))
        text = format(value, "f")
        if "." in text:
            whole, fraction = text.split(".")
            text = f"{whole}.{fraction.rstrip('0').ljust(2, '0')}"
        return text
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, list):
        return "[" + ", ".join(format_value(v) for v in value) + "]"
    return repr(value) if isinstance(value, str) else str(value)


# ---------------------------------------------------------------------------------------------
# Value conversion


# What an evaluation error names: an item code or a function stays as written (it is what the
# rule says); the few words the interpreter itself uses are translated.
_WHAT_WORDS = {"": gettext_lazy("value"), "comparison": gettext_lazy("comparison"),
               "sign": gettext_lazy("sign")}


def _what(what: str) -> str:
    return str(_WHAT_WORDS.get(what, what))


def to_value(raw: Any, *, where: str = "") -> Any:
    """Normalise an answer into the language's value domain. Floats are refused, not rounded:
    money arrives as Decimal or as text from JSON."""
    if raw is None or isinstance(raw, (bool, str, Decimal)):
        return raw
    if isinstance(raw, int):
        return Decimal(raw)
    if isinstance(raw, float):
        raise RuleEvaluationError(_("%(what)s is a float; send numbers as text or Decimal so "
                                    "no precision is lost") % {"what": _what(where)})
    if isinstance(raw, dt.datetime):
        return raw.date()
    if isinstance(raw, dt.date):
        return raw
    if isinstance(raw, (list, tuple)):
        return [to_value(v, where=where) for v in raw]
    if isinstance(raw, dict):
        return {k: to_value(v, where=where) for k, v in raw.items()}
    raise RuleEvaluationError(_("%(what)s has an unsupported type %(type)s")
                              % {"what": _what(where), "type": type(raw).__name__})


def evidence_number(raw: Any) -> Any:
    """Parsed figures should be Decimals; a float from a parser is taken at its printed value
    (it is a measurement, not money typed by an officer)."""
    return Decimal(str(raw)) if isinstance(raw, float) else raw


def as_number(value: Any, what: str) -> Decimal | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, Decimal):
        # Text that holds a number (a form field) is accepted; anything else is a data error.
        if isinstance(value, str):
            try:
                return Decimal(value.strip())
            except InvalidOperation:
                pass
        raise RuleEvaluationError(_("%(what)s needs a number, got %(value)s")
                                  % {"what": _what(what), "value": format_value(value)})
    return value


def _as_date(value: Any, what: str) -> dt.date | None:
    if value is None:
        return None
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            pass
    raise RuleEvaluationError(_("%(what)s needs a date, got %(value)s")
                              % {"what": _what(what), "value": format_value(value)})


def _as_list(value: Any, what: str) -> list | None:
    if value is None:
        return None
    if not isinstance(value, list):
        raise RuleEvaluationError(_("%(what)s needs a list (a table column), got %(value)s")
                                  % {"what": _what(what), "value": format_value(value)})
    return value


# ---------------------------------------------------------------------------------------------
# Function registry: name → (static argument spec, implementation)


def _numbers(args: Iterable[Any], what: str) -> list[Decimal | None]:
    return [as_number(a, what) for a in args]


def _flatten(args: tuple) -> list:
    """min/max/sum/count accept either several values or one list (a table column)."""
    if len(args) == 1 and isinstance(args[0], list):
        return list(args[0])
    return list(args)


def fn_abs(x):
    x = as_number(x, "abs()")
    return None if x is None else abs(x)


def fn_min(*args):
    values = _numbers(_flatten(args), "min()")
    return None if not values or None in values else min(values)


def fn_max(*args):
    values = _numbers(_flatten(args), "max()")
    return None if not values or None in values else max(values)


def fn_sum(*args):
    """A missing cell makes the total unknown: a partly filled table must not look small."""
    values = _numbers(_flatten(args), "sum()")
    return None if None in values else sum(values, Decimal(0))


def fn_count(*args):
    """How many values are present (not null): answered rows of a column, or given values."""
    return Decimal(sum(1 for v in _flatten(args) if v is not None))


def fn_len(x):
    if x is None:
        return None
    if isinstance(x, (str, list)):
        return Decimal(len(x.strip() if isinstance(x, str) else x))
    raise RuleEvaluationError(_("len() needs text or a list, got %(value)s")
                              % {"value": format_value(x)})


def fn_ratio(a, b):
    """Safe division: null when either side is missing or the denominator is zero."""
    a, b = as_number(a, "ratio()"), as_number(b, "ratio()")
    if a is None or b is None or b == 0:
        return None
    return a / b


def fn_deviation(a, b):
    """|a − b| / max(a, b): the relative gap between two sources of the same figure (§3.3 D4).
    Both zero → 0 (they agree); a max of zero or below → null (no meaningful base)."""
    a, b = as_number(a, "deviation()"), as_number(b, "deviation()")
    if a is None or b is None:
        return None
    if a == b:
        return Decimal(0)
    base = max(a, b)
    return None if base <= 0 else abs(a - b) / base


def fn_max_pairwise_deviation(*args):
    """The largest `deviation` between any two *available* sources (§3.3 D4: "any two sources
    deviate > 30%"). Sources that are null are skipped — a trader has customs data, a shop has
    none — and fewer than two available sources give null (nothing to compare)."""
    values = [v for v in _numbers(_flatten(args), "max_pairwise_deviation()") if v is not None]
    if len(values) < 2:
        return None
    gaps = [fn_deviation(a, b) for i, a in enumerate(values) for b in values[i + 1:]]
    known = [g for g in gaps if g is not None]
    return max(known) if known else None


def fn_days_between(a, b):
    """Calendar days from a to b (§0.3: days are calendar days unless stated)."""
    a, b = _as_date(a, "days_between()"), _as_date(b, "days_between()")
    return None if a is None or b is None else Decimal((b - a).days)


def fn_coalesce(*args):
    return next((a for a in args if a is not None), None)


@dataclass(frozen=True)
class Function:
    impl: Callable
    min_args: int
    max_args: int | None          # None = any number
    arg_type: str                 # expected type of every argument (ANY = no static check)
    returns: str
    list_ok: bool = False         # a single list (table column) may stand for the arguments


FUNCTIONS: dict[str, Function] = {
    "abs": Function(fn_abs, 1, 1, NUM, NUM),
    "min": Function(fn_min, 1, None, NUM, NUM, list_ok=True),
    "max": Function(fn_max, 1, None, NUM, NUM, list_ok=True),
    "sum": Function(fn_sum, 1, None, NUM, NUM, list_ok=True),
    "count": Function(fn_count, 1, None, ANY, NUM, list_ok=True),
    "len": Function(fn_len, 1, 1, ANY, NUM),
    "ratio": Function(fn_ratio, 2, 2, NUM, NUM),
    "deviation": Function(fn_deviation, 2, 2, NUM, NUM),
    "max_pairwise_deviation": Function(fn_max_pairwise_deviation, 1, None, NUM, NUM,
                                       list_ok=True),
    "days_between": Function(fn_days_between, 2, 2, DATE, NUM),
    "coalesce": Function(fn_coalesce, 1, None, ANY, ANY),
    # Special forms, handled by the compiler and interpreter themselves (their argument is a
    # literal name, not a value).
    "is_answered": Function(lambda v: v is not None, 1, 1, STR, BOOL),
    "answer": Function(lambda v: v, 1, 1, STR, ANY),
    "policy": Function(lambda v: v, 1, 1, STR, ANY),
    "evidence": Function(lambda v: v, 1, 1, STR, ANY),
}
_SPECIAL_FORMS = {"is_answered", "answer", "policy", "evidence"}


# ---------------------------------------------------------------------------------------------
# Item schema: what the compiler needs to know about the template's items


@dataclass(frozen=True)
class ItemSpec:
    """An item as the compiler sees it: its value type, and for tables the column and row
    codes that `CODE.column` / `CODE.row.column` may name."""

    type: str = ANY
    columns: frozenset[str] = frozenset()
    rows: frozenset[str] = frozenset()
    is_table: bool = False


def is_valid_code(code: str) -> bool:
    """Item codes must be usable as bare names: identifiers, no dunders, not a keyword or a
    reserved word or function name."""
    return (isinstance(code, str) and code.isidentifier() and not code.startswith("_")
            and not keyword.iskeyword(code) and code not in RESERVED_NAMES
            and code not in FUNCTIONS and code not in {"True", "False", "None"})


# ---------------------------------------------------------------------------------------------
# Compiler: parse, walk the whitelist, infer types


_BINOPS = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/"}
_CMPOPS = {ast.Lt: "<", ast.LtE: "<=", ast.Gt: ">", ast.GtE: ">=", ast.Eq: "==",
           ast.NotEq: "!=", ast.In: "in", ast.NotIn: "not in"}
# Said by the compiler and by the parser.
_NESTED = gettext_lazy("the rule is nested too deeply (more than %(count)s levels)")
_COMPREHENSIONS = gettext_lazy("comprehensions are not allowed")
_YIELD = gettext_lazy("yield is not allowed")
_REFUSED = {
    ast.Subscript: gettext_lazy("subscripts ([...] after a value) are not allowed; use "
                                "CODE.column"),
    ast.Lambda: gettext_lazy("lambdas are not allowed"),
    ast.ListComp: _COMPREHENSIONS, ast.SetComp: _COMPREHENSIONS, ast.DictComp: _COMPREHENSIONS,
    ast.GeneratorExp: _COMPREHENSIONS,
    ast.JoinedStr: gettext_lazy("f-strings are not allowed"),
    ast.NamedExpr: gettext_lazy("assignment (:=) is not allowed"),
    ast.Dict: gettext_lazy("dictionaries are not allowed"),
    ast.Set: gettext_lazy("sets are not allowed; use [..]"),
    ast.Tuple: gettext_lazy("tuples are not allowed; use [..]"),
    ast.Starred: gettext_lazy("starred arguments are not allowed"),
    ast.Await: gettext_lazy("await is not allowed"), ast.Yield: _YIELD, ast.YieldFrom: _YIELD,
}


def _offset(text: str, node: ast.AST) -> int | None:
    """`ast` positions are (line, UTF-8 byte column); editors want a character offset, and
    rules often hold Chinese text, so convert."""
    lineno, col = getattr(node, "lineno", None), getattr(node, "col_offset", None)
    if lineno is None or col is None:
        return None
    lines = text.splitlines(keepends=True)
    before = sum(len(line) for line in lines[:lineno - 1])
    line = lines[lineno - 1] if lineno - 1 < len(lines) else ""
    return before + len(line.encode("utf-8")[:col].decode("utf-8", errors="ignore"))


class _Compiler:
    def __init__(self, text: str, items: Mapping[str, ItemSpec] | None,
                 policy_keys: Iterable[str] | None):
        self.text, self.items = text, items
        self.policy_keys = set(policy_keys) if policy_keys is not None else None
        self.nodes = 0
        self.references: set[str] = set()
        self.policy_refs: set[str] = set()
        self.evidence_refs: set[str] = set()

    def fail(self, message: str, node: ast.AST | None = None) -> RuleError:
        return RuleError(message, _offset(self.text, node) if node is not None else None,
                         self.text)

    def literal_name(self, node: ast.Call, what: str) -> str:
        if len(node.args) != 1 or not (isinstance(node.args[0], ast.Constant)
                                       and isinstance(node.args[0].value, str)):
            raise self.fail(_('%(function)s() takes one quoted name, e.g. %(function)s("X1")')
                            % {"function": what}, node)
        return node.args[0].value

    def item(self, code: str, node: ast.AST) -> ItemSpec:
        if code.startswith("__") or code.startswith("_"):
            raise self.fail(_("names starting with '_' are not allowed: %(name)s")
                            % {"name": code}, node)
        self.references.add(code)
        if self.items is None:
            return ItemSpec()
        if code not in self.items:
            raise self.fail(_("unknown item code %(code)s") % {"code": repr(code)}, node)
        return self.items[code]

    def visit(self, node: ast.AST, depth: int) -> str:
        """Check one node and return its static type."""
        self.nodes += 1
        if self.nodes > MAX_NODES:
            raise self.fail(_("rule is too complex (more than %(count)s parts)")
                            % {"count": MAX_NODES}, node)
        if depth > MAX_DEPTH:
            raise self.fail(_NESTED % {"count": MAX_DEPTH}, node)
        if type(node) in _REFUSED:
            raise self.fail(str(_REFUSED[type(node)]), node)
        method = getattr(self, f"visit_{type(node).__name__}", None)
        if method is None:
            raise self.fail(_("%(construct)s is not allowed in a rule")
                            % {"construct": type(node).__name__}, node)
        return method(node, depth + 1)

    def visit_Constant(self, node, depth):
        value = node.value
        if isinstance(value, bool):
            return BOOL
        if value is None:
            return NULL
        if isinstance(value, str):
            return STR
        if isinstance(value, (int, float)):
            node.decimal = self.decimal_literal(node)
            return NUM
        raise self.fail(_("%(type)s literals are not allowed")
                        % {"type": type(value).__name__}, node)

    def decimal_literal(self, node) -> Decimal:
        # The float Python made is discarded: the source text is the exact decimal.
        source = ast.get_source_segment(self.text, node) or ""
        source = source.replace("_", "")
        if any(ch in source for ch in "eEjJxXoObB"):
            raise self.fail(_("write numbers in plain decimal notation (no exponents, hex "
                              "or complex)"), node)
        try:
            return Decimal(source)
        except InvalidOperation as exc:
            raise self.fail(_("not a number: %(text)s") % {"text": source}, node) from exc

    def visit_Name(self, node, depth):
        if node.id in RESERVED_NAMES:
            node.reserved = True
            return NULL if node.id == "null" else BOOL
        if node.id in FUNCTIONS:
            raise self.fail(_("%(name)s is a function; call it as %(name)s(...)")
                            % {"name": node.id}, node)
        return self.item(node.id, node).type

    def visit_Attribute(self, node, depth):
        # Only CODE.column or CODE.row.column: a name chain rooted at a table item.
        chain, current = [node.attr], node.value
        while isinstance(current, ast.Attribute):
            chain.insert(0, current.attr)
            current = current.value
        if not isinstance(current, ast.Name) or len(chain) > 2:
            raise self.fail(_("attribute access is only allowed as CODE.column or "
                              "CODE.row.column"), node)
        if any(part.startswith("_") for part in [current.id, *chain]):
            raise self.fail(_("names starting with '_' are not allowed"), node)
        spec = self.item(current.id, current)
        node.path = (current.id, *chain)
        if self.items is None:
            return LIST if len(chain) == 1 else ANY
        if not spec.is_table:
            raise self.fail(_("%(code)s is not a table; only table items have columns")
                            % {"code": current.id}, node)
        column = chain[-1]
        if column not in spec.columns:
            raise self.fail(_("table %(code)s has no column %(column)s")
                            % {"code": current.id, "column": repr(column)}, node)
        if len(chain) == 2 and chain[0] not in spec.rows:
            raise self.fail(_("table %(code)s has no row %(row)s")
                            % {"code": current.id, "row": repr(chain[0])}, node)
        return LIST if len(chain) == 1 else ANY

    def visit_BinOp(self, node, depth):
        if type(node.op) not in _BINOPS:
            symbol = {ast.Pow: "**", ast.FloorDiv: "//", ast.Mod: "%"}.get(type(node.op))
            raise self.fail(_("operator %(operator)s is not allowed (only + - * /)")
                            % {"operator": symbol or type(node.op).__name__}, node)
        for side in (node.left, node.right):
            kind = self.visit(side, depth)
            if kind not in (NUM, ANY, NULL):
                raise self.fail(_("arithmetic needs numbers, got %(type)s")
                                % {"type": type_label(kind)}, side)
        return NUM

    def visit_UnaryOp(self, node, depth):
        kind = self.visit(node.operand, depth)
        if isinstance(node.op, ast.Not):
            return BOOL
        if isinstance(node.op, (ast.USub, ast.UAdd)):
            if kind not in (NUM, ANY, NULL):
                raise self.fail(_("sign needs a number, got %(type)s")
                                % {"type": type_label(kind)}, node.operand)
            return NUM
        raise self.fail(_("operator ~ is not allowed"), node)

    def visit_BoolOp(self, node, depth):
        for value in node.values:
            self.visit(value, depth)
        return BOOL

    def visit_IfExp(self, node, depth):
        self.visit(node.test, depth)
        kinds = {self.visit(node.body, depth), self.visit(node.orelse, depth)} - {NULL}
        return kinds.pop() if len(kinds) == 1 else ANY

    def visit_Compare(self, node, depth):
        kinds = [self.visit(node.left, depth)]
        for op, right in zip(node.ops, node.comparators, strict=True):
            if type(op) not in _CMPOPS:
                raise self.fail(_("'is' comparisons are not allowed; use == null"), node)
            kinds.append(self.visit(right, depth))
            left_kind, right_kind = kinds[-2], kinds[-1]
            if isinstance(op, (ast.In, ast.NotIn)):
                if right_kind not in (LIST, ANY, NULL):
                    raise self.fail(_("'in' needs a list on its right, got %(type)s")
                                    % {"type": type_label(right_kind)}, right)
            elif isinstance(op, (ast.Lt, ast.LtE, ast.Gt, ast.GtE)):
                known = {left_kind, right_kind} - {ANY, NULL}
                if len(known) > 1 or known & {BOOL, LIST}:
                    raise self.fail(_("cannot order %(left)s against %(right)s")
                                    % {"left": type_label(left_kind),
                                       "right": type_label(right_kind)}, node)
            else:
                known = {left_kind, right_kind} - {ANY, NULL}
                if len(known) > 1:
                    raise self.fail(_("comparing %(left)s with %(right)s is always false")
                                    % {"left": type_label(left_kind),
                                       "right": type_label(right_kind)}, node)
        return BOOL

    def visit_List(self, node, depth):
        if len(node.elts) > MAX_LIST_ITEMS:
            raise self.fail(_("lists hold at most %(count)s items")
                            % {"count": MAX_LIST_ITEMS}, node)
        for element in node.elts:
            self.visit(element, depth)
        return LIST

    def visit_Call(self, node, depth):
        if not isinstance(node.func, ast.Name):
            raise self.fail(_("only the built-in functions may be called, by name"), node)
        name = node.func.id
        if name.startswith("_"):
            raise self.fail(_("names starting with '_' are not allowed: %(name)s")
                            % {"name": name}, node)
        if name not in FUNCTIONS:
            known = ", ".join(sorted(FUNCTIONS))
            raise self.fail(_("unknown function %(name)s(); available: %(known)s")
                            % {"name": name, "known": known}, node)
        if node.keywords:
            raise self.fail(_("%(name)s() takes no keyword arguments") % {"name": name},
                            node)
        function = FUNCTIONS[name]
        if name in ("answer", "is_answered"):
            kind = self.item(self.literal_name(node, name), node).type
            return BOOL if name == "is_answered" else kind
        if name == "policy":
            key = self.literal_name(node, name)
            if self.policy_keys is not None and key not in self.policy_keys:
                raise self.fail(_("unknown policy key %(key)s") % {"key": repr(key)}, node)
            self.policy_refs.add(key)
            return NUM
        if name == "evidence":
            key = self.literal_name(node, name)
            if key not in FIGURE_KEYS:
                raise self.fail(_("unknown evidence figure %(key)s; available: %(known)s")
                                % {"key": repr(key), "known": ", ".join(sorted(FIGURE_KEYS))},
                                node)
            self.evidence_refs.add(key)
            return NUM
        count = len(node.args)
        if count < function.min_args or (function.max_args is not None
                                         and count > function.max_args):
            if function.min_args == function.max_args:
                message = _("%(name)s() takes %(expected)s argument(s), got %(count)s")
            else:
                message = _("%(name)s() takes at least %(expected)s argument(s), got %(count)s")
            raise self.fail(message % {"name": name, "expected": function.min_args,
                                       "count": count}, node)
        kinds = [self.visit(arg, depth) for arg in node.args]
        if function.list_ok and count == 1 and kinds[0] == LIST:
            return function.returns
        for arg, kind in zip(node.args, kinds, strict=True):
            if function.arg_type != ANY and kind not in (function.arg_type, ANY, NULL):
                if function.arg_type == DATE and kind == STR:
                    continue  # an ISO date typed as text is checked at evaluation
                raise self.fail(_("%(name)s() needs %(expected)s arguments, got %(type)s")
                                % {"name": name, "expected": type_label(function.arg_type),
                                   "type": type_label(kind)}, arg)
        return function.returns


@dataclass
class CompiledRule:
    """A rule that passed every check; `evaluate` runs it against one context.

    `references` are the item codes it reads and `policy_keys` the policy keys: the workflow
    uses them to recompute derived values and rules when an input changes (§3.2 CALC).
    """

    text: str
    tree: ast.Expression
    type: str
    references: frozenset[str]
    policy_keys: frozenset[str]
    evidence_keys: frozenset[str] = frozenset()

    def evaluate(self, context: EvalContext) -> Evaluation:
        evaluation = Evaluation(value=None)
        run = self.__dict__.get("_run")
        if run is None:  # the tree turned into closures once, on the first evaluation
            run = self.__dict__["_run"] = _closure(self.tree.body, self.text)
        evaluation.value = _Interpreter(self.text, context, evaluation).run(run)
        return evaluation


def compile_rule(text: str, *, items: Mapping[str, ItemSpec] | None = None,
                 policy_keys: Iterable[str] | None = None, expect: str | None = None
                 ) -> CompiledRule:
    """Check a rule when it is saved, so it cannot fail later for a reason visible now.

    `items` (code → ItemSpec) turns on unknown-code, column and type checks; `policy_keys`
    turns on unknown-key checks; `expect=BOOL` requires a condition (red flags, validations).
    Raises RuleError with a position and a message a template author can act on.
    """
    if not isinstance(text, str) or not text.strip():
        raise RuleError(_("the rule is empty"))
    if len(text) > MAX_LENGTH:
        raise RuleError(_("the rule is longer than %(count)s characters")
                        % {"count": MAX_LENGTH})
    if "\x00" in text:
        raise RuleError(_("the rule contains a NUL character"))
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except SyntaxError as exc:
        position = None
        if exc.lineno is not None and exc.offset is not None:
            lines = text.strip().splitlines(keepends=True)
            position = sum(len(line) for line in lines[:exc.lineno - 1]) + exc.offset - 1
        raise RuleError(_("syntax error: %(problem)s") % {"problem": exc.msg}, position,
                        text) from None
    except (RecursionError, MemoryError, ValueError):
        # CPython's parser itself gives up on pathological nesting before our depth check.
        raise RuleError(_NESTED % {"count": MAX_DEPTH}) from None
    compiler = _Compiler(text.strip(), items, policy_keys)
    kind = compiler.visit(tree.body, 0)
    if expect == BOOL and kind not in (BOOL, ANY, NULL):
        raise RuleError(_("this rule must be a condition (true/false), but it gives a %(type)s")
                        % {"type": type_label(kind)}, 0, text)
    return CompiledRule(text=text.strip(), tree=tree, type=kind,
                        references=frozenset(compiler.references),
                        policy_keys=frozenset(compiler.policy_refs),
                        evidence_keys=frozenset(compiler.evidence_refs))


# ---------------------------------------------------------------------------------------------
# Interpreter: only ever sees trees the compiler accepted


def _kleene_not(value):
    return None if value is None else not _truth(value)


def _truth(value) -> bool | None:
    if value is None or isinstance(value, bool):
        return value
    raise RuleEvaluationError(_("expected true/false, got %(value)s")
                              % {"value": format_value(value)})


class _Interpreter:
    """The state of one evaluation: the context read and the evaluation recorded. The rule's
    tree is walked once into closures (`_closure`), which are then run against it: walking
    the tree on every evaluation (a method looked up by node type name for each node) was
    most of the time of scoring's derived values."""

    def __init__(self, text: str, context: EvalContext, evaluation: Evaluation):
        self.text, self.context, self.evaluation = text, context, evaluation

    def answer(self, code: str) -> Any:
        raw = self.context.answers.get(code)
        memo = self.context.memo
        if memo is not None and isinstance(raw, (list, tuple, dict)):
            kept = memo.get(code)
            if kept is not None and kept[0] is raw:
                value = kept[1]
            else:
                value = to_value(raw, where=code)
                memo[code] = (raw, value)  # holds `raw`: its identity stays its own
        else:
            value = to_value(raw, where=code)
        self.evaluation.inputs[code] = value
        return value

    def run(self, closure: Callable[[_Interpreter], Any]) -> Any:
        # A generous precision; Decimal's default traps (overflow, invalid) stay on, and a
        # rule cannot raise a number to a power, so values stay small.
        with localcontext() as ctx:
            ctx.prec = 28
            try:
                return closure(self)
            except (ArithmeticError, InvalidOperation) as exc:
                raise RuleEvaluationError(_("arithmetic failed: %(problem)s")
                                          % {"problem": exc}) from None


# --- closures: one per node of a compiled tree, built once per rule ----------------------------


def _closure(node, text: str) -> Callable[[_Interpreter], Any]:
    """The node as a function of the evaluation's state. Only trees `compile_rule` accepted
    get here, so every node type has its builder."""
    return _BUILDERS[type(node)](node, text)


def _constant(node, text):
    value = getattr(node, "decimal", node.value)
    return lambda it: value


def _name(node, text):
    if getattr(node, "reserved", False):
        value = RESERVED_NAMES[node.id]
        return lambda it: value
    code = node.id
    return lambda it: it.answer(code)


def _attribute(node, text):
    code, *chain = node.path

    def attribute(it):
        rows = it.answer(code)
        if rows is None:
            return None
        if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
            raise RuleEvaluationError(_("%(code)s should be a table (a list of rows)")
                                      % {"code": code})
        if len(chain) == 1:
            return [row.get(chain[0]) for row in rows]
        row = next((r for r in rows if r.get("row") == chain[0]), None)
        return None if row is None else row.get(chain[1])
    return attribute


def _binop(node, text):
    what = f"'{_BINOPS[type(node.op)]}'"
    left_of, right_of, op = _closure(node.left, text), _closure(node.right, text), type(node.op)

    def binop(it):
        left = as_number(left_of(it), what)
        right = as_number(right_of(it), what)
        if left is None or right is None:
            return None
        if op is ast.Add:
            return left + right
        if op is ast.Sub:
            return left - right
        if op is ast.Mult:
            return left * right
        return None if right == 0 else left / right  # like ratio(): no answer, not a crash
    return binop


def _unaryop(node, text):
    operand = _closure(node.operand, text)
    if isinstance(node.op, ast.Not):
        return lambda it: _kleene_not(operand(it))
    negate = isinstance(node.op, ast.USub)

    def sign(it):
        value = as_number(operand(it), "sign")
        return None if value is None else (-value if negate else value)
    return sign


def _boolop(node, text):
    # Kleene logic, short-circuit on the deciding value.
    decisive = isinstance(node.op, ast.Or)  # True decides `or`, False decides `and`
    values = [_closure(value, text) for value in node.values]

    def boolop(it):
        unknown = False
        for value_of in values:
            value = _truth(value_of(it))
            if value is decisive:
                return decisive
            unknown |= value is None
        return None if unknown else not decisive
    return boolop


def _ifexp(node, text):
    test_of, body, orelse = (_closure(node.test, text), _closure(node.body, text),
                             _closure(node.orelse, text))

    def ifexp(it):
        test = _truth(test_of(it))
        if test is None:
            return None
        return body(it) if test else orelse(it)
    return ifexp


def _list(node, text):
    elements = [_closure(element, text) for element in node.elts]
    return lambda it: [element(it) for element in elements]


def _side(node, text) -> tuple[str, bool]:
    """How a comparison's side reads in its explanation step: its text, and whether it is a
    literal (then its value is not repeated: "D7 = 0.82 > 0.70", not "0.70 = 0.70")."""
    return (ast.get_source_segment(text, node) or "?",
            isinstance(node, (ast.Constant, ast.List)) or getattr(node, "reserved", False))


def _step(side: tuple[str, bool], value) -> str:
    return side[0] if side[1] else f"{side[0]} = {format_value(value)}"


def _compare_node(node, text):
    first = (_closure(node.left, text), _side(node.left, text))
    rest = [(op, _CMPOPS[type(op)], _closure(right, text), _side(right, text))
            for op, right in zip(node.ops, node.comparators, strict=True)]

    def compare(it):
        left_of, left_side = first
        left = left_of(it)
        result: bool | None = True
        for op, symbol, right_of, right_side in rest:
            right = right_of(it)
            outcome = _compare(op, left, right)
            # one explanation step per comparison
            it.evaluation.steps.append(
                f"{_step(left_side, left)} {symbol} {_step(right_side, right)}")
            if outcome is False:
                return False
            if outcome is None:
                result = None
            left_side, left = right_side, right
        return result
    return compare


def _compare(op, left, right) -> bool | None:
    if isinstance(op, (ast.Eq, ast.NotEq)):
        equal = _equal(left, right)
        return equal if isinstance(op, ast.Eq) else not equal
    if isinstance(op, (ast.In, ast.NotIn)):
        if left is None or right is None:
            return None
        members = _as_list(right, "'in'")
        found = any(_equal(left, member) for member in members)
        return found if isinstance(op, ast.In) else not found
    if left is None or right is None:
        return None
    left, right = _comparable(left, right)
    return {ast.Lt: left < right, ast.LtE: left <= right, ast.Gt: left > right,
            ast.GtE: left >= right}[type(op)]


def _call(node, text):
    name = node.func.id
    if name in ("answer", "is_answered"):
        code = node.args[0].value
        if name == "is_answered":
            return lambda it: it.answer(code) is not None
        return lambda it: it.answer(code)
    if name == "policy":
        key = node.args[0].value

        def policy(it):
            value = it.context.policy(key)
            if value is None:
                raise RuleEvaluationError(_("policy value %(key)s is not in force")
                                          % {"key": repr(key)}, None, it.text)
            value = to_value(value, where=f"policy {key}")
            it.evaluation.policies[key] = value
            return value
        return policy
    if name == "evidence":
        key = node.args[0].value

        def evidence(it):
            # A figure no document gave is unknown (null), not an error: the rule then cannot
            # fire on it, and the cross-check compares the sources that exist.
            value = to_value(evidence_number(it.context.evidence(key)), where=f"evidence {key}")
            it.evaluation.inputs[f'evidence("{key}")'] = value
            return value
        return evidence
    args = [_closure(arg, text) for arg in node.args]
    return lambda it: FUNCTIONS[name].impl(*[arg(it) for arg in args])


_BUILDERS = {ast.Constant: _constant, ast.Name: _name, ast.Attribute: _attribute,
             ast.BinOp: _binop, ast.UnaryOp: _unaryop, ast.BoolOp: _boolop, ast.IfExp: _ifexp,
             ast.List: _list, ast.Compare: _compare_node, ast.Call: _call}


def _equal(left, right) -> bool:
    if left is None or right is None:
        return left is None and right is None
    if isinstance(left, bool) or isinstance(right, bool):
        return left is right
    if isinstance(left, Decimal) or isinstance(right, Decimal):
        try:
            return as_number(left, "==") == as_number(right, "==")
        except RuleEvaluationError:
            return False
    return left == right


def _comparable(left, right):
    if isinstance(left, (Decimal, str)) and isinstance(right, (Decimal, str)) \
            and not (isinstance(left, str) and isinstance(right, str)):
        return as_number(left, "comparison"), as_number(right, "comparison")
    if isinstance(left, dt.date) or isinstance(right, dt.date):
        return _as_date(left, "comparison"), _as_date(right, "comparison")
    if type(left) is not type(right) or isinstance(left, (bool, list, dict)):
        raise RuleEvaluationError(_("cannot order %(left)s against %(right)s")
                                  % {"left": format_value(left), "right": format_value(right)})
    return left, right
