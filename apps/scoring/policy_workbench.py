"""Decision policies in the policy workbench (issue 17): every version with the one in force; a
draft started as a copy and edited whole as YAML or JSON (grade table, knock-outs,
recommendations, limits and price bands, monitoring thresholds), validated before it is
saved; the difference in sentences; how recent scores' recommendations would change; four-eyes
publish, retire; export and import.

Policy officers only (403 for every other role, on the server); writes go through
`apps.scoring.services`, which checks permission, state and four-eyes again.
"""

import json
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
from apps.policy.workbench import (
    ImportForm,
    document_response,
    import_command,
    parse_document,
    publish_retire_views,
    require_policy_officer,
    run_on_form,
    version_controls,
)
from apps.scoring import services
from apps.scoring.models import DecisionPolicy, ScoreResult
from apps.scoring.policy import recommend

EXPORT_FORMAT = "credence.decision-policy/1"


class DocumentForm(forms.Form):
    document = forms.CharField(
        label=gettext_lazy("Decision policy (YAML or JSON)"),
        widget=forms.Textarea(attrs={"rows": 30, "spellcheck": "false", "class": "code"}))

    def clean_document(self):
        document = parse_document(self.cleaned_data["document"])
        if not isinstance(document, dict):
            raise ValidationError(_("A decision policy is an object of named parts."))
        return document


def _shown(value) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)


def decision_policy_diff(*, draft: DecisionPolicy, in_force: DecisionPolicy | None
                         ) -> list[str]:
    """Each part of the document that differs, with both values, in sentences."""
    if in_force is None:
        return [_("New decision policy with %(parts)s.") % {"parts": ", ".join(sorted(
            draft.document))}]
    lines = []
    for key in sorted(set(draft.document) | set(in_force.document)):
        old, new = in_force.document.get(key), draft.document.get(key)
        if old != new:
            lines.append(_("%(part)s changes from %(old)s to %(new)s.")
                         % {"part": key, "old": _shown(old) if old is not None else "—",
                            "new": _shown(new) if new is not None else "—"})
    return lines


@dataclass(frozen=True)
class AdviceChange:
    reference: str
    before: str
    after: str


def decision_policy_impact(*, viewer, draft: DecisionPolicy, limit: int = 200
                           ) -> tuple[int, list[AdviceChange]]:
    """The viewer's most recent scores re-read under the draft: whose recommendation would
    differ (the score itself is the model's and does not change)."""
    scores = (ScoreResult.objects.select_related("application", "snapshot")
              .order_by("-created_at", "-pk"))
    branch_ids = visible_branch_ids(viewer=viewer)
    if branch_ids is not None:
        scores = scores.filter(application__branch_id__in=branch_ids)
    changes, examined = [], 0
    for result in scores[:limit]:
        examined += 1
        advice = recommend(draft.document, score=result.score, values=result.snapshot.values,
                           red_flag_codes=result.snapshot.red_flag_codes)
        if (advice["grade"], advice["recommendation"]) != (result.grade,
                                                           result.recommendation):
            changes.append(AdviceChange(
                reference=result.application.reference,
                before=f"{result.grade} / {result.recommendation}",
                after=f"{advice['grade']} / {advice['recommendation']}"))
    return examined, changes


def _in_force():
    return services.decision_policy_in_force()


@login_required
def policy_list_page(request):
    require_policy_officer(request.user)
    return render(request, "scoring/policy_wb/list.html", {
        "in_force": _in_force(), "versions": DecisionPolicy.objects.order_by("-version"),
        "import_form": ImportForm()})


@login_required
@require_POST
def policy_draft_next(request):
    require_policy_officer(request.user)
    draft = services.decision_policy_draft_next(actor=request.user)
    messages.success(request, _("Draft version %(number)s started.") % {"number": draft.version})
    return redirect("scoring:policy", policy_id=draft.pk)


def _context(request, policy: DecisionPolicy, **forms_) -> dict:
    in_force = _in_force()
    compare_to = in_force if in_force is not None and in_force.pk != policy.pk else None
    context = {
        "policy": policy, "in_force": compare_to,
        "diff": decision_policy_diff(draft=policy, in_force=compare_to),
        "form": forms_.get("form") or DocumentForm(initial={"document": yaml.safe_dump(
            policy.document, allow_unicode=True, sort_keys=False)}),
        **version_controls(request, policy, **forms_),
    }
    if policy.is_editable:
        context["examined"], context["changes"] = decision_policy_impact(
            viewer=request.user, draft=policy)
    return context


def _page(request, policy, status=200, **forms_):
    return render(request, "scoring/policy_wb/policy.html", _context(request, policy, **forms_),
                  status=status)


@login_required
def policy_page(request, policy_id: int):
    require_policy_officer(request.user)
    policy = get_object_or_404(DecisionPolicy, pk=policy_id)
    if request.method != "POST":
        return _page(request, policy)
    form = DocumentForm(data=request.POST)
    status = 400
    if form.is_valid():
        status = run_on_form(form, lambda: services.decision_policy_save(
            policy_id=policy.pk, document=form.cleaned_data["document"], actor=request.user))
    if status == 200:
        messages.success(request, _("The draft is saved."))
        return redirect("scoring:policy", policy_id=policy.pk)
    policy.refresh_from_db()
    return _page(request, policy, status, form=form)


policy_publish, policy_retire = publish_retire_views(
    get_version=lambda pk: get_object_or_404(DecisionPolicy, pk=pk),
    url_name="scoring:policy", kwarg="policy_id", page=_page,
    publish=lambda p, **kw: services.decision_policy_publish(policy_id=p.pk, **kw),
    retire=lambda p, **kw: services.decision_policy_retire(policy_id=p.pk, **kw))


@login_required
def policy_export(request, policy_id: int, fmt: str):
    require_policy_officer(request.user)
    policy = get_object_or_404(DecisionPolicy, pk=policy_id)
    return document_response(
        {"format": EXPORT_FORMAT, "version": policy.version, "evidence": policy.evidence,
         "source_citation": policy.source_citation, "document": policy.document},
        fmt=fmt, filename=f"decision-policy-v{policy.version}")


def _import(data, *, actor) -> DecisionPolicy:
    if not isinstance(data, dict) or data.get("format") != EXPORT_FORMAT:
        raise ValidationError({"format": _("This is not a decision-policy export.")})
    return services.decision_policy_create(
        document=data.get("document"), actor=actor, effective_from=timezone.localdate(),
        source_citation=data.get("source_citation") or "", evidence=data.get("evidence") or "G")


@login_required
@require_POST
def policy_import(request):
    require_policy_officer(request.user)
    return import_command(
        request, service=_import,
        page=lambda draft: reverse("scoring:policy", kwargs={"policy_id": draft.pk}),
        title=_("Import a decision policy"), action=reverse("scoring:policy-import"),
        back=reverse("scoring:policies"))
