"""Pages of post-loan inspections: the officer's due list (a block for the monitoring work
list and a page of its own), the phone form (one section per screen, answers autosaved through
the API by the investigation form's script, pointed at the inspection endpoints), the finish
screen with the conclusion, and the reviewer's page. A loan-page panel lists past and upcoming
inspections.

Reads go through the viewer-scoped selectors and writes through the services, which check
permission and state again: a button shown here is a hint, not a grant.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from django_fsm import ConcurrentTransition, TransitionNotAllowed

from apps.core.exceptions import DomainError
from apps.core.signals import permission_refused
from apps.investigations.display import answer_display
from apps.investigations.views import _js_messages
from apps.monitoring import inspection_services as services
from apps.monitoring.api.inspection_views import available_actions
from apps.monitoring.inspection_forms import ConclusionForm, ReturnForm, ReviewForm
from apps.monitoring.inspection_selectors import (
    inspection_get,
    inspection_view,
    inspections_due_for,
    inspections_for_loan,
    inspections_to_review,
)

FINISH = "finish"


def _require_staff_role(user) -> None:
    if not (user.is_superuser or user.roles):
        raise PermissionDenied


# --- blocks for other pages ----------------------------------------------------------------


def inspections_due_context(request) -> dict:
    """Context of `monitoring/partials/inspections_due.html`, for the monitoring work list:
    the viewer's inspections due soon (overdue first) and those waiting for their review."""
    return {"inspections_due": list(inspections_due_for(viewer=request.user)[:50]),
            "inspections_to_review": list(inspections_to_review(viewer=request.user)[:50])}


def inspection_panel_context(*, viewer, loan) -> dict:
    """Context of `monitoring/partials/inspection_panel.html` on the loan page."""
    return {"loan": loan, **inspections_for_loan(viewer=viewer, loan=loan)}


@login_required
def inspection_list_page(request):
    """The officer's own due list and the reviewer's queue (until the monitoring work list
    hosts the block)."""
    _require_staff_role(request.user)
    return render(request, "monitoring/inspection_list.html", inspections_due_context(request))


# --- running a service from a page ---------------------------------------------------------


def _run(request, back, service, success: str):
    """Run one service; its refusal becomes a message on the page it came from."""
    try:
        service()
    except PermissionDenied as exc:
        permission_refused.send(sender=_run, request=request, reason=str(exc))
        return render(request, "403.html", status=403)
    except ValidationError as exc:
        for errors in (exc.message_dict.values() if hasattr(exc, "error_dict")
                       else [exc.messages]):
            for error in errors:
                messages.error(request, error)
    except DomainError as exc:
        messages.error(request, exc.detail)
        for line in exc.fields.get("missing", []):
            messages.warning(request, line)
    except (TransitionNotAllowed, ConcurrentTransition):
        messages.error(request, _("Someone else moved this inspection meanwhile; here is its "
                                  "current state."))
    else:
        messages.success(request, success)
    return back


def _form_url(inspection_id: int, section: str = FINISH) -> str:
    return f"{reverse('monitoring:inspection_form', args=[inspection_id])}?section={section}"


# --- the officer's form --------------------------------------------------------------------


@login_required
def inspection_form(request, inspection_id: int, conclusion_form=None):
    """One section per screen with progress, then the finish screen: what is missing, the
    conclusion and submit. The officer edits while in progress (or overdue once started)."""
    _require_staff_role(request.user)
    inspection = inspection_get(viewer=request.user, inspection_id=inspection_id)
    view = inspection_view(inspection=inspection)
    codes = [section.code for section in view.sections]
    current = request.GET.get("section") or (codes[0] if codes else FINISH)
    if current != FINISH and current not in codes:
        raise Http404
    index = codes.index(current) if current in codes else len(codes)
    steps = [*codes, FINISH]
    is_officer = request.user.pk == inspection.officer_id
    actions = available_actions(inspection, request.user)
    answers = {item.code: item.answer for section in view.sections for item in section.items
               if item.answer is not None}
    return render(request, "monitoring/inspection_form.html", {
        "inspection": inspection, "loan": inspection.loan, "view": view,
        "section": view.section(current), "finish": current == FINISH,
        "previous": steps[index - 1] if index > 0 else None,
        "next": steps[index + 1] if index + 1 < len(steps) else None,
        "can_edit": is_officer and inspection.is_editable, "actions": actions,
        "conclusion_form": conclusion_form or ConclusionForm(),
        "answers": answers, "js_messages": _js_messages(),
        "total_answered": sum(s.answered_count for s in view.sections),
        "total_required": sum(s.required_count for s in view.sections),
    })


