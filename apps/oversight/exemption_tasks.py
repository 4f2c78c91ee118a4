"""Celery task of the exemption workflow (registered by `apps.oversight.tasks`)."""

from celery import shared_task

from apps.core.task_names import TaskName


@shared_task(name=TaskName.OVERSIGHT_EXEMPTION_CASES_SWEEP)
def exemption_cases_sweep_task() -> dict:
    """Beat, daily: open cases for bad loans, escalate overdue ones, close after the appeal
    window. Idempotent, so a duplicate delivery changes nothing."""
    from apps.oversight import exemption_services

    return exemption_services.exemption_cases_sweep()
