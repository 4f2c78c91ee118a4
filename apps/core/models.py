"""Base models every domain app builds on, and the worker probe behind the system-status page."""

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_fsm import ConcurrentTransitionMixin, FSMField, FSMModelMixin, transition

from apps.core.exceptions import VersionFrozen
from apps.core.policy import PolicyVersionState


class TimeStampedModel(models.Model):
    """Creation and last-change times, for lists and staleness checks (audit: see apps.audit)."""

    created_at = models.DateTimeField(_("created at"), auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        abstract = True


class WorkflowModel(ConcurrentTransitionMixin, FSMModelMixin, TimeStampedModel):
    """Base for models with a protected FSMField (applications, investigations, approvals…).

    `FSMModelMixin` lets `refresh_from_db` reload protected state fields. The concurrent-
    transition mixin is a safety net only (a stale save raises `ConcurrentTransition` → 409):
    services lock with `select_for_update(no_key=True)` first, so correctness never rests on it.

    django-fsm-2 4.2.4's `refresh_from_db` switches the class-wide `protected` flag off and leaves
    it off when the refresh raises (e.g. DoesNotExist), unprotecting every instance in the process.
    We restore it whatever happens; `test_workflow_model.py` guards the regression.
    """

    class Meta:
        abstract = True

    def clean_fields(self, exclude=None):
        """`full_clean()` would assign every field back, which a protected state field refuses;
        states are validated by their transitions instead."""
        protected = {f.name for f in self._meta.concrete_fields if getattr(f, "protected", False)}
        super().clean_fields(exclude=set(exclude or ()) | protected)

    def refresh_from_db(self, *args, **kwargs):
        guarded = [f for f in self._meta.concrete_fields if getattr(f, "protected", False)]
        try:
            super().refresh_from_db(*args, **kwargs)
        finally:
            for field in guarded:
                field.protected = True


def may_publish(version: "PublishedVersion", user) -> bool:
    """Four-eyes (domain reference §6.4, policy-table changes): the publisher holds the kind's
    publish permission and is not the person who drafted the version. No super-user bypass."""
    return (user is not None and user.pk != version.created_by_id
            and user.has_perm(version.publish_permission))


def may_retire(version: "PublishedVersion", user) -> bool:
    """Withdrawing a version in force is as weighty as publishing one: the same permission."""
    return user is not None and user.has_perm(version.publish_permission)


class PublishedVersion(WorkflowModel):
    """One version of policy data (products, checklist templates, authority matrices…): its
    state, the dates it is in force, who drafted and who published it, and where its content
    comes from (domain reference §0.2).

    Draft → published → retired, the one state machine every kind shares. Only a draft changes
    (`save()` refuses to write a published or retired row except through a transition, and
    `PolicyVersionPart` does the same for its rows); publishing is four-eyes (`may_publish`).
    The services that drive these transitions (lock, checks, supersede, audit) are in
    `apps.policy.versioning`.

    Subclasses say what they are with class attributes:
    - `publish_permission`: "app.publish_model", held by whoever may publish or retire;
    - `audit_prefix`: the audit action stem, e.g. "product_version" → "product_version.published";
    - `series_fields`: the fields that name a series; publishing a version retires the
      published one of the same series (empty: one series, e.g. the bank's authority matrix).
    """

    publish_permission: str = ""
    audit_prefix: str = ""
    series_fields: tuple[str, ...] = ()

    state = FSMField(_("state"), default=PolicyVersionState.DRAFT,
                     choices=PolicyVersionState.choices, protected=True)
    effective_from = models.DateField(_("effective from"), null=True, blank=True)
    effective_to = models.DateField(_("effective to"), null=True, blank=True)
    source_citation = models.CharField(_("source"), max_length=300, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.PROTECT, related_name="+",
                                   verbose_name=_("drafted by"))
    published_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                     on_delete=models.PROTECT, related_name="+",
                                     verbose_name=_("published by"))
    published_at = models.DateTimeField(_("published at"), null=True, blank=True)

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        """Frozen once published: a row that is published or retired in the database is only
        written by a transition (its state changes with the write). Anything else is a new
        version, so every past decision stays explainable under the rules it used."""
        if self.pk is not None and not self._state.adding:
            stored = (type(self)._base_manager.filter(pk=self.pk)
                      .values_list("state", flat=True).first())
            if stored not in (None, PolicyVersionState.DRAFT) and stored == self.state:
                raise VersionFrozen()
        super().save(*args, **kwargs)

    @property
    def is_editable(self) -> bool:
        return self.state == PolicyVersionState.DRAFT

    @transition(field="state", source=PolicyVersionState.DRAFT,
                target=PolicyVersionState.PUBLISHED, permission=may_publish)
    def publish(self, *, by, at, effective_from) -> None:
        """Freeze the version and put it in force from `effective_from`."""
        self.published_by, self.published_at, self.effective_from = by, at, effective_from

    @transition(field="state", source=PolicyVersionState.PUBLISHED,
                target=PolicyVersionState.RETIRED, permission=may_retire)
    def retire(self, *, effective_to) -> None:
        """Superseded by a newer version or withdrawn; what was decided under it keeps
        pointing here."""
        self.effective_to = effective_to


