"""A score result never names a model version, decision policy, re-scoring job or feature
snapshot that does not exist, without a per-row foreign-key check on PostgreSQL (migration
0010_score_result_set_based_keys): statement-level triggers refuse such a write, and refuse
deleting what a result names, whoever runs the SQL.
"""

import pytest
from django.db import IntegrityError, connection, transaction
from django.db.models import ProtectedError

from apps.scoring import services
from apps.scoring.models import (
    DecisionPolicy,
    FeatureSnapshot,
    ModelVersion,
    RescoringJob,
    ScoreResult,
)
from apps.scoring.tests.test_rescoring import _portfolio

pytestmark = pytest.mark.django_db

KEYS = [("model_version_id", ModelVersion), ("policy_id", DecisionPolicy),
        ("job_id", RescoringJob), ("snapshot_id", FeatureSnapshot)]


@pytest.fixture
def rescored(world):
    _portfolio(world, 3)
    job = services.rescoring_start(actor=world.user("reviewer.north"), chunk_size=2)
    job = services.rescoring_run(job_id=job.pk)
    assert job.created == 3
    return job


def _missing(model) -> int:
    return (model.objects.order_by("-id").values_list("id", flat=True).first() or 0) + 1000


@pytest.mark.parametrize(("column", "model"), KEYS)
def test_a_result_naming_a_missing_row_is_refused(on_postgresql, rescored, column, model):
    result = ScoreResult.objects.filter(job=rescored).first()
    with pytest.raises(IntegrityError, match="does not exist"), transaction.atomic():
        ScoreResult.objects.filter(pk=result.pk).update(**{column: _missing(model)})
    result.pk, result.input_hash = None, "f" * 64
    setattr(result, column, _missing(model))
    with pytest.raises(IntegrityError, match="does not exist"), transaction.atomic():
        result.save()
    assert ScoreResult.objects.count() == 3


@pytest.mark.parametrize(("column", "model"), KEYS)
def test_deleting_a_row_a_result_names_is_refused_in_sql(on_postgresql, rescored, column,
                                                         model):
    named = ScoreResult.objects.filter(job=rescored).values_list(column, flat=True).first()
    table = model._meta.db_table
    with pytest.raises(IntegrityError, match="score results name"), transaction.atomic(), \
            connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {table} WHERE id = %s", [named])  # noqa: S608
    assert model.objects.filter(pk=named).exists()


def test_the_orm_still_protects_and_a_deleted_job_only_unlinks_its_results(rescored):
    result = ScoreResult.objects.filter(job=rescored).first()
    with pytest.raises(ProtectedError):
        result.snapshot.delete()
    RescoringJob.objects.filter(pk=rescored.pk).delete()  # SET_NULL: results stay, unlinked
    assert ScoreResult.objects.filter(job__isnull=True).count() == 3
