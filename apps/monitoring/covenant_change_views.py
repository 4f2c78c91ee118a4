"""Pages for the covenant lifecycle (phone-first, 360 px): a covenant's page with its checks,
its changes, the officer's form to amend, waive or end it, and the second person's decision.
Reads go through the viewer-scoped selectors (404 outside the viewer's branches), writes
through the services, which check permission (403) before state (409): a button shown here
is a hint. Refusals come back on the same page, each message under its field."""

from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from apps.monitoring import covenant_change_services as services
from apps.monitoring import covenant_selectors as selectors
from apps.monitoring.covenant_states import CovenantChangeKind, CovenantKind, CovenantState
from apps.monitoring.covenant_views import _attempt, _require_staff
from apps.monitoring.permissions import may_work_loan


def _page(request, covenant, *, errors=None, status=200, form="", error_change=None):
    changes = list(selectors.covenant_change_list(viewer=request.user)
                   .filter(covenant=covenant).order_by("-id")[:100])
    for change in changes:
        change.actions = selectors.available_actions(change, request.user)
    checks = list(selectors.covenant_check_list(viewer=request.user)
                  .filter(covenant=covenant).order_by("-due_date", "-id")[:100])
    may_propose = (may_work_loan(covenant, request.user)
                   and covenant.state != CovenantState.ENDED
                   and not any(c.state in ("proposed", "approved") for c in changes))
    return render(request, "monitoring/covenant.html", {
        "covenant": covenant, "loan": covenant.loan, "changes": changes, "checks": checks,
        "may_propose": may_propose, "change_kinds": CovenantChangeKind.choices,
        "kinds": CovenantKind.choices, "errors": errors or {}, "form": form,
        "error_change": error_change,
        "posted": request.POST if request.method == "POST" else {}}, status=status)


@login_required
def covenant_page(request, covenant_id: int):
    _require_staff(request.user)
    return _page(request, selectors.covenant_get(covenant_id=covenant_id, viewer=request.user))


@login_required
@require_POST
def covenant_change_propose(request, covenant_id: int):
    _require_staff(request.user)
    covenant = selectors.covenant_get(covenant_id=covenant_id, viewer=request.user)
    post = request.POST
    status, errors = _attempt(lambda: services.covenant_change_propose(
        covenant_id=covenant.pk, actor=request.user, kind=post.get("kind", ""),
        effective_from=post.get("effective_from", ""),
        waived_until=post.get("waived_until") or None, new_kind=post.get("new_kind", ""),
        new_text=post.get("new_text", ""), reason=post.get("reason", "")))
    if status != 200:
        covenant = selectors.covenant_get(covenant_id=covenant_id, viewer=request.user)
        return _page(request, covenant, errors=errors, status=status, form="propose")
    return redirect("monitoring:covenant", covenant.pk)


@login_required
@require_POST
def covenant_change_act(request, change_id: int, act: str):
    _require_staff(request.user)
    change = selectors.covenant_change_get(change_id=change_id, viewer=request.user)
    user, note = request.user, request.POST.get("note", "")
    calls = {
        "approve": lambda: services.covenant_change_approve(change_id=change.pk, actor=user,
                                                            note=note),
        "reject": lambda: services.covenant_change_reject(change_id=change.pk, actor=user,
                                                          note=note),
        "withdraw": lambda: services.covenant_change_withdraw(change_id=change.pk, actor=user),
    }
    if act not in calls:
        raise Http404
    status, errors = _attempt(calls[act])
    if status != 200:
        covenant = selectors.covenant_get(covenant_id=change.covenant_id, viewer=request.user)
        return _page(request, covenant, errors=errors, status=status, form="decide",
                     error_change=change.pk)
    return redirect("monitoring:covenant", change.covenant_id)
