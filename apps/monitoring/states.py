"""States and vocabularies of post-loan risk monitoring (domain reference §4.3–§4.4, §5.1)."""

from django.db.models import IntegerChoices, TextChoices
from django.utils.translation import gettext_lazy as _


class Category(TextChoices):
    """The five categories of 《商业银行金融资产风险分类办法》 Art. 6 (§5.1)."""

    NORMAL = "normal", _("Normal (正常)")
    SPECIAL_MENTION = "special_mention", _("Special mention (关注)")
    SUBSTANDARD = "substandard", _("Substandard (次级)")
    DOUBTFUL = "doubtful", _("Doubtful (可疑)")
    LOSS = "loss", _("Loss (损失)")


# Order of severity (1 best … 5 worst): the regulation's own order, not a threshold. Policy
# values that name a category (restructuring floor, signal floors) store this rank.
CATEGORY_RANK = {Category.NORMAL: 1, Category.SPECIAL_MENTION: 2, Category.SUBSTANDARD: 3,
                 Category.DOUBTFUL: 4, Category.LOSS: 5}
CATEGORY_BY_RANK = {rank: category for category, rank in CATEGORY_RANK.items()}
# Non-performing (不良): 次级, 可疑, 损失 (§5.1 table, "NPA?" column).
NPA_CATEGORIES = frozenset({Category.SUBSTANDARD, Category.DOUBTFUL, Category.LOSS})


def rank(category: str | None) -> int:
    """Severity rank of a category code; 0 for none."""
    return CATEGORY_RANK.get(category, 0) if category else 0


class WarningLevel(IntegerChoices):
    """Post-loan warning levels (§4.4): the highest open signal sets the loan's level."""

    L0 = 0, _("L0 normal")
    L1 = 1, _("L1 watch")
    L2 = 2, _("L2 warning")
    L3 = 3, _("L3 severe")


class ClassificationState(TextChoices):
    """初分 → 认定 → 审批 (§5.3): a proposal, confirmed by a reviewer, approved one level up
    when it is an upgrade; in force until the next one replaces it."""

    PROPOSED = "proposed", _("Proposed, awaiting review")
    CONFIRMED = "confirmed", _("Confirmed, awaiting approval (upgrade)")
    IN_FORCE = "in_force", _("In force")
    SUPERSEDED = "superseded", _("Superseded")
    REJECTED = "rejected", _("Rejected")


class ProposalSource(TextChoices):
    SYSTEM = "system", _("Monthly classification run")
    OFFICER = "officer", _("Officer")


class RunState(TextChoices):
    RUNNING = "running", _("Running")
    DONE = "done", _("Done")
    FAILED = "failed", _("Failed")


class ChunkState(TextChoices):
    PENDING = "pending", _("Queued")
    DONE = "done", _("Done")
    FAILED = "failed", _("Failed")


class SignalState(TextChoices):
    """open → acknowledged → closed; an L3 signal's close waits for a second person (§4.3)."""

    OPEN = "open", _("Open")
    ACKNOWLEDGED = "acknowledged", _("Acknowledged")
    CLOSE_REQUESTED = "close_requested", _("Close requested, awaiting a second person")
    CLOSED = "closed", _("Closed")


class ActionKind(TextChoices):
    """Mandatory actions of §4.4; which level requires which is data (LevelActionRule)."""

    CONTACT = "contact", _("Contact the borrower")
    SPECIAL_CHECK = "special_check", _("Special check on site (专项检查)")
    STOP_DRAWDOWNS = "stop_drawdowns", _("Stop further drawdowns")
    EXTRA_COLLATERAL = "extra_collateral", _("Ask for more collateral or a guarantee")
    FREEZE = "freeze", _("Freeze credit lines")
    WORKOUT = "workout", _("Transfer to workout (special assets)")


class ActionState(TextChoices):
    OPEN = "open", _("Open")
    OVERDUE = "overdue", _("Overdue")
    DONE = "done", _("Done")
    WAIVED = "waived", _("Waived")


OPEN_ACTION_STATES = frozenset({ActionState.OPEN, ActionState.OVERDUE})
OPEN_SIGNAL_STATES = frozenset({SignalState.OPEN, SignalState.ACKNOWLEDGED,
                                SignalState.CLOSE_REQUESTED})
