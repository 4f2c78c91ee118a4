"""A confirmed breach raises W25 (level 2, rule data), which sets the loan's warning level and
opens the level's mandatory actions, as any other signal does."""

from apps.monitoring import covenant_services as services
from apps.monitoring.models import Action, LoanRiskStatus, Signal, SignalRule

from .conftest import submit_check


def test_catalogue_entries_seeded_as_rule_data(world):
    rules = {r.code: r for r in SignalRule.objects.filter(code__in=["W25", "W26"])}
    assert (rules["W25"].level, rules["W25"].implies_floor) == (2, True)
    assert (rules["W26"].level, rules["W26"].implies_floor) == (1, False)
    assert rules["W25"].name_zh and rules["W26"].name_zh


def test_breach_raises_signal_and_opens_actions(world, scheduled):
    loan, check, _review = scheduled
    submit_check(check, world.user("postloan.north"), result="breached")
    assert not Signal.objects.filter(loan=loan, code="W25").exists()  # not on one word
    services.covenant_check_breach(check_id=check.pk, actor=world.user("reviewer.north"),
                                   note="Only 35% of receipts came through us")
    signal = Signal.objects.get(loan=loan, code="W25")
    assert signal.level == 2 and signal.state == "open"
    assert signal.observed == check.covenant.text[:200]
    assert LoanRiskStatus.objects.get(loan=loan).warning_level == 2
    kinds = set(Action.objects.filter(loan=loan, signal=signal).values_list("kind", flat=True))
    assert kinds == {"contact", "special_check", "stop_drawdowns", "extra_collateral"}
    assert all(a.owner_id == loan.officer_id for a in Action.objects.filter(loan=loan))


def test_officer_reporting_breach_can_be_overruled(world, scheduled):
    loan, check, _review = scheduled
    submit_check(check, world.user("postloan.north"), result="breached")
    accepted = services.covenant_check_accept(check_id=check.pk,
                                              actor=world.user("lead.north"),
                                              note="Receipts via the sister account count")
    assert accepted.result == "complied"
    assert not Signal.objects.filter(loan=loan, code="W25").exists()
