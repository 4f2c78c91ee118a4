"""The demo seeds a realistic loan book (issue 14): back-dated loans with repayment histories
imported through the core-banking feed, most paying on time, a few late, one restructured,
one written off, the post-loan run done; and seeding again adds nothing."""

import pytest
from django.utils import timezone, translation

from apps.audit.models import AuditEvent
from apps.demo.seed import seed_demo
from apps.loans.models import (
    FeedImport,
    Loan,
    LoanChange,
    LoanContract,
    LoanDpd,
    RepaymentEvent,
)
from apps.loans.states import LoanState
from apps.monitoring.models import ClassificationRun, Signal


def _book() -> tuple:
    return (LoanContract.objects.count(), Loan.objects.count(), RepaymentEvent.objects.count(),
            FeedImport.objects.count(), LoanDpd.objects.count(), LoanChange.objects.count(),
            ClassificationRun.objects.count(), Signal.objects.count())


@pytest.mark.django_db
def test_the_demo_book_has_histories_late_payers_and_is_seeded_once():
    today = timezone.localdate()
    with translation.override("en"):
        seed_demo(with_business_data=True)
    loans = list(Loan.objects.order_by("pk"))
    assert len(loans) >= 8
    # Booked back-dated through the audited option, months before today.
    assert all(loan.value_date <= today.replace(day=1) for loan in loans)
    booked = AuditEvent.objects.filter(action="loan.booked")
    assert booked.count() == len(loans)
    assert all(event.payload.get("back_dated") is True for event in booked)
    # One contract signed and not drawn yet; one file drawn in two tranches.
    assert LoanContract.objects.filter(loans__isnull=True).count() == 1
    # Every loan has a history from the core feed, imported as accepted batches.
    assert not Loan.objects.filter(repayments__isnull=True).exists()
    feeds = FeedImport.objects.all()
    assert feeds and all(f.outcome == FeedImport.Outcome.ACCEPTED for f in feeds)
    assert AuditEvent.objects.filter(action="loan_feed.imported").count() == feeds.count()
    assert RepaymentEvent.objects.filter(kind=RepaymentEvent.Kind.REVERSAL).count() == 1
    assert not Loan.objects.filter(balance_as_of__isnull=True).exists()

    active = Loan.objects.filter(state=LoanState.ACTIVE)
    late = [loan for loan in active if loan.dpd > 0]
    assert 2 <= len(late) <= 3
    assert any(30 <= loan.dpd < 60 for loan in late)
    assert any(loan.dpd >= 60 for loan in late)
    assert all(LoanDpd.objects.filter(loan=loan).exists() for loan in late)
    assert active.filter(dpd_principal=0, dpd_interest=0).count() > len(late)
    # A past slip made good shows in the history of a loan now current.
    cured = {d.loan_id for d in LoanDpd.objects.filter(dpd_principal=0, dpd_interest=0)}
    assert active.filter(pk__in=cured, dpd_principal=0, dpd_interest=0).exists()
    for loan in late:
        assert loan.dpd_as_of == today and loan.overdue_principal + loan.overdue_interest > 0

    (restructured,) = Loan.objects.filter(state=LoanState.RESTRUCTURED)
    assert restructured.schedule_version == 2
    assert restructured.overdue_principal == restructured.overdue_interest == 0
    assert restructured.repayments.count() >= 3
    (written_off,) = Loan.objects.filter(state=LoanState.WRITTEN_OFF)
    assert written_off.dpd >= 90  # stopped paying months before the write-off
    assert written_off.outstanding_principal > 0

    # The post-loan run as of today found the late payers.
    run = ClassificationRun.objects.get(as_of=today)
    assert run.state == "done" and run.loans_total >= len(late)
    assert Signal.objects.filter(loan__in=late).exists()

    # Issue #18: the approver, a committee and a team lead each have work waiting.
    from apps.accounts.models import User
    from apps.applications.models import Application
    from apps.applications.states import ApplicationState
    from apps.approvals.selectors import inbox_count

    assert sum(inbox_count(viewer=u) for u in User.objects.filter(
        username__in=["approver.north", "approver.south"])) >= 1
    assert any(inbox_count(viewer=u) for u in User.objects.filter(
        committee_seats__isnull=False).distinct())
    assert Application.objects.filter(state=ApplicationState.SUBMITTED).exists()

    # Issue #18: honest files carry none of the box-ticking findings the honest walk already
    # avoids (copied narratives, made-up figures); the one box-ticked file carries them.
    from apps.investigations.models import Investigation

    box_ticking = {"NARRATIVE_COPIED", "NARRATIVE_REWORDED", "BALANCE_THIN", "LEVERAGE_HIGH",
                   "INFLOW_BELOW_DECLARED", "SALES_XCHECK", "EQUITY_CHECK",
                   "INSTALMENT_UNAFFORDABLE", "ONLINE_LOANS_BURST", "REPEATED_DELINQUENCY"}
    flagged = {}
    for investigation in Investigation.objects.all():
        codes = {f.get("code") for f in [*(investigation.red_flags or []),
                                         *(investigation.cross_check_findings or [])]}
        flagged[investigation.pk] = codes & box_ticking
    assert len(flagged) >= 10
    (ticked,) = [pk for pk, codes in flagged.items() if codes]
    assert flagged[ticked] >= box_ticking - {"NARRATIVE_COPIED", "NARRATIVE_REWORDED"}

    before = _book()
    with translation.override("en"):
        seed_demo(with_business_data=True)
    assert _book() == before
