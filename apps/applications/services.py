"""Writes for loan applications. Every move: lock → permission → guards → transition → save →
audit, in one transaction (CONVENTIONS §3). Pages, the API and the admin all come here."""

import datetime as dt
import secrets
from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from apps.accounts.models import User
from apps.accounts.roles import Role
from apps.accounts.selectors import visible_branch_ids
from apps.applications.guards import blocking_reasons, run_on_move
from apps.applications.models import Application
from apps.applications.states import ApplicationState
from apps.audit.services import audit_record
from apps.core.exceptions import DomainError, TransitionConflict
from apps.core.fsm import transition_check
from apps.parties.models import Enterprise
from apps.products.eligibility import evaluate
from apps.products.models import ProductVersion
from apps.products.selectors import product_version_in_force

EDITABLE_FIELDS = ("amount_requested", "term_months", "purpose", "repayment_method",
                   "collateral_type")


class ApplicationBlocked(DomainError):
    """The move is refused by a business rule; `fields["reasons"]` lists every one."""

    code = "application_blocked"
    status_code = 409


def _localised_reason(outcome) -> str:
    """Condition reasons are data in two languages; answer in the caller's."""
    return outcome.reason_zh if (get_language() or "").startswith("zh") else outcome.reason_en


def _new_reference() -> str:
    return f"CR{timezone.localdate():%y%m}{secrets.token_hex(3).upper()}"


def _lock(application_id: int) -> Application:
    return (Application.objects.select_for_update(no_key=True, of=("self",))
            .select_related("product_version", "enterprise").get(pk=application_id))


def _check_in_scope(actor: User, branch_id: int) -> None:
    branch_ids = visible_branch_ids(viewer=actor)
    if branch_ids is not None and branch_id not in branch_ids:
        raise PermissionDenied(_("This record belongs to another branch."))


def _check_terms(version: ProductVersion, fields: dict) -> None:
    """The request must fit the product version's ranges and lists; errors name each field."""
    errors = {}
    amount, term = fields.get("amount_requested"), fields.get("term_months")
    if amount is not None and not version.amount_min <= Decimal(amount) <= version.amount_max:
        errors["amount_requested"] = _("This product lends %(min)s to %(max)s %(cur)s.") % {
            "min": f"{version.amount_min:,.0f}", "max": f"{version.amount_max:,.0f}",
            "cur": version.currency}
    if term is not None and not version.term_min_months <= term <= version.term_max_months:
        errors["term_months"] = _("This product's term is %(min)s to %(max)s months.") % {
            "min": version.term_min_months, "max": version.term_max_months}
    method = fields.get("repayment_method")
    if method and method not in version.repayment_methods:
        errors["repayment_method"] = _("This product does not offer that repayment method.")
    collateral = fields.get("collateral_type")
    if collateral and collateral not in version.collateral_types:
        errors["collateral_type"] = _("This product does not accept that collateral.")
    if errors:
        raise ValidationError(errors)


def _audit_move(application: Application, *, action: str, actor, source: str, comment: str = "",
                **extra) -> None:
    audit_record(action=action, actor=actor, subject=application,
                 payload={"from": source, "to": application.state, "comment": comment,
                          "reference": application.reference, **extra})


@transaction.atomic
def application_create(*, enterprise: Enterprise, product_version: ProductVersion, actor: User,
                       account_manager: User | None = None, **fields) -> Application:
    """Open a draft for an enterprise the actor's branch manages, on a version in force today."""
    if not (actor.has_role(Role.ACCOUNT_MANAGER) or actor.has_role(Role.TEAM_LEAD)):
        raise PermissionDenied(_("Only account managers and team leads open applications."))
    _check_in_scope(actor, enterprise.branch_id)
    in_force = product_version_in_force(product_id=product_version.product_id,
                                        on=timezone.localdate())
    if in_force is None or in_force.pk != product_version.pk:
        raise ValidationError({"product_version": _("This product version is not in force.")})
    unknown = set(fields) - set(EDITABLE_FIELDS)
    if unknown:
        raise ValidationError({name: _("This field cannot be set.") for name in unknown})
    _check_terms(product_version, fields)
    manager = account_manager or actor
    if not manager.has_role(Role.ACCOUNT_MANAGER):
        raise ValidationError({"account_manager": _("Choose an account manager.")})
    _check_in_scope(manager, enterprise.branch_id)

    application = Application(enterprise=enterprise, product_version=product_version,
                              branch_id=enterprise.branch_id, account_manager=manager,
                              created_by=actor, currency=product_version.currency, **fields)
    application.full_clean(exclude=["reference"])
    for _attempt in range(5):  # a reference collision is rare; retry with a fresh one
        application.reference = _new_reference()
        try:
            with transaction.atomic():
                application.save()
            break
        except IntegrityError:
            application.pk = None
    else:
        raise DomainError(_("Could not allocate a reference; try again."))
    audit_record(action="application.created", actor=actor, subject=application,
                 payload={"reference": application.reference, "enterprise": enterprise.pk,
                          "product": product_version.product.code,
                          "version": product_version.version, "account_manager": manager.pk,
                          **{name: fields[name] for name in fields}})
    return application


