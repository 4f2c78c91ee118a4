"""Post-loan risk pages (phone-first): the officer's work list, the review queue, a loan's
monitoring page (the panel the loan page includes, with its forms), and the branch view
with the NPL ratio against tolerance and the migration matrix. Same selectors and services
as the API; a refused command re-renders the page with the reason next to its field."""

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.dateparse import parse_date
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from apps.core.exceptions import DomainError
from apps.monitoring import selectors
from apps.monitoring.hooks import worklist_blocks
from apps.monitoring.permissions import may_propose_classification
from apps.monitoring.policy import PolicyNotConfigured
from apps.monitoring.services import actions as action_services
from apps.monitoring.services import classification as classification_services
from apps.monitoring.services import signals as signal_services
from apps.monitoring.states import Category


def _require_staff(user) -> None:
    if not (user.is_superuser or user.roles):
        raise PermissionDenied


def _attempt(call) -> tuple[int, dict]:
    """Run a service; (status, {field: [messages]}) — empty on success."""
    # Templates cannot read "__all__": errors not about one field are called "general".
    try:
        call()
    except ValidationError as exc:
        found = dict(exc.message_dict) if hasattr(exc, "error_dict") else {
            "general": exc.messages}
        if "__all__" in found:
            found["general"] = found.pop("__all__")
        return 400, found
    except DomainError as exc:
        return exc.status_code, {"general": [str(exc.detail)]}
    except PermissionDenied as exc:
        return 403, {"general": [str(exc) or _("You may not do this.")]}
    return 200, {}


@login_required
def worklist(request):
    """Open actions by deadline and open signals on my loans; blocks other modules add
    (inspections due)."""
    _require_staff(request.user)
    return render(request, "monitoring/worklist.html", {
        **selectors.worklist(viewer=request.user), "today": timezone.localdate(),
        "blocks": worklist_blocks(request),
        "to_review": selectors.review_queue(viewer=request.user).count()})


@login_required
def review(request):
    """Classification proposals awaiting my confirmation or approval."""
    _require_staff(request.user)
    return render(request, "monitoring/review.html", {
        "proposals": selectors.review_queue(viewer=request.user)[:200]})


def _loan_page(request, loan, *, errors=None, error_kind="", error_id=None, status=200):
    context = selectors.loan_panel_context(loan=loan, viewer=request.user)
    context.update({"with_forms": True, "errors": errors or {}, "error_kind": error_kind,
                    "error_id": error_id,
                    "may_propose": may_propose_classification(loan, request.user)})
    return render(request, "monitoring/loan.html", context, status=status)


@login_required
def loan_monitoring(request, loan_id: int):
    """A loan's classification history, signals and actions, with what I may do."""
    _require_staff(request.user)
    loan = selectors.loan_get(loan_id=loan_id, viewer=request.user)
    return _loan_page(request, loan)


@login_required
@require_POST
def loan_propose(request, loan_id: int):
    loan = selectors.loan_get(loan_id=loan_id, viewer=request.user)
    category, reason = request.POST.get("category", ""), request.POST.get("reason", "")
    status, errors = _attempt(lambda: classification_services.classification_propose(
        loan_id=loan.pk, category=category, reason=reason, actor=request.user))
    if status != 200:
        return _loan_page(request, loan, errors=errors, error_kind="propose", status=status)
    return redirect("monitoring:loan", loan.pk)


_CLASSIFICATION_ACTS = {"confirm": classification_services.classification_confirm,
                        "approve": classification_services.classification_approve,
                        "reject": classification_services.classification_reject}


@login_required
@require_POST
def classification_act(request, classification_id: int, act: str):
    if act not in _CLASSIFICATION_ACTS:
        raise Http404
    found = selectors.classification_get(classification_id=classification_id,
                                         viewer=request.user)
    note = request.POST.get("note", "")
    status, errors = _attempt(lambda: _CLASSIFICATION_ACTS[act](
        classification_id=found.pk, actor=request.user, note=note))
    if status != 200:
        return _loan_page(request, found.loan, errors=errors,
                          error_kind="classification",
                          error_id=found.pk, status=status)
    if request.POST.get("next") == "review":
        return redirect("monitoring:review")
    return redirect("monitoring:loan", found.loan_id)


