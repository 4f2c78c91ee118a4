"""States and vocabularies of loan covenants and annual reviews (domain reference §6.3:
"each covenant has a test frequency, a data source, a test result history and a breach →
waiver or action workflow"; §4.1 periodic reviews)."""

from django.db.models import TextChoices
from django.utils.translation import gettext_lazy as _


class CovenantKind(TextChoices):
    """What a covenant asks of the borrower; each kind has its test frequency in policy."""

    FINANCIAL_RATIO = "financial_ratio", _("Financial ratio (e.g. a leverage cap)")
    INFORMATION = "information", _("Information undertaking (e.g. monthly VAT returns)")
    USE_OF_FUNDS = "use_of_funds", _("Use of funds as agreed")
    OTHER = "other", _("Other undertaking")


class CovenantSource(TextChoices):
    CONTRACT = "contract", _("Loan contract (approval conditions)")
    OFFICER = "officer", _("Added by a post-loan officer")


class CovenantResult(TextChoices):
    """What the officer found when testing the covenant."""

    COMPLIED = "complied", _("Complied")
    BREACHED = "breached", _("Breached")


class CovenantCheckState(TextChoices):
    """scheduled → due (reminder window open) → submitted → accepted / breached; overdue
    once the due date passes without a submission (still submittable)."""

    SCHEDULED = "scheduled", _("Scheduled")
    DUE = "due", _("Due soon")
    OVERDUE = "overdue", _("Overdue")
    SUBMITTED = "submitted", _("Submitted, awaiting a second person")
    ACCEPTED = "accepted", _("Accepted: complied")
    BREACHED = "breached", _("Breach confirmed")
    CANCELLED = "cancelled", _("Not tested: the covenant was waived or ended")


class CovenantState(TextChoices):
    """active (tested) → waived (not tested until a date, then active again) → ended (never
    tested again). Moves only through an approved `CovenantChange` (four-eyes, §6.3
    "breach → waiver or action workflow"; §6.4 waivers need someone other than the
    requester)."""

    ACTIVE = "active", _("Tested")
    WAIVED = "waived", _("Waived for a period")
    ENDED = "ended", _("Ended: no longer tested")


class CovenantChangeKind(TextChoices):
    AMEND = "amend", _("Amend the covenant")
    WAIVE = "waive", _("Waive it for a period")
    END = "end", _("End it")


class CovenantChangeState(TextChoices):
    """proposed → approved (waiting for its start day) → in effect; or rejected / withdrawn.
    An approval on or after the start day takes effect at once; otherwise the daily covenant
    sweep applies it on its start day (inclusive)."""

    PROPOSED = "proposed", _("Proposed, awaiting a second person")
    APPROVED = "approved", _("Approved, takes effect on its start day")
    IN_EFFECT = "in_effect", _("In effect")
    REJECTED = "rejected", _("Rejected")
    WITHDRAWN = "withdrawn", _("Withdrawn by the proposer")


OPEN_CHANGE_STATES = ("proposed", "approved")


class AnnualReviewState(TextChoices):
    """scheduled → due → submitted → accepted; a second person may send it back to the
    officer (due again); overdue once the due date passes without a submission."""

    SCHEDULED = "scheduled", _("Scheduled")
    DUE = "due", _("Due soon")
    OVERDUE = "overdue", _("Overdue")
    SUBMITTED = "submitted", _("Submitted, awaiting a second person")
    ACCEPTED = "accepted", _("Accepted")


class ReviewOutcome(TextChoices):
    """The officer's conclusion of an annual review."""

    SATISFACTORY = "satisfactory", _("Satisfactory: continue as agreed")
    CONCERNS = "concerns", _("Concerns: closer monitoring needed")


class NoticeKind(TextChoices):
    REMINDER = "reminder", _("Reminder")
    ESCALATION = "escalation", _("Escalation")


# Still waiting for the officer's submission (reminders, overdue marking, the work list).
OPEN_CHECK_STATES = ("scheduled", "due", "overdue")
DECIDED_CHECK_STATES = ("accepted", "breached")
OPEN_REVIEW_STATES = ("scheduled", "due", "overdue")
