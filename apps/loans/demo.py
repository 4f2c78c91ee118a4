"""Demo loan book: the approved demo files contracted and disbursed by the branch's two
operations officers (one file in two tranches), then one loan restructured and one written
off, all through the services. Idempotent: files that already have a contract are skipped,
and the two changes are made only once."""

from __future__ import annotations

from decimal import Decimal

from django.utils import timezone

from apps.accounts.models import User
from apps.applications.models import Application
from apps.applications.states import ApplicationState as S
from apps.loans.models import Loan, LoanChange, PaymentMode, ScheduleMethod
from apps.loans.seed import seed_loan_policy
from apps.loans.services.contracts import contract_create
from apps.loans.services.disbursements import disbursement_approve, disbursement_request
from apps.loans.services.lifecycle import loan_change_approve, loan_change_request
from apps.loans.states import LoanState

_ACCOUNT = "62220202001{:05d}"


def _tranche(contract, amount: Decimal, maker: User, checker: User) -> Loan:
    request = disbursement_request(
        contract_id=contract.pk, actor=maker, amount=amount, value_date=timezone.localdate(),
        borrower_account=_ACCOUNT.format(contract.enterprise_id),
        payment_mode=PaymentMode.INDEPENDENT)
    return disbursement_approve(disbursement_id=request.pk, actor=checker,
                                note="Account and amount checked against the contract.")


def seed_demo_loans() -> dict[str, int]:
    """Contract and disburse every approved demo file whose method can be scheduled."""
    from apps.approvals.demo import satisfy_conditions

    seed_loan_policy()
    counts = {"contracts": 0, "loans": 0}
    approved = (Application.objects.filter(state=S.APPROVED, loan_contract__isnull=True,
                                           repayment_method__in=ScheduleMethod.values)
                .select_related("branch").order_by("pk"))
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
        if index == 0 and contract.amount >= Decimal("2.00"):
            first = (contract.amount * Decimal("0.6")).quantize(Decimal("0.01"))
            for amount in (first, contract.amount - first):
                _tranche(contract, amount, maker, checker)
                counts["loans"] += 1
        else:
            _tranche(contract, contract.amount, maker, checker)
            counts["loans"] += 1
    counts.update(_seed_changes())
    return counts


def _seed_changes() -> dict[str, int]:
    """One restructured and one written-off loan, the first time only."""
    made = {}
    if LoanChange.objects.exists():
        return made
    active = list(Loan.objects.filter(state=LoanState.ACTIVE).select_related("branch")
                  .order_by("pk")[:3])
    if len(active) < 2:
        return made
    restructure, write_off = active[-2], active[-1]
    for loan, kind, reason, terms in (
            (restructure, LoanChange.Kind.RESTRUCTURE,
             "Orders delayed by a key customer; cash flow supports a longer term.",
             {"term_months": 24, "annual_rate": "4.350", "method": "equal_principal"}),
            (write_off, LoanChange.Kind.WRITE_OFF,
             "Borrower ceased trading; collateral realised; recovery through the court.",
             {})):
        code = loan.branch.code
        change = loan_change_request(loan_id=loan.pk, actor=User.objects.get(
            username=f"ops.{code}"), kind=kind, reason=reason, terms=terms)
        loan_change_approve(change_id=change.pk, actor=User.objects.get(username=f"ops2.{code}"),
                            note="Checked against the credit file.")
        made[str(kind)] = 1
    return made
