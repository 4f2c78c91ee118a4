from decimal import Decimal

import pytest

from apps.applications.exposure import exposure_of, group_exposure
from apps.applications.states import ApplicationState as S
from apps.applications.tests.factories import World
from apps.parties.models import Relationship, RelationshipKind
from apps.products.conditions import ConditionValueError, normalise_value
from apps.products.eligibility import evaluate
from apps.products.facts import FACTS

pytestmark = pytest.mark.django_db


def test_exposure_sums_booked_approved_and_pipeline_for_the_group():
    world = World()
    booked = world.in_state(S.DISBURSED)  # approved at the full 500,000 requested
    sister = world.enterprise()
    Relationship.objects.create(kind=RelationshipKind.RELATED_ENTERPRISE,
                                from_enterprise=booked.enterprise, to_enterprise=sister)
    world.draft(enterprise=sister, amount_requested=Decimal("200000"))
    exposure = group_exposure(enterprise_id=booked.enterprise_id)
    assert exposure.enterprise_ids == {booked.enterprise_id, sister.pk}
    assert (exposure.existing, exposure.approved, exposure.requested) == (
        Decimal("500000"), 0, Decimal("200000"))
    assert exposure.total == Decimal("700000")


def test_closed_files_do_not_count():
    world = World()
    rejected = world.in_state(S.REJECTED)
    assert exposure_of({rejected.enterprise_id}).total == 0


def test_group_exposure_is_a_fact_entry_conditions_can_use():
    world = World()
    assert "group_exposure" in FACTS
    assert normalise_value("group_exposure", "lte", "10000000") == "10000000"
    with pytest.raises(ConditionValueError):
        normalise_value("group_exposure", "in", ["A"])
    app = world.draft(amount_requested=Decimal("800000"))
    from apps.products.models import EntryCondition

    cap = EntryCondition(version=world.version, code="cap", fact="group_exposure",
                         operator="lte", value="500000", reason_en="Cap", reason_zh="上限")
    result = evaluate(version=world.version, enterprise=app.enterprise, on=app.created_at.date(),
                      conditions=[cap])
    assert not result.eligible and Decimal(result.failures[0].actual) == Decimal("800000")
