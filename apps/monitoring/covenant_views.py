"""Pages for covenant checks and annual reviews (phone-first, 360 px): one page per check or
review with the officer's evidence form and the second person's decision, the form adding a
covenant from the loan's monitoring page, and the blocks the work list and the loan page
show. Reads go through the viewer-scoped selectors, writes through the services, which
check permission (403) before state (409) again: a button shown here is a hint."""

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from django_fsm import ConcurrentTransition, TransitionNotAllowed

from apps.core.exceptions import DomainError
from apps.monitoring import covenant_selectors as selectors
from apps.monitoring import covenant_services as services
from apps.monitoring.covenant_states import CovenantKind, CovenantResult, ReviewOutcome
from apps.monitoring.permissions import may_work_loan
from apps.monitoring.selectors import loan_get


def _require_staff(user) -> None:
    if not (user.is_superuser or user.roles):
        raise PermissionDenied


def _attempt(call) -> tuple[int, dict]:
    """Run a service; (status, {field: [messages]}), empty on success."""
    try:
        call()
    except ValidationError as exc:
        found = dict(exc.message_dict) if hasattr(exc, "error_dict") else {
            "general": exc.messages}
        found["general"] = found.pop("__all__", found.get("general", []))
        return 400, found
    except PermissionDenied as exc:
        return 403, {"general": [str(exc) or _("You may not do this.")]}
    except DomainError as exc:
        return exc.status_code, {"general": [str(exc.detail)]}
    except (TransitionNotAllowed, ConcurrentTransition):
        return 409, {"general": [_("Someone else moved this meanwhile; here is its current "
                                   "state.")]}
    return 200, {}


def _documents(loan, viewer) -> list:
    """Documents of the loan's file the viewer may see: what the evidence may cite."""
    from apps.documents.selectors import document_list

    return list(document_list(viewer=viewer).filter(application_id=loan.application_id)
                .order_by("-uploaded_at")[:100])


def _document_ids(request) -> list[int]:
    return [int(v) for v in request.POST.getlist("document_ids") if v.isdigit()]


# --- blocks for the work list and the loan page -----------------------------------------------


def worklist_block(request) -> dict | None:
    """The post-loan officer's work list: covenant checks and annual reviews due or overdue,
    those waiting for a decision, and unread reminders and escalations."""
    return {"template": "monitoring/partials/covenants_due.html",
            "context": selectors.covenant_worklist(viewer=request.user)}


def loan_block(loan, viewer) -> dict | None:
    return {"template": "monitoring/partials/covenant_section.html",
            "context": {**selectors.covenant_section(loan=loan, viewer=viewer),
                        "kinds": CovenantKind.choices,
                        "may_add": may_work_loan(loan, viewer)}}


# --- a covenant check ---------------------------------------------------------------------------


def _check_page(request, check, *, errors=None, status=200):
    return render(request, "monitoring/covenant_check.html", {
        "item": check, "loan": check.loan, "actions": selectors.available_actions(
            check, request.user),
        "results": CovenantResult.choices, "documents": _documents(check.loan, request.user),
        "errors": errors or {}, "posted": request.POST if request.method == "POST" else {}},
        status=status)


@login_required
def covenant_check_page(request, check_id: int):
    _require_staff(request.user)
    return _check_page(request, selectors.covenant_check_get(check_id=check_id,
                                                             viewer=request.user))


@login_required
@require_POST
def covenant_check_act(request, check_id: int, act: str):
    _require_staff(request.user)
    check = selectors.covenant_check_get(check_id=check_id, viewer=request.user)
    user, note = request.user, request.POST.get("note", "")
    calls = {
        "submit": lambda: services.covenant_check_submit(
            check_id=check.pk, actor=user, result=request.POST.get("result", ""), note=note,
            document_ids=_document_ids(request)),
        "accept": lambda: services.covenant_check_accept(check_id=check.pk, actor=user,
                                                         note=note),
        "breach": lambda: services.covenant_check_breach(check_id=check.pk, actor=user,
                                                         note=note),
    }
    if act not in calls:
        raise Http404
    status, errors = _attempt(calls[act])
    if status != 200:
        check = selectors.covenant_check_get(check_id=check_id, viewer=request.user)
        return _check_page(request, check, errors=errors, status=status)
    return redirect("monitoring:covenant_check", check.pk)


# --- an annual review ---------------------------------------------------------------------------


def _review_page(request, review, *, errors=None, status=200):
    return render(request, "monitoring/annual_review.html", {
        "item": review, "loan": review.loan, "actions": selectors.available_actions(
            review, request.user),
        "outcomes": ReviewOutcome.choices, "documents": _documents(review.loan, request.user),
        "errors": errors or {}, "posted": request.POST if request.method == "POST" else {}},
        status=status)


@login_required
def annual_review_page(request, review_id: int):
    _require_staff(request.user)
    return _review_page(request, selectors.annual_review_get(review_id=review_id,
                                                             viewer=request.user))


@login_required
@require_POST
def annual_review_act(request, review_id: int, act: str):
    _require_staff(request.user)
    review = selectors.annual_review_get(review_id=review_id, viewer=request.user)
    user, note = request.user, request.POST.get("note", "")
    calls = {
        "submit": lambda: services.annual_review_submit(
            review_id=review.pk, actor=user, outcome=request.POST.get("outcome", ""),
            note=note, document_ids=_document_ids(request)),
        "accept": lambda: services.annual_review_accept(review_id=review.pk, actor=user,
                                                        note=note),
        "return": lambda: services.annual_review_return(review_id=review.pk, actor=user,
                                                        note=note),
    }
    if act not in calls:
        raise Http404
    status, errors = _attempt(calls[act])
    if status != 200:
        review = selectors.annual_review_get(review_id=review_id, viewer=request.user)
        return _review_page(request, review, errors=errors, status=status)
    return redirect("monitoring:annual_review", review.pk)


# --- adding a covenant ----------------------------------------------------------------------------


@login_required
def covenant_add(request, loan_id: int):
    """A post-loan officer records a covenant (its own page: the loan-page section is
    rendered without the request, so it carries no form); a refusal shows the reason."""
    _require_staff(request.user)
    loan = loan_get(loan_id=loan_id, viewer=request.user)
    status, errors = 200, {}
    if request.method == "POST":
        status, errors = _attempt(lambda: services.covenant_add(
            loan_id=loan.pk, actor=request.user, kind=request.POST.get("kind", ""),
            text=request.POST.get("text", "")))
        if status == 200:
            return redirect(reverse("monitoring:loan", args=[loan.pk]) + "#covenants")
    return render(request, "monitoring/covenant_add.html", {
        "loan": loan, "kinds": CovenantKind.choices, "errors": errors,
        "posted": request.POST if request.method == "POST" else {}}, status=status)
