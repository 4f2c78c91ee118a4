"""Pages of the exemption workflow under /oversight/exemptions/: the list, a case (with the
committee's decision form and the appeal forms), batch decisions, the NPL dashboard and the
frozen pack as PDF. Pages read through the viewer-scoped selectors and write through the
services, which check permission and state again; errors show next to their fields.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from apps.accounts.selectors import visible_branch_ids
from apps.audit.services import audit_record
from apps.core.exceptions import TransitionConflict
from apps.core.fsm import may_attempt
from apps.org.models import Branch
from apps.oversight import exemption_services as svc
from apps.oversight.exemption_pdf import render_exemption_pack_pdf
from apps.oversight.exemption_selectors import (
    exemption_case_get,
    exemption_case_list,
    may_oversee_exemptions,
    npl_dashboard,
    require_exemption_overseer,
)
from apps.oversight.exemption_states import ExemptionCaseState, Stage, Tier

PAGE_SIZE = 100


def _filters(request) -> dict:
    filters = {}
    branch = request.GET.get("branch", "")
    if branch.isdigit():
        filters["branch"] = int(branch)
    if request.GET.get("state") in ExemptionCaseState.values:
        filters["state"] = request.GET["state"]
    if request.GET.get("deadline") in ("overdue", "due_90"):
        filters["deadline"] = request.GET["deadline"]
    return filters


@login_required
def exemption_list(request):
    """Cases the viewer may see, soonest deadline first, with filters."""
    filters = _filters(request)
    cases = list(exemption_case_list(viewer=request.user, filters=filters)[:PAGE_SIZE])
    branch_ids = visible_branch_ids(viewer=request.user)
    branches = Branch.objects.order_by("name")
    if branch_ids is not None:
        branches = branches.filter(pk__in=branch_ids)
    batchable = [c for c in cases if c.state == ExemptionCaseState.UNDER_REVIEW]
    return render(request, "oversight/exemption_list.html", {
        "cases": cases, "filters": filters, "branches": branches,
        "states": ExemptionCaseState.choices, "overseer": may_oversee_exemptions(request.user),
        "batchable": batchable, "tiers": Tier.choices})


def _case_context(request, case, errors=None, posted=None) -> dict:
    people = list(case.people.select_related("user").order_by("id"))
    stages = dict(Stage.choices)
    errors = errors or {}
    for person in people:
        # Errors next to the person they concern (the service keys them by person id).
        person.errors = [m for key in (f"tier_{person.pk}", f"reason_{person.pk}",
                                       f"outcome_{person.pk}") for m in errors.get(key, [])]
        person.stage_lines = [(stages.get(i["stage"], i["stage"]), i["role"], i["what"])
                              for i in person.involvements]
    user = request.user
    mine = next((p for p in people if p.user_id == user.pk), None)
    return {
        "case": case, "people": people, "tiers": Tier.choices, "errors": errors,
        "general_errors": errors.get("__all__", []) + errors.get("tiers", [])
        + errors.get("outcomes", []),
        "posted": posted or {}, "duties": case.pack.get("duties", []),
        "can_start": may_attempt(case.start_review, actor=user),
        "can_decide": may_attempt(case.decide, actor=user),
        "can_appeal": (mine is not None and mine.appealed_at is None
                       and may_attempt(case.appeal, actor=user)),
        "can_decide_appeal": may_attempt(case.decide_appeal, actor=user),
        "can_close": may_attempt(case.close, actor=user),
        "pending_appeals": [p for p in people if p.appealed_at and not p.appeal_outcome],
        "mine": mine,
    }


@login_required
def exemption_detail(request, case_id: int):
    """The loan, incident, frozen pack, people with their duties, dissent and tiers."""
    case = exemption_case_get(case_id=case_id, viewer=request.user)
    return render(request, "oversight/exemption_case.html", _case_context(request, case))


def _tiers_from(post, people) -> dict[int, dict]:
    return {p.pk: {"tier": post.get(f"tier_{p.pk}", ""), "reason": post.get(f"reason_{p.pk}", ""),
                   "relied_on": post.get(f"relied_on_{p.pk}", "")} for p in people}


def _outcomes_from(post, people) -> dict[int, dict]:
    return {p.pk: {"outcome": post.get(f"outcome_{p.pk}", ""),
                   "reason": post.get(f"reason_{p.pk}", "")}
            for p in people if p.appealed_at and not p.appeal_outcome}


@login_required
@require_POST
def exemption_command(request, case_id: int, command: str):
    """One form post per move; refusals come back on the case page next to their fields."""
    case = exemption_case_get(case_id=case_id, viewer=request.user)
    people = list(case.people.all())
    post = request.POST
    actions = {
        "start-review": lambda: svc.exemption_case_start_review(case_id=case.pk,
                                                                actor=request.user),
        "decide": lambda: svc.exemption_case_decide(
            case_id=case.pk, actor=request.user, summary=post.get("summary", ""),
            tiers=_tiers_from(post, people)),
        "appeal": lambda: svc.exemption_case_appeal(case_id=case.pk, actor=request.user,
                                                    grounds=post.get("grounds", "")),
        "decide-appeal": lambda: svc.exemption_case_decide_appeal(
            case_id=case.pk, actor=request.user, summary=post.get("summary", ""),
            outcomes=_outcomes_from(post, people)),
        "close": lambda: svc.exemption_case_close(case_id=case.pk, actor=request.user),
    }
    if command not in actions:
        raise PermissionDenied(_("Unknown action."))
    try:
        actions[command]()
    except ValidationError as exc:
        errors = exc.message_dict if hasattr(exc, "error_dict") else {"__all__": exc.messages}
        case.refresh_from_db()
        return render(request, "oversight/exemption_case.html",
                      _case_context(request, case, errors, post), status=400)
    except TransitionConflict as exc:
        case.refresh_from_db()
        return render(request, "oversight/exemption_case.html",
                      _case_context(request, case, {"__all__": [exc.detail]}, post),
                      status=409)
    return redirect("oversight:exemption", case_id=case.pk)


@login_required
@require_POST
def exemption_batch(request):
    """Apply one decision to the chosen small cases (each keeps its own pack)."""
    require_exemption_overseer(request.user)
    ids = [int(v) for v in request.POST.getlist("case_ids") if v.isdigit()]
    for case_id in ids:
        exemption_case_get(case_id=case_id, viewer=request.user)  # 404 unless visible
    try:
        svc.exemption_batch_decide(case_ids=ids, actor=request.user,
                                   tier=request.POST.get("tier", ""),
                                   reason=request.POST.get("reason", ""),
                                   relied_on=request.POST.get("relied_on", ""))
    except ValidationError as exc:
        filters = _filters(request)
        cases = list(exemption_case_list(viewer=request.user, filters=filters)[:PAGE_SIZE])
        return render(request, "oversight/exemption_list.html", {
            "cases": cases, "filters": filters, "branches": Branch.objects.order_by("name"),
            "states": ExemptionCaseState.choices, "overseer": True, "tiers": Tier.choices,
            "batchable": [c for c in cases if c.state == ExemptionCaseState.UNDER_REVIEW],
            "batch_errors": exc.message_dict, "posted": request.POST}, status=400)
    return redirect("oversight:exemptions")


@login_required
def exemption_dashboard(request):
    """Branch inclusive NPL ratio against the bank's ratio + tolerance and the target."""
    return render(request, "oversight/exemption_dashboard.html",
                  npl_dashboard(viewer=request.user))


@login_required
def exemption_pdf(request, case_id: int):
    """The frozen pack as PDF (pdf.py's styles), with its SHA-256 printed; the download is
    audited."""
    case = exemption_case_get(case_id=case_id, viewer=request.user)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "pack.pdf"
        render_exemption_pack_pdf(case, path)
        content = path.read_bytes()
    with transaction.atomic():
        audit_record(action="exemption_case.pack_exported", actor=request.user, subject=case,
                     payload={"case_id": case.pk, "pack_sha256": case.pack_sha256},
                     application_id=case.application_id, branch_id=case.branch_id)
    response = HttpResponse(content, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="exemption-{case.pk}.pdf"'
    return response
