"""Admin of post-loan risk, read only. Signal rules and the level → action table are versioned
policy data edited in the policy workbench (apps.monitoring.rules_workbench) through services
that draft, publish four-eyes and audit; an admin edit would bypass all three (issue 17).
Signals, actions, classifications and runs change only through their services."""

from django.contrib import admin

from apps.core.admin import ReadOnlyAdmin, ReadOnlyTabularInline
from apps.monitoring.models import (
    Action,
    Classification,
    ClassificationRun,
    LevelActionRule,
    LevelActionTable,
    Signal,
    SignalRule,
)


@admin.register(SignalRule)
class SignalRuleAdmin(ReadOnlyAdmin):
    list_display = ("code", "version", "state", "name_en", "level", "implies_floor", "evidence",
                    "effective_from", "effective_to")
    list_filter = ("code", "state", "evidence")


class LevelActionRuleInline(ReadOnlyTabularInline):
    model = LevelActionRule
    fields = ("level", "kind", "deadline_policy_key", "evidence", "source_citation")
    readonly_fields = fields


@admin.register(LevelActionTable)
class LevelActionTableAdmin(ReadOnlyAdmin):
    list_display = ("version", "state", "effective_from", "effective_to", "source_citation")
    inlines = [LevelActionRuleInline]


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
