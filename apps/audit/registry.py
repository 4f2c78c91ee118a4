"""Registered audit actions: each app declares its dotted actions with a translatable label.

An unregistered action is refused, so a typo cannot create a new, unsearchable kind of event
(as Wagtail's log action registry does).
"""

from django.utils.functional import Promise

_actions: dict[str, Promise | str] = {}


class UnknownAuditAction(ValueError):
    pass


def register_actions(actions: dict[str, Promise | str]) -> None:
    """Called from `AppConfig.ready()`; registering the same action twice is harmless."""
    for action, label in actions.items():
        if action.count(".") < 1 or action != action.lower():
            raise ValueError(f"Audit action {action!r} must be a lower-case dotted name")
        _actions[action] = label


def action_label(action: str) -> str:
    return str(_actions.get(action, action))


def ensure_registered(action: str) -> None:
    if action not in _actions:
        raise UnknownAuditAction(
            f"Audit action {action!r} is not registered; add it in its app's AppConfig.ready()"
        )


def registered_actions() -> dict[str, Promise | str]:
    return dict(_actions)
