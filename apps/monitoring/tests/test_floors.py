"""Classification floors against the regulation's table (§5.2, §5.3 test cases)."""

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from apps.investigations.models import PolicyValue
from apps.monitoring.floors import add_months
from apps.monitoring.models import LoanRestructuring
from apps.monitoring.services.classification import loan_floor
from apps.monitoring.services.signals import signal_raise


@pytest.mark.parametrize(("dpd", "floor"), [
    (0, "normal"), (1, "special_mention"), (89, "special_mention"), (90, "special_mention"),
    (91, "substandard"), (270, "substandard"), (271, "doubtful"), (360, "doubtful"),
    (361, "loss")])
def test_dpd_floor_table(world, dpd, floor):
    loan = world.loan(dpd=dpd)
    assert loan_floor(loan_id=loan.pk).floor == floor


def test_interest_dpd_counts_like_principal(world):
    assert loan_floor(loan_id=world.loan(dpd_interest=95).pk).floor == "substandard"


def test_boundary_is_policy(world):
    """A bank that reads '≥ 90' publishes a new version; 90 dpd is then 次级."""
    PolicyValue.objects.create(key="classification.floor.substandard.dpd_gt", value=89,
                               version=2, effective_from=dt.date(2024, 1, 1), evidence="G")
    found = loan_floor(loan_id=world.loan(dpd=90).pk)
    assert found.floor == "substandard"
    assert found.reasons[0]["policy"]["classification.floor.substandard.dpd_gt"] == 2


def _three_claims(world, npa_share_of_total: str):
    """A debtor with three claims; the first is 120 dpd and holds the given share."""
    firm = world.enterprise()
    share = Decimal(npa_share_of_total)
    total = Decimal("1000000")
    npa = world.loan(enterprise=firm, dpd=120, outstanding=str(total * share))
    rest = (total - total * share) / 2
    others = [world.loan(enterprise=firm, outstanding=str(rest)) for _ in range(2)]
    return npa, others


def test_cross_default_12_percent_makes_all_claims_npa(world):
    npa, others = _three_claims(world, "0.12")
    assert loan_floor(loan_id=npa.pk).floor == "substandard"
    for loan in others:
        found = loan_floor(loan_id=loan.pk)
        assert found.floor == "substandard"
        assert found.reasons[-1]["rule"] == "cross_default"
        assert found.reasons[-1]["observed"] == "0.1200"


def test_cross_default_8_percent_no_contagion(world):
    _npa, others = _three_claims(world, "0.08")
    assert [loan_floor(loan_id=loan.pk).floor for loan in others] == ["normal", "normal"]


def test_cross_default_ignores_other_borrowers(world):
    world.loan(dpd=200)
    assert loan_floor(loan_id=world.loan().pk).floor == "normal"


def test_restructured_loan_keeps_floor_through_observation(world):
    today = timezone.localdate()
    loan = world.loan(state="restructured")
    LoanRestructuring.objects.create(loan=loan, restructured_on=add_months(today, -11),
                                     source="test")
    found = loan_floor(loan_id=loan.pk)
    assert found.floor == "substandard"
    assert found.reasons[0]["rule"] == "restructured"


def test_restructured_loan_after_observation_period(world):
    loan = world.loan(state="restructured")
    LoanRestructuring.objects.create(loan=loan, restructured_on=add_months(
        timezone.localdate(), -12) - dt.timedelta(days=1), source="test")
    assert loan_floor(loan_id=loan.pk).floor == "normal"


def test_open_signal_implies_floor(world):
    loan = world.loan()
    signal_raise(loan_id=loan.pk, code="W17", observed="funds paid to a property developer",
                 source="first check")
    assert loan_floor(loan_id=loan.pk).floor == "substandard"
    other = world.loan()
    signal_raise(loan_id=other.pk, code="W18", observed="refused the visit", source="check")
    assert loan_floor(loan_id=other.pk).floor == "special_mention"


def test_closed_loan_has_no_floor(world):
    assert loan_floor(loan_id=world.loan(state="settled", dpd=400).pk) is None
