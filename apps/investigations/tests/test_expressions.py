import datetime as dt
from decimal import Decimal

import pytest

from apps.investigations.expressions import (
    BOOL,
    LIST,
    MAX_DEPTH,
    MAX_LENGTH,
    MAX_LIST_ITEMS,
    NUM,
    STR,
    EvalContext,
    ItemSpec,
    RuleError,
    RuleEvaluationError,
    compile_rule,
    format_value,
)

ITEMS = {
    "N": ItemSpec(NUM), "M": ItemSpec(NUM), "T": ItemSpec(STR), "B": ItemSpec(BOOL),
    "D1": ItemSpec("date"), "D2": ItemSpec("date"), "L": ItemSpec(LIST),
    "TAB": ItemSpec(LIST, columns=frozenset({"amount", "note"}),
                    rows=frozenset({"cash", "stock"}), is_table=True),
}
POLICY = {"limit": Decimal("0.70"), "p.int": 3}


def run(text, answers=None, items=ITEMS, policy=POLICY):
    rule = compile_rule(text, items=items, policy_keys=set(policy))
    return rule.evaluate(EvalContext(answers or {}, policy.get))


def value(text, answers=None, **kwargs):
    return run(text, answers, **kwargs).value


# --- arithmetic, literals, precedence ------------------------------------------------------

@pytest.mark.parametrize(("text", "expected"), [
    ("0.1 + 0.2", Decimal("0.3")),
    ("1 + 2 * 3", Decimal("7")),
    ("(1 + 2) * 3", Decimal("9")),
    ("10 - 4 - 3", Decimal("3")),
    ("-2 * 3", Decimal("-6")),
    ("+5", Decimal("5")),
    ("1 / 4", Decimal("0.25")),
    ("1_000_000 * 1.5", Decimal("1500000.0")),
    ("2 * 3 > 5 and 1 < 2", True),
    ("not 1 > 2", True),
    ("1 < 2 < 3", True),
    ("1 < 3 < 2", False),
    ("true or false and false", True),
    ("\"a\" == \"a\"", True),
    ("null", None), ("true", True), ("false", False), ("None", None), ("True", True),
    ("1 if true else 2", Decimal("1")),
    ("2 in [1, 2, 3]", True), ("4 not in [1, 2]", True),
    ("\"x\" in [\"x\", \"y\"]", True),
    ("1 == 1.0", True),
])
def test_literals_arithmetic_precedence(text, expected):
    result = value(text)
    assert result == expected
    if isinstance(expected, Decimal):
        assert isinstance(result, Decimal)


def test_decimals_are_exact_not_float():
    assert value("0.1 + 0.2 == 0.3") is True
    assert value("N * 3", {"N": Decimal("0.1")}) == Decimal("0.3")
    assert value("N + 1", {"N": 2}) == Decimal("3")  # ints come in as Decimal


def test_float_answers_are_refused_not_rounded():
    with pytest.raises(RuleEvaluationError, match="float"):
        value("N + 1", {"N": 0.1})


def test_numeric_text_answers_are_read_as_numbers():
    assert value("N > 5", {"N": "7.5"}) is True
    with pytest.raises(RuleEvaluationError, match="needs a number"):
        value("N > 5", {"N": "seven"})


# --- references ----------------------------------------------------------------------------

def test_answers_by_bare_code_and_answer_function():
    assert value("N + M", {"N": 1, "M": 2}) == 3
    assert value('answer("N") * 2', {"N": 4}) == 8


def test_table_columns_and_cells():
    rows = [{"row": "cash", "amount": "10", "note": "x"}, {"row": "stock", "amount": 5}]
    assert value("sum(TAB.amount)", {"TAB": rows}) == 15
    assert value("TAB.stock.amount * 2", {"TAB": rows}) == 10
    assert value("count(TAB.note)", {"TAB": rows}) == 1
    assert value("TAB.cash.amount", {"TAB": None}) is None


def test_policy_lookup_is_recorded():
    result = run('N > policy("limit")', {"N": Decimal("0.82")})
    assert result.fired
    assert result.policies == {"limit": Decimal("0.70")}
    assert result.inputs == {"N": Decimal("0.82")}
    assert result.explain() == 'N = 0.82 > policy("limit") = 0.70'


def test_policy_without_value_in_force_is_an_evaluation_error():
    rule = compile_rule('N > policy("gone")')
    with pytest.raises(RuleEvaluationError, match="not in force"):
        rule.evaluate(EvalContext({"N": 1}, lambda key: None))


