"""Pages: an enterprise's external-data pulls (with what each cost or saved and, for a failed
pull, why in a sentence), the officer's request for a pull and its outcome (updating itself
until the source has answered), and the month's cost report of the viewer's branches."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from apps.core.exceptions import DomainError
from apps.datahub import selectors, services
from apps.datahub.api.views import month_bounds
from apps.datahub.forms import PullRequestForm
from apps.datahub.states import Channel, PullState
from apps.parties.selectors import enterprise_get

_ERRORS = {
    "source_unavailable": lambda p: _("The source did not answer after %(n)s attempts.")
    % {"n": p.attempts},
    "malformed_answer": lambda p: _("The source's answer was not in the agreed format "
                                    "(field %(field)s); nothing was stored.")
    % {"field": p.error_field or "?"},
    "source_refused": lambda p: _("The source refused the query (the enterprise may be "
                                  "unknown to it)."),
    "circuit_open": lambda p: _("The source has been failing, so the query was not sent; "
                                "ask again in a minute."),
    "source_not_configured": lambda p: _("This source is not connected yet."),
}


def pull_sentence(pull) -> str:
    if pull.state == PullState.FAILED:
        explain = _ERRORS.get(pull.error_code)
        return explain(pull) if explain else _("The pull failed.")
    if pull.state != PullState.SUCCEEDED:
        return _("Waiting for the source's answer.")
    if pull.channel == Channel.CACHE:
        return _("Answered from an earlier query, free of charge.")
    if pull.channel == Channel.FILE:
        return _("Read from an imported file.")
    return _("Answered by the source.")


@login_required
@permission_required("datahub.view_pull", raise_exception=True)
def enterprise_pulls_view(request, enterprise_id: int):
    enterprise = enterprise_get(viewer=request.user, enterprise_id=enterprise_id)
    page = Paginator(selectors.pull_list(viewer=request.user, enterprise_id=enterprise.pk),
                     25).get_page(request.GET.get("page") or "1")
    for pull in page:
        pull.sentence = pull_sentence(pull)
    consents = selectors.consent_list(viewer=request.user, enterprise_id=enterprise.pk)[:10]
    return render(request, "datahub/enterprise_pulls.html",
                  {"enterprise": enterprise, "page": page, "consents": consents})


@login_required
@permission_required("datahub.add_pull", raise_exception=True)
@require_http_methods(["GET", "POST"])
def pull_request_view(request, enterprise_id: int):
    """Choose the source, the purpose and (for the credit bureau) the person; the service
    checks consent, budget and scope, and its refusal is shown on the form."""
    enterprise = enterprise_get(viewer=request.user, enterprise_id=enterprise_id)
    form = PullRequestForm(request.POST or None, enterprise=enterprise)
    refusal = ""
    if request.method == "POST" and form.is_valid():
        person = form.cleaned_data["person"]
        try:
            pull = services.pull_request(
                enterprise_id=enterprise.pk, source=form.cleaned_data["source"],
                purpose=form.cleaned_data["purpose"], actor=request.user,
                person_id=person.pk if person is not None else None)
        except DomainError as exc:
            refusal = exc.detail
        except DjangoValidationError as exc:
            refusal = " ".join(exc.messages)
        else:
            return redirect("datahub:pull", pull_id=pull.pk)
    status = 409 if refusal else 200
    return render(request, "datahub/pull_request.html",
                  {"enterprise": enterprise, "form": form, "refusal": refusal,
                   "consents": selectors.consent_list(viewer=request.user,
                                                      enterprise_id=enterprise.pk)[:10]},
                  status=status)


@login_required
@permission_required("datahub.view_pull", raise_exception=True)
def pull_view(request, pull_id: int):
    """One pull's outcome: waiting (the card asks again every two seconds), answered (what
    came back, with its provenance) or failed (why, in a sentence)."""
    pull = selectors.pull_get(viewer=request.user, pull_id=pull_id)
    pull.sentence = pull_sentence(pull)
    waiting = pull.state in (PullState.REQUESTED, PullState.RUNNING)
    answer = pull.answered_by if pull.channel == Channel.CACHE else pull
    records = [] if waiting or pull.state == PullState.FAILED else list(
        answer.records.order_by("kind", "key")[:50])
    template = ("datahub/partials/pull_status.html" if request.headers.get("HX-Request")
                else "datahub/pull.html")
    return render(request, template, {"pull": pull, "waiting": waiting, "records": records,
                                      "answer": answer})


@login_required
@permission_required("datahub.view_cost_report", raise_exception=True)
def cost_report_view(request):
    from django.core.exceptions import ValidationError as DjangoValidationError
    from rest_framework.exceptions import ValidationError

    month = request.GET.get("month") or None
    try:
        start, end = month_bounds(month)
    except (ValidationError, DjangoValidationError):
        start, end = month_bounds(None)
    report = selectors.cost_report(viewer=request.user, start=start, end=end)
    return render(request, "datahub/cost_report.html", {"report": report, "start": start})
