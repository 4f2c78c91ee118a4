"""Pages of the pre-lending investigation: the block on the application page (status, officers,
assignment), the officers' form (one section per screen, autosaved answer by answer through the
API by static/js/investigation-form.js), and the reviewer's page (answers, evidence, every red
flag and cross-check finding with its numbers, accept or return with a comment per item).

Reads go through the viewer-scoped selectors and writes through the workflow services, which
check permission and state again: a button shown here is a hint, not a grant.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST
from django_fsm import ConcurrentTransition, TransitionNotAllowed

from apps.accounts.roles import Role
from apps.accounts.selectors import user_list
from apps.applications.sections import register_application_section
from apps.applications.selectors import application_get
from apps.applications.states import ApplicationState
from apps.core.exceptions import DomainError
from apps.core.signals import permission_refused
from apps.investigations import workflow
from apps.investigations.actions import available_actions
from apps.investigations.controls.reverification import (
    may_request_reverification,
    reverification_for_investigation,
)
from apps.investigations.display import answer_display
from apps.investigations.evidence import pulled_item_values
from apps.investigations.forms import AcceptForm, AssignForm, CheckInForm, return_comments
from apps.investigations.selectors import (
    investigation_for_application,
    investigation_get,
    investigation_view,
)

FINISH = "finish"  # the last screen of the form: check-in, what is missing, submit
_ASSIGNABLE_STATES = (ApplicationState.SUBMITTED, ApplicationState.INVESTIGATING)


def _require_staff_role(user) -> None:
    if not (user.is_superuser or user.roles):
        raise PermissionDenied


def _officer_choices(viewer, application):
    """Active account managers of the application's branch that the viewer can see."""
    return (user_list(viewer=viewer).prefetch_related(None)
            .filter(groups__name=Role.ACCOUNT_MANAGER, is_active=True,
                    branch_id=application.branch_id).distinct())


def _may_assign(user, application) -> bool:
    return (application.state in _ASSIGNABLE_STATES
            and (user.pk == application.account_manager_id or user.has_role(Role.TEAM_LEAD)))


# --- the block on the application page ------------------------------------------------------

def _application_section(request, application) -> dict | None:
    """Investigation status, officers and links; the assignment form for whoever may assign.
    Hidden on drafts (nothing to investigate yet)."""
    investigation = investigation_for_application(viewer=request.user, application=application)
    if investigation is None and application.state == ApplicationState.DRAFT:
        return None
    data = {"application": application, "investigation": investigation, "assign_form": None}
    if investigation is None:
        if _may_assign(request.user, application):
            data["assign_form"] = AssignForm(officers=_officer_choices(request.user,
                                                                       application))
        return data
    data["actions"] = available_actions(investigation, request.user)
    data["is_officer"] = request.user.pk in investigation.officer_ids
    data["reverification"] = reverification_for_investigation(viewer=request.user,
                                                              investigation=investigation)
    data["may_request_reverification"] = (data["reverification"] is None
                                           and may_request_reverification(
                                               viewer=request.user, investigation=investigation))
    return data


def register_sections() -> None:
    """Called from InvestigationsConfig.ready(): the application page shows the investigation."""
    register_application_section(key="investigation", order=20,
                                 template="investigations/partials/application_section.html",
                                 context=_application_section)


@login_required
@require_POST
def investigation_assign(request, application_id: int):
    _require_staff_role(request.user)
    application = application_get(viewer=request.user, application_id=application_id)
    form = AssignForm(request.POST, officers=_officer_choices(request.user, application))
    back = redirect("applications:detail", application_id=application.pk)
    if not form.is_valid():
        for field, errors in form.errors.items():
            label = form.fields[field].label if field in form.fields else ""
            for error in errors:
                messages.error(request, f"{label}: {error}" if label else error)
        return back
    return _run(request, back, lambda: workflow.investigation_assign(
        application_id=application.pk, actor=request.user, **form.cleaned_data),
        _("Investigation assigned."))


# --- running a service from a page -----------------------------------------------------------

