"""A score's inputs are those the plain path computes (issue #20, session 19): the worker's
fast path (compiled reads, JSON decoded together, rules run as closures over one context that
converts each table once, the model's tables kept) stores, for a varied set of answers, the
feature values, input hash, score, probability and reasons that ORM reads, each rule evaluated
in a context of its own and the model's tables built afresh give."""

from decimal import Decimal

import pytest
from django.utils import timezone

from apps.applications.exposure import group_exposure_total_steps
from apps.applications.models import Application
from apps.core.compiled import run
from apps.investigations import rules
from apps.investigations.evidence import figures_with_provenance_steps
from apps.investigations.expressions import EvalContext, compile_rule
from apps.investigations.models import Answer, Investigation
from apps.investigations.policy import PolicyResolver
from apps.investigations.services import template_export
from apps.scoring import services
from apps.scoring.features.assemble import _record, records_to_columns
from apps.scoring.services.registry import model_of
from apps.scoring.tests.test_scorecard import _predict_as_before

pytestmark = pytest.mark.django_db


def _derived_one_rule_at_a_time(document, answers, policy):
    """Derived values as before: every rule compiled afresh and evaluated in a context of its
    own, over a copy of the values known so far."""
    items = rules._items(document)
    pending = {code: compile_rule(item["expression"]) for code, item in items.items()
               if item["answer_type"] == "derived"}
    values = {code: rules._typed(items.get(code), value) for code, value in answers.items()
              if code not in pending}
    while pending:
        for code, rule in list(pending.items()):
            if not rule.references & (pending.keys() - {code}):
                values[code] = rule.evaluate(EvalContext(dict(values), policy)).value
                del pending[code]
    return values


def _plain_record(application_id):
    application = Application.objects.select_related("enterprise").get(pk=application_id)
    investigation = Investigation.objects.select_related("template").get(
        application_id=application_id)
    answers = {answer.item.code: answer.value for answer in Answer.objects.filter(
        investigation=investigation, not_applicable=False).select_related("item")}
    checklist = _derived_one_rule_at_a_time(template_export(investigation.template), answers,
                                            PolicyResolver())
    figures, pulled = run(figures_with_provenance_steps(application_id))
    exposure = run(group_exposure_total_steps(enterprise_id=application.enterprise_id))
    return _record(application, investigation, timezone.localdate(), figures, pulled,
                   checklist, exposure), checklist


def _set(application, code, value=None, *, not_applicable=False):
    Answer.objects.filter(investigation__application=application, item__code=code).update(
        value=value, not_applicable=not_applicable)


def _balance(assets, liabilities):
    rows = [{"row": code, "basis": "t", "amount": amount} for code, amount in
            zip(("cash", "receivables", "inventory", "fixed_assets"), assets, strict=True)]
    rows += [{"row": code, "basis": "t", "amount": amount} for code, amount in
             zip(("payables", "bank_loans", "private_loans"), liabilities, strict=True)]
    return rows


VARIANTS = [
    ("as filed", {}),
    ("a balance sheet of its own", {"D1_BALANCE": _balance(
        ["120000.50", "80000", "33333.33", "250000"], ["90000", "210000.10", "7"])}),
    ("other numbers", {"B3_INQUIRIES": "7", "D2_ANNUAL_COGS": "123456.78",
                       "E1_KWH_PRIOR_12M": "0", "C2_PREMISES": "leased",
                       "H2_VALUE": "1500000"}),
    ("a missing cell and an answer not applicable", {
        "D1_BALANCE": _balance(["1", None, "2", "3"], ["4", "5", "6"]),
        "E3_TAX_PAID_PRIOR_12M": None}),
]


def test_varied_answers_score_as_the_plain_path_computes_them(investigated):
    scored = set()
    for name, changes in VARIANTS:
        for code, value in changes.items():
            if value is None:
                _set(investigated, code, not_applicable=True)
            else:
                _set(investigated, code, value)
        result = services.application_score(application_id=investigated.pk)
        record, checklist = _plain_record(investigated.pk)
        assert result.snapshot.values == record.values, name
        assert result.snapshot.red_flag_codes == record.red_flag_codes, name
        assert record.red_flag_codes and record.values["red_flags_r2"], name  # flags counted
        assert result.input_hash == record.input_hash, name
        card = model_of(result.model_version)
        [expected] = _predict_as_before(card, records_to_columns([record.values],
                                                                 card.feature_kinds),
                                        result.policy.document["grades"])
        assert (result.score, result.probability, result.reasons) == (
            expected["score"], expected["probability"], expected["reasons"]), name
        scored.add(result.input_hash)
        balance = checklist.get("D1_BALANCE")
        if name == "a balance sheet of its own":  # the derived values, worked by hand
            cells = [Decimal(row["amount"]) for row in balance]
            assets, liabilities = sum(cells[:4]), sum(cells[4:])
            assert checklist["D1_ASSETS"] == assets
            assert checklist["D7_LEVERAGE"] == liabilities / assets
            assert record.values["debt_to_assets"] == round(float(liabilities / assets), 6)
        if name == "a missing cell and an answer not applicable":
            assert checklist["D1_ASSETS"] is None and record.values["debt_to_assets"] is None
            assert record.values["tax_paid_trend_pct"] is None
    assert len(scored) == len(VARIANTS)  # each variant a new input


def test_findings_read_as_text_are_summarised_as_the_decoded_fields():
    """The worker reads an investigation's findings as their JSON text (`findings_as_text`):
    the codes and counts are those of the decoded fields, missing findings count none."""
    from apps.scoring.features.assemble import FINDINGS_TEXT, _findings_summary

    flags = [{"code": "B", "severity": "R2"}, {"code": "A", "severity": "R3"},
             {"code": "B", "severity": "R2"}, {"code": "", "severity": "R1"}, {"severity": "R3"}]
    decoded = Investigation(red_flags=flags, cross_check_findings=[{"code": "X"}] * 2)
    as_text = Investigation()
    for name, value in zip(FINDINGS_TEXT, ('[{"code": "B", "severity": "R2"}, {"code": "A", '
                                           '"severity": "R3"}, {"code": "B", "severity": "R2"},'
                                           ' {"code": "", "severity": "R1"}, {"severity": "R3"}]',
                                           '[{"code": "X"}, {"code": "X"}]'), strict=True):
        setattr(as_text, name, value)
    assert _findings_summary(decoded) == _findings_summary(as_text) == (("A", "B"), 2, 2, 2)
    missing = Investigation()
    for name in FINDINGS_TEXT:
        setattr(missing, name, None)
    assert _findings_summary(missing) == ((), 0, 0, 0)
