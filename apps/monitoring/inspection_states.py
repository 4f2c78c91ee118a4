"""States and vocabularies of post-loan inspections (贷后检查, domain reference §4.1, §4.2)."""

from django.db.models import TextChoices
from django.utils.translation import gettext_lazy as _


class InspectionState(TextChoices):
    """scheduled → in progress → submitted → reviewed; overdue once the due date passes before
    submission (still completable: an overdue inspection is started and submitted late)."""

    SCHEDULED = "scheduled", _("Scheduled")
    IN_PROGRESS = "in_progress", _("In progress")
    OVERDUE = "overdue", _("Overdue")
    SUBMITTED = "submitted", _("Submitted, awaiting review")
    REVIEWED = "reviewed", _("Reviewed")


# Inspections still waiting for the officer's work (the due list, the overdue sweep).
OPEN_INSPECTION_STATES = (InspectionState.SCHEDULED, InspectionState.IN_PROGRESS,
                          InspectionState.OVERDUE)
# Done by the officer: the duty question is whether it was done by its due date.
DONE_INSPECTION_STATES = (InspectionState.SUBMITTED, InspectionState.REVIEWED)


class InspectionKind(TextChoices):
    """Inspection types of a bank's post-loan form (§4.1 m1–m4) plus the event-driven special
    check (重点/专项检查). m5/m6 (quick-loan product) reuse m1/m2 with a product template."""

    FIRST = "m1", _("First check on the use of funds (首次跟踪检查)")
    ROUTINE = "m2", _("Routine check (贷后例行检查)")
    FULL = "m3", _("Full check (贷后全面检查)")
    REPAYMENT_SOURCE = "m4", _("Repayment-source check before maturity (还款资金落实情况检查)")
    SPECIAL = "special", _("Special check (重点/专项检查)")


class Cooperation(TextChoices):
    """检查配合程度 (§4.2); "uncooperative" raises W18."""

    COOPERATIVE = "cooperative", _("Cooperative (配合)")
    AVERAGE = "average", _("Average (一般)")
    UNCOOPERATIVE = "uncooperative", _("Uncooperative (不配合)")


class ProposedClass(TextChoices):
    """Five-category classification (§5.1) as proposed by the inspection's conclusion."""

    NORMAL = "normal", _("Normal (正常)")
    SPECIAL_MENTION = "special_mention", _("Special mention (关注)")
    SUBSTANDARD = "substandard", _("Substandard (次级)")
    DOUBTFUL = "doubtful", _("Doubtful (可疑)")
    LOSS = "loss", _("Loss (损失)")


class RequestedAction(TextChoices):
    """Actions the conclusion may request (§4.4 mandatory actions); the signals developer's
    action model turns them into tasks with owners and deadlines."""

    CONTACT = "contact", _("Contact the client")
    SPECIAL_CHECK = "special_check", _("Special check on site")
    STOP_DRAWDOWNS = "stop_drawdowns", _("Stop new drawdowns")
    EXTRA_COLLATERAL = "extra_collateral", _("Ask for extra collateral or a guarantee")
    FREEZE = "freeze", _("Freeze credit lines")
    TRANSFER_TO_WORKOUT = "transfer_to_workout", _("Transfer to workout (special assets)")
