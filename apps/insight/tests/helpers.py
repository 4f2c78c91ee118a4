"""Fixtures for insight tests: monitoring's World (demo branches, staff, products, policy)
plus a champion score for a loan's application, and the monthly classification runs."""

import datetime as dt
import itertools

from django.utils import timezone

from apps.monitoring.models import ClassificationRunChunk
from apps.monitoring.services.run import classification_chunk_run, classification_run_start
from apps.scoring.models import DecisionPolicy, FeatureSnapshot, ModelVersion, ScoreResult

_serial = itertools.count(1)


def champion() -> ModelVersion:
    found = ModelVersion.objects.filter(version="insight-champion").first()
    if found:
        return found
    return ModelVersion.objects.create(
        version="insight-champion", kind="scorecard", state="champion", artefact="{}",
        artefact_sha256="0" * 64, training_data_sha256="0" * 64, target="bad",
        promoted_at=timezone.now() - dt.timedelta(days=500))


def score(application, *, grade: str, reasons=(), red_flags=(), probability=0.05,
          value=600.0):
    """A champion's score of the application (what decisions read)."""
    policy = DecisionPolicy.objects.order_by("version").first() or DecisionPolicy.objects.create(
        version=900, document={}, effective_from=timezone.localdate() - dt.timedelta(days=900))
    n = next(_serial)
    snapshot = FeatureSnapshot.objects.create(
        application=application, input_hash=f"{n:064d}", spec_version="t", values={},
        red_flag_codes=list(red_flags))
    return ScoreResult.objects.create(
        application=application, model_version=champion(), snapshot=snapshot,
        input_hash=f"{n:064d}", probability=probability, score=value, grade=grade,
        reasons=list(reasons), policy=policy, recommendation="approve", trigger="on_demand")


def run(as_of: dt.date):
    """A monthly classification run, chunks worked inline."""
    started = classification_run_start(as_of=as_of)
    for chunk in ClassificationRunChunk.objects.filter(run=started):
        classification_chunk_run(chunk_id=chunk.pk)
    return started
