from django.db.models import TextChoices
from django.utils.translation import gettext_lazy as _


class ExportJobState(TextChoices):
    QUEUED = "queued", _("Queued")
    RUNNING = "running", _("Running")
    DONE = "done", _("Ready")
    FAILED = "failed", _("Failed")


class ExportKind(TextChoices):
    EVENTS_XLSX = "events_xlsx", _("Audit events (XLSX)")
    TRAIL_PDF = "trail_pdf", _("Process trail (PDF)")
    PACK_PDF = "pack_pdf", _("Due-diligence evidence pack (PDF)")
