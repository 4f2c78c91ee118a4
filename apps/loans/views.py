"""Pages of the loan book: the contract section of the application page, the contract page
(terms, conditions, PDF, tranches and the four-eyes drawdown queue), the loan list and the
loan page. Pages use the same selectors and services as the API; every POST goes through a
service, which checks the permission again (the buttons shown are only a hint)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from apps.accounts.models import User
from apps.accounts.roles import Role
from apps.accounts.selectors import visible_branch_ids
from apps.applications.sections import register_application_section
from apps.applications.selectors import application_get
from apps.applications.states import ApplicationState
from apps.core.exceptions import DomainError
from apps.core.fsm import may_attempt
from apps.loans import forms, selectors
from apps.loans.permissions import file_participant_ids, is_operations_officer
from apps.loans.services import contracts, disbursements, lifecycle
from apps.loans.states import OPEN_LOAN_STATES, DisbursementState, LoanChangeState

PAGE_SIZE = 25


def _refusal_text(exc) -> str:
    """A refusal as sentences for the page (never a repr)."""
    if isinstance(exc, ValidationError):
        return " ".join(exc.messages)
    if isinstance(exc, DomainError):
        reasons = (exc.fields or {}).get("reasons") or []
        return " ".join([str(exc.detail), *map(str, reasons)])
    return str(exc) or _("You may not do this.")


def _form_errors(form, exc: ValidationError) -> None:
    """Put a service's field errors next to the form's fields."""
    for field, problems in getattr(exc, "message_dict", {"__all__": exc.messages}).items():
        form.add_error(field if field in form.fields else None, problems)


def _may_operate(user, application) -> bool:
    return (is_operations_officer(user, branch_id=application.branch_id)
            and user.pk not in file_participant_ids(application))


def _witnesses(application, actor):
    branch_ids = visible_branch_ids(viewer=actor)
    staff = User.objects.filter(is_active=True).exclude(pk=actor.pk).exclude(
        pk__in=file_participant_ids(application)).order_by("username")
    if branch_ids is not None:
        staff = staff.filter(branch_id__in=branch_ids)
    return staff.filter(groups__name=Role.LOAN_OPERATIONS)


# --- the application page's section ----------------------------------------------------------

def _application_section(request, application) -> dict | None:
    """Contract and disbursement, for approved, contracted and disbursed files."""
    if application.state not in (ApplicationState.APPROVED, ApplicationState.CONTRACTED,
                                 ApplicationState.DISBURSED):
        return None
    contract = selectors.contract_list(viewer=request.user).filter(
        application=application).first()
    data = {"application": application, "contract": contract}
    if contract is not None:
        data["drawn"] = selectors.contract_drawn(contract)
        data["loans"] = list(selectors.loan_list(viewer=request.user,
                                                 filters={"contract": contract.pk}))
    elif application.state == ApplicationState.APPROVED and _may_operate(request.user,
                                                                          application):
        data["form"] = forms.ContractForm(witnesses=_witnesses(application, request.user))
    return data


def _repayments_section(request, loan) -> dict:
    from apps.loans.feed_selectors import loan_repayments

    return {"loan": loan, "repayments": loan_repayments(loan=loan, viewer=request.user)}


def _dpd_section(request, loan) -> dict:
    from apps.loans.feed_selectors import loan_dpd_history

    return {"loan": loan, "dpd_history": loan_dpd_history(loan=loan, viewer=request.user)}


def register_sections() -> None:
    from apps.loans.sections import register_loan_section

    register_application_section(key="loans", order=70, context=_application_section,
                                 template="loans/partials/application_section.html")
    # The servicing side's blocks of the loan page (core feed and days past due).
    register_loan_section(key="repayments", context=_repayments_section,
                          template="loans/partials/section_repayments.html")
    register_loan_section(key="dpd_history", context=_dpd_section,
                          template="loans/partials/section_dpd_history.html")


@login_required
@require_POST
def contract_create(request, application_id: int):
    """Sign the contract from the application page; errors come back next to the fields."""
    application = application_get(viewer=request.user, application_id=application_id)
    form = forms.ContractForm(request.POST, witnesses=_witnesses(application, request.user))
    if form.is_valid():
        try:
            contract = contracts.contract_create(application_id=application.pk,
                                                 actor=request.user, **form.cleaned_data)
        except ValidationError as exc:
            _form_errors(form, exc)
        except (PermissionDenied, DomainError) as exc:
            messages.error(request, _refusal_text(exc))
            return redirect("applications:detail", application.pk)
        else:
            messages.success(request, _("Contract %(number)s signed.") % {
                "number": contract.contract_number})
            return redirect("loans:contract", contract.pk)
    return render(request, "loans/contract_form.html",
                  {"application": application, "form": form}, status=400)


# --- contract page ------------------------------------------------------------------------------

def _contract_context(request, contract, *, request_form=None) -> dict:
    application = contract.application
    rows = list(selectors.disbursement_list(viewer=request.user, contract=contract))
    pending = [d for d in rows if d.state == DisbursementState.REQUESTED]
    for item in pending:
        item.may_decide = may_attempt(item.approve, actor=request.user)
        item.may_cancel = may_attempt(item.cancel, actor=request.user)
    may_request = (contract.state == "signed" and _may_operate(request.user, application))
    if may_request and request_form is None:
        request_form = forms.DisbursementForm(documents=_documents(request, application))
    return {"contract": contract, "application": application, "rows": rows,
            "pending": pending, "drawn": selectors.contract_drawn(contract),
            "request_form": request_form if may_request else None,
            "note_form": forms.NoteForm(),
            "loans": list(selectors.loan_list(viewer=request.user,
                                              filters={"contract": contract.pk}))}


def _documents(request, application):
    from apps.documents.selectors import document_list

    return list(document_list(viewer=request.user, filters={"application": application}))


@login_required
def contract_detail(request, contract_id: int):
    contract = selectors.contract_get(viewer=request.user, contract_id=contract_id)
    return render(request, "loans/contract.html", _contract_context(request, contract))


@login_required
def contract_pdf(request, contract_id: int):
    """The signed contract as PDF; the download is audited."""
    from apps.loans.services.contract_pdf import contract_pdf_download

    contract = selectors.contract_get(viewer=request.user, contract_id=contract_id)
    response = HttpResponse(contract_pdf_download(contract_id=contract.pk, actor=request.user),
                            content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{contract.contract_number}.pdf"'
    return response


@login_required
@require_POST
def disbursement_request(request, contract_id: int):
    contract = selectors.contract_get(viewer=request.user, contract_id=contract_id)
    form = forms.DisbursementForm(request.POST, request.FILES,
                                  documents=_documents(request, contract.application))
    if form.is_valid():
        try:
            disbursements.disbursement_request(contract_id=contract.pk, actor=request.user,
                                               **form.cleaned_data)
        except ValidationError as exc:
            _form_errors(form, exc)
        except (PermissionDenied, DomainError) as exc:
            messages.error(request, _refusal_text(exc))
            return redirect("loans:contract", contract.pk)
        else:
            messages.success(request, _("Drawdown requested: a second officer must approve "
                                        "it."))
            return redirect("loans:contract", contract.pk)
    return render(request, "loans/contract.html",
                  _contract_context(request, contract, request_form=form), status=400)


_DECISIONS = {
    "approve": (disbursements.disbursement_approve, _("Drawdown approved: loan booked.")),
    "reject": (disbursements.disbursement_reject, _("Drawdown rejected.")),
    "cancel": (disbursements.disbursement_cancel, _("Drawdown request withdrawn.")),
}


@login_required
@require_POST
def disbursement_decide(request, disbursement_id: int, decision: str):
    item = selectors.disbursement_get(viewer=request.user, disbursement_id=disbursement_id)
    if decision not in _DECISIONS:
        return redirect("loans:contract", item.contract_id)
    service, done = _DECISIONS[decision]
    try:
        service(disbursement_id=item.pk, actor=request.user,
                note=request.POST.get("note", ""))
    except (ValidationError, PermissionDenied, DomainError) as exc:
        messages.error(request, _refusal_text(exc))
    else:
        messages.success(request, done)
    return redirect("loans:contract", item.contract_id)


# --- loans ---------------------------------------------------------------------------------------

@login_required
def loan_list(request):
    """The loan book the viewer may see, filtered; 25 a page."""
    if not selectors.may_see_loans(request.user):
        raise PermissionDenied(_("The loan book is not part of your role."))
    from apps.org.models import Branch

    branch_ids = visible_branch_ids(viewer=request.user)
    branches = Branch.objects.order_by("name")
    officers = User.objects.filter(groups__name=Role.ACCOUNT_MANAGER).order_by("username")
    if branch_ids is not None:
        branches = branches.filter(pk__in=branch_ids)
        officers = officers.filter(branch_id__in=branch_ids)
    form = forms.LoanFilterForm(request.GET or None, branches=branches, officers=officers)
    filters = {}
    if form.is_bound and form.is_valid():
        filters = {k: v for k, v in form.cleaned_data.items() if k != "enterprise"}
    loans = selectors.loan_list(viewer=request.user, filters=filters)
    if form.is_bound and form.is_valid() and form.cleaned_data.get("enterprise"):
        loans = loans.filter(enterprise__name__icontains=form.cleaned_data["enterprise"])
    page = Paginator(loans, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(request, "loans/loan_list.html", {"form": form, "page": page,
                                                    "query": query.urlencode()})


@login_required
def loan_detail(request, loan_id: int):
    from apps.loans.sections import loan_sections

    loan = selectors.loan_get(viewer=request.user, loan_id=loan_id)
    changes = list(selectors.loan_change_list(loan=loan))
    open_change = next((c for c in changes if c.state == LoanChangeState.REQUESTED), None)
    if open_change is not None:
        open_change.may_decide = may_attempt(open_change.approve, actor=request.user)
    may_change = (loan.state in OPEN_LOAN_STATES and loan.state != "pending"
                  and open_change is None and _may_operate(request.user, loan.application))
    from apps.audit.models import AuditEvent
    from apps.audit.registry import action_label

    history = list(AuditEvent.objects.filter(subject_type="loans.loan", subject_id=str(loan.pk))
                   .select_related("actor").order_by("seq"))
    for event in history:
        event.label = action_label(event.action)
    return render(request, "loans/loan.html", {
        "loan": loan, "schedule": list(selectors.loan_schedule(loan=loan)),
        "changes": changes, "open_change": open_change,
        "change_form": forms.LoanChangeForm() if may_change else None,
        "history": history, "sections": loan_sections(request, loan)})


@login_required
@require_POST
def loan_change_request(request, loan_id: int):
    loan = selectors.loan_get(viewer=request.user, loan_id=loan_id)
    form = forms.LoanChangeForm(request.POST)
    if not form.is_valid():
        messages.error(request, " ".join(e for errs in form.errors.values() for e in errs))
        return redirect("loans:detail", loan.pk)
    data = form.cleaned_data
    terms = {k: data[k] for k in ("annual_rate", "term_months", "method") if data.get(k)}
    try:
        lifecycle.loan_change_request(loan_id=loan.pk, actor=request.user, kind=data["kind"],
                                      reason=data["reason"], terms=terms)
    except (ValidationError, PermissionDenied, DomainError) as exc:
        messages.error(request, _refusal_text(exc))
    else:
        messages.success(request, _("Change requested: a second officer must approve it."))
    return redirect("loans:detail", loan.pk)


@login_required
@require_POST
def loan_change_decide(request, change_id: int, decision: str):
    change = selectors.loan_change_get(viewer=request.user, change_id=change_id)
    try:
        if decision == "approve":
            lifecycle.loan_change_approve(change_id=change.pk, actor=request.user,
                                          note=request.POST.get("note", ""))
        else:
            lifecycle.loan_change_reject(change_id=change.pk, actor=request.user,
                                         note=request.POST.get("note", ""))
    except (ValidationError, PermissionDenied, DomainError) as exc:
        messages.error(request, _refusal_text(exc))
    else:
        messages.success(request, _("Decision recorded."))
    return redirect("loans:detail", change.loan_id)
