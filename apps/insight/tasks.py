from celery import shared_task

from apps.core.task_names import TaskName


@shared_task(name=TaskName.INSIGHT_SUMMARIES_REFRESH, acks_late=True,
             reject_on_worker_lost=True, soft_time_limit=240, time_limit=300)
def summaries_refresh() -> int:
    """Every minute: the dashboards' summaries catch up with the audit trail from their
    watermark (idempotent; a second run at once waits on the watermark's lock, then finds
    nothing left to do)."""
    from apps.insight.officer_facts import refresh_officer_cells
    from apps.insight.portfolio_facts import refresh_portfolio_facts
    from apps.insight.summaries import refresh_step_clock

    moves = refresh_step_clock()
    refresh_portfolio_facts()  # the loans changed since its own (time) watermark
    refresh_officer_cells()  # the officer scorecard's cells, from the facts just refreshed
    return moves
