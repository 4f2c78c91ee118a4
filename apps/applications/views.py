"""Pages of the loan application: lists (my work, the branch pipeline), the new-application
wizard, the application page with its timeline, and the state moves posted from it.

Every read goes through the selectors (scoped to the viewer) and every write through the
services, which check permission and state again: a button shown here is a hint, not a grant.
Errors keep their meaning on the page: field errors next to their field (400), business
refusals and conflicts as a message with its reasons (409), permission refusals as 403.
"""

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Count
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import number_format
from django.utils.http import urlencode
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from django_fsm import ConcurrentTransition, TransitionNotAllowed

from apps.accounts.models import User
from apps.accounts.roles import Role
from apps.accounts.selectors import user_list
from apps.applications import services
from apps.applications.exposure import group_exposure
from apps.applications.forms import (
    ActionForm,
    ApplicationTermsForm,
    PipelineFilterForm,
    ProductChoiceForm,
    ReassignForm,
)
from apps.applications.guards import blocking_reasons
from apps.applications.models import Application
from apps.applications.sections import application_sections
from apps.applications.selectors import application_get, application_list
from apps.applications.states import TERMINAL_STATES, ApplicationState
from apps.audit.models import AuditEvent
from apps.audit.registry import action_label
from apps.core.exceptions import DomainError
from apps.core.fsm import may_attempt
from apps.core.signals import permission_refused
from apps.parties.selectors import enterprise_get
from apps.parties.views import register_enterprise_section
from apps.products.conditions import Operator
from apps.products.eligibility import evaluate
from apps.products.facts import FACTS
from apps.products.selectors import eligibility_for_enterprise, product_versions_in_force

PAGE_SIZE = 25
ACTIVE_STATES = [state for state in ApplicationState if state not in TERMINAL_STATES]
# Roles that look at other people's files; a plain account manager sees only their own, so
# filtering by account manager would be noise for them.
SUPERVISORY_ROLES = (Role.TEAM_LEAD, Role.RISK_REVIEWER, Role.APPROVER, Role.COMMITTEE_MEMBER,
                     Role.POST_LOAN_OFFICER, Role.AUDITOR, Role.ADMIN)


@dataclass(frozen=True)
class Action:
    """A state move offered on the application page, and the service that makes it."""

    name: str  # the model's transition method
    label: object
    service: object
    text_field: str | None = None  # "comment" or "reason": the service's keyword
    text_required: bool = False
    style: str = ""  # "primary" for the main road, "danger" for exits
    takes_terms: bool = False  # approval also takes the amount and rate


# In the order of the main road, then the side exits.
ACTIONS = {action.name: action for action in (
    Action("submit", gettext_lazy("Submit"), services.application_submit, style="primary"),
    Action("start_investigation", gettext_lazy("Start investigation"),
           services.application_start_investigation, "comment", style="primary"),
    Action("send_to_review", gettext_lazy("Send to review"), services.application_send_to_review,
           "comment", style="primary"),
    Action("resume_investigation", gettext_lazy("Resume investigation"),
           services.application_resume_investigation, "comment", style="primary"),
    Action("send_to_approval", gettext_lazy("Send to approval"),
           services.application_send_to_approval, "comment", style="primary"),
    Action("approve", gettext_lazy("Approve"), services.application_approve, "reason",
           text_required=True, style="primary", takes_terms=True),
    Action("contract", gettext_lazy("Record signed contract"), services.application_contract,
           "comment", style="primary"),
    Action("disburse", gettext_lazy("Record disbursement"), services.application_disburse,
           "comment", style="primary"),
    Action("return_for_rework", gettext_lazy("Return for rework"),
           services.application_return_for_rework, "comment", text_required=True),
    Action("reject", gettext_lazy("Reject"), services.application_reject, "reason",
           text_required=True, style="danger"),
    Action("withdraw", gettext_lazy("Withdraw"), services.application_withdraw, "reason",
           text_required=True, style="danger"),
)}

SUBJECT_TYPE = Application._meta.label_lower


# --- helpers ---------------------------------------------------------------------------------

def _require_staff_role(user) -> None:
    """Pages for bank staff with a role; the selectors then scope what each one sees."""
    if not (user.is_superuser or user.roles):
        raise PermissionDenied


def _may_open(user) -> bool:
    return user.has_role(Role.ACCOUNT_MANAGER, Role.TEAM_LEAD)


