from django.db.models import TextChoices
from django.utils.translation import gettext_lazy as _


class MatrixState(TextChoices):
    DRAFT = "draft", _("Draft")
    PUBLISHED = "published", _("Published")
    RETIRED = "retired", _("Retired")


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
