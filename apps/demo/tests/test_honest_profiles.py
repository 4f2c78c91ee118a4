"""The demo's honest firm profiles (issue #18: a spread of grades) stay honest: at either end
of every range, for a small and a large firm, the answers the honest visit gives raise no red
flag and no cross-check under the seeded policy, and the profiles score apart."""

import datetime as dt
import itertools
import json
from decimal import Decimal
from types import SimpleNamespace

import pytest

from apps.demo import lifecycle
from apps.investigations.models import AnswerType, Item
from apps.investigations.policy import PolicyResolver
from apps.investigations.rules import cross_checks, derived_values, red_flags
from apps.investigations.seed import seed_builtin_templates
from apps.investigations.services import template_export
from apps.scoring.features.assemble import compute_values, records_to_columns
from apps.scoring.policy import DEFAULT_POLICY
from apps.scoring.services.registry import DEFAULT_MODEL_PATH
from apps.scoring.services.training import MODEL_CLASSES

SKIPPED_TYPES = (AnswerType.TEXT, AnswerType.PHOTO, AnswerType.DOCUMENT, AnswerType.LOCATION)
# (annual revenue, amount requested, term in months, tax grade on record)
FIRMS = [(Decimal("2000000"), Decimal("300000"), 12, "B"),
         (Decimal("80000000"), Decimal("3000000"), 36, "A")]


@pytest.fixture
def three_products():
    (template,) = [t for t in seed_builtin_templates() if t.code == "three-products-three-tables"]
    items = list(Item.objects.filter(template=template, required=True).exclude(
        answer_type__in=(AnswerType.DERIVED, *SKIPPED_TYPES)))
    return items, template_export(template)


def _application(revenue, amount, months, rating):
    enterprise = SimpleNamespace(annual_revenue=revenue, employees=20, tax_credit_rating=rating,
                                 registration_date=dt.date(2015, 3, 1), industry="C",
                                 uscc="91310000TEST00001X", name="Test Co.", size_class="small",
                                 operating_lat=None, operating_lng=None)
    return SimpleNamespace(pk=1, enterprise=enterprise, amount_requested=amount,
                           term_months=months)


def _edges(name: str):
    """Every profile value at the low and at the high end of its range, each choice once."""
    spec = lifecycle._PROFILES[name]
    for end, choice in itertools.product((0, 1), range(3)):
        yield {k: (v[choice % len(v)] if isinstance(v[0], str)
                   else v[end] if isinstance(v[0], int) else Decimal(str(v[end])))
               for k, v in spec.items()}


def _answers(items, application) -> dict:
    return {item.code: lifecycle._honest_value(item, application) for item in items}


@pytest.mark.django_db
def test_every_profile_at_the_edges_of_its_ranges_raises_no_flag(three_products):
    items, document = three_products
    policy = PolicyResolver()
    problems = []
    for name, firm in itertools.product(lifecycle._PROFILES, FIRMS):
        for drawn in _edges(name):
            application = _application(*firm)
            application._demo_profile = (name, drawn)
            values = derived_values(document, _answers(items, application), policy)
            found = red_flags(document, values, policy) + cross_checks(document, values, policy)
            if found:
                problems.append((name, firm[0], drawn, [f.code for f in found]))
    assert not problems, problems


@pytest.mark.django_db
def test_the_profiles_score_apart_on_the_champion(three_products):
    """The same firm scores best as an established firm, well below as any other kind (the
    spread the demo book's test requires of the seeded files)."""
    items, document = three_products
    policy = PolicyResolver()
    artefact = json.loads(DEFAULT_MODEL_PATH.read_text())
    model = MODEL_CLASSES[artefact["kind"]].from_json(artefact["artefact"])
    scores = {}
    for name in lifecycle._PROFILES:
        application = _application(*FIRMS[0])
        application._demo_profile = (name, lifecycle._profile_draw(application, name))
        checklist = derived_values(document, _answers(items, application), policy)
        enterprise = application.enterprise
        values = compute_values(
            enterprise={"annual_revenue": enterprise.annual_revenue,
                        "registration_date": enterprise.registration_date,
                        "as_of": dt.date(2026, 12, 1), "size_class": enterprise.size_class,
                        "industry": enterprise.industry,
                        "tax_credit_rating": enterprise.tax_credit_rating},
            terms={"amount_requested": application.amount_requested}, checklist=checklist,
            findings={"r3": 0, "r2": 0, "cross_checks": 0}, figures={}, exposure_total=None)
        columns = records_to_columns([values], model.feature_kinds)
        scores[name] = model.predict(columns, grades=DEFAULT_POLICY["grades"])[0]["score"]
    # Grades are 50 points wide in the shipped policy: each other profile is a grade or more
    # below the established firm.
    established = scores.pop("established")
    assert all(established - score > 100 for score in scores.values()), (established, scores)