def test_explanation_lists_each_comparison_with_its_values():
    result = run("ratio(N, M) > 0.70 and T == \"x\"", {"N": 82, "M": 100, "T": "x"})
    assert result.explain() == 'ratio(N, M) = 0.82 > 0.70; T = \'x\' == "x"'
    assert result.fired


# --- null propagation and three-valued logic ----------------------------------------------

@pytest.mark.parametrize(("text", "expected"), [
    ("N + 1", None), ("N * 0", None), ("-N", None),
    ("N > 1", None), ("N < 1", None), ("N in [1]", None),
    ("N == null", True), ("N != null", False), ("N == 1", False),
    ("N > 1 and false", False), ("N > 1 and true", None),
    ("N > 1 or true", True), ("N > 1 or false", None),
    ("not (N > 1)", None),
    ("1 if N > 1 else 2", None),
    ("1 / 0", None),
    ("coalesce(N, M, 3)", Decimal("3")),
    ("is_answered(\"N\")", False),
])
def test_missing_answers_are_unknown(text, expected):
    assert value(text, {}) == expected


def test_unknown_never_fires():
    result = run("N > 1", {})
    assert result.unknown and not result.fired


# --- functions -----------------------------------------------------------------------------

@pytest.mark.parametrize(("text", "answers", "expected"), [
    ("abs(-3.5)", {}, Decimal("3.5")),
    ("abs(N)", {}, None),
    ("min(3, 1, 2)", {}, Decimal("1")),
    ("max(3, 1, 2)", {}, Decimal("3")),
    ("min(N, 1)", {}, None),
    ("max(TAB.amount)", {"TAB": [{"amount": 1}, {"amount": 9}]}, Decimal("9")),
    ("sum(1, 2, 3)", {}, Decimal("6")),
    ("sum(TAB.amount)", {"TAB": [{"amount": 1}, {"amount": None}]}, None),
    ("sum(TAB.amount)", {"TAB": []}, Decimal("0")),
    ("count(N, 1, 2)", {}, Decimal("2")),
    ("len(T)", {"T": "  abcd "}, Decimal("4")),
    ("len(L)", {"L": ["a", "b"]}, Decimal("2")),
    ("len(T)", {}, None),
    ("ratio(1, 4)", {}, Decimal("0.25")),
    ("ratio(1, 0)", {}, None),
    ("ratio(N, 4)", {}, None),
    ("deviation(100, 70)", {}, Decimal("0.3")),
    ("deviation(70, 100)", {}, Decimal("0.3")),
    ("deviation(0, 0)", {}, Decimal("0")),
    ("deviation(-1, -2)", {}, None),
    ("max_pairwise_deviation(100, 90, 50)", {}, Decimal("0.5")),
    ("max_pairwise_deviation(100, N, 80)", {}, Decimal("0.2")),
    ("max_pairwise_deviation(100, N)", {}, None),
    ("days_between(D1, D2)", {"D1": dt.date(2025, 1, 1), "D2": "2025-03-01"}, Decimal("59")),
    ("days_between(D1, D2)", {"D1": dt.date(2025, 1, 1)}, None),
    ("coalesce(N, 5)", {"N": 1}, Decimal("1")),
    ("is_answered(\"N\")", {"N": 0}, True),
])
def test_functions(text, answers, expected):
    assert value(text, answers) == expected


def test_days_between_refuses_non_dates():
    with pytest.raises(RuleEvaluationError, match="needs a date"):
        value("days_between(D1, D2)", {"D1": "yesterday", "D2": "2025-01-01"})


def test_ordering_mismatched_runtime_types_is_an_error():
    with pytest.raises(RuleEvaluationError):
        compile_rule("N > M").evaluate(EvalContext({"N": True, "M": 1}))


# --- refusals ------------------------------------------------------------------------------

