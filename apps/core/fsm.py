"""Helpers that make every state change go through its django-fsm-2 transition the same way."""

from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext as _
from django_fsm import can_proceed, has_transition_perm

from apps.core.exceptions import TransitionConflict


def transition_check(transition, *, actor) -> None:
    """Refuse a transition the actor may not make (403) or that is not possible now (409).

    `permission=` isn't enforced when a transition is called, and `has_transition_perm()` is
    False in a wrong state too, so `can_proceed()` tells "not you" from "not now".
    """
    if has_transition_perm(transition, actor):
        return
    if can_proceed(transition):
        raise PermissionDenied(_("You may not do this."))
    raise TransitionConflict(transition)
