"""Early-warning signal rules and the level → mandatory actions table in the policy workbench
(issue 17): every version with the one in force; a draft started as a copy of it; edited with
errors by field (nothing half-saved); the difference in sentences; the scale of what it governs
in the current book; four-eyes publish, retire; export and import.

Policy officers only (403 for every other role, on the server); writes go through
`apps.monitoring.rule_services`, which checks permission, state and four-eyes again.
"""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Count
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from apps.core.policy import Evidence
from apps.loans.models import Loan
from apps.monitoring import rule_services as services
from apps.monitoring.models import (
    ClassificationRun,
    LevelActionRule,
    LevelActionTable,
    LoanRiskStatus,
    Signal,
    SignalRule,
)
from apps.monitoring.states import OPEN_SIGNAL_STATES, ActionKind, WarningLevel
from apps.policy.workbench import (
    ImportForm,
    document_response,
    form_command,
    import_command,
    require_policy_officer,
    row_views,
    version_controls,
    version_views,
)


class SignalRuleForm(forms.Form):
    name_en = forms.CharField(label=gettext_lazy("name (English)"), max_length=200)
    name_zh = forms.CharField(label=gettext_lazy("name (Chinese)"), max_length=200)
    description_en = forms.CharField(label=gettext_lazy("description (English)"),
                                     required=False, widget=forms.Textarea(attrs={"rows": 3}))
    description_zh = forms.CharField(label=gettext_lazy("description (Chinese)"),
                                     required=False, widget=forms.Textarea(attrs={"rows": 3}))
    level = forms.TypedChoiceField(label=gettext_lazy("level"), coerce=int,
                                   choices=[c for c in WarningLevel.choices if c[0]])
    thresholds = forms.CharField(
        label=gettext_lazy("policy keys read (one a line)"), required=False,
        widget=forms.Textarea(attrs={"rows": 3, "spellcheck": "false", "class": "code"}))
    implies_floor = forms.BooleanField(label=gettext_lazy("sets a classification floor"),
                                       required=False)
    source = forms.CharField(label=gettext_lazy("data source"), max_length=100, required=False)
    evidence = forms.ChoiceField(label=gettext_lazy("evidence"), choices=Evidence.choices)
    source_citation = forms.CharField(label=gettext_lazy("source"), max_length=300,
                                      required=False)

    def clean_thresholds(self):
        return [line.strip() for line in self.cleaned_data["thresholds"].splitlines()
                if line.strip()]

    @classmethod
    def for_rule(cls, rule: SignalRule, **kwargs):
        initial = {name: getattr(rule, name) for name in services.SIGNAL_FIELDS}
        initial["thresholds"] = "\n".join(rule.thresholds or [])
        return cls(initial=initial, **kwargs)


class LevelActionForm(forms.Form):
    level = forms.TypedChoiceField(label=gettext_lazy("level"), coerce=int,
                                   choices=[c for c in WarningLevel.choices if c[0]])
    kind = forms.ChoiceField(label=gettext_lazy("action"), choices=ActionKind.choices)
    deadline_policy_key = forms.CharField(label=gettext_lazy("deadline policy key (days)"),
                                          max_length=120)
    evidence = forms.ChoiceField(label=gettext_lazy("evidence"), choices=Evidence.choices)
    source_citation = forms.CharField(label=gettext_lazy("source"), max_length=300,
                                      required=False)

    @classmethod
    def for_row(cls, row: LevelActionRule):
        return cls(initial={name: getattr(row, name) for name in services.ACTION_FIELDS})


# --- the difference in sentences --------------------------------------------------------------

def _yes_no(value: bool) -> str:
    return str(_("yes") if value else _("no"))


def _keys(keys) -> str:
    return ", ".join(keys or []) or "—"


def signal_rule_diff(*, draft: SignalRule, in_force: SignalRule | None) -> list[str]:
    """The draft against the version in force, field by field, in sentences."""
    if in_force is None:
        return [_("Rule %(code)s has no version in force today; this one would be the first.")
                % {"code": draft.code}]
    said = {
        "level": lambda r: r.get_level_display(),
        "thresholds": lambda r: _keys(r.thresholds),
        "implies_floor": lambda r: _yes_no(r.implies_floor),
        "evidence": lambda r: r.get_evidence_display(),
    }
    lines = []
    for name in services.SIGNAL_FIELDS:
        old, new = getattr(in_force, name), getattr(draft, name)
        if old == new:
            continue
        show = said.get(name, lambda r, n=name: getattr(r, n) or "—")
        lines.append(_("%(field)s: “%(new)s” instead of “%(old)s”.") % {
            "field": SignalRule._meta.get_field(name).verbose_name.capitalize(),
            "new": show(draft), "old": show(in_force)})
    return lines