@pytest.mark.parametrize(("text", "message"), [
    ("__import__('os')", "'_'"),
    ("N.__class__", "'_'"),
    ("__builtins__", "'_'"),
    ("().__class__", "Tuple|tuples|attribute"),
    ("'abc'.upper()", "only the built-in functions"),
    ("T.upper", "not a table"),
    ("TAB.amount.x.y", "attribute access"),
    ("TAB[0]", "subscripts"),
    ("L[0]", "subscripts"),
    ("(lambda: 1)()", "only the built-in functions"),
    ("lambda: 1", "lambdas"),
    ("[x for x in L]", "comprehensions"),
    ("{x for x in L}", "comprehensions"),
    ("{'a': 1}", "dictionaries"),
    ("(1, 2)", "tuples"),
    ("f'{N}'", "f-strings"),
    ("(x := 1)", "assignment"),
    ("2 ** 10", "operator \\*\\*"),
    ("9 ** 9 ** 9", "operator \\*\\*"),
    ("7 // 2", "operator //"),
    ("7 % 2", "operator %"),
    ("~1", "operator ~"),
    ("1 << 2", "not allowed"),
    ("N is None", "'is'"),
    ("eval('1')", "unknown function eval"),
    ("open('x')", "unknown function open"),
    ("getattr(N, 'x')", "unknown function getattr"),
    ("max(*L)", "starred"),
    ("max(1, key=2)", "keyword"),
    ("1e999", "plain decimal"),
    ("0x10", "plain decimal"),
    ("1j", "complex"),
    ("b'x'", "bytes"),
    ("...", "ellipsis"),
    ("1 +", "syntax error"),
    ("N = 1", "syntax error"),
    ("import os", "syntax error"),
    ("", "empty"),
    ("N\x00", "NUL"),
])
def test_refusals(text, message):
    with pytest.raises(RuleError, match=f"(?i){message}"):
        compile_rule(text, items=ITEMS)


@pytest.mark.parametrize(("text", "message"), [
    ("UNKNOWN > 1", "unknown item code 'UNKNOWN'"),
    ('answer("NOPE")', "unknown item code 'NOPE'"),
    ('is_answered("NOPE")', "unknown item code 'NOPE'"),
    ('policy("nope")', "unknown policy key 'nope'"),
    ("policy(N)", "one quoted name"),
    ("TAB.missing", "no column 'missing'"),
    ("TAB.attic.amount", "no row 'attic'"),
    ("N.amount", "not a table"),
    ("T + 1", "arithmetic needs numbers, got text"),
    ("-T", "sign needs a number"),
    ("T > 1", "cannot order text against number"),
    ("B < true", "cannot order"),
    ("T == 1", "always false"),
    ("1 in 2", "needs a list"),
    ("ratio(1)", "takes 2 argument"),
    ("abs(1, 2)", "takes 1 argument"),
    ("max()", "at least 1"),
    ("ratio(T, 1)", "needs number arguments, got text"),
    ("days_between(N, D1)", "needs date arguments"),
    ("sum", "is a function"),
])
def test_static_errors_name_the_problem(text, message):
    with pytest.raises(RuleError, match=message):
        compile_rule(text, items=ITEMS, policy_keys={"limit"})


def test_errors_carry_the_character_position():
    with pytest.raises(RuleError) as info:
        compile_rule("N + 1 > NOPE", items=ITEMS)
    assert info.value.position == 8
    assert "at character 9" in str(info.value)
    with pytest.raises(RuleError) as info:
        compile_rule('"营业收入" == "x" and NOPE', items=ITEMS)
    assert info.value.position == 18  # characters, not UTF-8 bytes
    with pytest.raises(RuleError) as info:
        compile_rule("N + ", items=ITEMS)
    assert info.value.position is not None


def test_condition_required_where_a_condition_is_expected():
    with pytest.raises(RuleError, match="must be a condition"):
        compile_rule("N + 1", items=ITEMS, expect=BOOL)
    assert compile_rule("N > 1", items=ITEMS, expect=BOOL).type == BOOL


# --- limits (DoS) --------------------------------------------------------------------------

def test_long_input_is_refused_before_parsing():
    with pytest.raises(RuleError, match=f"longer than {MAX_LENGTH}"):
        compile_rule("1 + " * MAX_LENGTH + "1")


def test_deep_nesting_is_refused():
    nested = "-" * (MAX_DEPTH + 5) + "1"
    with pytest.raises(RuleError, match="nested too deeply"):
        compile_rule(nested)
    calls = "abs(" * (MAX_DEPTH + 5) + "1" + ")" * (MAX_DEPTH + 5)
    with pytest.raises(RuleError, match="nested too deeply"):
        compile_rule(calls)
    brackets = "[" * 300 + "]" * 300  # beyond CPython's own parser limit
    with pytest.raises(RuleError):
        compile_rule(brackets)


