"""Which commands the caller may attempt on an application now, for the API's `actions`.

The state must allow the move and the caller must hold its permission (role, branch,
segregation of duties). Business conditions (eligibility, guards of later apps) are left to
the command, which explains each refusal (400/409); listing an action is a hint, and every
service checks again.
"""

from apps.accounts.roles import Role
from apps.applications.models import Application
from apps.applications.states import TERMINAL_STATES
from apps.core.fsm import may_attempt

# API action (the URL segment of the command) -> the transition method it runs.
TRANSITION_ACTIONS = {
    "submit": "submit",
    "start-investigation": "start_investigation",
    "send-to-review": "send_to_review",
    "return": "return_for_rework",
    "resume-investigation": "resume_investigation",
    "send-to-approval": "send_to_approval",
    "approve": "approve",
    "reject": "reject",
    "contract": "contract",
    "disburse": "disburse",
    "withdraw": "withdraw",
}
ALL_ACTIONS = [*TRANSITION_ACTIONS, "reassign"]


def available_actions(application: Application, user) -> list[str]:
    """The commands `user` may attempt on `application` in its current state."""
    actions = []
    for action, name in TRANSITION_ACTIONS.items():
        if may_attempt(getattr(application, name), actor=user):
            actions.append(action)
    if user.has_role(Role.TEAM_LEAD) and application.state not in TERMINAL_STATES:
        actions.append("reassign")
    return actions
