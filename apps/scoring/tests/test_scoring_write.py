"""A fresh score's writes sent as one text with no BEGIN or COMMIT (PostgreSQL runs it as one
transaction, apps.scoring.services.scoring): a concurrent twin's conflict rolls all of it back
and returns the twin, and scores from several connections keep one audit chain."""

import threading

import pytest
from django.db import connection

from apps.audit.models import AuditEvent
from apps.audit.services import audit_chain_verify
from apps.scoring import services
from apps.scoring.models import ScoreResult
from apps.scoring.services import scoring

pytestmark = pytest.mark.django_db(transaction=True)


def _setting(name: str) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_setting(%s)", [name])
        return cursor.fetchone()[0]


def test_a_twin_committed_first_is_returned_and_nothing_is_half_written(
        on_postgresql, investigated, monkeypatch):
    """The twin (same application, model and input) committed after this score's read: the
    result's insert fails, PostgreSQL rolls the whole text back (the snapshot's upsert, the
    asynchronous commit's setting; the chain's lock not reached), and the twin is returned."""
    twin = services.application_score(application_id=investigated.pk)
    snapshot_id = twin.snapshot_id
    events = AuditEvent.objects.count()
    synchronous = _setting("synchronous_commit")

    version = _row_version(snapshot_id)
    # the read as it was before the twin committed
    monkeypatch.setattr(scoring, "_champion_results_steps",
                        _hiding(scoring._champion_results_steps))
    assert services.application_score(application_id=investigated.pk) == twin
    assert not connection.in_atomic_block
    assert connection.connection.info.transaction_status == 0  # idle, not a failed block
    assert AuditEvent.objects.count() == events
    assert list(ScoreResult.objects.filter(application_id=investigated.pk)) == [twin]
    assert _row_version(snapshot_id) == version  # its upsert (an update) rolled back
    assert _setting("synchronous_commit") == synchronous
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' "
                       "AND pid = pg_backend_pid()")
        assert cursor.fetchone()[0] == 0
    assert audit_chain_verify().ok


def _row_version(snapshot_id: int) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT xmin::text FROM scoring_featuresnapshot WHERE id = %s",
                       [snapshot_id])
        return cursor.fetchone()[0]


def _hiding(steps):
    """`steps` (the read of the application's results) finding none."""
    def hidden(application_id):
        yield from steps(application_id)
        return []
    return hidden


@pytest.mark.integration
def test_scores_from_two_connections_keep_one_chain_and_one_result_per_input(
        on_postgresql, world):
    """Two workers score the same files at once, round after round (each round the results
    deleted first, so each is a fresh score): one result per input whoever wins, the other
    gets it back (a twin or a replay), one audit event per result, and the chain verifies."""
    files = [world.in_state("investigating") for _ in range(2)]
    for application in files:  # installs the model and the policy
        services.application_score(application_id=application.pk)
    rounds, workers = 12, 2
    barrier = threading.Barrier(workers + 1)
    got: dict[tuple, list] = {}
    errors = []

    def work(n: int):
        try:
            for r in range(rounds):
                barrier.wait()  # the round's results deleted
                for application in (files if n == 0 else files[::-1]):
                    result = services.application_score(application_id=application.pk)
                    got.setdefault((r, application.pk), []).append(result.pk)
                barrier.wait()  # the round done
        except Exception as exc:  # surfaced by the assertion below
            errors.append(exc)
            barrier.abort()
        finally:
            connection.close()

    threads = [threading.Thread(target=work, args=(n,)) for n in range(workers)]
    for thread in threads:
        thread.start()
    events = AuditEvent.objects.filter(action="score.computed").count()
    try:
        for _ in range(rounds):
            ScoreResult.objects.filter(application_id__in=[a.pk for a in files]).delete()
            barrier.wait()
            barrier.wait()
    except threading.BrokenBarrierError:
        pass
    for thread in threads:
        thread.join()
    assert errors == []
    assert all(len(set(pks)) == 1 and len(pks) == workers for pks in got.values())
    assert len(got) == rounds * len(files)
    assert (AuditEvent.objects.filter(action="score.computed").count()
            == events + rounds * len(files))
    seqs = list(AuditEvent.objects.values_list("seq", flat=True))
    assert seqs == list(range(1, len(seqs) + 1))
    assert audit_chain_verify().ok