@pytest.mark.django_db
@pytest.mark.parametrize("rating", ["A", "B", "M", "C", "D", ""])
def test_the_tax_grade_answered_is_the_one_on_record(three_products, rating):
    """Issue #18: a firm graded C on record is answered C (and flagged R3 for it), never A; a
    firm without a grade is a new taxpayer, M."""
    items, document = three_products
    (grade_item,) = [item for item in items if item.code == "B9_TAX_GRADE"]
    application = _application(*FIRMS[0][:3], rating)
    answer = lifecycle._honest_value(grade_item, application)
    assert answer == (rating or "M")
    values = derived_values(document, _answers(items, application), PolicyResolver())
    flagged = {f.code for f in red_flags(document, values, PolicyResolver())}
    assert ("TAX_GRADE_LOW" in flagged) == (rating in ("C", "D"))


def _document_evidence(application) -> dict:
    """The figures the demo's documents for this firm give, read back from the files made:
    bank inflows summed from the statement's transactions, the tax returns' last 12 months."""
    import csv
    import io

    from apps.documents import demo as documents_demo
    from apps.documents import samples

    figures = lifecycle.document_figures(application)
    txns = documents_demo._scaled(samples.transactions(seed=7), figures["bank.inflows_12m"])
    rows = list(csv.reader(io.StringIO(documents_demo._tax_returns(
        seed=7, revenue_12m=figures["tax.revenue_12m"],
        prior_12m=figures["tax.prior_revenue_12m"]).decode())))[1:]
    assert len(rows) == 24 and all(
        Decimal(tax) == (Decimal(revenue) * Decimal("0.03")).quantize(Decimal("0.01"))
        for _period, revenue, tax in rows)  # the tax check's 3% levy holds on every row
    return {"bank.inflows_12m": sum(t.amount for t in txns if t.amount > 0),
            "tax.revenue_12m": sum(Decimal(revenue) for _p, revenue, _t in rows[12:])}


@pytest.mark.django_db
def test_documents_agree_with_honest_answers_and_catch_made_up_ones(three_products):
    """Issue #18: the demo's bank statements and tax returns are at each firm's declared scale:
    the documents' cross-checks pass on every honest profile and firm size, and flag the
    box-ticked answers (the walk's made-up figures) against the same documents."""
    items, document = three_products
    policy = PolicyResolver()
    document_checks = {"SALES_VS_TAX_DOCUMENTS", "SALES_VS_BANK_DOCUMENTS",
                       "TYPED_TAX_VS_DOCUMENTS", "TYPED_INFLOWS_VS_DOCUMENTS"}
    problems = []
    for name, firm in itertools.product(lifecycle._PROFILES, FIRMS):
        for drawn in _edges(name):
            application = _application(*firm)
            application._demo_profile = (name, drawn)
            evidence = _document_evidence(application)
            values = derived_values(document, _answers(items, application), policy,
                                    evidence.get)
            found = cross_checks(document, values, policy, evidence.get)
            if found:
                problems.append((name, firm[0], [f.code for f in found]))
            ticked = {item.code: lifecycle._demo_value(item, application) for item in items}
            made_up = derived_values(document, ticked, policy, evidence.get)
            caught = {f.code for f in cross_checks(document, made_up, policy, evidence.get)}
            if not caught & document_checks:
                problems.append((name, firm[0], "box-ticked not caught"))
    assert not problems, problems
