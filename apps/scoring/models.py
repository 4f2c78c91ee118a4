"""The model registry: every trained credit model is an immutable, hashed version.

A version records what is needed to reproduce and audit a score (domain reference §7.1 "feature
record rule", §7.3): the artefact itself (canonical JSON, never a pickle) and its sha256, the
fingerprint of the training data, the feature list, the training parameters, holdout metrics
and who trained it. Its lifecycle is a state machine: draft → validated → champion → retired.
Promotion to champion needs an independent validator's approval (§7.3, §6.4) and is not offered
here yet: the `champion` state exists so the lifecycle is complete, but no transition reaches it.
"""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django_fsm import FSMField, transition

from apps.core.models import WorkflowModel
from apps.scoring.states import ModelKind
from apps.scoring.states import ModelVersionState as S


class ModelVersion(WorkflowModel):
    """One trained model: artefact, provenance and metrics, loaded only after its hash checks."""

    version = models.CharField(_("version"), max_length=100, unique=True,
                               help_text=_("Label quoted by scores and decisions."))
    kind = models.CharField(_("kind"), max_length=20, choices=ModelKind.choices)
    state = FSMField(_("state"), default=S.DRAFT, choices=S.choices, protected=True)
    # Text, not a JSON column: the stored bytes are exactly the hashed bytes on every database
    # (jsonb reorders keys and may reformat numbers).
    artefact = models.TextField(_("artefact"), help_text=_("Canonical JSON of the model."))
    artefact_sha256 = models.CharField(_("artefact sha256"), max_length=64)
    training_data_sha256 = models.CharField(
        _("training data fingerprint"), max_length=64,
        help_text=_("sha256 of the canonical training rows (see scorecard.data.Table)."))
    target = models.CharField(_("target column"), max_length=200)
    features = models.JSONField(_("features"), default=list)
    parameters = models.JSONField(_("parameters"), default=dict)
    metrics = models.JSONField(_("holdout metrics"), default=dict)
    trained_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+",
                                   verbose_name=_("trained by"))

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("model version")
        verbose_name_plural = _("model versions")
        constraints = [
            models.CheckConstraint(condition=models.Q(kind__in=ModelKind.values),
                                   name="scoring_modelversion_kind_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.version} ({self.kind}, {self.state})"

    @transition(field=state, source=S.DRAFT, target=S.VALIDATED)
    def validate(self) -> None:
        """A validator has reviewed the holdout report; nothing else changes."""

    @transition(field=state, source=[S.DRAFT, S.VALIDATED, S.CHAMPION], target=S.RETIRED)
    def retire(self) -> None:
        """Withdrawn from use; kept forever, since past scores quote this version."""
