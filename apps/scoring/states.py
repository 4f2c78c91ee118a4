from django.db.models import TextChoices
from django.utils.translation import gettext_lazy as _


class ModelVersionState(TextChoices):
    DRAFT = "draft", _("Draft")
    VALIDATED = "validated", _("Validated")
    CHAMPION = "champion", _("Champion")
    RETIRED = "retired", _("Retired")


class ModelKind(TextChoices):
    SCORECARD = "scorecard", _("Scorecard")
    GBM = "gbm", _("Gradient boosting")
