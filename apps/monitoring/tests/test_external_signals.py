"""W02/W10–W12 from the data hub: a later refresh raises a signal on an active loan, at the
level the policy says, audited per loan and branch (apps/monitoring/external_signals.py)."""

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from apps.audit.models import AuditEvent
from apps.datahub import services
from apps.datahub.models import Pull
from apps.datahub.refresh import refresh_due
from apps.datahub.tests.conftest import consent_for, hub, loopback  # noqa: F401 (fixtures)
from apps.monitoring.external_signals import EXTERNAL_POLICY, external_change_raise
from apps.monitoring.models import Signal
from apps.monitoring.policy import MissingPolicy
from apps.monitoring.seed import seed_monitoring


@pytest.fixture
def loan(hub, db):  # noqa: F811 (the fixture imported above)
    from apps.applications.tests.factories import World
    from apps.monitoring.tests.inspections.inspection_factories import make_loan

    seed_monitoring()
    return make_loan(World())


def _publish(key: str, value: str) -> None:
    """A bank changes a level by publishing a new version (never by editing version 1)."""
    from apps.investigations.models import PolicyValue

    first = PolicyValue.objects.get(key=key, version=1)
    PolicyValue.objects.create(key=key, version=2, value=Decimal(value), unit=first.unit,
                               evidence=first.evidence, source_citation="test",
                               effective_from=timezone.localdate())


def _refresh_and_run() -> list[Pull]:
    refresh_due()
    pulls = list(Pull.objects.filter(state="requested"))
    for pull in pulls:
        services.pull_run(pull_id=pull.pk)
    return pulls


@pytest.mark.django_db
def test_a_later_court_refresh_raises_w10_on_the_active_loan(hub, loan):  # noqa: F811
    consent_for(loan.enterprise, loan.application.account_manager, purpose="post_loan",
                sources=["court"])
    _refresh_and_run()
    assert not Signal.objects.exists()                     # a clean baseline: nothing raised
    Pull.objects.update(fetched_at=timezone.now() - dt.timedelta(days=31))
    hub.court.add_dishonest(loan.enterprise.uscc, "(2026)浙01执77号")
    [pull] = _refresh_and_run()
    signal = Signal.objects.get(loan=loan)
    assert (signal.code, signal.level, signal.branch_id) == ("W10", 3, loan.branch_id)
    assert "(2026)浙01执77号" in signal.observed and str(pull.query_id) in signal.source
    event = AuditEvent.objects.get(action="signal.raised")
    assert (event.branch_id, event.application_id, event.enterprise_id) == (
        loan.branch_id, loan.application_id, loan.enterprise_id)
    assert event.payload["code"] == "W10" and event.payload["level"] == 3
    assert loan.risk_status.warning_level == 3


@pytest.mark.django_db
def test_the_level_is_policy_data(hub, loan):  # noqa: F811
    _publish("signal.w12.legal_representative.level", "3")
    consent_for(loan.enterprise, loan.application.account_manager, purpose="post_loan",
                sources=["registry"])
    _refresh_and_run()
    Pull.objects.update(fetched_at=timezone.now() - dt.timedelta(days=91))
    hub.registry.enterprises[loan.enterprise.uscc] = {"legal_representative": {"name": "赵六"}}
    _refresh_and_run()
    signal = Signal.objects.get(loan=loan, code="W12")
    assert signal.level == 3 and signal.baseline.startswith("王立")


@pytest.mark.django_db
def test_a_kind_switched_off_raises_nothing_and_a_missing_level_is_an_error(loan):
    _publish("signal.w11.pledge.level", "0")
    assert external_change_raise(loan_id=loan.pk, code="W11", kind="pledge", source="t",
                                 observed="pledged") is None
    assert external_change_raise(loan_id=loan.pk, code="W99", kind="x", source="t",
                                 observed="?") is None
    from apps.investigations.models import PolicyValue

    PolicyValue.objects.filter(key="signal.w10.dishonest.level").delete()
    with pytest.raises(MissingPolicy):
        external_change_raise(loan_id=loan.pk, code="W10", kind="dishonest", source="t",
                              observed="listed")
    assert not Signal.objects.exists()


def test_every_kind_has_its_level_in_policy():
    from apps.monitoring.external_signals import EXTERNAL_RULES, LEVEL_KEYS

    keys = {k for k, *_ in EXTERNAL_POLICY}
    assert set(LEVEL_KEYS.values()) == keys
    assert {code for code, _kind in LEVEL_KEYS} == {r[0] for r in EXTERNAL_RULES}
