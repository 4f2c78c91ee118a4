from django.db.models import TextChoices
from django.utils.translation import gettext_lazy as _


class ApplicationState(TextChoices):
    DRAFT = "draft", _("Draft")
    SUBMITTED = "submitted", _("Submitted")
    INVESTIGATING = "investigating", _("Investigating")
    UNDER_REVIEW = "under_review", _("Under review")
    IN_APPROVAL = "in_approval", _("In approval")
    APPROVED = "approved", _("Approved")
    CONTRACTED = "contracted", _("Contracted")
    DISBURSED = "disbursed", _("Disbursed")
    RETURNED = "returned", _("Returned for rework")
    REJECTED = "rejected", _("Rejected")
    WITHDRAWN = "withdrawn", _("Withdrawn")
    EXPIRED = "expired", _("Expired")


TERMINAL_STATES = frozenset({ApplicationState.DISBURSED, ApplicationState.REJECTED,
                             ApplicationState.WITHDRAWN, ApplicationState.EXPIRED})
