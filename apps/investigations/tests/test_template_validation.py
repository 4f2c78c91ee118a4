import pytest

from apps.investigations.tests.factories import template_data
from apps.investigations.validation import validate_template_data


def issues_of(data, keys=frozenset()):
    return {issue.path: issue for issue in validate_template_data(data, policy_keys=set(keys))}


def item(data, code):
    return next(i for s in data["sections"] for i in s["items"] if i["code"] == code)


def test_the_minimal_template_is_valid():
    assert validate_template_data(template_data(), policy_keys=set()) == []


@pytest.mark.parametrize(("change", "path", "message"), [
    (lambda d: item(d, "LEVERAGE").update(expression="ratio(BS.debts.amount, NOPE)"),
     "items.LEVERAGE.expression", "unknown item code 'NOPE'"),
    (lambda d: item(d, "LEVERAGE")["red_flag_rules"][0].update(when='LEVERAGE > policy("x")'),
     "items.LEVERAGE.red_flag_rules[0].when", "unknown policy key 'x'"),
    (lambda d: item(d, "LEVERAGE")["red_flag_rules"][0].update(when="LEVERAGE + 1"),
     "items.LEVERAGE.red_flag_rules[0].when", "must be a condition"),
    (lambda d: item(d, "LEVERAGE")["red_flag_rules"][0].update(severity="R9"),
     "items.LEVERAGE.red_flag_rules[0].severity", "R1, R2 or R3"),
    (lambda d: item(d, "LEVERAGE")["red_flag_rules"][0].update(message={"en": "x"}),
     "items.LEVERAGE.red_flag_rules[0].message.zh", "missing"),
    (lambda d: item(d, "NOTES")["validation_rules"][0].update(expression="__import__('os')"),
     "items.NOTES.validation_rules[0].expression", "'_'"),
    (lambda d: item(d, "LEVERAGE").update(expression=""),
     "items.LEVERAGE.expression", "never typed by hand"),
    (lambda d: item(d, "SALES").update(expression="1"),
     "items.SALES.expression", "only derived items"),
    (lambda d: item(d, "KIND").update(choices=[]), "items.KIND.choices", "choices"),
    (lambda d: item(d, "BS").update(columns={}), "items.BS.columns", "needs columns"),
    (lambda d: item(d, "SALES").update(answer_type="video"),
     "items.SALES.answer_type", "unknown answer type"),
    (lambda d: item(d, "SALES").update(code="1SALES"),
     "sections[0].items[0].code", "cannot be used in rules"),
    (lambda d: item(d, "TAX_SALES").update(code="SALES"), "items.SALES", "used twice"),
    (lambda d: item(d, "SALES").update(evidence={"photos": 2}),
     "items.SALES.evidence", "allowed keys"),
    (lambda d: d["cross_checks"][0].update(expression="SALES > 1"),
     "cross_checks.SALES_X.expression", "must give a number"),
    (lambda d: d["cross_checks"][0]["thresholds"][0].update(policy="nope"),
     "cross_checks.SALES_X.thresholds[0].policy", "unknown policy key"),
    (lambda d: d["cross_checks"][0]["thresholds"][1].update(policy="t.r3"),
     "cross_checks.SALES_X.thresholds[1]", "not both"),
    (lambda d: d["cross_checks"][0]["explanation"].update(en="{NOPE}"),
     "cross_checks.SALES_X.explanation.en", "unknown placeholder {NOPE}"),
    (lambda d: d.update(code="bad code!"), "code", "slug"),
    (lambda d: d.update(sections=[]), "sections", "at least one section"),
])
def test_problems_are_reported_per_item(change, path, message):
    data = template_data()
    change(data)
    issues = issues_of(data)
    assert path in issues, issues
    assert message in issues[path].message


def test_rule_errors_keep_their_position():
    data = template_data()
    item(data, "LEVERAGE").update(expression="ratio(BS.debts.amount, NOPE)")
    assert issues_of(data)["items.LEVERAGE.expression"].position == 23


def test_derived_cycles_are_refused():
    data = template_data()
    data["sections"][0]["items"] += [
        {"code": "X1", "answer_type": "derived", "label": {"en": "a", "zh": "a"},
         "expression": "X2 + 1"},
        {"code": "X2", "answer_type": "derived", "label": {"en": "b", "zh": "b"},
         "expression": "X1 + 1"},
    ]
    assert "X1 → X2 → X1" in issues_of(data)["items.X1.expression"].message


def test_policy_keys_on_file_count_as_known():
    data = template_data(policies=[])
    assert "items.LEVERAGE.red_flag_rules[0].when" in issues_of(data)
    assert issues_of(data, keys={"t.lev", "t.r3"}) == {}