class PolicyVersionPart(models.Model):
    """A row that belongs to one version of policy data (an entry condition, a checklist item,
    a matrix row): frozen with its version. `policy_version_field` names the foreign key."""

    policy_version_field: str = "version"

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        self._refuse_unless_draft()
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        self._refuse_unless_draft()
        return super().delete(*args, **kwargs)

    def policy_version(self) -> "PublishedVersion":
        return getattr(self, self.policy_version_field)

    def _refuse_unless_draft(self) -> None:
        field = self._meta.get_field(self.policy_version_field)
        state = (field.related_model._base_manager
                 .filter(pk=getattr(self, field.attname)).values_list("state", flat=True).first())
        if state not in (None, PolicyVersionState.DRAFT):
            raise VersionFrozen()


class TaskProbe(models.Model):
    """One round trip web → broker → worker → database, asked for by an admin on the status page.

    It proves, from a real request, that a separate worker process executes what the web sends.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+",
        verbose_name=_("requested by"),
    )
    requested_at = models.DateTimeField(_("requested at"), auto_now_add=True)
    executed_at = models.DateTimeField(_("executed at"), null=True, blank=True)
    worker_hostname = models.CharField(_("worker"), max_length=255, blank=True)
    worker_pid = models.PositiveIntegerField(_("worker process id"), null=True, blank=True)

    class Meta:
        ordering = ["-requested_at"]
        verbose_name = _("task probe")
        verbose_name_plural = _("task probes")

    def __str__(self) -> str:
        return str(self.id)


class IdempotencyRecord(models.Model):
    """The stored outcome of one API command sent with an `Idempotency-Key` (CONVENTIONS §6).

    A client that retries after a timeout sends the same key: the stored response is returned
    and the command is not applied twice. Failures (4xx) are stored too, so a retry sees the
    same refusal rather than a different outcome against a changed record. Keys are the
    caller's, so they are unique per user; the request hash catches a key reused for another
    request. Records expire (`core.idempotency_purge`) after `IDEMPOTENCY_TTL`.
    """

    key = models.CharField(_("idempotency key"), max_length=255)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                             related_name="+", verbose_name=_("user"))
    method = models.CharField(_("method"), max_length=10)
    path = models.CharField(_("path"), max_length=500)
    request_hash = models.CharField(_("request hash"), max_length=64,
                                    help_text=_("SHA-256 of the canonical request body."))
    response_status = models.PositiveSmallIntegerField(_("response status"))
    response_body = models.JSONField(_("response body"), default=dict, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = _("idempotency record")
        verbose_name_plural = _("idempotency records")
        constraints = [
            models.UniqueConstraint(fields=["user", "key"], name="core_idempotency_user_key"),
        ]

    def __str__(self) -> str:
        return f"{self.method} {self.path} [{self.key}]"


class OutboxState(models.TextChoices):
    """Where one outbox message is: waiting to be sent, handed to the broker, or given up on."""

    PENDING = "pending", _("waiting to be sent")
    SENT = "sent", _("sent")
    FAILED = "failed", _("failed: not sent")


class OutboxMessage(models.Model):
    """A Celery task a committed transaction asked for (transactional outbox, CONVENTIONS §4).

    Written in the caller's transaction by `apps.core.queue.enqueue_on_commit`, so the work
    exists exactly when the change that asked for it does; a broker down at commit delays the
    work instead of losing it. Sent after commit (fast path) or by the relay
    (`core.outbox_relay`); delivery is at least once, so every receiving task is idempotent.
    The state is infrastructure bookkeeping, not a business workflow: no FSM and no audit event.
    """

    id = models.BigAutoField(primary_key=True)
    task_id = models.UUIDField(_("task id"), default=uuid.uuid4, unique=True, editable=False,
                               help_text=_("Celery task id, the same on every re-send."))
    task_name = models.CharField(_("task"), max_length=200)
    kwargs = models.JSONField(_("arguments"), default=dict, blank=True)
    state = models.CharField(_("state"), max_length=10, choices=OutboxState.choices,
                             default=OutboxState.PENDING)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    available_at = models.DateTimeField(
        _("next attempt at"), default=timezone.now,
        help_text=_("The relay leaves the message alone until then (grace or back-off)."))
    attempts = models.PositiveIntegerField(_("send attempts"), default=0)
    last_error = models.TextField(_("last error"), blank=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)

    class Meta:
        ordering = ["id"]
        verbose_name = _("outbox message")
        verbose_name_plural = _("outbox messages")
        indexes = [
            # The relay's one query: pending rows due now, oldest first.
            models.Index(fields=["state", "available_at"], name="core_outbox_due"),
        ]

    def __str__(self) -> str:
        return f"{self.task_name} #{self.pk} ({self.state})"