def _row_sentence(row: LevelActionRule) -> str:
    return _("level %(level)s requires “%(action)s”, due within the days of %(key)s") % {
        "level": row.level, "action": row.get_kind_display(), "key": row.deadline_policy_key}


def level_action_diff(*, draft: LevelActionTable, in_force: LevelActionTable | None
                      ) -> list[str]:
    """The draft's rows against the table in force, by level and action, in sentences."""
    old = {(r.level, r.kind): r for r in in_force.rules.all()} if in_force is not None else {}
    new = {(r.level, r.kind): r for r in draft.rules.all()}
    lines = []
    for key, row in new.items():
        before = old.get(key)
        if before is None:
            lines.append(_("New: %(rule)s.") % {"rule": _row_sentence(row)})
        elif before.deadline_policy_key != row.deadline_policy_key:
            lines.append(_("Changed: %(rule)s (was %(key)s).")
                         % {"rule": _row_sentence(row), "key": before.deadline_policy_key})
    lines += [_("Dropped: %(rule)s.") % {"rule": _row_sentence(row)}
              for key, row in old.items() if key not in new]
    return lines


# --- the scale of what a rule governs: the current book at the last run -----------------------

def signal_rule_preview(rule: SignalRule) -> dict:
    """How many loans in the current book have this rule's signal open, raised or last seen
    under the version in force, by level, next to the last run's date and the book's size.
    What the draft itself would raise is known only when the next run evaluates it."""
    in_force = services.signal_rule_in_force(rule.code)
    open_signals = Signal.objects.filter(code=rule.code, state__in=OPEN_SIGNAL_STATES,
                                         rule=in_force)
    by_level = dict(open_signals.values_list("level").annotate(n=Count("loan_id", distinct=True))
                    .order_by("level"))
    return {"in_force": in_force,
            "last_run": ClassificationRun.objects.order_by("-as_of").first(),
            "book": LoanRiskStatus.objects.count() or Loan.objects.count(),
            "loans": sum(by_level.values()),
            "by_level": [(WarningLevel(level).label, n) for level, n in by_level.items()]}


def level_action_preview() -> list[tuple[str, int]]:
    """How many loans of the book sit at each warning level today: who the rows of a level
    would give actions to at their next raise."""
    counts = dict(LoanRiskStatus.objects.filter(warning_level__gt=0).values_list(
        "warning_level").annotate(n=Count("pk")).order_by("warning_level"))
    return [(WarningLevel(level).label, counts.get(level, 0))
            for level, _label in WarningLevel.choices if level]


# --- signal rule pages --------------------------------------------------------------------------

@login_required
def signal_rules_list_page(request):
    require_policy_officer(request.user)
    rules = SignalRule.all_versions.order_by("code", "-version")
    codes: dict[str, dict] = {}
    for rule in rules:
        entry = codes.setdefault(rule.code, {"code": rule.code, "in_force": None,
                                             "drafts": []})
        if rule.is_editable:
            entry["drafts"].append(rule)
    for entry in codes.values():
        entry["in_force"] = services.signal_rule_in_force(entry["code"])
    return render(request, "monitoring/rules_wb/signal_list.html", {
        "codes": list(codes.values()), "import_form": ImportForm()})


@login_required
@require_POST
def signal_rule_draft(request, code: str):
    require_policy_officer(request.user)
    rule = services.signal_rule_draft(code=code, actor=request.user)
    messages.success(request, _("Draft version %(number)s started.") % {"number": rule.version})
    return redirect("monitoring:signal-rule", rule_id=rule.pk)


def _signal_page(request, rule: SignalRule, status: int = 200, **forms_):
    in_force = services.signal_rule_in_force(rule.code)
    compare_to = in_force if in_force is not None and in_force.pk != rule.pk else None
    context = {
        "rule": rule, "in_force": compare_to,
        "form": forms_.get("form") or SignalRuleForm.for_rule(rule),
        "history": SignalRule.all_versions.filter(code=rule.code).order_by("-version"),
        **version_controls(request, rule, **forms_),
    }
    if rule.is_editable:
        context["diff"] = signal_rule_diff(draft=rule, in_force=compare_to)
        context["preview"] = signal_rule_preview(rule)
    return render(request, "monitoring/rules_wb/signal_rule.html", context, status=status)


@login_required
def signal_rule_page(request, rule_id: int):
    """The version, and for a draft its edit form (POST saves it, all or nothing)."""
    require_policy_officer(request.user)
    rule = get_object_or_404(SignalRule.all_versions, pk=rule_id)
    if request.method != "POST":
        return _signal_page(request, rule)
    return form_command(
        request, form=SignalRuleForm(data=request.POST),
        call=lambda **kw: services.signal_rule_update(rule_id=rule.pk, actor=request.user,
                                                      **kw),
        done=_("Draft saved."), back=reverse("monitoring:signal-rule", args=[rule.pk]),
        page=lambda form, status: _signal_page(request, rule, status, form=form))


