"""evidence("key") in the expression language, evidence cross-checks, and run_controls with
no document checks or a missing policy value."""

from decimal import Decimal

import pytest

from apps.investigations import expressions as ex
from apps.investigations.controls import run_controls
from apps.investigations.evidence import FiguresResolver
from apps.investigations.models import PolicyValue
from apps.investigations.policy import PolicyResolver
from apps.investigations.rules import cross_checks, derived_values
from apps.investigations.tests.factories import template_data
from apps.investigations.validation import validate_template_data

from .helpers import photo, policy


def test_evidence_compiles_only_for_known_figures():
    rule = ex.compile_rule('deviation(SALES, evidence("bank.inflows_12m")) > 0.3')
    assert rule.evidence_keys == {"bank.inflows_12m"}
    with pytest.raises(ex.RuleError) as exc:
        ex.compile_rule('evidence("bank.made_up") > 1')
    assert "unknown evidence figure 'bank.made_up'" in str(exc.value)
    with pytest.raises(ex.RuleError):
        ex.compile_rule("evidence(SALES) > 1")  # a quoted key, not a value


def test_evidence_reads_the_resolver_and_records_the_input():
    rule = ex.compile_rule('ratio(SALES, evidence("bank.inflows_12m"))')
    figures = {"bank.inflows_12m": Decimal("500000")}
    result = rule.evaluate(ex.EvalContext({"SALES": Decimal("1000000")}, policy(),
                                          figures.get))
    assert result.value == Decimal(2)
    assert result.inputs['evidence("bank.inflows_12m")'] == Decimal("500000")
    unknown = rule.evaluate(ex.EvalContext({"SALES": Decimal("1")}, policy()))
    assert unknown.value is None  # no document gave it: unknown, never a crash or a pass


def _template_with_evidence_check(expression='deviation(SALES, evidence("tax.revenue_12m"))',
                                  explanation="Sales {SALES} vs tax {evidence_tax_revenue_12m}"):
    return template_data(cross_checks=[{
        "code": "DOCS", "title": {"en": "Docs", "zh": "文件"}, "expression": expression,
        "thresholds": [{"severity": "R2", "operator": ">", "value": "0.3"}],
        "explanation": {"en": explanation, "zh": explanation}}])


def test_template_validation_accepts_evidence_and_its_placeholders():
    assert validate_template_data(_template_with_evidence_check(), policy_keys=set()) == []
    issues = validate_template_data(_template_with_evidence_check(
        expression='deviation(SALES, evidence("tax.nope"))'), policy_keys=set())
    assert [i.path for i in issues] == ["cross_checks.DOCS.expression"]
    issues = validate_template_data(_template_with_evidence_check(
        explanation="{evidence_tax_nope}"), policy_keys=set())
    assert "unknown placeholder {evidence_tax_nope}" in str(issues[0])


def test_evidence_cross_check_explains_the_numbers():
    document = _template_with_evidence_check()
    figures = {"tax.revenue_12m": Decimal("400000")}
    values = derived_values(document, {"SALES": "1000000"}, policy(), figures.get)
    [finding] = cross_checks(document, values, policy(), figures.get)
    assert finding.message_en == "Sales 1000000 vs tax 400000"
    assert finding.inputs['evidence("tax.revenue_12m")'] == Decimal("400000")


@pytest.mark.django_db
def test_figures_resolver_without_a_source_gives_unknowns(fake_source):
    fake_source.figure_rows[7] = {"bank.inflows_12m": Decimal("10")}
    resolver = FiguresResolver(7)
    assert resolver("bank.inflows_12m") == Decimal("10")
    assert resolver("tax.revenue_12m") is None
    assert resolver.used == {"bank.inflows_12m": Decimal("10"), "tax.revenue_12m": None}


@pytest.mark.django_db
def test_no_document_checks_is_a_finding_not_a_pass(started, people):
    from apps.investigations.evidence import evidence_source, register_evidence_source

    previous = evidence_source()
    register_evidence_source(None)
    try:
        found = run_controls(started, policy=PolicyResolver(), now=started.started_at)
    finally:
        register_evidence_source(previous)
    assert [f.code for f in found] == ["EVIDENCE_UNAVAILABLE"]
    assert found[0].severity == "R2"


@pytest.mark.django_db
def test_a_missing_policy_value_stops_that_control_and_says_so(started, fake_source):
    PolicyValue.objects.filter(key="control.photo.site_radius_m").delete()
    fake_source.photo_rows[started.application_id] = [photo(1)]
    found = run_controls(started, policy=PolicyResolver(), now=started.started_at)
    [finding] = [f for f in found if f.code == "CONTROL_NOT_CONFIGURED"]
    assert "control.photo.site_radius_m" in finding.message_en
    assert finding.severity == "R2"
    assert fake_source.reuse_calls == [6]  # the reuse control still ran, with its policy