@login_required
@require_POST
def inspection_start(request, inspection_id: int):
    _require_staff_role(request.user)
    inspection_get(viewer=request.user, inspection_id=inspection_id)
    back = redirect("monitoring:inspection_form", inspection_id)
    return _run(request, back, lambda: services.inspection_start(
        inspection_id=inspection_id, actor=request.user), _("Inspection started."))


@login_required
@require_POST
def inspection_submit(request, inspection_id: int):
    _require_staff_role(request.user)
    inspection_get(viewer=request.user, inspection_id=inspection_id)
    form = ConclusionForm(request.POST)
    if not form.is_valid():
        request.GET = request.GET.copy()
        request.GET["section"] = FINISH
        response = inspection_form(request, inspection_id, conclusion_form=form)
        response.status_code = 400
        return response
    return _run(request, redirect(_form_url(inspection_id)), lambda: services.inspection_submit(
        inspection_id=inspection_id, actor=request.user, **form.cleaned_data),
        _("Inspection submitted for review."))


# --- the reviewer's page ---------------------------------------------------------------------


@login_required
def inspection_review_page(request, inspection_id: int, review_form=None):
    """Answers section by section with their evidence, every finding with its numbers, the
    officer's conclusion; confirm (correcting it if needed) or return with a note."""
    _require_staff_role(request.user)
    inspection = inspection_get(viewer=request.user, inspection_id=inspection_id)
    view = inspection_view(inspection=inspection)
    sections = [{"section": section,
                 "items": [{"item": item, "shown": answer_display(item)}
                           for item in section.items]}
                for section in view.sections]
    actions = available_actions(inspection, request.user)
    initial = {"proposed_class": inspection.proposed_class,
               "class_reason": inspection.class_reason, "actions": inspection.actions,
               "next_inspection_date": inspection.next_inspection_date}
    return render(request, "monitoring/inspection_review.html", {
        "inspection": inspection, "loan": inspection.loan, "view": view,
        "sections": sections, "actions": actions,
        "review_form": review_form or (ReviewForm(initial=initial)
                                       if "review" in actions else None),
        "return_form": ReturnForm() if "return_for_correction" in actions else None,
    })


@login_required
@require_POST
def inspection_review(request, inspection_id: int):
    _require_staff_role(request.user)
    inspection_get(viewer=request.user, inspection_id=inspection_id)
    form = ReviewForm(request.POST)
    if not form.is_valid():
        response = inspection_review_page(request, inspection_id, review_form=form)
        response.status_code = 400
        return response
    back = redirect("monitoring:inspection_review", inspection_id)
    return _run(request, back, lambda: services.inspection_review(
        inspection_id=inspection_id, actor=request.user, **form.cleaned_data),
        _("Inspection reviewed."))


@login_required
@require_POST
def inspection_return(request, inspection_id: int):
    _require_staff_role(request.user)
    inspection_get(viewer=request.user, inspection_id=inspection_id)
    form = ReturnForm(request.POST)
    back = redirect("monitoring:inspection_review", inspection_id)
    if not form.is_valid():
        messages.error(request, _("Say what must be corrected."))
        return back
    return _run(request, back, lambda: services.inspection_return(
        inspection_id=inspection_id, actor=request.user, **form.cleaned_data),
        _("Inspection returned to the officer."))
