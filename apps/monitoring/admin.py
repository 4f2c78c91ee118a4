"""Admin of post-loan risk: rule tables are versioned data (a new version is a new row, an
old one is never edited, so past results stay explainable); signals, actions,
classifications and runs are read-only here — they change only through the services."""

from django.contrib import admin

from apps.core.admin import ReadOnlyAdmin
from apps.monitoring.models import (
    Action,
    Classification,
    ClassificationRun,
    LevelActionRule,
    Signal,
    SignalRule,
)


class AddOnlyAdmin(admin.ModelAdmin):
    """Versioned rule data: add a new version, never change or delete one in use."""

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(SignalRule)
class SignalRuleAdmin(AddOnlyAdmin):
    list_display = ("code", "version", "name_en", "level", "implies_floor", "evidence",
                    "effective_from", "effective_to")
    list_filter = ("code", "evidence")


@admin.register(LevelActionRule)
class LevelActionRuleAdmin(AddOnlyAdmin):
    list_display = ("version", "level", "kind", "deadline_policy_key", "effective_from")


@admin.register(Signal)
class SignalAdmin(ReadOnlyAdmin):
    list_display = ("loan", "code", "level", "state", "observed", "baseline", "raised_at")
    list_filter = ("code", "level", "state")


@admin.register(Action)
class ActionAdmin(ReadOnlyAdmin):
    list_display = ("loan", "kind", "level", "owner", "due_date", "state")
    list_filter = ("kind", "state")


@admin.register(Classification)
class ClassificationAdmin(ReadOnlyAdmin):
    list_display = ("loan", "category", "floor", "state", "source", "created_at")
    list_filter = ("state", "category", "source")


@admin.register(ClassificationRun)
class ClassificationRunAdmin(ReadOnlyAdmin):
    list_display = ("as_of", "state", "chunks_total", "loans_total", "finished_at")


# --- covenants and annual reviews: read-only, they change only through covenant_services ---
from apps.monitoring.covenant_models import (  # noqa: E402
    AnnualReview,
    Covenant,
    CovenantChange,
    CovenantCheck,
    MonitoringNotice,
)


@admin.register(Covenant)
class CovenantAdmin(ReadOnlyAdmin):
    list_display = ("loan", "kind", "source", "starts_on", "state", "waived_until", "ended_on")
    list_filter = ("kind", "source", "state")


@admin.register(CovenantChange)
class CovenantChangeAdmin(ReadOnlyAdmin):
    """Read-only: proposals and decisions go through covenant_change_services (four-eyes)."""

    list_display = ("loan", "covenant", "kind", "effective_from", "waived_until", "state",
                    "proposed_by", "decided_by")
    list_filter = ("kind", "state")


@admin.register(CovenantCheck)
class CovenantCheckAdmin(ReadOnlyAdmin):
    list_display = ("loan", "covenant", "due_date", "state", "result", "escalated_at")
    list_filter = ("state", "result")


@admin.register(AnnualReview)
class AnnualReviewAdmin(ReadOnlyAdmin):
    list_display = ("loan", "year", "anniversary", "due_date", "state", "outcome")
    list_filter = ("state", "outcome")


@admin.register(MonitoringNotice)
class MonitoringNoticeAdmin(ReadOnlyAdmin):
    list_display = ("kind", "subject", "recipient", "due_date", "sent_at", "read_at")
    list_filter = ("kind",)
