"""Helpers that make every state change go through its django-fsm-2 transition the same way."""

import copy

from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext as _
from django_fsm import ANY_OTHER_STATE, ANY_STATE, can_proceed

from apps.core.exceptions import TransitionConflict


def transition_check(transition, *, actor) -> None:
    """Refuse a move that is not the actor's (403), then one not possible from this state (409).

    Permission comes first (CONVENTIONS: 403 before 409), so a caller without the right learns
    "not you" and never whether the record happens to be in a state where the move is open.
    Callers reach this after the selector scoped the object to the viewer (404 for what they
    may not see), so the order reveals nothing a 404 hides.

    django-fsm's `has_transition_perm()` looks the permission up on the transition *from the
    current state* and answers False in any other state, which cannot tell "not you" from
    "not now" (why this used to check the state first). `_holds_permission` asks the
    transition's own `permission=` instead, whatever the state.

    Conditions are left to the caller on purpose: the service explains each unmet condition
    (missing fields as 400, business blocks as 409) before the transition runs, and the
    transition itself still refuses if one is unmet.
    """
    if not _holds_permission(transition, actor):
        raise PermissionDenied(_("You may not do this."))
    if not can_proceed(transition, check_conditions=False):
        raise TransitionConflict(transition)


def may_attempt(transition, *, actor) -> bool:
    """True when `transition_check` would let the actor try this move now: what pages and the
    API list as available actions (a hint; the service checks everything again)."""
    return can_proceed(transition, check_conditions=False) and _holds_permission(transition,
                                                                                 actor)


def _holds_permission(transition, actor) -> bool:
    """The actor holds the transition's permission: the one declared for the current state
    when the move is open from it; otherwise, whether they would hold it were the record in a
    state the move starts from. Permissions may read the state (a return is the reviewer's at
    review, the approver's at approval), so asking them in a state the move is not declared
    for would answer 403 to the very person who made the move a moment ago."""
    meta = transition._django_fsm
    instance = transition.__self__
    current = meta.get_transition(meta.field.get_state(instance))
    if current is not None:
        return current.has_perm(instance, actor)
    for source, candidate in meta.transitions.items():
        as_if = copy.copy(instance)  # never saved: only read by the permission callable
        if source not in (ANY_STATE, ANY_OTHER_STATE):
            # Behind the protected descriptor, as django-fsm's own set_state() does.
            as_if.__dict__[meta.field.name] = source
        if candidate.has_perm(as_if, actor):
            return True
    return False
