"""Consents, pulls, the records they brought back, and each source's circuit breaker.

A `Pull` is one request for one source's data about one enterprise, or about one person
around it (`person`: a guarantor, the legal representative …, for the sources that know
persons, with that person's own consent). Paid pulls reach the service (channel http) or
read a bank's export (channel file); a repeat request inside the source's freshness window is
a pull of channel `cache` pointing at the paid pull that answered it, costing nothing and
recording what it saved. Every `Record` carries its provenance
(source, query id, fetch time, format version) so any figure derived from it can say where it
came from.
"""

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django_fsm import FSMField, transition

from apps.core.models import TimeStampedModel, WorkflowModel
from apps.datahub.states import IN_FLIGHT, Channel, PullState, Purpose, Source
from apps.parties.money import MoneyField


class Consent(TimeStampedModel):
    """The subject's recorded authorisation to query outside sources about it (who signed, for
    which sources and purpose, until when, and the signed document). Pulls are refused
    without one in force."""

    enterprise = models.ForeignKey("parties.Enterprise", on_delete=models.PROTECT,
                                   related_name="data_consents", verbose_name=_("enterprise"))
    person = models.ForeignKey(
        "parties.Person", null=True, blank=True, on_delete=models.PROTECT,
        related_name="data_consents", verbose_name=_("person"),
        help_text=_("Set when the consent is a person's own (a guarantor, the legal "
                    "representative …) for queries about that person; empty for the "
                    "enterprise's."))
    signed_by = models.CharField(_("signed by"), max_length=200,
                                 help_text=_("The person who signed for the enterprise."))
    sources = models.JSONField(_("sources covered"), default=list)
    purpose = models.CharField(_("purpose"), max_length=20, choices=Purpose.choices)
    valid_from = models.DateField(_("valid from"))
    valid_until = models.DateField(_("valid until"))
    document_reference = models.CharField(
        _("signed document"), max_length=200,
        help_text=_("Reference of the signed authorisation (document number or file id)."))
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                    related_name="+", verbose_name=_("recorded by"))
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)

    class Meta:
        ordering = ["-valid_until", "-id"]
        verbose_name = _("data-pull consent")
        verbose_name_plural = _("data-pull consents")
        # The consent in force for a subject (services.consent_in_force and the cache hit's
        # statement): without it the planner may read every enterprise consent through the
        # person index (person IS NULL), a scan that grows with the book.
        indexes = [models.Index(fields=["enterprise", "person", "purpose", "valid_until"],
                                name="datahub_consent_in_force_idx")]
        constraints = [models.CheckConstraint(condition=Q(valid_until__gte=models.F("valid_from")),
                                              name="datahub_consent_period_ordered")]

    def __str__(self) -> str:
        who = f"{self.enterprise_id}" + (f"/person {self.person_id}" if self.person_id else "")
        return f"{who}: {', '.join(self.sources)} until {self.valid_until}"

    @property
    def source_names(self) -> list[str]:
        """The sources covered as the pages name them (Business registry …), not their codes."""
        labels = dict(Source.choices)
        return [str(labels.get(code, code)) for code in self.sources]


