"""Making the champion fail for real: its stored artefact no longer matches its checksum (what
storage corruption or a tampered row looks like), and putting it back."""

import datetime as dt

from apps.scoring import services
from apps.scoring.models import ModelVersion
from apps.scoring.policy import DEFAULT_POLICY


def break_champion() -> str:
    """Alter the champion's stored bytes; scoring then refuses the model. Returns the original."""
    champion = services.champion_ensure()
    ModelVersion.objects.filter(pk=champion.pk).update(artefact=champion.artefact + " ")
    return champion.artefact


def repair_champion(original: str) -> None:
    ModelVersion.objects.filter(state="champion").update(artefact=original)


def publish_max_attempts(world, attempts: int):
    """A decision policy version with `score_max_attempts`, drafted and published (four-eyes)."""
    services.decision_policy_ensure()
    draft = services.decision_policy_create(
        document={**DEFAULT_POLICY, "score_max_attempts": attempts},
        actor=world.user("reviewer.north"),
        effective_from=dt.date.today() - dt.timedelta(days=1))
    return services.decision_policy_publish(policy_id=draft.pk, actor=world.user("admin.north"))


def score_task(application_id: int, **kwargs):
    """The real Celery task body, run in this process (the worker tests run it on a worker)."""
    from apps.scoring.tasks import application_score

    return application_score(application_id=application_id, **kwargs)