def _is_supervisor(user) -> bool:
    return user.is_superuser or user.has_role(*SUPERVISORY_ROLES)


def _managers(viewer):
    """Account managers the viewer can see, for filters and reassignment (one query)."""
    return (user_list(viewer=viewer).prefetch_related(None)
            .filter(groups__name=Role.ACCOUNT_MANAGER, is_active=True).distinct())


def _add_service_errors(form, exc: ValidationError) -> None:
    """Put a service's ValidationError on the form: by field where the form has that field."""
    if hasattr(exc, "error_dict"):
        for field, errors in exc.message_dict.items():
            target = field if field in form.fields else None
            for error in errors:
                form.add_error(target, error)
    else:
        for error in exc.messages:
            form.add_error(None, error)


def _in_language(outcome) -> str:
    return outcome.reason_zh if (get_language() or "").startswith("zh") else outcome.reason_en


def _value_text(value) -> str:
    """Thresholds and facts are stored as text; numbers are grouped for reading (2,000,000)."""
    if value is None:
        return ""
    if isinstance(value, list):
        return ", ".join(_value_text(item) for item in value)
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        return str(value)
    return number_format(number.normalize() if number == number.to_integral() else number,
                         force_grouping=True)


def _failure_rows(eligibility) -> list[dict]:
    """Each failed condition with its reason in the reader's language and the numbers."""
    rows = []
    for outcome in eligibility.failures:
        fact = FACTS.get(outcome.fact)
        rows.append({
            "code": outcome.code, "reason": _in_language(outcome),
            "fact": fact.label if fact else outcome.fact,
            "operator": Operator(outcome.operator).label if outcome.operator in Operator.values
            else outcome.operator,
            "expected": _value_text(outcome.expected), "actual": _value_text(outcome.actual),
            "missing": outcome.missing})
    return rows


def _eligibility_rows(results) -> list[dict]:
    return [{"version": result.version, "product": result.version.product,
             "eligible": result.eligible, "failures": _failure_rows(result)}
            for result in results]


def _page(request, queryset):
    return Paginator(queryset, PAGE_SIZE).get_page(request.GET.get("page") or "1")


# --- the enterprise page's section (parties cannot import us, so we offer it) ---------------

def _enterprise_section(request, enterprise) -> dict:
    """Applications of the borrower and the products it qualifies for today."""
    today = timezone.localdate()
    return {
        "enterprise": enterprise,
        "applications": list(application_list(
            viewer=request.user, filters={"enterprise": enterprise})[:50]),
        "eligibility": _eligibility_rows(
            eligibility_for_enterprise(enterprise=enterprise, on=today)),
        "can_apply": _may_open(request.user),
        "evaluated_on": today,
        "exposure": group_exposure(enterprise_id=enterprise.pk),
    }


def register_sections() -> None:
    """Called from ApplicationsConfig.ready(): the enterprise page shows this app's section."""
    register_enterprise_section(key="applications", order=10, context=_enterprise_section,
                                template="applications/partials/enterprise_section.html")


# --- lists -----------------------------------------------------------------------------------

@login_required
def my_work(request):
    """The viewer's own files that still need something done (not closed or paid out)."""
    _require_staff_role(request.user)
    applications = application_list(
        viewer=request.user,
        filters={"account_manager": request.user, "state__in": ACTIVE_STATES},
    ).order_by("-updated_at", "-id")
    return render(request, "applications/my_work.html",
                  {"page": _page(request, applications), "querystring": ""})


@login_required
def pipeline(request):
    """Every file the viewer may see, with counts per state: a team lead's branch pipeline.
    Queries are constant in the number of rows (counts are one grouped query)."""
    _require_staff_role(request.user)
    supervisor = _is_supervisor(request.user)
    managers = _managers(request.user) if supervisor else User.objects.none()
    form = PipelineFilterForm(request.GET or None, managers=managers)
    filters = form.filters()
    by_manager = {k: v for k, v in filters.items() if k != "state"}
    counts = dict(application_list(viewer=request.user, filters=by_manager).order_by()
                  .values_list("state").annotate(n=Count("pk")))
    current_state = filters.get("state", "")
    base = {k: v.pk for k, v in by_manager.items()}
    chips = [{"state": state, "label": state.label, "count": counts.get(state, 0),
              "current": state == current_state,
              "url": "?" + urlencode({**base, "state": state.value})}
             for state in ApplicationState]
    applications = application_list(viewer=request.user, filters=filters)
    querystring = urlencode({**base, **({"state": current_state} if current_state else {})})
    return render(request, "applications/pipeline.html", {
        "form": form, "show_manager_filter": supervisor, "chips": chips,
        "total": sum(counts.values()), "all_url": "?" + urlencode(base),
        "page": _page(request, applications), "querystring": querystring,
    })


