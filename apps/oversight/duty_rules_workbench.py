"""Due-diligence duty rules in the policy workbench (issue 17): every version with the one in
force; a draft started as a copy; duties added, changed and removed (the evaluator chosen from
those registered in code, its parameters as YAML or JSON); the difference in sentences; what
the draft would change in the evidence packs of recent files; four-eyes publish, retire;
export and import.

Policy officers only (403 for every other role, on the server); writes go through
`apps.oversight.duty_rule_services`, which checks permission, state and four-eyes again.
"""

from dataclasses import dataclass

import yaml
from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from apps.accounts.selectors import visible_branch_ids
from apps.applications.models import Application
from apps.oversight import duties
from apps.oversight import duty_rule_services as services
from apps.oversight.models import DutyRule, DutyRuleSet
from apps.policy.workbench import (
    ImportForm,
    document_response,
    import_command,
    parse_document,
    publish_retire_views,
    require_policy_officer,
    row_views,
    version_controls,
)


class DutyRuleForm(forms.Form):
    code = forms.SlugField(label=gettext_lazy("code"), max_length=50)
    label_en = forms.CharField(label=gettext_lazy("label (English)"), max_length=200)
    label_zh = forms.CharField(label=gettext_lazy("label (Chinese)"), max_length=200)
    evaluator = forms.ChoiceField(label=gettext_lazy("evaluator"), choices=())
    parameters = forms.CharField(
        label=gettext_lazy("parameters (YAML or JSON)"), required=False,
        widget=forms.Textarea(attrs={"rows": 4, "spellcheck": "false", "class": "code"}))
    order = forms.IntegerField(label=gettext_lazy("order"), min_value=0, initial=0)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["evaluator"].choices = [(name, name)
                                            for name in duties.registered_evaluators()]

    def clean_parameters(self):
        parameters = parse_document(self.cleaned_data["parameters"] or "{}") or {}
        if not isinstance(parameters, dict):
            raise ValidationError(_("Parameters are an object of names and values."))
        return parameters

    @classmethod
    def for_rule(cls, rule: DutyRule):
        return cls(initial={
            "code": rule.code, "label_en": rule.label_en, "label_zh": rule.label_zh,
            "evaluator": rule.evaluator, "order": rule.order,
            "parameters": yaml.safe_dump(rule.parameters or {}, allow_unicode=True,
                                         sort_keys=False)})


def parameters_text(parameters) -> str:
    """A duty's parameters as words ("min_officers 2; actions application.approved, …"), not a
    Python dict; keys stay as written, since they are what the rule file says."""
    def value(v) -> str:
        if isinstance(v, bool):
            return str(_("yes") if v else _("no"))
        if isinstance(v, list | tuple):
            return ", ".join(value(x) for x in v)
        if isinstance(v, dict):
            return "; ".join(f"{k} {value(x)}" for k, x in v.items())
        return str(v)
    return value(parameters or {}) or "—"


def duty_rules_diff(*, draft: DutyRuleSet, in_force: DutyRuleSet | None) -> list[str]:
    """The draft's duties against those in force, by code, in sentences."""
    old = {r.code: r for r in in_force.rules.all()} if in_force is not None else {}
    new = {r.code: r for r in draft.rules.all()}
    lines = []
    for code, rule in new.items():
        before = old.get(code)
        if before is None:
            lines.append(_("New duty %(code)s: %(label)s, checked by %(evaluator)s with "
                           "%(parameters)s.") % {"code": code, "label": rule.label,
                                                 "evaluator": rule.evaluator,
                                                 "parameters": parameters_text(rule.parameters)})
            continue
        if (before.evaluator, before.parameters) != (rule.evaluator, rule.parameters):
            lines.append(_("Duty %(code)s is checked by %(evaluator)s with %(parameters)s "
                           "instead of %(old_evaluator)s with %(old_parameters)s.")
                         % {"code": code, "evaluator": rule.evaluator,
                            "parameters": parameters_text(rule.parameters),
                            "old_evaluator": before.evaluator,
                            "old_parameters": parameters_text(before.parameters)})
        if (before.label_en, before.label_zh) != (rule.label_en, rule.label_zh):
            lines.append(_("Duty %(code)s is renamed “%(label)s”.")
                         % {"code": code, "label": rule.label_en})
    for code, rule in old.items():
        if code not in new:
            lines.append(_("Duty %(code)s (%(label)s) is dropped.")
                         % {"code": code, "label": rule.label_en})
    return lines


@dataclass(frozen=True)
class PackChange:
    application: Application
    changes: list[str]

    @property
    def sentence(self) -> str:
        return _("%(reference)s: %(changes)s.") % {"reference": self.application.reference,
                                                    "changes": "; ".join(self.changes)}


