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
