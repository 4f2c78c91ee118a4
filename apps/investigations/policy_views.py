"""Policy values in the policy workbench (issue 17): every threshold with its value in force,
unit, evidence tag and citation; drafting the next version, the difference in words, four-eyes
publish, retire, and export/import as YAML or JSON.

Policy officers only (403 for every other role, on the server); writes go through
`apps.investigations.policy_services`, which checks permission, state and four-eyes again.
"""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from apps.core.policy import Evidence, PolicyVersionState
from apps.investigations import policy_services as services
from apps.investigations.models import PolicyValue
from apps.investigations.policy import policy_values_in_force
from apps.policy.workbench import (
    ImportForm,
    PublishForm,
    document_response,
    publish_retire_views,
    read_document,
    require_policy_officer,
    run_on_form,
    version_controls,
)


class PolicyValueForm(forms.Form):
    value = forms.DecimalField(label=gettext_lazy("value"), max_digits=20, decimal_places=6)
    unit = forms.CharField(label=gettext_lazy("unit"), max_length=30, required=False)
    effective_from = forms.DateField(label=gettext_lazy("effective from"),
                                     widget=forms.DateInput(attrs={"type": "date"}))
    evidence = forms.ChoiceField(label=gettext_lazy("evidence"), choices=Evidence.choices)
    source_citation = forms.CharField(label=gettext_lazy("source"), max_length=300)
    description_en = forms.CharField(label=gettext_lazy("description (English)"),
                                     max_length=300, required=False)
    description_zh = forms.CharField(label=gettext_lazy("description (Chinese)"),
                                     max_length=300, required=False)


class NewKeyForm(PolicyValueForm):
    key = forms.RegexField(label=gettext_lazy("key"), max_length=120,
                           regex=r"^[a-z0-9][a-z0-9_.\-]*$",
                           help_text=gettext_lazy("Lower-case letters, digits, dots, dashes."))


_require_policy_officer = require_policy_officer
_run = run_on_form


def policy_value_diff(*, draft: PolicyValue, in_force: PolicyValue | None) -> list[str]:
    """The draft against the version in force, in sentences."""
    if in_force is None:
        return [_("New threshold %(key)s: %(value)s %(unit)s.")
                % {"key": draft.key, "value": draft.value.normalize(), "unit": draft.unit}]
    lines = []
    if (draft.value, draft.unit) != (in_force.value, in_force.unit):
        lines.append(_("%(key)s changes from %(old)s %(old_unit)s to %(new)s %(new_unit)s.")
                     % {"key": draft.key, "old": in_force.value.normalize(),
                        "old_unit": in_force.unit, "new": draft.value.normalize(),
                        "new_unit": draft.unit})
    if draft.evidence != in_force.evidence:
        lines.append(_("Evidence changes from “%(old)s” to “%(new)s”.")
                     % {"old": in_force.get_evidence_display(),
                        "new": draft.get_evidence_display()})
    if draft.source_citation != in_force.source_citation:
        lines.append(_("Source changes from “%(old)s” to “%(new)s”.")
                     % {"old": in_force.source_citation or "—", "new": draft.source_citation})
    return lines


@login_required
def policy_value_list_page(request):
    """Every key: the version in force today with its citation, and drafts waiting."""
    _require_policy_officer(request.user)
    in_force = policy_values_in_force(on=timezone.localdate())
    drafts: dict[str, list[PolicyValue]] = {}
    for draft in PolicyValue.all_versions.filter(state=PolicyVersionState.DRAFT):
        drafts.setdefault(draft.key, []).append(draft)
    keys = sorted(set(in_force) | set(drafts))
    rows = [{"key": key, "current": in_force.get(key), "drafts": drafts.get(key, [])}
            for key in keys]
    return render(request, "investigations/policy/list.html",
                  {"rows": rows, "new_form": NewKeyForm(initial={
                      "effective_from": timezone.localdate()}), "import_form": ImportForm()})


