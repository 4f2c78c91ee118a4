"""Pages of approvals: the approver's inbox, the dossier (everything needed to decide on one
screen, with the review, sign-off, vote and condition forms), and committee sessions.

Reads go through the viewer-scoped selectors, writes through the services, which check
permission, segregation of duties and state again: a form shown here is a hint, not a grant.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from apps.applications.exposure import group_exposure
from apps.applications.permissions import can_review
from apps.applications.sections import register_application_section
from apps.applications.selectors import application_get
from apps.applications.states import ApplicationState
from apps.approvals import services
from apps.approvals.dossier_text import findings_for_reader
from apps.approvals.forms import (
    CommitteeSessionForm,
    ConditionForm,
    ExceptionForm,
    InboxFilterForm,
    ReturnForm,
    ReviewForm,
    SignForm,
    VoteForm,
)
from apps.approvals.lockout import locked_until
from apps.approvals.models import CommitteeMember, StepKind
from apps.approvals.selectors import (
    condition_get,
    inbox_list,
    inbox_page,
    route_list,
    session_agenda,
    session_get,
    session_list,
    step_get,
)
from apps.approvals.services.conditions import may_check_conditions
from apps.approvals.services.quorum import quorum_impossible_reason
from apps.approvals.services.routing import latest_score
from apps.approvals.sod import signing_refusal
from apps.approvals.states import ConditionState, StepState
from apps.core.exceptions import DomainError
from apps.investigations.display import answer_display
from apps.investigations.selectors import investigation_view
from apps.scoring.reason_text import reason_rows

INBOX_PAGE_SIZE = 50


def _require_staff_role(user) -> None:
    if not (user.is_superuser or user.roles):
        raise PermissionDenied


def _put_errors(form, exc: ValidationError) -> None:
    if hasattr(exc, "error_dict"):
        for field, errors in exc.message_dict.items():
            for error in errors:
                form.add_error(field if field in form.fields else None, error)
    else:
        for error in exc.messages:
            form.add_error(None, error)


def _run(request, form, call) -> int:
    """Call a service for a valid form; put its refusal on the form. Returns the status."""
    try:
        call()
    except ValidationError as exc:
        _put_errors(form, exc)
        return 400
    except DomainError as exc:
        form.add_error(None, exc.detail)
        for reason in exc.fields.get("reasons", []):
            form.add_error(None, reason)
        return exc.status_code
    except PermissionDenied as exc:
        form.add_error(None, str(exc) or _("You may not do this."))
        return 403
    return 200


# --- inbox -----------------------------------------------------------------------------------

@login_required
def inbox(request):
    """What waits for me: sortable, filterable, with time waiting, grade and amount."""
    _require_staff_role(request.user)
    form = InboxFilterForm(request.GET or None)
    filters, ordering = {}, "waiting"
    if form.is_valid():
        filters = {k: v for k, v in form.cleaned_data.items() if v and k != "sort"}
        ordering = form.cleaned_data.get("sort") or "waiting"
    page = inbox_page(viewer=request.user, filters=filters, ordering=ordering,
                      number=request.GET.get("page") or "1", per_page=INBOX_PAGE_SIZE)
    if not filters:  # the whole inbox was counted: the menu shows that number, not a recount
        request.inbox_waiting_count = page.paginator.count
    query = {k: v for k, v in request.GET.items() if k != "page"}
    return render(request, "approvals/inbox.html", {
        "form": form, "page": page, "now": timezone.now(), "querystring": urlencode(query),
        "to_review": _files_to_review(request.user)})


def _files_to_review(user):
    """For risk reviewers: files under review they may review (not their own or ones they
    investigated), oldest first; one query, at most a page."""
    from django.db.models import Exists, OuterRef, Q

    from apps.accounts.roles import Role
    from apps.applications.selectors import application_list
    from apps.investigations.models import Investigation

    if not user.has_role(Role.RISK_REVIEWER):
        return None
    investigated = Investigation.objects.filter(application=OuterRef("pk")).filter(
        Q(lead_officer=user) | Q(assisting_officer=user))
    return list(application_list(viewer=user, filters={"state": ApplicationState.UNDER_REVIEW})
                .exclude(account_manager=user).exclude(created_by=user)
                .exclude(Exists(investigated)).order_by("updated_at", "pk")[:INBOX_PAGE_SIZE])


# --- dossier ---------------------------------------------------------------------------------

def _investigation(application):
    """The investigation and its answered items as the reviewer reads them (labels in the
    reader's language, values formatted, tables as rows, files as links)."""
    investigation = getattr(application, "investigation", None)
    if investigation is None:
        return None, []
    view = investigation_view(investigation=investigation)
    answers = [{"item": item, "shown": answer_display(item)}
               for section in view.sections for item in section.items
               if item.answered or (item.is_derived and item.derived_value is not None)]
    return investigation, answers


def _documents(request, application):
    try:
        from apps.documents.selectors import document_list
    except ImportError:
        return []
    return list(document_list(viewer=request.user, filters={"application": application}))


def _step_forms(request, route, bound_form=None):
    """The sign or vote form for the step waiting now, if this viewer may act on it."""
    if route is None:
        return None, None, None
    waiting = next((s for s in route.steps.all() if s.state == StepState.WAITING), None)
    if waiting is None:
        return None, None, None
    refusal, authority = signing_refusal(waiting, request.user)
    if refusal:
        return waiting, None, refusal
    until = locked_until(request.user)
    if until is not None:
        return waiting, None, _("Too many wrong passwords: signing is locked until "
                                "%(time)s.") % {"time": date_format(timezone.localtime(until),
                                                                   "DATETIME_FORMAT")}
    if waiting.kind == StepKind.COMMITTEE:
        return waiting, bound_form or VoteForm(), None
    return waiting, bound_form or SignForm(), None


def _dossier_context(request, application, **forms) -> dict:
    routes = list(route_list(viewer=request.user, application_id=application.pk))
    route = routes[0] if routes else None
    waiting, step_form, refusal = _step_forms(request, route, forms.get("step_form"))
    investigation, answers = _investigation(application)
    reviewing = (application.state == ApplicationState.UNDER_REVIEW
                 and can_review(application, request.user))
    chair_of = set()
    if waiting is not None and waiting.kind == StepKind.COMMITTEE:
        chair_of = set(CommitteeMember.objects.filter(user=request.user, is_chair=True)
                       .values_list("committee_id", flat=True))
    score = latest_score(application.pk)
    return {
        "application": application, "enterprise": application.enterprise,
        "exposure": group_exposure(enterprise_id=application.enterprise_id),
        "investigation": investigation, "answers": answers,
        "documents": _documents(request, application),
        "score": score,
        "score_reasons": reason_rows(score) if score is not None else [],
        "score_pd_percent": score.probability * 100 if score is not None else None,
        "red_flags": findings_for_reader(getattr(investigation, "red_flags", None)),
        "cross_checks": findings_for_reader(getattr(investigation, "cross_check_findings",
                                                    None)),
        "opinions": list(application.review_opinions.select_related("reviewer")),
        "routes": routes, "route": route, "waiting": waiting, "refusal": refusal,
        "quorum_problem": quorum_impossible_reason(waiting) if waiting is not None else None,
        "step_form": step_form,
        "may_close": waiting is not None and waiting.committee_id in chair_of,
        "review_form": forms.get("review_form") or (ReviewForm() if reviewing else None),
        "return_form": forms.get("return_form") or (ReturnForm() if reviewing else None),
        "exception_form": forms.get("exception_form") or (ExceptionForm() if reviewing
                                                          else None),
        "pending_exceptions": list(application.policy_exceptions.filter(route__isnull=True)),
        "condition_form": ConditionForm() if may_check_conditions(application, request.user)
        else None,
        "open_state": ConditionState.OPEN,
    }


@login_required
def dossier(request, application_id: int):
    """Everything needed to decide, on one screen (issue 7, UI)."""
    _require_staff_role(request.user)
    application = application_get(viewer=request.user, application_id=application_id)
    return render(request, "approvals/dossier.html", _dossier_context(request, application))


def _after(request, application, status, **forms):
    if status == 200:
        return redirect("approvals:dossier", application_id=application.pk)
    return render(request, "approvals/dossier.html",
                  _dossier_context(request, application, **forms), status=status)


def _application_command(request, application_id: int, form_class, form_key: str, service,
                         success: str):
    """Post one form about the application to one service; the dossier again either way
    (redirect on success, the bound form with its errors otherwise)."""
    application = application_get(viewer=request.user, application_id=application_id)
    form = form_class(request.POST)
    status = 400
    if form.is_valid():
        status = _run(request, form, lambda: service(
            application_id=application.pk, actor=request.user, **form.cleaned_data))
    if status == 200:
        messages.success(request, success)
    return _after(request, application, status, **{form_key: form})


@login_required
@require_POST
def review_send(request, application_id: int):
    return _application_command(request, application_id, ReviewForm, "review_form",
                                services.review_send_to_approval,
                                _("Sent to approval; the route is fixed."))


@login_required
@require_POST
def review_return(request, application_id: int):
    return _application_command(request, application_id, ReturnForm, "return_form",
                                services.review_return, _("Returned for rework."))


@login_required
@require_POST
def exception_declare(request, application_id: int):
    return _application_command(
        request, application_id, ExceptionForm, "exception_form",
        services.policy_exception_declare,
        _("Policy exception declared: the exception route applies."))


@login_required
@require_POST
def step_sign(request, step_id: int):
    step = step_get(viewer=request.user, step_id=step_id)
    application = step.route.application
    form = SignForm(request.POST)
    status = 400
    if form.is_valid():
        data = form.cleaned_data
        status = _run(request, form, lambda: services.step_sign(
            step_id=step.pk, actor=request.user, password=data["password"],
            decision=data["decision"], reason=data["reason"], amount=data["amount"],
            rate=data["rate"], conditions=data["conditions"]))
    if status == 200:
        messages.success(request, _("Signed."))
    return _after(request, application, status, step_form=form)


@login_required
@require_POST
def vote_cast(request, step_id: int):
    step = step_get(viewer=request.user, step_id=step_id)
    application = step.route.application
    form = VoteForm(request.POST)
    status = 400
    if form.is_valid():
        data = form.cleaned_data
        status = _run(request, form, lambda: services.committee_vote_cast(
            step_id=step.pk, actor=request.user, password=data["password"],
            choice=data["choice"], opinion=data["opinion"]))
    if status == 200:
        messages.success(request, _("Your vote is recorded (sealed until the vote closes)."))
    return _after(request, application, status, step_form=form)


@login_required
@require_POST
def vote_close(request, step_id: int):
    step = step_get(viewer=request.user, step_id=step_id)
    try:
        services.committee_vote_close(step_id=step.pk, actor=request.user)
    except DomainError as exc:
        messages.error(request, exc.detail)
    else:
        messages.success(request, _("The vote is closed."))
    return redirect("approvals:dossier", application_id=step.route.application_id)


@login_required
@require_POST
def condition_satisfy(request, condition_id: int):
    condition = condition_get(viewer=request.user, condition_id=condition_id)
    form = ConditionForm(request.POST)
    application = condition.application
    if form.is_valid():
        document = None
        if form.cleaned_data.get("document_id"):
            from apps.documents.selectors import document_list

            document = document_list(viewer=request.user).filter(
                pk=form.cleaned_data["document_id"]).first()
            if document is None:
                form.add_error("document_id", _("Not found."))
        if not form.errors:
            status = _run(request, form, lambda: services.condition_satisfy(
                condition_id=condition.pk, actor=request.user,
                note=form.cleaned_data["note"], document=document))
            if status == 200:
                messages.success(request, _("Condition marked satisfied."))
                return redirect("approvals:dossier", application_id=application.pk)
    for error in form.errors.values():
        messages.error(request, " ".join(error))
    return redirect("approvals:dossier", application_id=application.pk)


# --- committee sessions ----------------------------------------------------------------------

@login_required
def sessions(request):
    """Sessions of the viewer's committees, and (for members) scheduling the next one with
    the items waiting for the committee on its agenda."""
    _require_staff_role(request.user)
    committees = {seat.committee_id: seat.committee for seat in
                  CommitteeMember.objects.filter(user=request.user).select_related("committee")}
    waiting = list(inbox_list(viewer=request.user, filters={"kind": StepKind.COMMITTEE}))
    status = 200
    form = CommitteeSessionForm(request.POST if request.method == "POST" else None,
                                committees=committees.values(), waiting=waiting)
    if form.is_valid():
        when = form.cleaned_data["scheduled_for"]
        if timezone.is_naive(when):
            when = timezone.make_aware(when)
        try:
            session = services.committee_session_schedule(
                committee=form.cleaned_data["committee"], scheduled_for=when,
                step_ids=form.cleaned_data["steps"], actor=request.user)
        except PermissionDenied as exc:
            form.add_error(None, str(exc))
        except ValidationError as exc:
            for message in getattr(exc, "message_dict", {}).get("step_ids", exc.messages):
                form.add_error("steps", message)
        else:
            return redirect("approvals:session-detail", session_id=session.pk)
    if form.is_bound:
        status = 400
    return render(request, "approvals/session_list.html", {
        "sessions": session_list(viewer=request.user)[:100],
        "committees": list(committees.values()), "waiting": waiting, "form": form},
        status=status)


@login_required
def session_detail(request, session_id: int):
    """The agenda and each member's vote; choices stay sealed until an item's vote closes."""
    session = session_get(viewer=request.user, session_id=session_id)
    return render(request, "approvals/session_detail.html", {
        "session": session, "agenda": session_agenda(session=session),
        "waiting_state": StepState.WAITING})


# --- the application page's section ----------------------------------------------------------

def _application_section(request, application) -> dict | None:
    """Route and progress for everyone involved, on the application page."""
    routes = list(route_list(viewer=request.user, application_id=application.pk)[:1])
    if not routes and application.state != ApplicationState.UNDER_REVIEW:
        return None
    return {"application": application, "route": routes[0] if routes else None}


def register_sections() -> None:
    register_application_section(key="approvals", order=60, context=_application_section,
                                 template="approvals/partials/application_section.html")
