"""Where monitoring hears of changes in outside data, without the hub importing it.

Monitoring sits above the hub (it may import it); the hub must not import monitoring. So the
hub announces each change a post-loan refresh found (a new court case, a new legal
representative …) to the listeners registered here, one call per active loan of the
enterprise, inside the transaction that stores the pull. Monitoring registers in its
`AppConfig.ready()`, e.g.

    from apps.datahub.hooks import register_change_listener
    register_change_listener(external_change_raise)   # apps/monitoring/external_signals.py

`fn(*, loan_id, code, kind, source, observed, details)`: the hub says what changed (a fact),
the listener decides what it means (the level is monitoring's policy).

A listener that fails is logged and rolled back alone (a savepoint): the pull and its
records stay stored, with the changes on `Pull.changes`, so nothing the source said is lost.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from django.db import transaction

log = logging.getLogger(__name__)

ChangeListener = Callable[..., object]
_listeners: list[ChangeListener] = []


def register_change_listener(fn: ChangeListener) -> None:
    """`fn(*, loan_id, code, kind, source, observed, details)`; `code` is the signal
    catalogue's (W02 credit bureau, W10 court, W11 pledges and freezes, W12 legal
    representative or shareholders), `kind` the kind of change, `details` the whole change."""
    if fn not in _listeners:
        _listeners.append(fn)


def unregister_change_listener(fn: ChangeListener) -> None:
    if fn in _listeners:
        _listeners.remove(fn)


def announce(*, loan_ids: list[int], changes: list[dict], source: str) -> int:
    """Hand every change to every listener for every loan; returns the calls that succeeded."""
    done = 0
    for fn in list(_listeners):
        for loan_id in loan_ids:
            for change in changes:
                try:
                    with transaction.atomic():
                        fn(loan_id=loan_id, code=change["code"], kind=change["kind"],
                           source=source, observed=change["observed"], details=change)
                    done += 1
                except Exception:  # noqa: BLE001 - logged; the pull stays stored
                    log.exception("datahub change listener %r failed for loan %s (%s)",
                                  fn, loan_id, change["code"])
    return done
