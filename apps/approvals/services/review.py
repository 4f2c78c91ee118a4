"""The independent review (审查, §2.3): a structured opinion, then on to approval or back.

The reviewer is neither the account manager nor an investigator (the application's `can_review`
permission); the opinion and the application's move happen in one transaction, so there is never
an application in approval without the opinion and the frozen route that justify it.
"""

from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from apps.applications import services as application_services
from apps.applications.models import Application
from apps.applications.permissions import can_review
from apps.applications.states import ApplicationState
from apps.approvals.models import PolicyException, ReviewOpinion
from apps.approvals.services.routing import route_resolve
from apps.audit.services import audit_record
from apps.core.exceptions import TransitionConflict

CONDITION_MAX_LENGTH = 500


def _lock_under_review(application_id: int, actor) -> Application:
    application = (Application.objects.select_for_update(no_key=True, of=("self",))
                   .select_related("product_version").get(pk=application_id))
    # Permission (403) before state (409).
    if not can_review(application, actor):
        raise PermissionDenied(_("Only an independent risk reviewer of this branch may review "
                                 "this application."))
    if application.state != ApplicationState.UNDER_REVIEW:
        raise TransitionConflict(detail=_("Only an application under review can be reviewed."))
    return application


def _clean_conditions(conditions) -> list[str]:
    cleaned = [str(text).strip() for text in (conditions or [])]
    if any(not text or len(text) > CONDITION_MAX_LENGTH for text in cleaned):
        raise ValidationError({"conditions": _("Each condition needs 1 to %(max)s characters.")
                               % {"max": CONDITION_MAX_LENGTH}})
    return cleaned


def _check_proposal(application, amount, term, rate) -> None:
    version, errors = application.product_version, {}
    if amount is not None and not Decimal("0") < Decimal(amount) <= application.amount_requested:
        errors["proposed_amount"] = _("Propose more than zero and at most the amount requested.")
    if term is not None and not version.term_min_months <= term <= version.term_max_months:
        errors["proposed_term_months"] = _("This product's term is %(min)s to %(max)s months.") \
            % {"min": version.term_min_months, "max": version.term_max_months}
    if rate is not None and not version.rate_min <= Decimal(rate) <= version.rate_max:
        errors["proposed_rate"] = _("The rate must be within the product's range.")
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def policy_exception_declare(*, application_id: int, actor, rule: str, reason: str,
                             actual_value: str = "") -> PolicyException:
    """Declare a departure from policy (§6.5) while the file is under review; it forces the
    matrix's exception route when the file goes to approval."""
    application = _lock_under_review(application_id, actor)
    errors = {}
    if not rule.strip():
        errors["rule"] = _("Name the rule departed from.")
    if not reason.strip():
        errors["reason"] = _("Justify the exception.")
    if errors:
        raise ValidationError(errors)
    exception = PolicyException.objects.create(application=application, rule=rule.strip(),
                                               actual_value=actual_value.strip(),
                                               reason=reason.strip(), declared_by=actor)
    audit_record(action="policy_exception.declared", actor=actor, subject=application,
                 payload={"exception": exception.pk, "rule": exception.rule,
                          "actual_value": exception.actual_value, "reason": exception.reason})
    return exception


@transaction.atomic
def review_send_to_approval(*, application_id: int, actor, risks: str, mitigations: str = "",
                            proposed_amount=None, proposed_term_months=None, proposed_rate=None,
                            collateral: str = "", conditions=(), comment: str = "",
                            exceptions=()) -> ReviewOpinion:
    """Record the opinion, send the file to approval, and freeze its route (§6.1)."""
    application = _lock_under_review(application_id, actor)
    if not risks.strip():
        raise ValidationError({"risks": _("Describe the risks you found.")})
    _check_proposal(application, proposed_amount, proposed_term_months, proposed_rate)
    conditions = _clean_conditions(conditions)
    for declared in exceptions:
        policy_exception_declare(application_id=application.pk, actor=actor, **declared)
    opinion = ReviewOpinion.objects.create(
        application=application, reviewer=actor,
        outcome=ReviewOpinion.Outcome.SEND_TO_APPROVAL, risks=risks.strip(),
        mitigations=mitigations.strip(), proposed_amount=proposed_amount,
        proposed_term_months=proposed_term_months, proposed_rate=proposed_rate,
        collateral=collateral.strip(), conditions=conditions, comment=comment.strip())
    audit_record(action="review.opinion_recorded", actor=actor, subject=application,
                 payload={"opinion": opinion.pk, "outcome": opinion.outcome,
                          "risks": opinion.risks, "mitigations": opinion.mitigations,
                          "proposed_amount": proposed_amount,
                          "proposed_term_months": proposed_term_months,
                          "proposed_rate": proposed_rate, "collateral": opinion.collateral,
                          "conditions": conditions})
    application_services.application_send_to_approval(
        application_id=application.pk, actor=actor, comment=comment or risks)
    application.refresh_from_db()
    opinion.route = route_resolve(application=application, opinion=opinion, actor=actor)
    opinion.save(update_fields=["route", "updated_at"])
    return opinion


@transaction.atomic
def review_return(*, application_id: int, actor, comment: str, risks: str = "") -> ReviewOpinion:
    """Return the file to the account manager with what must be reworked."""
    application = _lock_under_review(application_id, actor)
    if not comment.strip():
        raise ValidationError({"comment": _("Say what must be reworked.")})
    opinion = ReviewOpinion.objects.create(
        application=application, reviewer=actor, outcome=ReviewOpinion.Outcome.RETURN,
        risks=risks.strip(), comment=comment.strip())
    audit_record(action="review.opinion_recorded", actor=actor, subject=application,
                 payload={"opinion": opinion.pk, "outcome": opinion.outcome,
                          "risks": opinion.risks, "comment": opinion.comment})
    application_services.application_return_for_rework(application_id=application.pk,
                                                       actor=actor, comment=comment)
    return opinion
