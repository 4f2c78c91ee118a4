from django.db.models import TextChoices
from django.utils.translation import gettext_lazy as _

from apps.core.policy import PolicyVersionState

# The matrix's states are those of every version of policy data (apps.core.models.
# PublishedVersion); the name stays for the code that reads them.
MatrixState = PolicyVersionState


class RouteState(TextChoices):
    IN_PROGRESS = "in_progress", _("In progress")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")
    RETURNED = "returned", _("Returned for rework")


class StepState(TextChoices):
    PENDING = "pending", _("Pending")
    WAITING = "waiting", _("Waiting for a decision")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")
    RETURNED = "returned", _("Returned for rework")
    SKIPPED = "skipped", _("Not reached")


class ConditionState(TextChoices):
    OPEN = "open", _("Open")
    SATISFIED = "satisfied", _("Satisfied")
