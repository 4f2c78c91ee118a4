from django.db.models import TextChoices
from django.utils.translation import gettext_lazy as _

from apps.core.policy import PolicyVersionState

# A template's states are those of every version of policy data (apps.core.models.
# PublishedVersion); the name stays for the code that reads them.
ChecklistTemplateState = PolicyVersionState


class InvestigationState(TextChoices):
    """Pre-lending investigation (贷前调查) workflow, issue 4: assigned → in progress →
    submitted → accepted, or returned with item comments → resubmitted."""

    ASSIGNED = "assigned", _("Assigned")
    IN_PROGRESS = "in_progress", _("In progress")
    SUBMITTED = "submitted", _("Submitted")
    RETURNED = "returned", _("Returned for correction")
    ACCEPTED = "accepted", _("Accepted")


class ReVerificationState(TextChoices):
    """Random re-verification of an accepted investigation (§3.4): open → done."""

    OPEN = "open", _("Open")
    DONE = "done", _("Done")


class ReVerificationOutcome(TextChoices):
    CONFIRMED = "confirmed", _("Confirmed")
    DISCREPANCIES = "discrepancies", _("Discrepancies found")


class ReVerificationMethod(TextChoices):
    """How the team lead re-verified (§3.4): went back to the site, or called the borrower."""

    REVISIT = "revisit", _("Re-visit")
    CALLBACK = "callback", _("Call-back")
