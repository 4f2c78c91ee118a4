"""Exit conditions that later apps add to the application's transitions.

The application cannot leave `investigating` until its investigation is accepted, nor be
approved with sign-offs missing — but investigations and approvals sit to the right of
applications and may not be imported here (CONVENTIONS §1). They register a guard for a
transition in their `AppConfig.ready()`; the transition's condition asks every guard.
"""

from collections.abc import Callable

# transition name -> [(guard, message)]: guard(application) -> True when the move may happen
_guards: dict[str, list[Callable]] = {}


def register_guard(transition: str, guard: Callable) -> None:
    """`guard(application)` returns None when the move may happen, else the reason it may not."""
    if guard not in _guards.setdefault(transition, []):
        _guards[transition].append(guard)


def unregister_guard(transition: str, guard: Callable) -> None:
    if guard in _guards.get(transition, []):
        _guards[transition].remove(guard)


def blocking_reasons(transition: str, application) -> list[str]:
    """Every reason a registered guard gives against this move (empty: nothing blocks it)."""
    reasons = []
    for guard in _guards.get(transition, []):
        reason = guard(application)
        if reason:
            reasons.append(str(reason))
    return reasons


# Consequences later apps attach to a move: returning the file for rework reopens its accepted
# investigation. They run inside the move's transaction, after the application is saved, so a
# failure rolls the move back with them.
_on_move: dict[str, list[Callable]] = {}


def register_on_move(transition: str, fn: Callable) -> None:
    """`fn(application, *, actor, comment)` runs after `transition` moved the application."""
    if fn not in _on_move.setdefault(transition, []):
        _on_move[transition].append(fn)


def run_on_move(transition: str, application, *, actor, comment: str = "") -> None:
    for fn in _on_move.get(transition, []):
        fn(application, actor=actor, comment=comment)


# Sources of people who may not review or approve an application (审贷分离): the account
# manager is known here; investigators are added by the investigations app.
_conflict_sources: list[Callable] = []


def register_conflict_source(source: Callable) -> None:
    """`source(application)` returns the ids of users involved in preparing it."""
    if source not in _conflict_sources:
        _conflict_sources.append(source)


def conflicted_user_ids(application) -> set[int]:
    ids = {application.account_manager_id, application.created_by_id}
    for source in _conflict_sources:
        ids |= set(source(application))
    return {i for i in ids if i is not None}
