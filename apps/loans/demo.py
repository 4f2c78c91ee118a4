"""Demo loan book: the approved demo files contracted and disbursed by the branch's two
operations officers, back-dated so each loan has months of history: one file in two tranches,
one left contracted and undrawn. The repayment histories come through the core-banking feed
(`apps.loans.demo_history`): most borrowers pay on time, one bounces a payment (~30 days past
due), one pays only the interest (~61 days), one slipped once and caught up; one late payer
is restructured and one who stopped paying months ago is written off. Then the nightly days-
past-due recomputation (the demo seed then starts the post-loan classification run, which
belongs to the monitoring app).

Idempotent: files that already have a contract are skipped, only loans booked in this run get
a history, and the two changes are made only once."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.utils import timezone

from apps.accounts.models import User
from apps.applications.models import Application
from apps.applications.states import ApplicationState as S
from apps.loans import demo_history as history
from apps.loans.demo_history import Profile
from apps.loans.models import Loan, LoanChange, PaymentMode, ScheduleMethod
from apps.loans.schedules import add_months
from apps.loans.seed import seed_loan_policy
from apps.loans.services.contracts import contract_create
from apps.loans.services.disbursements import disbursement_approve, disbursement_request
from apps.loans.services.lifecycle import loan_change_approve, loan_change_request

_ACCOUNT = "62220202001{:05d}"

# One behaviour per file, in file order (the later files pay on time). The late payers come
# early so that even a small book has them.
PROFILES = [
    Profile(history.ON_TIME, months_on_book=9),  # drawn in two tranches
    Profile(history.BOUNCED, missed_from=5, days_late=30),
    Profile(history.STOPPED, missed_from=4, days_late=150),  # written off
    Profile(history.PARTIAL, missed_from=6, days_late=61),
    Profile(history.LATE, missed_from=6, days_late=45),  # restructured
    Profile(history.CURED, months_on_book=8),
    Profile(history.ON_TIME, months_on_book=7),
]
RESTRUCTURE, WRITE_OFF = 4, 2  # indexes into PROFILES


def profile_for(index: int) -> Profile:
    if index < len(PROFILES):
        return PROFILES[index]
    return Profile(history.ON_TIME, months_on_book=4 + index % 6)


def value_date_for(profile: Profile, index: int, today: dt.date) -> dt.date:
    """A past value date that gives the profile its history: for a late payer, the first
    missed instalment falls due `days_late` days before today."""
    if profile.late:
        due = today - dt.timedelta(days=profile.days_late)
        due -= dt.timedelta(days=max(due.day - 28, 0))  # no month-end clipping
        return add_months(due, -profile.missed_from)
    return add_months(today, -profile.months_on_book) - dt.timedelta(days=(index * 5) % 20)


def _tranche(contract, amount: Decimal, maker: User, checker: User,
             value_date: dt.date) -> Loan:
    # Back-dated on purpose: the demo books loans paid out months ago (audited as such).
    request = disbursement_request(
        contract_id=contract.pk, actor=maker, amount=amount, value_date=value_date,
        borrower_account=_ACCOUNT.format(contract.enterprise_id),
        payment_mode=PaymentMode.INDEPENDENT, allow_past_value_date=True)
    return disbursement_approve(disbursement_id=request.pk, actor=checker,
                                note="Account and amount checked against the contract.",
                                allow_past_value_date=True)


def seed_demo_loans(*, today: dt.date | None = None) -> dict[str, int]:
    """Contract every approved demo file whose method can be scheduled, draw all but the last,
    import their repayment histories and run the post-loan jobs once."""
    from apps.approvals.demo import satisfy_conditions

    today = today or timezone.localdate()
    seed_loan_policy()
    counts = {"contracts": 0, "loans": 0}
    approved = list(Application.objects.filter(
        state=S.APPROVED, loan_contract__isnull=True, repayment_method__in=ScheduleMethod.values)
        .select_related("branch").order_by("pk"))
    booked: list[tuple[Loan, Profile]] = []
    for index, application in enumerate(approved):
        code = application.branch.code
        maker = User.objects.get(username=f"ops.{code}")
        checker = User.objects.get(username=f"ops2.{code}")
        satisfy_conditions(application, User.objects.get(username=f"postloan.{code}"))
        contract = contract_create(application_id=application.pk, actor=maker,
                                   signing_mode="video" if index % 2 else "in_person",
                                   signing_place=f"{application.branch.name}",
                                   signing_witness=checker)
        counts["contracts"] += 1
        if index == len(approved) - 1 and index >= 2:
            continue  # signed, waiting for its first drawdown
        profile = profile_for(index)
        value_date = value_date_for(profile, index, today)
        if index == 0 and contract.amount >= Decimal("2.00"):
            first = (contract.amount * Decimal("0.6")).quantize(Decimal("0.01"))
            second_date = min(add_months(value_date, 1), today)
            for amount, day in ((first, value_date), (contract.amount - first, second_date)):
                booked.append((_tranche(contract, amount, maker, checker, day), profile))
        else:
            booked.append((_tranche(contract, contract.amount, maker, checker, value_date),
                           profile))
    counts["loans"] = len(booked)
    if booked:
        rows = [row for loan, profile in booked
                for row in history.feed_rows(loan, profile, today=today)]
        history.import_rows(rows, today=today)
        counts["repayment records"] = sum(1 for r in rows if r["kind"] != "balance")
        counts.update(_seed_changes(booked, today))
        _nightly_dpd(today)
    return counts


def _seed_changes(booked: list[tuple[Loan, Profile]], today: dt.date) -> dict[str, int]:
    """The late payer restructured and the borrower who stopped paying written off, the
    first time only (today: the history leads up to the decision)."""
    made: dict[str, int] = {}
    if LoanChange.objects.exists():
        return made
    by_profile = {}
    for loan, profile in booked:
        by_profile.setdefault(profile, loan)
    plan = []
    if len(PROFILES) > RESTRUCTURE and PROFILES[RESTRUCTURE] in by_profile:
        plan.append((by_profile[PROFILES[RESTRUCTURE]], LoanChange.Kind.RESTRUCTURE,
                     "Orders delayed by a key customer; 45 days behind, but cash flow "
                     "supports a longer term.",
                     {"term_months": 24, "annual_rate": "4.350", "method": "equal_principal"}))
    if PROFILES[WRITE_OFF] in by_profile:
        plan.append((by_profile[PROFILES[WRITE_OFF]], LoanChange.Kind.WRITE_OFF,
                     "Borrower ceased trading five months ago; collateral realised; "
                     "recovery through the court.", {}))
    for loan, kind, reason, terms in plan:
        code = loan.branch.code
        change = loan_change_request(loan_id=loan.pk, actor=User.objects.get(
            username=f"ops.{code}"), kind=kind, reason=reason, terms=terms)
        loan = loan_change_approve(change_id=change.pk, note="Checked against the credit file.",
                                   actor=User.objects.get(username=f"ops2.{code}"))
        made[str(kind)] = 1
        if kind == LoanChange.Kind.RESTRUCTURE:
            # The core capitalises the arrears into the new schedule and says so next feed.
            history.import_rows([history.balance_row(loan, today=today, suffix="restructured",
                                                     outstanding=loan.outstanding_principal)],
                                today=today, name="restructured")
    return made


def _nightly_dpd(today: dt.date) -> None:
    """What the nightly job does, run here at once: every open loan from scratch, by the
    production sweep on either database (apps.loans.dpd_store: arrays on PostgreSQL, the
    reference engine elsewhere)."""
    from apps.loans.dpd_sweep import chunk_size, dpd_recompute_chunk, open_loan_ranges

    for first_id, last_id in open_loan_ranges(chunk_size()):
        dpd_recompute_chunk(first_id=first_id, last_id=last_id, as_of=today)

