"""Receivers that start a loan's inspection schedule when it is booked or activated, and
record a restructuring's day for the classification floor.

They do no I/O themselves (CONVENTIONS §3 pitfall 1): they ask for the schedule task by name
after the booking transaction commits; the daily sweep re-generates any schedule whose message
was lost (generation is idempotent).
"""

from apps.core.queue import enqueue_on_commit
from apps.core.task_names import TaskName
from apps.loans.states import OPEN_LOAN_STATES


def loan_booked_schedule(sender, instance, created: bool, raw: bool = False, **kwargs) -> None:
    """A new loan note (借据): schedule its inspections once the booking commits."""
    if created and not raw:
        enqueue_on_commit(TaskName.MONITORING_INSPECTION_SCHEDULE, loan_id=instance.pk)


def loan_moved_schedule(sender, instance, name, source, target, **kwargs) -> None:
    """A loan moved into an open state (e.g. pending → active on its value date)."""
    if target in OPEN_LOAN_STATES and source != target:
        enqueue_on_commit(TaskName.MONITORING_INSPECTION_SCHEDULE, loan_id=instance.pk)


def loan_restructured_record(sender, instance, name, source, target, **kwargs) -> None:
    """A loan restructured (again): record the restructuring's day for the classification
    floor once the new schedule version commits (the monthly run catches a lost send)."""
    if name == "restructure":
        enqueue_on_commit(TaskName.MONITORING_RESTRUCTURINGS_RECORD, loan_id=instance.pk)