signal_rule_publish, signal_rule_retire = version_views(
    url_name="monitoring:signal-rule", kwarg="rule_id", page=_signal_page,
    **services.SIGNAL_RULE_PUBLISHING)


@login_required
def signal_rules_export(request, fmt: str):
    """The rules in force (of ?code=…, or all)."""
    require_policy_officer(request.user)
    codes = request.GET.getlist("code")
    return document_response(services.signal_rules_export(codes=codes or None), fmt=fmt,
                             filename="signal-rules" + (f"-{'-'.join(codes)}" if codes else ""))


@login_required
@require_POST
def signal_rules_import(request):
    require_policy_officer(request.user)

    def import_drafts(data, *, actor):
        drafts = services.signal_rules_import(data, actor=actor)
        return drafts[0] if len(drafts) == 1 else None

    return import_command(
        request, service=import_drafts,
        page=lambda draft: (reverse("monitoring:signal-rule", args=[draft.pk])
                            if draft is not None else reverse("monitoring:signal-rules")),
        title=_("Import early-warning signal rules"),
        action=reverse("monitoring:signal-rules-import"),
        back=reverse("monitoring:signal-rules"))


# --- level → action table pages ---------------------------------------------------------------

@login_required
def level_actions_list_page(request):
    require_policy_officer(request.user)
    return render(request, "monitoring/rules_wb/level_list.html", {
        "in_force": services.level_action_table_in_force(),
        "versions": LevelActionTable.objects.order_by("-version"),
        "import_form": ImportForm()})


@login_required
@require_POST
def level_actions_draft_next(request):
    require_policy_officer(request.user)
    table = services.level_action_table_draft_next(actor=request.user)
    messages.success(request, _("Draft version %(number)s started.") % {"number": table.version})
    return redirect("monitoring:level-actions", table_id=table.pk)


def _table_page(request, table: LevelActionTable, status: int = 200, **forms_):
    in_force = services.level_action_table_in_force()
    compare_to = in_force if in_force is not None and in_force.pk != table.pk else None
    context = {
        "table": table, "in_force": compare_to,
        "rows": table.rules.order_by("level", "kind"),
        "diff": level_action_diff(draft=table, in_force=compare_to),
        "row_form": forms_.get("row_form") or LevelActionForm(),
        **version_controls(request, table, **forms_),
    }
    if table.is_editable:
        context["levels"] = level_action_preview()
    return render(request, "monitoring/rules_wb/level_table.html", context, status=status)


@login_required
def level_actions_page(request, table_id: int):
    require_policy_officer(request.user)
    return _table_page(request, get_object_or_404(LevelActionTable, pk=table_id))


level_action_add, level_action_edit, level_action_remove = row_views(
    get_version=lambda pk: get_object_or_404(LevelActionTable, pk=pk),
    rows=LevelActionRule.objects.select_related("table"), version_attr="table",
    url_name="monitoring:level-actions", kwarg="table_id", page=_table_page,
    add_form="row_form", form_class=LevelActionForm, initial_form=LevelActionForm.for_row,
    row_template="monitoring/rules_wb/level_row.html",
    row_context=lambda row: {"row": row, "table": row.table},
    add=lambda t, **kw: services.level_action_add(table_id=t.pk, **kw),
    update=lambda row, **kw: services.level_action_update(rule_id=row.pk, **kw),
    remove=lambda row, **kw: services.level_action_remove(rule_id=row.pk, **kw),
    added=lambda: _("Action added."), saved=lambda row: _("Action saved."),
    removed=lambda row: _("Action removed."))


level_actions_publish, level_actions_retire = version_views(
    url_name="monitoring:level-actions", kwarg="table_id", page=_table_page,
    **services.LEVEL_ACTION_TABLE_PUBLISHING)


@login_required
def level_actions_export(request, table_id: int, fmt: str):
    require_policy_officer(request.user)
    table = get_object_or_404(LevelActionTable, pk=table_id)
    return document_response(services.level_action_table_export(table), fmt=fmt,
                             filename=f"level-actions-v{table.version}")


@login_required
@require_POST
def level_actions_import(request):
    require_policy_officer(request.user)
    return import_command(
        request, service=services.level_action_table_import,
        page=lambda draft: reverse("monitoring:level-actions", args=[draft.pk]),
        title=_("Import the level action table"),
        action=reverse("monitoring:level-actions-import"),
        back=reverse("monitoring:level-actions-list"))