def _run(request, back, service, success: str):
    """Run one service; its refusal becomes a message on the page it came from."""
    try:
        service()
    except PermissionDenied as exc:
        permission_refused.send(sender=_run, request=request, reason=str(exc))
        return render(request, "403.html", status=403)
    except ValidationError as exc:
        for field, errors in (exc.message_dict.items() if hasattr(exc, "error_dict")
                              else [("", exc.messages)]):
            for error in errors:
                messages.error(request, f"{field}: {error}" if field else error)
    except DomainError as exc:
        missing = exc.fields.get("missing", [])
        if missing:
            # One message, not one box per item: the finish screen lists them by section, each
            # linking to its question.
            messages.error(request, ngettext(
                "%(detail)s %(count)s thing is missing: see the list under “Still missing”.",
                "%(detail)s %(count)s things are missing: see the list under “Still missing”.",
                len(missing)) % {"detail": exc.detail, "count": len(missing)})
        else:
            messages.error(request, exc.detail)
    except (TransitionNotAllowed, ConcurrentTransition):
        messages.error(request, _("Someone else moved this investigation meanwhile; here is "
                                  "its current state."))
    else:
        messages.success(request, success)
    return back


# --- the officers' form ----------------------------------------------------------------------

def _js_messages() -> dict:
    """The form script's words, translated here (the script itself holds no text)."""
    return {
        "saving": _("Saving…"), "saved": _("Saved"),
        "offline": _("Offline: your answers are kept on this phone and sent when the "
                     "connection returns."),
        "pending": _("Answers waiting to be sent: %(count)s"),
        "allSaved": _("All answers saved."),
        "conflict": _("The other officer changed this answer meanwhile. Their answer:"),
        "keepMine": _("Keep mine"), "takeTheirs": _("Take theirs"),
        "uploading": _("Uploading…"), "uploadFailed": _("The file could not be uploaded:"),
        "remove": _("Remove"),
        "noPosition": _("Your position could not be read; allow location access and try "
                        "again."),
        "refused": _("Not saved:"), "yes": _("Yes"), "no": _("No"), "empty": _("(empty)"),
        "locating": _("Reading your position…"),
        "photo": _("Photo %(id)s"), "document": _("Document %(id)s"),
    }


def _with_pulled_values(view, application_id: int) -> None:
    """Each item an outside source answers too gets `pulled` (value, text, provenance): the
    data hub's value shown beside the officer's answer (apps/investigations/evidence.py)."""
    pulled = pulled_item_values(application_id)
    for section in view.sections:
        for item in section.items:
            item.pulled = pulled.get(item.code)


def _initial_answers(view) -> dict:
    """What the script needs to autosave: each item's current version, value and evidence."""
    return {item.code: item.answer for section in view.sections for item in section.items
            if item.answer is not None}


@login_required
def investigation_form(request, investigation_id: int):
    """One section per screen with progress, then a finish screen (check-in, missing, submit).
    Officers edit while the investigation is in progress or returned; others read."""
    _require_staff_role(request.user)
    investigation = investigation_get(viewer=request.user, investigation_id=investigation_id)
    view = investigation_view(investigation=investigation)
    _with_pulled_values(view, investigation.application_id)
    codes = [section.code for section in view.sections]
    current = request.GET.get("section") or (codes[0] if codes else FINISH)
    if current != FINISH and current not in codes:
        raise Http404
    index = codes.index(current) if current in codes else len(codes)
    is_officer = request.user.pk in investigation.officer_ids
    steps = [*codes, FINISH]
    return render(request, "investigations/form.html", {
        "investigation": investigation, "application": investigation.application,
        "view": view, "section": view.section(current), "finish": current == FINISH,
        "previous": steps[index - 1] if index > 0 else None,
        "next": steps[index + 1] if index + 1 < len(steps) else None,
        "is_officer": is_officer, "can_edit": is_officer and view.editable,
        "actions": available_actions(investigation, request.user),
        "officers": _officers(investigation, {c.officer_id for c in view.check_ins}),
        "check_in_form": CheckInForm(),
        "answers": _initial_answers(view), "js_messages": _js_messages(),
        "total_answered": sum(s.answered_count for s in view.sections),
        "total_required": sum(s.required_count for s in view.sections),
    })


def _officers(investigation, checked_in: set[int]) -> list[dict]:
    return [{"user": user, "role": role, "checked_in": user.pk in checked_in}
            for user, role in ((investigation.lead_officer, _("Lead officer")),
                               (investigation.assisting_officer, _("Assisting officer")))]


def _form_url(investigation_id: int, section: str = FINISH) -> str:
    return f"{reverse('investigations:form', args=[investigation_id])}?section={section}"