def test_too_many_parts_and_list_items_are_refused():
    with pytest.raises(RuleError, match="too complex"):
        compile_rule("max(" + ", ".join(["1"] * 450) + ")")
    assert compile_rule(" + ".join(["1"] * 60)).evaluate(EvalContext({})).value == 60
    with pytest.raises(RuleError, match=f"at most {MAX_LIST_ITEMS}"):
        compile_rule("1 in [" + ", ".join(["1"] * (MAX_LIST_ITEMS + 1)) + "]")


def test_references_and_policy_keys_are_reported():
    rule = compile_rule('ratio(N, sum(TAB.amount)) > policy("limit") and is_answered("T")',
                        items=ITEMS)
    assert rule.references == {"N", "TAB", "T"}
    assert rule.policy_keys == {"limit"}


def test_format_value():
    assert format_value(Decimal("0.823456")) == "0.8235"
    assert format_value(Decimal("0.700000")) == "0.70"
    assert format_value(Decimal("0.3")) == "0.30"
    assert format_value(Decimal("1200")) == "1200"
    assert format_value(None) == "null"
    assert format_value(dt.date(2025, 1, 2)) == "2025-01-02"
    assert format_value([Decimal(1), True]) == "[1, true]"


# --- a context read by several rules (rules.derived_values) ------------------------------


def test_a_shared_context_converts_a_table_once_and_again_when_it_is_replaced(monkeypatch):
    """`EvalContext.memo`: rules reading one context convert each table answer once; a table
    replaced by another object under the same code is converted anew, and a conversion that
    fails fails on every read (nothing kept)."""
    from apps.investigations import expressions

    conversions = []
    convert = expressions.to_value

    def counted(raw, *, where=""):
        if where == "N" or isinstance(raw, list) and raw and isinstance(raw[0], dict):
            conversions.append(where)  # a whole table, not its rows and cells (recursion)
        return convert(raw, where=where)

    monkeypatch.setattr(expressions, "to_value", counted)
    table = [{"row": "cash", "amount": 5}, {"row": "stock", "amount": "7.5"}]
    answers = {"TAB": table, "N": 2}
    context = EvalContext(answers, POLICY.get, memo={})
    rules = [compile_rule(text, items=ITEMS) for text in (
        "TAB.cash.amount + TAB.stock.amount", "sum(TAB.amount) * N", "TAB.stock.amount")]
    assert [r.evaluate(context).value for r in rules] == [Decimal("12.5"), Decimal("25.0"),
                                                          "7.5"]
    assert conversions.count("TAB") == 1 and conversions.count("N") == 1
    answers["TAB"] = [{"row": "cash", "amount": 1}]  # another answer under the same code
    assert rules[0].evaluate(context).value is None
    assert rules[1].evaluate(context).value == Decimal(2)
    assert conversions.count("TAB") == 2
    answers["TAB"] = [{"row": "cash", "amount": 1.5}]  # a float: refused on every read
    for _ in range(2):
        with pytest.raises(RuleEvaluationError, match="float"):
            rules[1].evaluate(context)
    # Without a memo (one context per rule, as before): converted on every read.
    conversions.clear()
    plain = EvalContext({"TAB": table}, POLICY.get)
    assert rules[0].evaluate(plain).value == Decimal("12.5")
    assert conversions.count("TAB") == 2


def test_a_rule_evaluated_again_gives_the_same_value_inputs_and_explanation():
    """A rule's tree is turned into closures on its first evaluation: the later ones record
    the same inputs, policies and steps, and evaluations do not share them."""
    rule = compile_rule('TAB.cash.amount > policy("limit") and N in [1, 2] and '
                        'not (T == "x")', items=ITEMS, policy_keys=set(POLICY))
    answers = {"TAB": [{"row": "cash", "amount": "0.9"}], "N": 2, "T": "y"}
    first, again = (rule.evaluate(EvalContext(answers, POLICY.get)) for _ in range(2))
    assert first.value is True and again.value is True
    assert first.inputs == again.inputs == {"TAB": [{"row": "cash", "amount": "0.9"}],
                                            "N": Decimal(2), "T": "y"}
    assert first.policies == again.policies == {"limit": Decimal("0.70")}
    assert first.steps == again.steps == [
        'TAB.cash.amount = \'0.9\' > policy("limit") = 0.70', "N = 2 in [1, 2]", 'T = \'y\' == "x"']
    assert first.steps is not again.steps and first.inputs is not again.inputs