class Pull(WorkflowModel):
    """One request for one source's data about one enterprise (see the module docstring)."""

    query_id = models.UUIDField(_("query id"), default=uuid.uuid4, unique=True, editable=False)
    enterprise = models.ForeignKey("parties.Enterprise", on_delete=models.PROTECT,
                                   related_name="data_pulls", verbose_name=_("enterprise"))
    person = models.ForeignKey("parties.Person", null=True, blank=True,
                               on_delete=models.PROTECT, related_name="data_pulls",
                               verbose_name=_("person asked about"),
                               help_text=_("Empty when the pull is about the enterprise."))
    application = models.ForeignKey("applications.Application", null=True, blank=True,
                                    on_delete=models.PROTECT, related_name="data_pulls",
                                    verbose_name=_("application"))
    branch = models.ForeignKey("org.Branch", on_delete=models.PROTECT, related_name="+",
                               verbose_name=_("branch charged"))
    source = models.CharField(_("source"), max_length=20, choices=Source.choices)
    purpose = models.CharField(_("purpose"), max_length=20, choices=Purpose.choices)
    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices)
    consent = models.ForeignKey(Consent, null=True, blank=True, on_delete=models.PROTECT,
                                related_name="pulls", verbose_name=_("consent"))
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                     on_delete=models.PROTECT, related_name="+",
                                     verbose_name=_("requested by"))
    answered_by = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT,
                                    related_name="cache_answers",
                                    verbose_name=_("answered by the pull"))
    state = FSMField(_("state"), default=PullState.REQUESTED, choices=PullState.choices,
                     protected=True)
    price = MoneyField(_("price"), help_text=_("The source's price per query when requested."))
    cost = MoneyField(_("cost"), default=0, help_text=_("What this pull spent (0 when failed "
                                                        "or answered from the cache)."))
    saved = MoneyField(_("saved"), default=0, help_text=_("The price the cache saved."))
    budget_warning = models.BooleanField(_("budget warning"), default=False)
    format_version = models.CharField(_("format version"), max_length=40, blank=True)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    claimed_until = models.DateTimeField(_("claimed until"), null=True, blank=True)
    fetched_at = models.DateTimeField(_("fetched at"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    error_code = models.CharField(_("error code"), max_length=40, blank=True)
    error_field = models.CharField(_("field in error"), max_length=200, blank=True)
    error_detail = models.TextField(_("error"), blank=True)
    raw_content_type = models.CharField(_("raw content type"), max_length=100, blank=True)
    raw_body = models.TextField(_("raw response"), blank=True)
    changes = models.JSONField(_("changes found"), default=list, blank=True,
                               help_text=_("Signal inputs against the previous answer "
                                           "(apps/datahub/changes.py)."))
    audit_pending = models.BooleanField(
        _("audit event pending"), default=False,
        help_text=_("A cache answer whose audit event the next sweep writes "
                    "(apps/datahub/cache.py)."))
    content_sha256 = models.CharField(
        _("content digest"), max_length=64, blank=True,
        help_text=_("SHA-256 of an imported file's part about this subject: the same export "
                    "imported twice is recognised and not stored again."))

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("data pull")
        verbose_name_plural = _("data pulls")
        permissions = [("view_cost_report", _("Can see the external-data cost report")),
                       ("import_file", _("Can import external-data export files"))]
        indexes = [models.Index(fields=["enterprise", "source", "state", "fetched_at"],
                                name="datahub_pull_fresh_idx"),
                   models.Index(fields=["branch", "created_at"], name="datahub_pull_budget_idx"),
                   models.Index(fields=["id"], condition=Q(audit_pending=True),
                                name="datahub_pull_audit_pending_idx"),
                   models.Index(fields=["enterprise", "source", "content_sha256"],
                                condition=Q(channel="file"), name="datahub_pull_import_idx")]
        constraints = [
            # Idempotent per (subject, source): one paid online pull in flight at a time; a
            # second request while it runs gets that pull back.
            models.UniqueConstraint(fields=["enterprise", "source"],
                                    condition=Q(state__in=IN_FLIGHT, channel=Channel.HTTP,
                                                person__isnull=True),
                                    name="datahub_one_paid_pull_in_flight"),
            models.UniqueConstraint(fields=["person", "source"],
                                    condition=Q(state__in=IN_FLIGHT, channel=Channel.HTTP,
                                                person__isnull=False),
                                    name="datahub_one_paid_person_pull_in_flight"),
        ]

    def __str__(self) -> str:
        return f"{self.source} #{self.pk} ({self.state})"

    @transition(field=state, source=PullState.REQUESTED, target=PullState.RUNNING)
    def start(self, *, until) -> None:
        self.claimed_until = until

    @transition(field=state, source=PullState.RUNNING, target=PullState.RUNNING)
    def reclaim(self, *, until) -> None:
        """A worker died holding the pull (its claim expired): another takes it over."""
        self.claimed_until = until

    @transition(field=state, source=[PullState.REQUESTED, PullState.RUNNING],
                target=PullState.SUCCEEDED)
    def succeed(self, *, at, format_version: str, content_type: str, body: str) -> None:
        self.fetched_at = self.finished_at = at
        self.format_version, self.raw_content_type, self.raw_body = (
            format_version, content_type, body)
        self.cost = self.price if self.channel == Channel.HTTP else 0
        self.claimed_until = None

    @transition(field=state, source=[PullState.REQUESTED, PullState.RUNNING],
                target=PullState.FAILED)
    def fail(self, *, at, code: str, detail: str, field: str = "", body: str = "",
             content_type: str = "") -> None:
        self.finished_at, self.error_code, self.error_detail = at, code, detail
        self.error_field, self.raw_body, self.raw_content_type = field, body, content_type
        self.cost, self.claimed_until = 0, None

    @transition(field=state, source=PullState.REQUESTED, target=PullState.SUCCEEDED)
    def answer_from_cache(self, *, paid: "Pull", at) -> None:
        self.answered_by, self.channel = paid, Channel.CACHE
        self.fetched_at, self.finished_at = paid.fetched_at, at
        self.format_version, self.cost, self.saved = paid.format_version, 0, self.price


class Record(TimeStampedModel):
    """One normalised fact a pull brought back (a shareholder, a court case), with provenance:
    source, query id, fetch time and format version are copied onto the row so it answers
    "where did this come from" on its own."""

    pull = models.ForeignKey(Pull, on_delete=models.CASCADE, related_name="records",
                             verbose_name=_("pull"))
    enterprise = models.ForeignKey("parties.Enterprise", on_delete=models.PROTECT,
                                   related_name="data_records", verbose_name=_("enterprise"))
    person = models.ForeignKey("parties.Person", null=True, blank=True,
                               on_delete=models.PROTECT, related_name="data_records",
                               verbose_name=_("person"))
    source = models.CharField(_("source"), max_length=20, choices=Source.choices)
    kind = models.CharField(_("kind"), max_length=40)
    key = models.CharField(_("key"), max_length=120,
                           help_text=_("The record's identity at the source (case number …)."))
    data = models.JSONField(_("data"), default=dict)
    query_id = models.UUIDField(_("query id"))
    fetched_at = models.DateTimeField(_("fetched at"))
    format_version = models.CharField(_("format version"), max_length=40)

    class Meta:
        ordering = ["pull_id", "kind", "key"]
        verbose_name = _("external record")
        verbose_name_plural = _("external records")
        indexes = [models.Index(fields=["enterprise", "source", "kind"],
                                name="datahub_record_subject_idx")]

    def __str__(self) -> str:
        return f"{self.source}/{self.kind}/{self.key}"

    @property
    def provenance(self) -> dict:
        about = {"person_id": self.person_id} if self.person_id else {}
        return {"source": self.source, "query_id": str(self.query_id),
                "fetched_at": self.fetched_at.isoformat(), "format_version": self.format_version,
                "pull_id": self.pull_id, **about}


class SourceCircuit(models.Model):
    """A source's circuit breaker, shared by every worker: consecutive failures, and until when
    the circuit is open (queries refused without being sent)."""

    source = models.CharField(_("source"), max_length=20, choices=Source.choices, unique=True)
    failures = models.PositiveIntegerField(_("consecutive failures"), default=0)
    opened_until = models.DateTimeField(_("open until"), null=True, blank=True)

    class Meta:
        verbose_name = _("source circuit")
        verbose_name_plural = _("source circuits")

    def __str__(self) -> str:
        return f"{self.source}: {self.failures} failures"
