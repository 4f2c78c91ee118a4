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
@pytest.mark.parametrize(("source", "age_days", "change", "code", "level", "seen"), [
    ("registry", 91, "pledge", "W11", 2, "某信托有限公司"),
    ("bureau", 31, "overdue", "W02", 2, "OTHER-9"),
    ("bureau", 31, "npa", "W02", 3, "OTHER-9"),
])
def test_a_registry_or_bureau_refresh_raises_its_signal_on_the_active_loan(
        hub, loan, source, age_days, change, code, level, seen):  # noqa: F811
    """W11 (a new pledge of the enterprise's equity at the registry) and W02 (a loan newly
    overdue or non-performing in the credit report) reach the loan as signals, at the level
    the policy says, like W10 and W12 above."""
    consent_for(loan.enterprise, loan.application.account_manager, purpose="post_loan",
                sources=[source])
    _refresh_and_run()
    assert not Signal.objects.exists()                     # the baseline raises nothing
    Pull.objects.update(fetched_at=timezone.now() - dt.timedelta(days=age_days))
    if change == "pledge":
        hub.registry.enterprises[loan.enterprise.uscc] = {"pledges": [
            {"registered_on": "2026-11-02", "pledgee": "某信托有限公司", "amount": "600000.00"}]}
    else:
        hub.bureau.add_loan(loan.enterprise.uscc, "OTHER-9", status=change,
                            dpd=40 if change == "overdue" else 120)
    [pull] = _refresh_and_run()
    signal = Signal.objects.get(loan=loan)
    assert (signal.code, signal.level, signal.branch_id) == (code, level, loan.branch_id)
    assert seen in signal.observed and str(pull.query_id) in signal.source


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


# W07 / W08 from pulled tax and utility months --------------------------------------------


def _months(first: str, values: list[str]) -> dict[str, Decimal]:
    from apps.monitoring.evaluators import _months_back

    return {_months_back(first, -i): Decimal(v) for i, v in enumerate(values)}


def _year_on_year(before: str, now: str) -> dict[str, Decimal]:
    """Oct–Dec 2024 at `before` a month, Oct–Dec 2025 at `now` a month (and filler between)."""
    series = _months("2024-10", [before] * 3 + ["100"] * 9)
    series.update(_months("2025-10", [now] * 3))
    return series


@pytest.mark.django_db
@pytest.mark.parametrize(("now", "fires"), [("70.00", False),     # exactly 30 % down: no
                                            ("69.99", True),      # just over 30 %: fires
                                            ("100", False)])
def test_w07_fires_above_the_policy_drop_and_not_at_it(now, fires):
    from apps.monitoring.external_signals import series_observations
    from apps.monitoring.policy import Policy

    seed_monitoring()
    [o] = series_observations("W07", {"tax_paid": _year_on_year("100", now)}, policy=Policy())
    assert (o.level > 0) is fires
    if fires:
        assert o.details["months"] == ["2025-10", "2025-11", "2025-12"]
        assert (o.observed, o.baseline) == ("209.97", "300")


@pytest.mark.django_db
def test_w08_reads_water_as_well_as_electricity_and_needs_a_year_of_months():
    from apps.monitoring.external_signals import series_observations
    from apps.monitoring.policy import Policy

    seed_monitoring()
    found = series_observations("W08", {"kwh": _year_on_year("100", "100"),
                                        "water_m3": _year_on_year("100", "60")},
                                policy=Policy())
    assert [(o.details["field"], o.level > 0) for o in found] == [("water_m3", True),
                                                                    ("kwh", False)]
    short = _months("2025-01", ["100"] * 12)        # no year-earlier months: nothing to say
    assert series_observations("W08", {"kwh": short}, policy=Policy())[0].level == 0


@pytest.mark.django_db
def test_w07_threshold_is_policy_data():
    from apps.monitoring.external_signals import series_observations
    from apps.monitoring.policy import Policy

    seed_monitoring()
    series = {"tax_paid": _year_on_year("100", "75")}           # 25 % down
    assert series_observations("W07", series, policy=Policy())[0].level == 0
    _publish("signal.w07.drop_ratio_gt", "0.20")
    assert series_observations("W07", series, policy=Policy())[0].level > 0


def _earlier_tax_answer(enterprise, tax_paid: str) -> None:
    """A tax answer of a year before the stand-in's (2024 months), stored as the hub would."""
    from apps.datahub.models import Record

    fetched = timezone.now() - dt.timedelta(days=400)
    pull = Pull.objects.create(enterprise=enterprise, branch_id=enterprise.branch_id,
                               source="tax", purpose="post_loan", channel="file",
                               state="succeeded", price=0, fetched_at=fetched,
                               finished_at=fetched, format_version="tax/1")
    Record.objects.bulk_create([
        Record(pull=pull, enterprise=enterprise, source="tax", kind="month", key=month,
               data={"month": month, "sales": "1", "tax_paid": tax_paid},
               query_id=pull.query_id, fetched_at=fetched, format_version="tax/1")
        for month in _months("2024-01", ["0"] * 12)])


@pytest.mark.django_db
def test_a_tax_refresh_with_a_sharp_drop_raises_w07_on_the_active_loan(hub, loan):  # noqa: F811
    consent_for(loan.enterprise, loan.application.account_manager, purpose="post_loan",
                sources=["tax"])
    _earlier_tax_answer(loan.enterprise, "20000.00")      # the stand-in answers 7,500 a month
    [pull] = _refresh_and_run()
    assert pull.source == "tax"
    signal = Signal.objects.get(loan=loan)
    assert (signal.code, signal.level) == ("W07", 2)
    assert "2025-10, 2025-11, 2025-12" in signal.observed and signal.baseline == "60000.00"
    assert str(pull.query_id) in signal.source
    assert AuditEvent.objects.filter(action="signal.raised").count() == 1


@pytest.mark.django_db
def test_a_tax_refresh_without_a_drop_raises_nothing(hub, loan):  # noqa: F811
    consent_for(loan.enterprise, loan.application.account_manager, purpose="post_loan",
                sources=["tax", "utility"])
    _earlier_tax_answer(loan.enterprise, "7500.00")
    pulls = _refresh_and_run()
    assert sorted(p.source for p in pulls) == ["tax", "utility"]
    assert not Signal.objects.exists()
    assert Pull.objects.get(pk=pulls[0].pk).changes[0]["code"] in ("W07", "W08")
