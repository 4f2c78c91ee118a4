"""A score result never names a model version, decision policy, re-scoring job, feature
snapshot or application that does not exist, without a per-row foreign-key check on PostgreSQL
(migrations 0010_score_result_set_based_keys, 0012_score_result_keys_by_snapshot):
statement-level triggers refuse such a write, and refuse deleting what a result names, whoever
runs the SQL; the application is the snapshot's own, kept by the snapshot's foreign key.
"""

import threading
import time

import psycopg
import pytest
from django.db import IntegrityError, connection, transaction
from django.db.models import ProtectedError

from apps.applications.models import Application
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
        ("job_id", RescoringJob), ("snapshot_id", FeatureSnapshot),
        ("application_id", Application)]


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


def test_a_result_naming_another_applications_snapshot_is_refused(on_postgresql, rescored):
    first, second = ScoreResult.objects.filter(job=rescored).order_by("pk")[:2]
    with pytest.raises(IntegrityError, match="of another application"), transaction.atomic():
        ScoreResult.objects.filter(pk=first.pk).update(snapshot_id=second.snapshot_id)
    first.pk, first.input_hash, first.snapshot_id = None, "f" * 64, second.snapshot_id
    with pytest.raises(IntegrityError, match="of another application"), transaction.atomic():
        first.save()
    assert ScoreResult.objects.count() == 3


@pytest.mark.parametrize(("column", "model"), KEYS)
def test_deleting_a_row_a_result_names_is_refused_in_sql(on_postgresql, rescored, column,
                                                         model):
    named = ScoreResult.objects.filter(job=rescored).values_list(column, flat=True).first()
    table = model._meta.db_table
    # The application: refused by its snapshot's foreign key (checked at commit, here now).
    refusal = "score results name" if column != "application_id" else "scoring_featuresnapshot"
    with pytest.raises(IntegrityError, match=refusal), transaction.atomic(), \
            connection.cursor() as cursor:
        if column == "application_id":
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute(f"DELETE FROM {table} WHERE id = %s", [named])  # noqa: S608
    assert model.objects.filter(pk=named).exists()


def test_moving_a_named_snapshot_to_another_application_is_refused(on_postgresql, rescored):
    first, second = ScoreResult.objects.filter(job=rescored).order_by("pk")[:2]
    with pytest.raises(IntegrityError, match="to another application"), transaction.atomic():
        FeatureSnapshot.objects.filter(pk=first.snapshot_id).update(
            application_id=second.application_id)
    FeatureSnapshot.objects.filter(pk=first.snapshot_id).update(spec_version="relabelled")


def _insert_naming(cursor, result, snapshot_id) -> None:
    cursor.execute(
        "INSERT INTO scoring_scoreresult (application_id, model_version_id, snapshot_id, "
        "input_hash, probability, score, grade, reasons, policy_id, recommendation, knockouts, "
        "price_band, trigger, created_at) "
        "VALUES (%s, %s, %s, %s, 0.1, 600, 'B', '[]', %s, 'approve', '[]', '', 'rescoring', "
        "now())", [result.application_id, result.model_version_id, snapshot_id, "e" * 64,
                   result.policy_id])


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("first", ["insert", "delete"])
def test_a_snapshot_deleted_while_a_result_naming_it_is_inserted(on_postgresql, rescored, first):
    """The snapshot rows are not locked by the insert: a DELETE of snapshots takes a SHARE lock
    on the results first, so whichever of the two transactions comes second waits for the
    first to commit and is then refused; the result never names a deleted snapshot."""
    result = ScoreResult.objects.filter(job=rescored).first()
    spare = FeatureSnapshot.objects.create(application_id=result.application_id,
                                           input_hash="e" * 64, spec_version="t", values={})
    settings = connection.settings_dict
    dsn = dict(dbname=settings["NAME"], user=settings["USER"], host=settings["HOST"],
               port=settings["PORT"] or 5432, password=settings["PASSWORD"] or None)
    errors: dict[str, Exception] = {}

    def second(action):
        with psycopg.connect(**dsn) as other:
            try:
                with other.transaction(), other.cursor() as cursor:
                    cursor.execute("SET LOCAL lock_timeout = '20s'")
                    if action == "delete":
                        cursor.execute("DELETE FROM scoring_featuresnapshot WHERE id = %s",
                                       [spare.pk])
                    else:
                        _insert_naming(cursor, result, spare.pk)
            except psycopg.Error as exc:
                errors[action] = exc

    with psycopg.connect(**dsn) as own, own.transaction(), own.cursor() as cursor:
        if first == "insert":
            _insert_naming(cursor, result, spare.pk)
        else:
            cursor.execute("DELETE FROM scoring_featuresnapshot WHERE id = %s", [spare.pk])
        waiting = threading.Thread(target=second,
                                   args=["delete" if first == "insert" else "insert"])
        waiting.start()
        time.sleep(0.5)
        assert waiting.is_alive()  # it waits for this transaction
    waiting.join(timeout=30)
    assert not waiting.is_alive()
    (action, error), = errors.items()
    assert isinstance(error, psycopg.errors.ForeignKeyViolation), error
    assert ("score results name" if action == "delete" else "does not exist") in str(error)
    named = ScoreResult.objects.filter(input_hash="e" * 64)
    assert (named.exists(), FeatureSnapshot.objects.filter(pk=spare.pk).exists()) == (
        (True, True) if first == "insert" else (False, False))


def test_the_orm_still_protects_and_a_deleted_job_only_unlinks_its_results(rescored):
    result = ScoreResult.objects.filter(job=rescored).first()
    with pytest.raises(ProtectedError):
        result.snapshot.delete()
    RescoringJob.objects.filter(pk=rescored.pk).delete()  # SET_NULL: results stay, unlinked
    assert ScoreResult.objects.filter(job__isnull=True).count() == 3