@login_required
@require_POST
def policy_value_new(request):
    """Draft the first version of a new key, or the next version of a known one."""
    _require_policy_officer(request.user)
    form = NewKeyForm(data=request.POST)
    status, drafted = 400, {}
    if form.is_valid():
        fields = dict(form.cleaned_data)
        key = fields.pop("key")
        status = _run(form, lambda: drafted.setdefault("value", services.policy_value_draft(
            key=key, actor=request.user, **fields)))
    if status == 200:
        return redirect("investigations:policy-value", value_id=drafted["value"].pk)
    return render(request, "investigations/policy/list.html",
                  {"rows": [], "new_form": form, "import_form": ImportForm()}, status=status)


@login_required
@require_POST
def policy_value_draft_next(request, value_id: int):
    _require_policy_officer(request.user)
    current = get_object_or_404(PolicyValue.all_versions, pk=value_id)
    draft = services.policy_value_draft(key=current.key, actor=request.user)
    return redirect("investigations:policy-value", value_id=draft.pk)


def _context(request, value: PolicyValue, **forms_) -> dict:
    today = timezone.localdate()
    in_force = policy_values_in_force(on=today).get(value.key)
    compare_to = in_force if in_force is not None and in_force.pk != value.pk else None
    initial = {name: getattr(value, name) for name in services.FIELDS}
    return {
        "value": value, "in_force": compare_to,
        "diff": policy_value_diff(draft=value, in_force=compare_to),
        "history": PolicyValue.all_versions.filter(key=value.key).order_by("-version"),
        "form": forms_.get("form") or PolicyValueForm(initial=initial),
        **version_controls(request, value, **{
            "publish_form": PublishForm(initial={"effective_from": value.effective_from}),
            **forms_}),
    }


def _value(value_id: int) -> PolicyValue:
    return get_object_or_404(PolicyValue.all_versions, pk=value_id)


def _page(request, value: PolicyValue, status: int = 200, **forms_):
    return render(request, "investigations/policy/value.html",
                  _context(request, value, **forms_), status=status)


@login_required
def policy_value_page(request, value_id: int):
    """One version of a threshold: editable while a draft, compared with the one in force."""
    _require_policy_officer(request.user)
    value = _value(value_id)
    status, forms_ = 200, {}
    if request.method == "POST":
        form = PolicyValueForm(data=request.POST)
        status = 400
        if form.is_valid():
            status = _run(form, lambda: services.policy_value_update(
                value_id=value.pk, actor=request.user, **form.cleaned_data))
        if status == 200:
            messages.success(request, _("The draft is saved."))
            return redirect("investigations:policy-value", value_id=value.pk)
        forms_["form"] = form
        value.refresh_from_db()
    return _page(request, value, status, **forms_)


policy_value_publish, policy_value_retire = publish_retire_views(
    get_version=_value, url_name="investigations:policy-value", kwarg="value_id", page=_page,
    publish=lambda v, **kw: services.policy_value_publish(value_id=v.pk, **kw),
    retire=lambda v, **kw: services.policy_value_retire(value_id=v.pk, **kw))


@login_required
def policy_values_export_file(request, fmt: str):
    """Every published or retired version, as YAML or JSON, for another office to import."""
    _require_policy_officer(request.user)
    return document_response(services.policy_values_export(), fmt=fmt,
                             filename="policy-values")


@login_required
@require_POST
def policy_values_import_file(request):
    """Draft every value of the document that differs from the one in force (four-eyes
    publishing follows as for any draft)."""
    _require_policy_officer(request.user)
    form = ImportForm(data=request.POST, files=request.FILES)
    status, drafted = 400, []
    if form.is_valid():
        document = read_document(form)
        if document is not None:
            status = _run(form, lambda: drafted.extend(
                services.policy_values_import(document, actor=request.user)))
    if status == 200:
        messages.success(request, _("%(count)s draft(s) made from the file.")
                         % {"count": len(drafted)})
        return redirect("investigations:policy-values")
    return render(request, "investigations/policy/list.html",
                  {"rows": [], "new_form": NewKeyForm(), "import_form": form}, status=status)
