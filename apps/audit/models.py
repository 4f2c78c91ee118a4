"""The append-only, hash-chained audit trail every Credence app writes through."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

GENESIS_HASH = "0" * 64


class AuditEvent(models.Model):
    """One business event, written in the transaction of the change it records.

    Each row's `hash` covers its content and the previous row's hash, so changing, deleting or
    reordering rows breaks the chain at that point (`manage.py verify_audit_chain`). On
    PostgreSQL, triggers also refuse UPDATE, DELETE and TRUNCATE outright (migration 0002).
    """

    seq = models.BigIntegerField(_("sequence"), unique=True)  # chain position, no gaps
    occurred_at = models.DateTimeField(_("occurred at"), db_index=True)
    action = models.CharField(_("action"), max_length=100, db_index=True)
    # The actor survives user deletion: no database constraint, and nothing cascades into audit.
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, related_name="+",
        on_delete=models.DO_NOTHING, db_constraint=False, verbose_name=_("actor"),
    )  # null = the system (a worker, beat, a migration)
    subject_type = models.CharField(_("subject type"), max_length=100)  # "accounts.user"
    subject_id = models.CharField(_("subject id"), max_length=64)
    # The subject's branch when it has one, so auditors can filter by branch without joins
    # into the apps above audit.
    branch_id = models.BigIntegerField(_("branch"), null=True, blank=True, db_index=True)
    # The application and enterprise the event belongs to, filled at write time from the
    # subject (or given by the caller), so an application's whole trail (investigation answers,
    # documents, approvals) is one index range instead of a search through payloads.
    application_id = models.BigIntegerField(_("application"), null=True, blank=True)
    enterprise_id = models.BigIntegerField(_("enterprise"), null=True, blank=True)
    payload = models.JSONField(_("payload"), default=dict)
    request_id = models.UUIDField(_("request id"), null=True, blank=True, db_index=True)
    prev_hash = models.CharField(_("previous hash"), max_length=64)
    hash = models.CharField(_("hash"), max_length=64, unique=True)

    class Meta:
        ordering = ["seq"]
        verbose_name = _("audit event")
        verbose_name_plural = _("audit events")
        indexes = [models.Index(fields=["subject_type", "subject_id", "seq"]),
                   # Auditors' filters read newest first, a page at a time (keyset on seq).
                   models.Index(fields=["application_id", "seq"], name="audit_event_app_seq"),
                   models.Index(fields=["enterprise_id", "seq"], name="audit_event_ent_seq"),
                   models.Index(fields=["branch_id", "seq"], name="audit_event_branch_seq"),
                   models.Index(fields=["actor", "seq"], name="audit_event_actor_seq"),
                   models.Index(fields=["action", "seq"], name="audit_event_action_seq")]
        default_permissions = ("view",)  # nobody is ever granted add, change or delete
        permissions = [("export_auditevent", _("Can export audit events"))]

    def __str__(self) -> str:
        return f"#{self.seq} {self.action} {self.subject_type}:{self.subject_id}"
