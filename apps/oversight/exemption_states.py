"""States and choices of due-diligence exemption cases (尽职免责, domain reference §4.6)."""

from django.db.models import TextChoices
from django.utils.translation import gettext_lazy as _


class ExemptionCaseState(TextChoices):
    OPENED = "opened", _("Opened, evidence pack frozen")
    UNDER_REVIEW = "under_review", _("Under review by the exemption committee")
    DECIDED = "decided", _("Decided, open to appeal")
    APPEALED = "appealed", _("Appealed")
    APPEAL_DECIDED = "appeal_decided", _("Appeal decided")
    CLOSED = "closed", _("Closed")


# Cases still being worked: the 365-day review deadline runs for these.
OPEN_CASE_STATES = (ExemptionCaseState.OPENED, ExemptionCaseState.UNDER_REVIEW,
                    ExemptionCaseState.DECIDED, ExemptionCaseState.APPEALED,
                    ExemptionCaseState.APPEAL_DECIDED)


class Tier(TextChoices):
    """The three tiers of 金规〔2024〕11号, mildest first."""

    FULL = "full", _("Full exemption (应免责)")
    REDUCED = "reduced", _("Reduced liability (可减免责)")
    NONE = "none", _("No exemption (不得免责)")


# Severity order: an appeal may move a person only down this scale (never up).
TIER_SEVERITY = {Tier.FULL: 0, Tier.REDUCED: 1, Tier.NONE: 2}


def tier_not_worse(outcome: str, original: str) -> bool:
    """True when `outcome` is at most as severe as `original` (the appeal rule)."""
    return TIER_SEVERITY[Tier(outcome)] <= TIER_SEVERITY[Tier(original)]


class Stage(TextChoices):
    """The stages of 金规〔2024〕11号's scope, in the order a loan passes them."""

    MARKETING = "marketing", _("Marketing and acceptance (营销受理)")
    INVESTIGATION = "investigation", _("Pre-lending investigation (贷前调查)")
    REVIEW = "review", _("Review (审查)")
    APPROVAL = "approval", _("Approval (审批)")
    DISBURSEMENT = "disbursement", _("Disbursement (放款操作)")
    POST_LOAN = "post_loan", _("Post-loan management (贷后管理)")


class Incident(TextChoices):
    """Why the case was opened."""

    NON_PERFORMING = "non_performing", _("Overdue beyond the non-performing floor")
    WRITTEN_OFF = "written_off", _("Written off")
    OTHER = "other", _("Other loss event")
