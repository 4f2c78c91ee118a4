"""Scoring pages: the score block of the application page ("score now"), the model list and
model page (validation report, points table, drift, override rates, promotion), and the
portfolio re-scoring job with its progress bar.

Reads go through the selectors (scoped to the viewer); writes through the services, which
check permission and state again: a button shown here is a hint, not a grant.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from apps.applications.selectors import application_get
from apps.core.exceptions import DomainError
from apps.core.fsm import may_attempt
from apps.scoring import selectors, services
from apps.scoring.features.spec import BY_NAME
from apps.scoring.forms import TrainingForm
from apps.scoring.models import TrainingJob
from apps.scoring.permissions import (
    may_manage_models,
    may_request_score,
    may_view_models,
    may_view_score_failures,
)
from apps.scoring.reason_text import reason_rows
from apps.scoring.states import ModelKind, ModelVersionState

SHADOW_RESCORABLE = (ModelVersionState.DRAFT, ModelVersionState.VALIDATED,
                     ModelVersionState.PROMOTION_REQUESTED)


def score_section_context(request, application) -> dict | None:
    """The score block: latest score, reasons, recommendation, model version, "score now"."""
    user = request.user
    result = selectors.latest_score(application_id=application.pk)
    if result is None and not may_request_score(user):
        return None
    return {"application": application, "result": result,
            "reasons": reason_rows(result) if result else [],
            "missing": [BY_NAME[n].description for n, v in result.snapshot.values.items()
                        if v is None and n in BY_NAME] if result else [],
            "can_request": may_request_score(user),
            "drift_alert": selectors.drift_alert_active() if may_view_models(user) else None}


@login_required
@require_POST
def score_now(request, application_id: int):
    services.application_score_request(application_id=application_id, actor=request.user)
    messages.success(request, _("Scoring requested; the result appears here in a moment."))
    return HttpResponseRedirect(reverse("applications:detail", args=[application_id]))


@login_required
def model_list(request):
    versions = list(selectors.model_version_list(viewer=request.user))
    return render(request, "scoring/model_list.html", {
        "versions": versions, "drift_alert": selectors.drift_alert_active(),
        "overrides": selectors.override_rates(viewer=request.user),
        "policy": services.decision_policy_in_force(),
        "training_form": TrainingForm(), "can_manage": may_manage_models(request.user),
        "can_view_failures": may_view_score_failures(request.user)})


_ACTIONS = {
    # action: (transition name, service, needs a reason)
    "validate": ("validate", services.model_version_validate, False),
    "request-promotion": ("request_promotion", services.model_version_request_promotion, True),
    "approve-promotion": ("approve_promotion", services.model_version_approve_promotion, False),
    "reject-promotion": ("reject_promotion", services.model_version_reject_promotion, True),
}


def _bin_label(b) -> str:
    """A bin as a reader names it: a yes/no answer, "missing" and "any other value" in the
    reader's language (the model stores the training data's own values)."""
    if b.missing:
        return _("Missing")
    if b.categories is None:
        return b.label
    words = {"yes": _("yes"), "no": _("no")}
    parts = [words.get(value, value) for value in b.categories]
    if b.other:
        parts.append(_("any other value"))
    return ", ".join(parts)


def _points_table(version) -> list[dict]:
    if version.kind != ModelKind.SCORECARD:
        return []
    card = services.model_of(version)
    table = card.points_table()
    return [{"feature": f, "label": BY_NAME[f].description if f in BY_NAME else f,
             "iv": card.binnings[f].iv,
             "bins": [{"label": _bin_label(b), "woe": b.woe, "count": b.good + b.bad,
                       "points": p}
                      for b, p in zip(card.binnings[f].bins, table[f], strict=True)]}
            for f in card.features]


@login_required
def model_detail(request, version_id: int):
    version = selectors.model_version_get(viewer=request.user, version_id=version_id)
    actions = [{"slug": slug, "reason": needs}
               for slug, (name, _service, needs) in _ACTIONS.items()
               if may_attempt(getattr(version, name), actor=request.user)]
    drift = selectors.drift_latest(model_version_id=version.pk)
    champion = services.champion_get()
    return render(request, "scoring/model_detail.html", {
        "champion": champion if champion is not None and champion.pk != version.pk else None,
        "version": version, "report": version.metrics.get("report", {}),
        "points": _points_table(version), "drift": drift,
        "drift_rows": sorted((drift.feature_psi.items() if drift else []),
                             key=lambda kv: -kv[1]),
        "actions": actions, "drift_alert": selectors.drift_alert_active(),
        "agreement": selectors.shadow_agreement(viewer=request.user, version=version),
        "can_shadow_rescore": (may_manage_models(request.user)
                               and version.state in SHADOW_RESCORABLE),
        "can_manage": may_manage_models(request.user)})


@login_required
@require_POST
def model_action(request, version_id: int, action: str):
    selectors.model_version_get(viewer=request.user, version_id=version_id)
    if action not in _ACTIONS:
        raise PermissionDenied
    _name, service, needs_reason = _ACTIONS[action]
    kwargs = {"reason": request.POST.get("reason", "")} if needs_reason else {}
    try:
        service(version_id=version_id, actor=request.user, **kwargs)
        messages.success(request, _("Done."))
    except (DomainError, ValidationError) as exc:
        messages.error(request, "; ".join(getattr(exc, "messages", None) or [str(exc)]))
    return HttpResponseRedirect(reverse("scoring:model-detail", args=[version_id]))


@login_required
@require_POST
def rescoring_start(request):
    """Re-score the portfolio: with the champion (decision scores), or with the version the
    model page names (shadow scores, for the agreement report)."""
    version_id = request.POST.get("model_version", "")
    try:
        job = services.rescoring_start(actor=request.user,
                                       model_version_id=int(version_id) if version_id.isdigit()
                                       else None)
    except ValidationError as exc:
        messages.error(request, "; ".join(exc.messages))
        return HttpResponseRedirect(reverse("scoring:model-list"))
    except DomainError as exc:  # another version's re-scoring runs; the hourly limit
        messages.error(request, exc.detail)
        return HttpResponseRedirect(reverse("scoring:model-list"))
    if job.joined:
        messages.info(request, _("A re-scoring was already running; you are following it."))
    return HttpResponseRedirect(reverse("scoring:rescoring-job", args=[job.pk]))


@login_required
def rescoring_job(request, job_id: int):
    job = selectors.rescoring_job_get(viewer=request.user, job_id=job_id)
    template = ("scoring/partials/rescoring_progress.html" if request.htmx
                else "scoring/rescoring_job.html")
    return render(request, template, {"job": job})


def application_score_page(request, application_id: int):
    """All scores of one application (history), for reviewers comparing versions."""
    application = application_get(viewer=request.user, application_id=application_id)
    return render(request, "scoring/score_history.html", {
        "application": application,
        "results": selectors.score_list(viewer=request.user, application_id=application_id)})


@login_required
@require_POST
def training_start(request):
    """Upload a CSV and queue its training; errors are shown next to their fields."""
    form = TrainingForm(request.POST, request.FILES)
    if form.is_valid():
        upload = form.cleaned_data["csv_file"]
        try:
            job = services.training_job_start(
                actor=request.user, source=form.cleaned_data["source"],
                content=upload.read() if upload else None, filename=upload.name if upload else "",
                target=form.cleaned_data["target"], kind=form.cleaned_data["kind"],
                seed=form.cleaned_data["seed"])
            return HttpResponseRedirect(reverse("scoring:training-job", args=[job.pk]))
        except ValidationError as exc:
            for field, errors in exc.message_dict.items():
                form.add_error(field if field in form.fields else None, errors)
    versions = list(selectors.model_version_list(viewer=request.user))
    return render(request, "scoring/model_list.html", {
        "versions": versions, "drift_alert": selectors.drift_alert_active(),
        "overrides": selectors.override_rates(viewer=request.user),
        "policy": services.decision_policy_in_force(), "training_form": form,
        "can_manage": may_manage_models(request.user)}, status=400)


@login_required
def training_job(request, job_id: int):
    if not may_view_models(request.user):
        raise PermissionDenied
    job = TrainingJob.objects.select_related("model_version").filter(pk=job_id).first()
    if job is None:
        from django.http import Http404

        raise Http404
    template = ("scoring/partials/training_progress.html" if request.htmx
                else "scoring/training_job.html")
    return render(request, template, {"job": job})