# --- the wizard ------------------------------------------------------------------------------

@login_required
def application_new(request):
    """Open a draft in two steps: choose the product (eligibility shown), then the terms.

    Nothing is written before the last step, and then in one service call, so an abandoned
    wizard leaves no half-made application behind.
    """
    _require_staff_role(request.user)
    if not _may_open(request.user):
        raise PermissionDenied(_("Only account managers and team leads open applications."))
    data = request.POST if request.method == "POST" else request.GET
    enterprise_id = data.get("enterprise")
    if not enterprise_id:
        messages.info(request, _("Choose the customer first, then start the application "
                                 "from their page."))
        return redirect("parties:enterprise-list")
    enterprise = enterprise_get(viewer=request.user, enterprise_id=enterprise_id)
    today = timezone.localdate()
    versions = product_versions_in_force(on=today)
    # "change" comes from the step indicator: back to step 1 with the product preselected.
    going_back = "change" in data
    choice = ProductChoiceForm(data if "product" in data and not going_back else None,
                               initial={"product": data.get("product")}, versions=versions)
    context = {"enterprise": enterprise}

    if not choice.is_bound or not choice.is_valid():
        eligibility = _eligibility_rows(eligibility_for_enterprise(enterprise=enterprise,
                                                                   on=today))
        return render(request, "applications/new_product.html",
                      {**context, "choice": choice, "eligibility": eligibility,
                       "evaluated_on": today},
                      status=400 if choice.is_bound else 200)

    version = choice.cleaned_data["product"]
    result = evaluate(version=version, enterprise=enterprise, on=today)
    form = ApplicationTermsForm(request.POST if request.method == "POST" else None,
                                version=version)
    if request.method == "POST" and form.is_valid():
        try:
            application = services.application_create(
                enterprise=enterprise, product_version=version, actor=request.user,
                **form.cleaned_data)
        except ValidationError as exc:
            _add_service_errors(form, exc)
        except DomainError as exc:
            form.add_error(None, exc.detail)
        else:
            messages.success(request, _("Draft %(reference)s opened. Check it, then submit it.")
                             % {"reference": application.reference})
            return redirect("applications:detail", application_id=application.pk)
    return render(request, "applications/new_terms.html", {
        **context, "form": form, "version": version, "eligible": result.eligible,
        "failures": _failure_rows(result),
    }, status=400 if form.errors else 200)


@login_required
def application_edit(request, application_id: int):
    """Change the terms of a draft or returned file (the service says who and when)."""
    _require_staff_role(request.user)
    application = application_get(viewer=request.user, application_id=application_id)
    # Permission before state: only who may change the terms sees the form (the service checks
    # again on save, and answers 409 for a file past its draft).
    if not (request.user.pk == application.account_manager_id
            or request.user.has_role(Role.TEAM_LEAD)):
        raise PermissionDenied(_("Only the file's account manager or a team lead may change "
                                 "its terms."))
    version = application.product_version
    initial = {name: getattr(application, name) for name in services.EDITABLE_FIELDS}
    form = ApplicationTermsForm(request.POST if request.method == "POST" else None,
                                initial=initial, version=version)
    status = 200
    if request.method == "POST" and form.is_valid():
        try:
            services.application_update(application_id=application.pk, actor=request.user,
                                        **form.cleaned_data)
        except ValidationError as exc:
            _add_service_errors(form, exc)
        except DomainError as exc:
            form.add_error(None, exc.detail)
            status = exc.status_code
        else:
            messages.success(request, _("Changes saved."))
            return redirect("applications:detail", application_id=application.pk)
    if form.errors and status == 200:
        status = 400
    return render(request, "applications/edit.html",
                  {"application": application, "form": form, "version": version},
                  status=status)


# --- the application page --------------------------------------------------------------------

