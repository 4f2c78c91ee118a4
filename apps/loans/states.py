from django.db.models import TextChoices
from django.utils.translation import gettext_lazy as _


class ContractState(TextChoices):
    SIGNED = "signed", _("Signed")
    CLOSED = "closed", _("Closed")
    CANCELLED = "cancelled", _("Cancelled")


class DisbursementState(TextChoices):
    REQUESTED = "requested", _("Requested, awaiting the second officer")
    APPROVED = "approved", _("Approved and booked")
    REJECTED = "rejected", _("Rejected by the second officer")
    CANCELLED = "cancelled", _("Cancelled by the requester")


class LoanState(TextChoices):
    """The loan note (借据) lifecycle. Delinquency is not a state: it is days past due,
    computed from the schedule and the repayments, with its own history (as mature cores do)."""

    PENDING = "pending", _("Pending (booked, value date not reached)")
    ACTIVE = "active", _("Active")
    SETTLED = "settled", _("Settled")
    RESTRUCTURED = "restructured", _("Restructured")
    WRITTEN_OFF = "written_off", _("Written off")
    TRANSFERRED = "transferred", _("Transferred")


# Loans the book still carries: DPD is recomputed and monitoring watches them.
OPEN_LOAN_STATES = frozenset({LoanState.PENDING, LoanState.ACTIVE, LoanState.RESTRUCTURED})


class LoanChangeState(TextChoices):
    """A four-eyes request to restructure, write off or transfer a loan."""

    REQUESTED = "requested", _("Requested, awaiting the second officer")
    APPROVED = "approved", _("Approved and applied")
    REJECTED = "rejected", _("Rejected by the second officer")