def duty_rules_preview(*, viewer, draft: DutyRuleSet, limit: int = 20) -> tuple[int, list]:
    """For the viewer's most recently decided files, the duties whose outcome in the evidence
    pack would differ under the draft (a pack already frozen in an exemption case keeps its
    rules; this is what a case opened after publication would read)."""
    applications = (Application.objects.filter(decided_at__isnull=False)
                    .select_related("account_manager").order_by("-decided_at", "-pk"))
    branch_ids = visible_branch_ids(viewer=viewer)
    if branch_ids is not None:
        applications = applications.filter(branch_id__in=branch_ids)
    in_force = duties.rule_set_in_force()
    changed, examined = [], 0
    for application in applications[:limit]:
        examined += 1
        before = {line.rule.code: line.result.status_label
                  for line in duties.build_pack(application, rule_set=in_force).lines}
        after = {line.rule.code: line.result.status_label
                 for line in duties.build_pack(application, rule_set=draft).lines}
        lines = [_("%(code)s %(old)s → %(new)s") % {"code": code,
                                                    "old": before.get(code, "—"),
                                                    "new": after.get(code, "—")}
                 for code in sorted(set(before) | set(after))
                 if before.get(code) != after.get(code)]
        if lines:
            changed.append(PackChange(application=application, changes=lines))
    return examined, changed


def _in_force() -> DutyRuleSet | None:
    return duties.rule_set_in_force(on=timezone.localdate())


@login_required
def duty_rules_list_page(request):
    require_policy_officer(request.user)
    return render(request, "oversight/duty_rules_wb/list.html", {
        "in_force": _in_force(), "versions": DutyRuleSet.objects.order_by("-version"),
        "import_form": ImportForm()})


@login_required
@require_POST
def duty_rules_draft_next(request):
    require_policy_officer(request.user)
    rule_set = services.duty_rule_set_draft_next(actor=request.user)
    messages.success(request, _("Draft version %(number)s started.")
                     % {"number": rule_set.version})
    return redirect("oversight:duty-rules", rule_set_id=rule_set.pk)


def _with_parameters_text(rule_set: DutyRuleSet) -> list:
    rules = list(rule_set.rules.all())
    for rule in rules:
        rule.parameters_text = parameters_text(rule.parameters)
    return rules


def _context(request, rule_set: DutyRuleSet, **forms_) -> dict:
    in_force = _in_force()
    compare_to = in_force if in_force is not None and in_force.pk != rule_set.pk else None
    context = {
        "rule_set": rule_set, "in_force": compare_to, "rules": _with_parameters_text(rule_set),
        "diff": duty_rules_diff(draft=rule_set, in_force=compare_to),
        "rule_form": forms_.get("rule_form") or DutyRuleForm(),
        **version_controls(request, rule_set, **forms_),
    }
    if rule_set.is_editable:
        context["examined"], context["pack_changes"] = duty_rules_preview(
            viewer=request.user, draft=rule_set)
    return context


def _page(request, rule_set, status=200, **forms_):
    return render(request, "oversight/duty_rules_wb/rule_set.html",
                  _context(request, rule_set, **forms_), status=status)


@login_required
def duty_rules_page(request, rule_set_id: int):
    require_policy_officer(request.user)
    return _page(request, get_object_or_404(DutyRuleSet, pk=rule_set_id))


duty_rule_add, duty_rule_edit, duty_rule_remove = row_views(
    get_version=lambda pk: get_object_or_404(DutyRuleSet, pk=pk),
    rows=DutyRule.objects.select_related("rule_set"), version_attr="rule_set",
    url_name="oversight:duty-rules", kwarg="rule_set_id", page=_page, add_form="rule_form",
    form_class=DutyRuleForm, initial_form=DutyRuleForm.for_rule,
    row_template="oversight/duty_rules_wb/rule.html",
    row_context=lambda rule: {"rule": rule, "rule_set": rule.rule_set},
    add=lambda s, **kw: services.duty_rule_add(rule_set_id=s.pk, **kw),
    update=lambda rule, **kw: services.duty_rule_update(rule_id=rule.pk, **kw),
    remove=lambda rule, **kw: services.duty_rule_remove(rule_id=rule.pk, **kw),
    added=lambda: _("Duty added."), saved=lambda rule: _("Duty saved."),
    removed=lambda rule: _("Duty removed."))


duty_rules_publish, duty_rules_retire = publish_retire_views(
    get_version=lambda pk: get_object_or_404(DutyRuleSet, pk=pk),
    url_name="oversight:duty-rules", kwarg="rule_set_id", page=_page,
    publish=lambda s, **kw: services.duty_rule_set_publish(rule_set_id=s.pk, **kw),
    retire=lambda s, **kw: services.duty_rule_set_retire(rule_set_id=s.pk, **kw))


@login_required
def duty_rules_export(request, rule_set_id: int, fmt: str):
    require_policy_officer(request.user)
    rule_set = get_object_or_404(DutyRuleSet, pk=rule_set_id)
    return document_response(services.duty_rule_set_export(rule_set), fmt=fmt,
                             filename=f"duty-rules-v{rule_set.version}")


@login_required
@require_POST
def duty_rules_import(request):
    require_policy_officer(request.user)
    return import_command(
        request, service=services.duty_rule_set_import,
        page=lambda draft: reverse("oversight:duty-rules", kwargs={"rule_set_id": draft.pk}),
        title=_("Import due-diligence duty rules"),
        action=reverse("oversight:duty-rules-import"),
        back=reverse("oversight:duty-rules-list"))