@transaction.atomic
def application_update(*, application_id: int, actor: User, **changes) -> Application:
    """Edit a draft or returned application; the old and new values go into the trail."""
    application = _lock(application_id)
    # Permission (403) before state (409).
    if not (actor.pk == application.account_manager_id or actor.has_role(Role.TEAM_LEAD)):
        raise PermissionDenied(_("Only the account manager or a team lead may edit this."))
    _check_in_scope(actor, application.branch_id)
    if application.state not in (ApplicationState.DRAFT, ApplicationState.RETURNED):
        raise TransitionConflict(detail=_("Only draft or returned applications can be edited."))
    unknown = set(changes) - set(EDITABLE_FIELDS)
    if unknown:
        raise ValidationError({name: _("This field cannot be set.") for name in unknown})
    _check_terms(application.product_version, changes)
    diff = {}
    for name, value in changes.items():
        old = getattr(application, name)
        if old != value:
            diff[name] = {"old": old, "new": value}
            setattr(application, name, value)
    if not diff:
        return application
    application.full_clean()
    application.save()
    audit_record(action="application.updated", actor=actor, subject=application,
                 payload={"changes": diff})
    return application


def _refuse_if_blocked(application: Application, transition_name: str) -> None:
    reasons = blocking_reasons(transition_name, application)
    if reasons:
        raise ApplicationBlocked(_("This application cannot move on yet."),
                                 fields={"reasons": reasons})


@transaction.atomic
def application_submit(*, application_id: int, actor: User) -> Application:
    """Submit a draft: required fields present, terms inside the product, and every entry
    condition of the product version met on the day (the evaluation is stored)."""
    application = _lock(application_id)
    transition_check(application.submit, actor=actor)
    missing = application.missing_fields()
    if missing:
        raise ValidationError({name: _("This field is required to submit.") for name in missing})
    _check_terms(application.product_version,
                 {name: getattr(application, name) for name in EDITABLE_FIELDS})
    result = evaluate(version=application.product_version, enterprise=application.enterprise,
                      on=timezone.localdate())
    application.eligibility = result.as_record()
    if not result.eligible:
        # Keep nothing: the refusal is the answer; the evaluation is shown, not stored.
        raise ApplicationBlocked(
            _("The enterprise does not meet this product's entry conditions."),
            fields={"reasons": [f"{f.code}: {_localised_reason(f)}" for f in result.failures]})
    _refuse_if_blocked(application, "submit")
    source = application.state
    application.submit(at=timezone.now())
    application.save()
    _audit_move(application, action="application.submitted", actor=actor, source=source,
                eligibility=application.eligibility)
    return application


def _simple_move(transition_name: str, action: str, *, application_id: int, actor: User,
                 comment: str = "", call_kwargs: dict | None = None) -> Application:
    application = _lock(application_id)
    transition = getattr(application, transition_name)
    transition_check(transition, actor=actor)
    _refuse_if_blocked(application, transition_name)
    source = application.state
    transition(**(call_kwargs or {}))
    application.save()
    _audit_move(application, action=action, actor=actor, source=source, comment=comment)
    run_on_move(transition_name, application, actor=actor, comment=comment)
    return application


@transaction.atomic
def application_start_investigation(*, application_id: int, actor: User,
                                    comment: str = "") -> Application:
    """Accept the submitted file for pre-lending investigation (贷前调查)."""
    return _simple_move("start_investigation", "application.investigation_started",
                        application_id=application_id, actor=actor, comment=comment)


@transaction.atomic
def application_send_to_review(*, application_id: int, actor: User,
                               comment: str = "") -> Application:
    """Hand the investigated file to an independent risk reviewer."""
    return _simple_move("send_to_review", "application.sent_to_review",
                        application_id=application_id, actor=actor, comment=comment)


@transaction.atomic
def application_return_for_rework(*, application_id: int, actor: User,
                                  comment: str) -> Application:
    """Send the file back to the account manager; the comment says what to fix."""
    if not comment.strip():
        raise ValidationError({"comment": _("Say what must be reworked.")})
    return _simple_move("return_for_rework", "application.returned",
                        application_id=application_id, actor=actor, comment=comment)


@transaction.atomic
def application_resume_investigation(*, application_id: int, actor: User,
                                     comment: str = "") -> Application:
    """The account manager takes a returned file back into investigation."""
    return _simple_move("resume_investigation", "application.investigation_resumed",
                        application_id=application_id, actor=actor, comment=comment)


@transaction.atomic
def application_send_to_approval(*, application_id: int, actor: User,
                                 comment: str = "") -> Application:
    """The reviewer recommends the file to the approver (the review opinion is the comment
    until the approvals issue adds a structured opinion)."""
    return _simple_move("send_to_approval", "application.sent_to_approval",
                        application_id=application_id, actor=actor, comment=comment,
                        call_kwargs={"by": actor})