@login_required
@require_POST
def investigation_start(request, investigation_id: int):
    _require_staff_role(request.user)
    investigation = investigation_get(viewer=request.user, investigation_id=investigation_id)
    return _run(request, redirect("investigations:form", investigation_id=investigation.pk),
                lambda: workflow.investigation_start(investigation_id=investigation.pk,
                                                     actor=request.user),
                _("Investigation started: answers are saved as you type."))


@login_required
@require_POST
def investigation_check_in(request, investigation_id: int):
    _require_staff_role(request.user)
    investigation = investigation_get(viewer=request.user, investigation_id=investigation_id)
    back = redirect(_form_url(investigation.pk))
    form = CheckInForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Your position could not be read; allow location access "
                                  "and try again."))
        return back
    return _run(request, back, lambda: workflow.site_check_in(
        investigation_id=investigation.pk, officer=request.user, **form.cleaned_data),
        _("Checked in at the site."))


@login_required
@require_POST
def investigation_check_out(request, investigation_id: int):
    """Leaving the site: the time on site is the gap to the officer's check-in (§3.4)."""
    _require_staff_role(request.user)
    investigation = investigation_get(viewer=request.user, investigation_id=investigation_id)
    back = redirect(_form_url(investigation.pk))
    form = CheckInForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Your position could not be read; allow location access "
                                  "and try again."))
        return back
    return _run(request, back, lambda: workflow.site_check_out(
        investigation_id=investigation.pk, officer=request.user, lat=form.cleaned_data["lat"],
        lng=form.cleaned_data["lng"]), _("Checked out: your time on site is recorded."))


@login_required
@require_POST
def investigation_submit(request, investigation_id: int):
    _require_staff_role(request.user)
    investigation = investigation_get(viewer=request.user, investigation_id=investigation_id)
    return _run(request, redirect(_form_url(investigation.pk) + "#missing-list"),
                lambda: workflow.investigation_submit(investigation_id=investigation.pk,
                                                      actor=request.user),
                _("Investigation submitted for review."))


# --- the reviewer's page ---------------------------------------------------------------------

@login_required
def investigation_review(request, investigation_id: int):
    """Answers section by section with their evidence, every finding with its numbers, the
    missing list; accept, or return with a comment per item."""
    _require_staff_role(request.user)
    investigation = investigation_get(viewer=request.user, investigation_id=investigation_id)
    view = investigation_view(investigation=investigation)
    _with_pulled_values(view, investigation.application_id)
    sections = [{"section": section,
                 "items": [{"item": item, "shown": answer_display(item)}
                           for item in section.items]}
                for section in view.sections]
    actions = available_actions(investigation, request.user)
    reverification = reverification_for_investigation(viewer=request.user,
                                                      investigation=investigation)
    return render(request, "investigations/review.html", {
        "investigation": investigation, "application": investigation.application,
        "view": view, "sections": sections, "actions": actions,
        "accept_form": AcceptForm() if "accept" in actions else None,
        "may_return": "return" in actions,
        "general_flags": [f for f in view.red_flags if not f.get("item")],
        "reverification": reverification,
        "may_request_reverification": reverification is None and may_request_reverification(
            viewer=request.user, investigation=investigation),
    })


@login_required
@require_POST
def investigation_accept(request, investigation_id: int):
    _require_staff_role(request.user)
    investigation = investigation_get(viewer=request.user, investigation_id=investigation_id)
    form = AcceptForm(request.POST)
    comment = form.cleaned_data["comment"] if form.is_valid() else ""
    return _run(request, redirect("investigations:review", investigation_id=investigation.pk),
                lambda: workflow.investigation_accept(investigation_id=investigation.pk,
                                                      actor=request.user, comment=comment),
                _("Investigation accepted."))


@login_required
@require_POST
def investigation_return(request, investigation_id: int):
    _require_staff_role(request.user)
    investigation = investigation_get(viewer=request.user, investigation_id=investigation_id)
    codes = investigation.template.items.values_list("code", flat=True)
    comments = return_comments(request.POST, codes)
    return _run(request, redirect("investigations:review", investigation_id=investigation.pk),
                lambda: workflow.investigation_return(investigation_id=investigation.pk,
                                                      actor=request.user, comments=comments),
                _("Investigation returned to the officers with your comments."))
