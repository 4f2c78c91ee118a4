"""Receivers that schedule a loan's covenant checks and annual review when it is booked or
activated (domain reference §6.3: covenants are tested after disbursement).

They do no I/O (CONVENTIONS §3 pitfall 1): they write an outbox row in the booking's own
transaction (`enqueue_on_commit`), so a committed booking always reaches a worker, even when
the broker is down at commit (the relay sends it later). The daily covenant sweep repeats the
same idempotent work, so a duplicate is harmless.
"""

from apps.core.queue import enqueue_on_commit
from apps.core.task_names import TaskName
from apps.loans.states import OPEN_LOAN_STATES


def loan_booked_covenants(sender, instance, created: bool, raw: bool = False, **kwargs) -> None:
    """A new loan note (借据): schedule its covenants once the booking commits."""
    if created and not raw and instance.state in OPEN_LOAN_STATES:
        enqueue_on_commit(TaskName.MONITORING_COVENANT_SCHEDULE, loan_id=instance.pk)


def loan_moved_covenants(sender, instance, name, source, target, **kwargs) -> None:
    """A loan moved into an open state (e.g. pending → active on its value date)."""
    if target in OPEN_LOAN_STATES and source != target:
        enqueue_on_commit(TaskName.MONITORING_COVENANT_SCHEDULE, loan_id=instance.pk)
