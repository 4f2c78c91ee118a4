"""The application's moves that approvals controls, registered as guards (applications may
not import us). Without a complete route nothing approves the file, whoever calls
`application_approve` (page, API, admin, shell): there is no bypass setting."""

from django.utils.translation import gettext_lazy as _

from apps.applications.guards import register_guard
from apps.applications.states import ApplicationState
from apps.approvals.models import ConditionPrecedent, ReviewOpinion
from apps.approvals.states import ConditionState, RouteState


def _current_route(application):
    return application.approval_routes.order_by("-round").first()


def review_opinion_recorded(application):
    """Send to approval only with the reviewer's structured opinion (not yet used)."""
    if not ReviewOpinion.objects.filter(
            application=application, route__isnull=True,
            outcome=ReviewOpinion.Outcome.SEND_TO_APPROVAL).exists():
        return _("The reviewer's opinion must be recorded first (approvals review page).")
    return None


def route_approved(application):
    route = _current_route(application)
    if route is None or route.state != RouteState.APPROVED:
        return _("Every step of the approval route must sign first.")
    return None


def _route_ended(state, message):
    def guard(application):
        if application.state != ApplicationState.IN_APPROVAL:
            return None  # at review the reviewer decides alone (§2.4)
        route = _current_route(application)
        if route is None or route.state != state:
            return message
        return None
    guard.__name__ = f"route_{state}"
    return guard


route_rejected = _route_ended(RouteState.REJECTED,
                              _("In approval, a file is rejected by signing its route step."))
route_returned = _route_ended(RouteState.RETURNED,
                              _("In approval, a file is returned by signing its route step."))


def conditions_precedent_satisfied(application):
    """§6.3: every condition of the approved route satisfied, with evidence, before signing."""
    route = _current_route(application)
    if route is None:
        return None
    open_count = ConditionPrecedent.objects.filter(route=route,
                                                   state=ConditionState.OPEN).count()
    if open_count:
        return _("%(n)s condition(s) precedent are not yet satisfied.") % {"n": open_count}
    return None


def register() -> None:
    register_guard("send_to_approval", review_opinion_recorded)
    register_guard("approve", route_approved)
    register_guard("reject", route_rejected)
    register_guard("return_for_rework", route_returned)
    register_guard("contract", conditions_precedent_satisfied)
