"""Helpers that make every state change go through its django-fsm-2 transition the same way."""

from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext as _
from django_fsm import can_proceed

from apps.core.exceptions import TransitionConflict


def transition_check(transition, *, actor) -> None:
    """Refuse a move that is not possible from this state (409) or not the actor's (403).

    Conditions are left to the caller on purpose: the service explains each unmet condition
    (missing fields as 400, business blocks as 409) before the transition runs, and the
    transition itself still refuses if one is unmet. django-fsm's `has_transition_perm()`
    folds state, conditions and permission into one False, which cannot tell "not you" from
    "not now", hence the two separate checks here.
    """
    if not can_proceed(transition, check_conditions=False):
        raise TransitionConflict(transition)
    if not _holds_permission(transition, actor):
        raise PermissionDenied(_("You may not do this."))


def may_attempt(transition, *, actor) -> bool:
    """True when `transition_check` would let the actor try this move now: what pages and the
    API list as available actions (a hint; the service checks everything again)."""
    return can_proceed(transition, check_conditions=False) and _holds_permission(transition,
                                                                                 actor)


def _holds_permission(transition, actor) -> bool:
    meta = transition._django_fsm
    instance = transition.__self__
    return meta.has_transition_perm(instance, meta.field.get_state(instance), actor)