def _timeline(application) -> list[dict]:
    """The file's audit events, oldest first: who did what, when, from which state to which."""
    events = list(AuditEvent.objects.filter(subject_type=SUBJECT_TYPE,
                                            subject_id=str(application.pk))
                  .select_related("actor").order_by("seq"))
    # Reassignments store user ids; name them with one query for the whole timeline.
    ids = {event.payload.get(key) for event in events if event.action == "application.reassigned"
           for key in ("from", "to")}
    names = {user.pk: user.display_name
             for user in User.objects.filter(pk__in=[i for i in ids if i])} if ids else {}
    field_labels = {name: Application._meta.get_field(name).verbose_name
                    for name in services.EDITABLE_FIELDS}
    rows = []
    for event in events:
        payload = event.payload or {}
        row = {"action": event.action, "label": action_label(event.action),
               "actor": event.actor.display_name if event.actor else _("System"),
               "at": event.occurred_at, "comment": payload.get("comment", ""),
               "from": "", "to": "", "changes": []}
        if event.action == "application.reassigned":
            row["from"] = names.get(payload.get("from"), "—")
            row["to"] = names.get(payload.get("to"), "—")
        elif "from" in payload and "to" in payload:
            row["from"] = _state_label(payload["from"])
            row["to"] = _state_label(payload["to"])
        if event.action == "application.updated":
            row["changes"] = [{"field": field_labels.get(name, name),
                               "old": change.get("old"), "new": change.get("new")}
                              for name, change in (payload.get("changes") or {}).items()]
        rows.append(row)
    return rows


def _state_label(code) -> str:
    try:
        return ApplicationState(code).label
    except ValueError:
        return str(code)


def _available_actions(application, user) -> tuple[list[dict], list[dict]]:
    """(offered, blocked): moves possible from this state that this user holds the permission
    for, split by whether a registered guard blocks them now.

    Conditions are left out on purpose (transition_check semantics): a draft's eligibility is
    only evaluated by the submit service, so django-fsm's condition check would hide Submit on
    every draft. The service explains any unmet condition when the button is pressed.
    A move a guard blocks gets no button (pressing it could only answer 409: e.g. a file in
    approval is decided on its approval route, not here); its reasons are listed instead.
    """
    offered, blocked = [], []
    for action in ACTIONS.values():
        if not may_attempt(getattr(application, action.name), actor=user):
            continue
        reasons = blocking_reasons(action.name, application)
        (blocked if reasons else offered).append({"action": action, "blocked": reasons})
    return offered, blocked


def _may_edit(application, user) -> bool:
    return (application.state in (ApplicationState.DRAFT, ApplicationState.RETURNED)
            and (user.pk == application.account_manager_id or user.has_role(Role.TEAM_LEAD)))


def _may_reassign(application, user) -> bool:
    return user.has_role(Role.TEAM_LEAD) and application.state not in TERMINAL_STATES


def _detail_context(request, application, *, failed: str = "", form=None, feedback=None,
                    reassign_form=None) -> dict:
    user = request.user
    actions, blocked_actions = _available_actions(application, user)
    for item in actions:
        bound = form if item["action"].name == failed else None
        item["form"] = bound or ActionForm(initial={
            "amount": application.amount_requested,
            "rate": application.product_version.rate_min})
    today_check = None
    if application.state in (ApplicationState.DRAFT, ApplicationState.RETURNED):
        result = evaluate(version=application.product_version,
                          enterprise=application.enterprise, on=timezone.localdate())
        today_check = {"eligible": result.eligible, "failures": _failure_rows(result)}
    stored = application.eligibility or {}
    return {
        "application": application,
        "actions": actions,
        "blocked_actions": blocked_actions,
        "failed": failed,
        "feedback": feedback,
        "missing": [Application._meta.get_field(name).verbose_name
                    for name in application.missing_fields()]
        if application.state == ApplicationState.DRAFT else [],
        "timeline": _timeline(application),
        "sections": application_sections(request, application),
        "may_edit": _may_edit(application, user),
        "reassign_form": reassign_form or (
            ReassignForm(managers=_managers(user),
                         initial={"account_manager": application.account_manager_id})
            if _may_reassign(application, user) else None),
        "today_check": today_check,
        "stored_check": {**stored, "conditions": [
            {**condition, "actual": _value_text(condition.get("actual")),
             "reason": (condition.get("reason_zh") if (get_language() or "").startswith("zh")
                        else condition.get("reason_en")) or "",
             "fact": FACTS[condition["fact"]].label if condition.get("fact") in FACTS
             else condition.get("fact", "")}
            for condition in stored["conditions"]]} if stored.get("conditions") else None,
    }