@transaction.atomic
def application_approve(*, application_id: int, actor: User, reason: str,
                        amount: Decimal | None = None, rate: Decimal | None = None) -> Application:
    """Approve, for the requested amount or less; never more than requested or the product's
    maximum, and the rate within the product's range."""
    application = _lock(application_id)
    transition_check(application.approve, actor=actor)
    version = application.product_version
    amount = application.amount_requested if amount is None else Decimal(amount)
    rate = version.rate_min if rate is None else Decimal(rate)
    errors = {}
    if not Decimal("0") < amount <= application.amount_requested:
        errors["amount"] = _("Approve more than zero and at most the amount requested.")
    if not version.rate_min <= rate <= version.rate_max:
        errors["rate"] = _("The rate must be within the product's range.")
    if not reason.strip():
        errors["reason"] = _("Give the reason for the decision.")
    if errors:
        raise ValidationError(errors)
    _refuse_if_blocked(application, "approve")
    source = application.state
    application.approve(by=actor, at=timezone.now(), amount=amount, rate=rate, reason=reason)
    application.save()
    _audit_move(application, action="application.approved", actor=actor, source=source,
                comment=reason, amount_requested=application.amount_requested,
                amount_approved=amount, rate_approved=rate)
    return application


@transaction.atomic
def application_reject(*, application_id: int, actor: User, reason: str) -> Application:
    """Decline with a reason, at review or at approval."""
    if not reason.strip():
        raise ValidationError({"reason": _("Give the reason for the decision.")})
    return _simple_move("reject", "application.rejected", application_id=application_id,
                        actor=actor, comment=reason,
                        call_kwargs={"by": actor, "at": timezone.now(), "reason": reason})


@transaction.atomic
def application_contract(*, application_id: int, actor: User, comment: str = "") -> Application:
    """The loan contract is signed."""
    return _simple_move("contract", "application.contracted", application_id=application_id,
                        actor=actor, comment=comment)


@transaction.atomic
def application_disburse(*, application_id: int, actor: User, comment: str = "") -> Application:
    """Funds are paid out by the independent disbursement unit."""
    return _simple_move("disburse", "application.disbursed", application_id=application_id,
                        actor=actor, comment=comment)


@transaction.atomic
def application_withdraw(*, application_id: int, actor: User, reason: str) -> Application:
    """Withdraw before a decision (the customer's request or the bank's)."""
    if not reason.strip():
        raise ValidationError({"reason": _("Say why the application is withdrawn.")})
    return _simple_move("withdraw", "application.withdrawn", application_id=application_id,
                        actor=actor, comment=reason, call_kwargs={"reason": reason})


@transaction.atomic
def application_expire(*, application_id: int, reason: str) -> Application | None:
    """System sweep: a stale draft or an unused approval lapses. Idempotent: an application
    that has moved on meanwhile is left alone."""
    application = _lock(application_id)
    if application.state not in (ApplicationState.DRAFT, ApplicationState.APPROVED):
        return None
    source = application.state
    application.expire(reason=reason)
    application.save()
    _audit_move(application, action="application.expired", actor=None, source=source,
                comment=reason)
    return application


@transaction.atomic
def application_reassign(*, application_id: int, account_manager: User,
                         actor: User) -> Application:
    """A team lead hands the file to another account manager of the branch; recorded."""
    application = _lock(application_id)
    if not actor.has_role(Role.TEAM_LEAD):
        raise PermissionDenied(_("Only a team lead reassigns applications."))
    _check_in_scope(actor, application.branch_id)
    if not account_manager.has_role(Role.ACCOUNT_MANAGER):
        raise ValidationError({"account_manager": _("Choose an account manager.")})
    _check_in_scope(account_manager, application.branch_id)
    if application.state in (ApplicationState.REJECTED, ApplicationState.WITHDRAWN,
                             ApplicationState.EXPIRED, ApplicationState.DISBURSED):
        raise TransitionConflict(detail=_("A closed application cannot be reassigned."))
    previous = application.account_manager_id
    if previous == account_manager.pk:
        return application
    application.account_manager = account_manager
    application.save(update_fields=["account_manager", "updated_at"])
    audit_record(action="application.reassigned", actor=actor, subject=application,
                 payload={"from": previous, "to": account_manager.pk})
    return application


def applications_expiry_due(*, draft_days: int, approval_days: int, today: dt.date):
    """Ids of drafts and approvals older than the policy's limits (for the beat sweep)."""
    drafts = Application.objects.filter(state=ApplicationState.DRAFT,
                                        created_at__date__lt=today - dt.timedelta(draft_days))
    approvals = Application.objects.filter(state=ApplicationState.APPROVED,
                                           decided_at__date__lt=today - dt.timedelta(approval_days))
    return list(drafts.values_list("id", flat=True)) + list(approvals.values_list("id", flat=True))
