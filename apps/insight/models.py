"""Summaries the dashboards read instead of rescanning the audit trail on every view.

They are derived data, never a record: rebuilt from the audit trail at any time
(`manage.py insight_summaries --rebuild`), kept current incrementally from a watermark over the
trail's `seq` by a beat task (apps/insight/summaries.py). Nothing else writes them.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _


class SummaryWatermark(models.Model):
    """How far a summary has read the audit trail: every event with seq <= `seq` is in it.

    The row is also the summary's lock: a run holds it (SELECT … FOR UPDATE) while it reads
    past the watermark and moves it, so two concurrent runs never summarise the same events."""

    name = models.CharField(_("summary"), max_length=50, primary_key=True)
    seq = models.BigIntegerField(_("last audit event summarised"), default=0)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("summary watermark")
        verbose_name_plural = _("summary watermarks")
        default_permissions = ()

    def __str__(self) -> str:
        return f"{self.name} @ {self.seq}"


class StepClock(models.Model):
    """One move of an application out of a step: when it entered the step (the move before,
    by the trail's order; empty for the first move) and when it left it, with the application's
    branch and product (fixed at creation), so the pipeline's time in each step is a range scan
    of this table instead of a window over the trail."""

    seq = models.BigIntegerField(_("audit event of the move"), primary_key=True)
    application_id = models.BigIntegerField(_("application"))
    branch_id = models.BigIntegerField(_("branch"))
    product_id = models.BigIntegerField(_("product"))
    step = models.CharField(_("step left"), max_length=30, null=True, blank=True)
    entered_at = models.DateTimeField(_("entered the step"), null=True, blank=True)
    left_at = models.DateTimeField(_("left the step"))
    # Exactly what the trail gives (left_at - entered_at), in seconds; empty for the first move.
    seconds = models.DecimalField(_("seconds in the step"), max_digits=18, decimal_places=6,
                                  null=True, blank=True)

    class Meta:
        verbose_name = _("step clock")
        verbose_name_plural = _("step clocks")
        default_permissions = ()
        indexes = [
            # The move before a new one: the application's latest row.
            models.Index(fields=["application_id", "seq"], name="insight_clock_app_seq"),
            # The dashboard: moves out in a period, by branch (index-only on PostgreSQL).
            models.Index(fields=["left_at"], name="insight_clock_left",
                         include=["branch_id", "product_id", "step", "seconds", "seq"]),
        ]

    def __str__(self) -> str:
        return f"{self.application_id} left {self.step} (#{self.seq})"


class OpenFile(models.Model):
    """One open application (in a waiting state) and since when it has been in its state: the
    time of its latest move in the trail (its last update if it never moved), with its branch
    and product, so the pipeline's open files by state and age are a scan of this table
    instead of two index probes per open file. Kept by the same refresh as the step clock
    (same watermark, same lock); a file that closes is removed."""

    application_id = models.BigIntegerField(_("application"), primary_key=True)
    state = models.CharField(_("state"), max_length=30)
    since = models.DateTimeField(_("in this state since"))
    branch_id = models.BigIntegerField(_("branch"))
    product_id = models.BigIntegerField(_("product"))

    class Meta:
        verbose_name = _("open file")
        verbose_name_plural = _("open files")
        default_permissions = ()
        indexes = [
            # The dashboard: open files of some branches, by state (index-only on PostgreSQL).
            models.Index(fields=["branch_id", "state"], name="insight_open_branch_state",
                         include=["since", "product_id"]),
        ]

    def __str__(self) -> str:
        return f"{self.application_id} {self.state} since {self.since:%Y-%m-%d}"
