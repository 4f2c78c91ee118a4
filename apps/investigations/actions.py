"""Which investigation commands a user may attempt now: the API's `actions` and the pages'
buttons. A hint only: every service checks state, permission and branch again."""

from apps.core.fsm import may_attempt
from apps.investigations.models import Investigation
from apps.investigations.workflow import EDITABLE_STATES

ALL_ACTIONS = ["start", "answer", "check-in", "check-out", "submit", "accept", "return"]

_TRANSITIONS = {"start": "start", "submit": "submit", "accept": "accept",
                "return": "return_for_correction"}


def available_actions(investigation: Investigation, user) -> list[str]:
    """The commands `user` may attempt on `investigation` in its current state."""
    actions = []
    officer = user.pk in investigation.officer_ids
    for action in ALL_ACTIONS:
        if action in ("answer", "check-in"):
            if officer and investigation.state in EDITABLE_STATES:
                actions.append(action)
        elif action == "check-out":
            # Only with a check-in of one's own still open (the service checks again).
            if officer and investigation.state in EDITABLE_STATES and any(
                    c.officer_id == user.pk and c.checked_out_at is None
                    for c in investigation.check_ins.all()):
                actions.append(action)
        elif may_attempt(getattr(investigation, _TRANSITIONS[action]), actor=user):
            actions.append(action)
    return actions