@login_required
@require_POST
def signal_act(request, signal_id: int, act: str):
    signal = selectors.signal_get(signal_id=signal_id, viewer=request.user)
    note, user = request.POST.get("note", ""), request.user
    calls = {
        "acknowledge": lambda: signal_services.signal_acknowledge(signal_id=signal.pk,
                                                                  actor=user),
        "close": lambda: signal_services.signal_close(signal_id=signal.pk, actor=user,
                                                      note=note),
        "confirm-close": lambda: signal_services.signal_close_decide(
            signal_id=signal.pk, actor=user, confirm=True, note=note),
        "refuse-close": lambda: signal_services.signal_close_decide(
            signal_id=signal.pk, actor=user, confirm=False, note=note),
    }
    if act not in calls:
        raise Http404
    status, errors = _attempt(calls[act])
    if status != 200:
        return _loan_page(request, signal.loan, errors=errors, error_kind="signal",
                          error_id=signal.pk, status=status)
    return redirect("monitoring:loan", signal.loan_id)


@login_required
@require_POST
def action_act(request, action_id: int, act: str):
    action = selectors.action_get(action_id=action_id, viewer=request.user)
    text, user = request.POST.get("note", ""), request.user
    calls = {"complete": lambda: action_services.action_complete(action_id=action.pk,
                                                                 actor=user, note=text),
             "waive": lambda: action_services.action_waive(action_id=action.pk, actor=user,
                                                           reason=text)}
    if act not in calls:
        raise Http404
    status, errors = _attempt(calls[act])
    if act == "waive" and "reason" in errors:
        errors["note"] = errors.pop("reason")
    if status != 200:
        return _loan_page(request, action.loan, errors=errors, error_kind="action",
                          error_id=action.pk, status=status)
    return redirect("monitoring:loan", action.loan_id)


MATRIX_LABELS = {"new": gettext_lazy("New to the book"), "off": gettext_lazy("Left the book")}


@login_required
def branch_view(request):
    """NPL ratio by branch, product, officer and vintage against the tolerance (the bank's
    NPL ratio + the policy margin, §4.6), and the migration matrix between two runs."""
    _require_staff(request.user)
    by = request.GET.get("by", "branch")
    if by not in selectors.DIMENSIONS:
        by = "branch"
    tolerance = selectors.npl_tolerance()
    policy_gap = None
    try:
        rows = selectors.npl_ratios(viewer=request.user, by=by)
    except PolicyNotConfigured as gap:
        rows, policy_gap = [], gap.detail
    for row in rows:
        row["over"] = tolerance is not None and row["ratio"] > tolerance
    runs = selectors.run_dates()
    to_date = parse_date(request.GET.get("to") or "") or (runs[0] if runs else None)
    from_date = parse_date(request.GET.get("from") or "") or (
        runs[1] if len(runs) > 1 else None)
    matrix = None
    if from_date and to_date:
        matrix = selectors.migration_matrix(viewer=request.user, from_date=from_date,
                                            to_date=to_date)
        labels = {**dict(Category.choices), **MATRIX_LABELS}
        matrix["table"] = [
            {"label": labels[r], "cells": [matrix["cells"].get((r, c), {"count": 0,
                                                                      "balance": 0})
                                           for c in matrix["columns"]]}
            for r in matrix["rows"]]
        matrix["column_labels"] = [labels[c] for c in matrix["columns"]]
    dimensions = {"branch": _("Branch"), "product": _("Product"), "officer": _("Officer"),
                  "vintage": _("Vintage (disbursement quarter)")}
    return render(request, "monitoring/branch.html", {
        "rows": rows, "policy_gap": policy_gap,
        "by": by, "dimensions": dimensions, "tolerance": tolerance,
        "runs": runs, "matrix": matrix, "from_date": from_date, "to_date": to_date,
        "levels": selectors.signals_by_level(viewer=request.user),
        "today": timezone.localdate()})
