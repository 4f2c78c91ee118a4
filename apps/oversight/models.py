"""Background exports for auditors, and the due-diligence duty rules (domain reference §4.6).

Duty rules are policy data (§0.2): a versioned set of rows naming a duty, its labels, the
evaluator (code) that checks it and that evaluator's parameters. Changing what "duty done"
means is a new rule-set version, never a code change; each pack names the version it used.
"""

import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _
from django_fsm import FSMField, transition

from apps.core.models import PolicyVersionPart, PublishedVersion, WorkflowModel
from apps.oversight.states import ExportJobState as S
from apps.oversight.states import ExportKind


def system_only(job, user) -> bool:
    """Only the export worker moves a job; people ask for one and download it."""
    return user is None


class ExportJob(WorkflowModel):
    """One background export (XLSX of events, PDF trail or evidence pack) and its file.

    The file lives in the default storage as exports/<id>.<ext> (never served directly) and
    leaves only through the auditor-only download view, which records the download.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    kind = models.CharField(_("kind"), max_length=20, choices=ExportKind.choices)
    state = FSMField(_("state"), default=S.QUEUED, choices=S.choices, protected=True,
                     db_index=True)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                     related_name="+", verbose_name=_("requested by"))
    filters = models.JSONField(_("filters"), default=dict, blank=True)
    application = models.ForeignKey("applications.Application", null=True, blank=True,
                                    on_delete=models.PROTECT, related_name="+",
                                    verbose_name=_("application"))
    progress = models.PositiveBigIntegerField(_("rows done"), default=0)
    total = models.PositiveBigIntegerField(_("rows in all"), null=True, blank=True)
    file_name = models.CharField(_("file"), max_length=200, blank=True)
    size = models.PositiveBigIntegerField(_("size (bytes)"), null=True, blank=True)
    sha256 = models.CharField(_("SHA-256 of the file"), max_length=64, blank=True)
    manifest = models.JSONField(_("manifest"), default=dict, blank=True)
    error = models.TextField(_("error"), blank=True)
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("export job")
        verbose_name_plural = _("export jobs")
        indexes = [models.Index(fields=["requested_by", "-created_at"])]

    def __str__(self) -> str:
        return f"{self.kind}:{self.pk}"

    @property
    def percent(self) -> int:
        if not self.total:
            return 100 if self.state == S.DONE else 0
        return min(100, int(self.progress * 100 / self.total))

    @transition(field=state, source=S.QUEUED, target=S.RUNNING, permission=system_only)
    def start(self, *, at, total) -> None:
        """A worker picked the job up; `total` is the number of rows it will write."""
        self.started_at, self.total = at, total

    @transition(field=state, source=S.RUNNING, target=S.DONE, permission=system_only)
    def finish(self, *, at, file_name, size, sha256, manifest) -> None:
        """The file is complete on disk; its digest and manifest go with it."""
        self.finished_at, self.file_name, self.size = at, file_name, size
        self.sha256, self.manifest = sha256, manifest

    @transition(field=state, source=[S.QUEUED, S.RUNNING], target=S.FAILED,
                permission=system_only)
    def fail(self, *, at, error) -> None:
        """The export could not be produced; the error is shown to the requester."""
        self.finished_at, self.error = at, error[:2000]


class DutyRuleSet(PublishedVersion):
    """A version of the due-diligence duties (尽职免责 §4.6): one series of the shared
    policy-version machine (`apps.core.models.PublishedVersion`, driven by
    `apps.policy.versioning`): drafted in the policy workbench, published four-eyes, frozen
    once published, the version before it retiring the day the new one starts."""

    publish_permission = "oversight.publish_dutyruleset"
    audit_prefix = "duty_rule_set"
    series_fields = ()

    version = models.PositiveIntegerField(_("version"), unique=True)
    effective_from = models.DateField(_("effective from"))

    class Meta:
        ordering = ["-version"]
        permissions = [("publish_dutyruleset", _("Can publish due-diligence duty rules"))]
        verbose_name = _("duty rule set")
        verbose_name_plural = _("duty rule sets")

    def __str__(self) -> str:
        return f"v{self.version}"


class DutyRule(PolicyVersionPart, models.Model):
    """One duty: what the officers had to do, checked by a registered evaluator. Frozen with
    its rule set once that is published."""

    policy_version_field = "rule_set"

    rule_set = models.ForeignKey(DutyRuleSet, on_delete=models.PROTECT, related_name="rules",
                                 verbose_name=_("rule set"))
    code = models.SlugField(_("code"), max_length=50)
    label_en = models.CharField(_("label (English)"), max_length=200)
    label_zh = models.CharField(_("label (Chinese)"), max_length=200)
    evaluator = models.CharField(_("evaluator"), max_length=50)
    parameters = models.JSONField(_("parameters"), default=dict, blank=True)
    order = models.PositiveSmallIntegerField(_("order"), default=0)

    class Meta:
        ordering = ["rule_set", "order", "code"]
        verbose_name = _("duty rule")
        verbose_name_plural = _("duty rules")
        constraints = [models.UniqueConstraint(fields=["rule_set", "code"],
                                               name="oversight_duty_rule_unique_code")]

    def __str__(self) -> str:
        return self.code

    @property
    def label(self) -> str:
        return self.label_zh if (get_language() or "").startswith("zh") else self.label_en


# Due-diligence exemption cases live in their own module (issue #15); imported here so Django
# finds the models.
from apps.oversight.exemption_models import (  # noqa: E402, F401
    ExemptionBatch,
    ExemptionCase,
    ExemptionPerson,
)
