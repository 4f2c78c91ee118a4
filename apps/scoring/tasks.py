"""Scoring tasks: ids in, one service call (CONVENTIONS §4). Names are in apps.core.task_names,
so the investigation workflow sends APPLICATION_SCORE by name when an investigation is accepted.
"""

import logging

from celery import shared_task
from django.db import InterfaceError, OperationalError

from apps.core.task_names import TaskName

logger = logging.getLogger(__name__)
# Database hiccups (failover, connection limit) pass; bad data does not, so it is not retried.
TRANSIENT = (OperationalError, InterfaceError)


@shared_task(bind=True, name=TaskName.APPLICATION_SCORE, acks_late=True,
             reject_on_worker_lost=True, autoretry_for=TRANSIENT, retry_backoff=True,
             retry_backoff_max=300, retry_jitter=True, max_retries=5)
def application_score(self, application_id: int, trigger: str = "investigation_accepted",
                      actor_id: int | None = None) -> int | None:
    """Score one application with the champion; idempotent per (application, model version,
    input hash), so acks_late redelivery and sweeper re-sends write one result.

    A failure is recorded as the application's `ScoreFailure` (retried by the sweeper up to
    the policy's bound, then listed as failed); database hiccups are first retried here, and
    recorded only once Celery's own retries are spent.
    """
    from apps.accounts.models import User
    from apps.applications.models import Application
    from apps.scoring.services import application_score as score
    from apps.scoring.services import score_failure_record

    try:
        actor = User.objects.filter(pk=actor_id).first() if actor_id else None
        return score(application_id=application_id, trigger=trigger, actor=actor).pk
    except Application.DoesNotExist:
        logger.warning("application %s to score does not exist", application_id)
        return None
    except Exception as exc:
        if isinstance(exc, TRANSIENT) and self.request.retries < self.max_retries:
            raise  # autoretry_for: back off and try again while the database recovers
        logger.exception("scoring application %s failed", application_id)
        try:
            score_failure_record(application_id=application_id, exc=exc, trigger=trigger)
        except Exception:
            # The record could not be written (the database is still down): the task fails,
            # and the sweeper finds the application unscored and re-sends it later.
            logger.exception("could not record the score failure of %s", application_id)
            raise exc from None
        return None


@shared_task(name=TaskName.SCORING_SWEEP)
def score_sweep() -> int:
    """Every few minutes: re-queue applications stuck waiting for a score."""
    from apps.scoring.services import score_sweep as sweep

    return sweep()


@shared_task(name=TaskName.SCORING_DRIFT_CHECK)
def drift_check(model_version_id: int | None = None) -> int | None:
    """Daily: PSI of recent scores against the champion's training data; alerts above policy."""
    from apps.scoring.services import drift_check as check

    report = check(model_version_id=model_version_id)
    return report.pk if report else None


@shared_task(name=TaskName.SCORING_RESCORE, acks_late=True, reject_on_worker_lost=True)
def rescoring_run(job_id: int) -> int:
    """The whole portfolio in one job over chunks; a redelivered job only fills the gaps."""
    from apps.scoring.services import rescoring_run as run

    return run(job_id=job_id).done


@shared_task(name=TaskName.SCORING_TRAIN, acks_late=True, reject_on_worker_lost=True)
def training_job_run(job_id: int) -> int | None:
    """Train a model from an uploaded CSV; a redelivered job is left to its first delivery."""
    from apps.scoring.services.training_jobs import training_job_run as run

    job = run(job_id=job_id)
    return job.model_version_id