def _render_detail(request, application, *, status: int = 200, **kwargs):
    """The whole page, or only its live part (state, actions, timeline) for htmx."""
    template = ("applications/partials/live.html" if request.htmx
                else "applications/detail.html")
    return render(request, template, _detail_context(request, application, **kwargs),
                  status=status)


@login_required
def application_detail(request, application_id: int):
    _require_staff_role(request.user)
    application = application_get(viewer=request.user, application_id=application_id)
    return _render_detail(request, application)


def _refused(request, exc: PermissionDenied):
    """403 for a move the user may not make. The refusal is audited like any other 403; an
    htmx caller's page reloads to show the message, because htmx does not swap 403 bodies."""
    permission_refused.send(sender=_refused, request=request, reason=str(exc))
    message = str(exc) or _("You may not do this.")
    if not request.htmx:
        return render(request, "403.html", status=403)
    messages.error(request, message)
    response = render(request, "403.html", status=403)
    response["HX-Refresh"] = "true"
    return response


def _after_move(request, application, message: str):
    messages.success(request, message)
    if request.htmx:
        return _render_detail(request, application)
    # Post/redirect/get: a reload must not post the move a second time.
    return HttpResponseRedirect(reverse("applications:detail", args=[application.pk]))


@login_required
@require_POST
def application_action(request, application_id: int, action: str):
    """Make one state move through its service and show the result in place."""
    _require_staff_role(request.user)
    spec = ACTIONS.get(action)
    if spec is None:
        raise Http404
    application = application_get(viewer=request.user, application_id=application_id)
    form = ActionForm(request.POST)
    if not form.is_valid():
        return _render_detail(request, application, failed=action, form=form, status=400)
    kwargs = {}
    if spec.text_field:
        kwargs[spec.text_field] = form.cleaned_data[spec.text_field]
    if spec.takes_terms:
        kwargs.update(amount=form.cleaned_data["amount"], rate=form.cleaned_data["rate"])
    try:
        moved = spec.service(application_id=application.pk, actor=request.user, **kwargs)
    except ValidationError as exc:
        _add_service_errors(form, exc)
        return _render_detail(request, application, failed=action, form=form, status=400)
    except PermissionDenied as exc:
        return _refused(request, exc)
    except DomainError as exc:  # ApplicationBlocked, TransitionConflict: 409
        return _render_detail(request, application, failed=action, form=form,
                              status=exc.status_code,
                              feedback={"message": exc.detail,
                                        "reasons": exc.fields.get("reasons", [])})
    except (TransitionNotAllowed, ConcurrentTransition):
        return _render_detail(request, application, failed=action, form=form, status=409,
                              feedback={"message": _("Someone else moved this application "
                                                     "meanwhile; here is its current state.")})
    moved = application_get(viewer=request.user, application_id=moved.pk)
    return _after_move(request, moved, _("%(action)s: done. The application is now %(state)s.")
                       % {"action": spec.label, "state": moved.get_state_display()})


@login_required
@require_POST
def application_reassign(request, application_id: int):
    """A team lead hands the file to another account manager (recorded in the trail)."""
    _require_staff_role(request.user)
    application = application_get(viewer=request.user, application_id=application_id)
    form = ReassignForm(request.POST, managers=_managers(request.user))
    if form.is_valid():
        try:
            moved = services.application_reassign(
                application_id=application.pk, actor=request.user,
                account_manager=form.cleaned_data["account_manager"])
        except ValidationError as exc:
            _add_service_errors(form, exc)
        except PermissionDenied as exc:
            return _refused(request, exc)
        except DomainError as exc:
            return _render_detail(request, application, reassign_form=form,
                                  status=exc.status_code, feedback={"message": exc.detail})
        else:
            moved = application_get(viewer=request.user, application_id=moved.pk)
            return _after_move(request, moved, _("Reassigned to %(name)s.")
                               % {"name": moved.account_manager.display_name})
    return _render_detail(request, application, reassign_form=form, status=400)
