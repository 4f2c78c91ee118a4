"""What scoring one application costs (issue #20, bench_scoring_worker): its queries are pinned
so an N+1 or a repeated read cannot creep back, and the per-process cache of parsed models never
keeps a replaced champion deciding."""

import re
import tempfile
from contextlib import contextmanager

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.audit.models import AuditEvent
from apps.audit.services import audit_chain_verify
from apps.scoring import services
from apps.scoring.models import FeatureSnapshot, ModelVersion, ScoreResult
from apps.scoring.scorecard.model import Scaling, Scorecard
from apps.scoring.selectors import latest_score
from apps.scoring.states import ModelVersionState, ScoreTrigger

pytestmark = pytest.mark.django_db

# Reads, all in one round trip on PostgreSQL (eleven statements: apps.core.compiled.run_together;
# one by one on SQLite), each keyed by the application's id: the application (whether a
# failure is open, the id of the decision policy in force and when the policy values last
# changed: the published policy and the values in force are cached by those in the process),
# its enterprise, investigation and template; document figures, pulled figures, answers, group
# exposure; the champion with the shadow challengers; the application's results by the
# champion (the existing one found among them by input hash, in Python); and, on PostgreSQL,
# the id a fresh result will have (from its sequence). Writes, in one transaction (a savepoint
# and its release here, inside the test's): snapshot upsert, result insert (naming the snapshot
# by its key; no savepoint of its own: a twin's conflict rolls the whole transaction back),
# audit lock and the audit event, which PostgreSQL chains after the head (the head read in the
# event's insert, a statement of its own after the lock's), all four in one round trip on
# PostgreSQL; on SQLite the head is read, then the event inserted. A replay reads the same and
# opens no transaction. (Was 19 and 10, then 14 and 7, then 10 and 3, now 10 and 2; in round
# trips on PostgreSQL, with BEGIN and COMMIT, 8 and 1, then 5 and 1, then 4 and 1, now 2 and 1:
# a score in a transaction of its own sends its writes as one text, which PostgreSQL runs as
# one transaction, with no BEGIN or COMMIT.)
# The audit lock is a statement on PostgreSQL only (pg_advisory_xact_lock): on SQLite the
# IMMEDIATE transaction already holds the database's write lock (apps/audit/services.py).
AUDIT_LOCK_QUERIES = 1 if connection.vendor == "postgresql" else 0
# What the statements sent together read (the group exposure: its sums).
TOGETHER = ('FROM "applications_application"', 'FROM "parties_enterprise"',
            'FROM "investigations_investigation"', 'FROM "investigations_checklisttemplate"',
            '"documents_documentcheck"', '"datahub_pull"', '"investigations_answer"', "SUM(",
            'FROM "scoring_modelversion"', 'FROM "scoring_scoreresult"')
SOURCE_QUERIES = 1 if connection.vendor == "postgresql" else len(TOGETHER)
# snapshot, result, (lock and) audit event: one text on PostgreSQL; SQLite reads the head
WRITE_QUERIES = 1 if connection.vendor == "postgresql" else 4
FRESH_QUERIES = SOURCE_QUERIES + 1 + WRITE_QUERIES + 1  # savepoint ... release
REPLAY_QUERIES = SOURCE_QUERIES


def _queries(application_id) -> list[str]:
    """The texts sent, each `EXECUTE` of a prepared statement (the read on PostgreSQL:
    apps.core.compiled, prepared once per connection) shown as the statement it runs."""
    with CaptureQueriesContext(connection) as ctx:
        services.application_score(application_id=application_id)
    return [_expanded(q["sql"]) for q in ctx.captured_queries]


def _expanded(sql: str) -> str:
    names = re.findall(r"EXECUTE (credence_[0-9a-f]+)", sql)
    if not names:
        return sql
    with connection.cursor() as cursor:
        cursor.execute("SELECT name, statement FROM pg_prepared_statements WHERE name = ANY(%s)",
                       [names])
        statements = dict(cursor.fetchall())
    return "; ".join(statements[name] for name in names)


def test_scoring_one_application_costs_a_fixed_number_of_queries(investigated):
    services.application_score(application_id=investigated.pk)  # installs model and policy
    ScoreResult.objects.filter(application_id=investigated.pk).delete()
    other = FeatureSnapshot.objects.create(application_id=investigated.pk, input_hash="f" * 64,
                                           spec_version="other", values={})
    fresh = _queries(investigated.pk)
    # the result names its own input's snapshot (a subquery by key in its insert), not another
    stored = ScoreResult.objects.select_related("snapshot").get(application_id=investigated.pk)
    assert stored.snapshot_id != other.pk
    assert (stored.snapshot.application_id, stored.snapshot.input_hash) == (investigated.pk,
                                                                          stored.input_hash)
    assert len(fresh) == FRESH_QUERIES, "\n".join(fresh)
    # the snapshot (an upsert, which replaced a read), the result and its audit event
    assert sum(q.count("INSERT INTO") for q in fresh) == 3
    if connection.vendor == "postgresql":
        (written,) = [q for q in fresh if "pg_advisory_xact_lock" in q]
        order = [written.index(s) for s in ('INSERT INTO "scoring_featuresnapshot"',
                                            'INSERT INTO "scoring_scoreresult"',
                                            "pg_advisory_xact_lock",
                                            'INSERT INTO "audit_auditevent"')]
        assert order == sorted(order)  # row writes, then the lock, then the event
    assert sum('FROM "scoring_modelversion"' in q for q in fresh) == 1
    assert sum("pg_advisory_xact_lock" in q for q in fresh) == AUDIT_LOCK_QUERIES
    sources = [q for q in fresh if any(name in q for name in TOGETHER)]
    assert len(sources) == SOURCE_QUERIES  # ten statements in one on PostgreSQL
    assert all(name in " ".join(sources) for name in TOGETHER)
    if connection.vendor == "postgresql":  # the read executes prepared statements only
        (read,) = [q for q in _sent(investigated.pk, fresh=True) if "EXECUTE " in q]
        # with the result's id
        assert read.count("EXECUTE credence_") == len(TOGETHER) + 1 and "SELECT" not in read
    # inside a caller's transaction (the test's) the commit is the caller's: never made
    # asynchronous from here
    assert not any("synchronous_commit" in q for q in fresh)
    replay = _queries(investigated.pk)
    assert len(replay) == REPLAY_QUERIES, "\n".join(replay)
    assert all(name in " ".join(replay) for name in TOGETHER)
    assert not any(q.startswith(("INSERT", "UPDATE")) for q in replay)


def _sent(application_id, *, fresh: bool) -> list[str]:
    if fresh:
        ScoreResult.objects.filter(application_id=application_id).delete()
    with CaptureQueriesContext(connection) as ctx:
        services.application_score(application_id=application_id)
    return [q["sql"] for q in ctx.captured_queries]


@pytest.mark.django_db(transaction=True)
def test_a_score_the_sweeper_would_resend_commits_without_waiting_for_the_disk(
        on_postgresql, investigated):
    """Asynchronous commit (SET LOCAL, in the score's own transaction) only for the triggers
    whose lost score the sweeper re-sends; a score someone asked for waits for the flush."""
    services.application_score(application_id=investigated.pk)
    with connection.cursor() as cursor:
        cursor.execute("SHOW synchronous_commit")
        before = cursor.fetchone()[0]
    for trigger, asynchronous in ((ScoreTrigger.INVESTIGATION_ACCEPTED, True),
                                  (ScoreTrigger.SWEEPER, True), (ScoreTrigger.ON_DEMAND, False)):
        ScoreResult.objects.filter(application_id=investigated.pk).delete()
        assert not connection.in_atomic_block
        with CaptureQueriesContext(connection) as ctx:
            result = services.application_score(application_id=investigated.pk, trigger=trigger)
        written = [q["sql"] for q in ctx.captured_queries if "INSERT INTO" in q["sql"]]
        assert any("set_config('synchronous_commit', 'off', true)" in q
                   for q in written) is asynchronous, trigger
        assert ScoreResult.objects.get(application_id=investigated.pk).pk == result.pk
        with connection.cursor() as cursor:
            cursor.execute("SHOW synchronous_commit")  # the transaction's own, not the session's
            assert cursor.fetchone()[0] == before
    assert AuditEvent.objects.filter(action="score.computed").count() == 4
    assert audit_chain_verify().ok


def test_a_new_champion_decides_at_once_though_the_old_one_is_parsed_in_this_process(
        world, investigated):
    old = services.champion_ensure()
    first = services.application_score(application_id=investigated.pk)  # old model cached
    model = Scorecard.from_json(old.artefact)
    model.scaling = Scaling(base_score=700.0, base_odds=19.0, pdo=50.0)  # 100 points higher
    new = ModelVersion.objects.create(
        version="champion-2", kind=old.kind, artefact=model.to_json(),
        artefact_sha256=model.sha256,
        training_data_sha256=old.training_data_sha256, target=old.target,
        features=old.features, training_profile=old.training_profile,
        trained_by=world.user("reviewer.north"))
    services.model_version_validate(version_id=new.pk, actor=world.user("admin.north"))
    services.model_version_request_promotion(version_id=new.pk, actor=world.user("admin.north"),
                                             reason="Recalibrated")
    services.model_version_approve_promotion(version_id=new.pk,
                                             actor=world.user("reviewer.south"))
    second = services.application_score(application_id=investigated.pk)
    assert second.pk != first.pk and second.model_version_id == new.pk
    assert second.input_hash == first.input_hash
    assert second.score == pytest.approx(first.score + 100)
    assert latest_score(application_id=investigated.pk) == second
    assert ModelVersion.objects.get(pk=old.pk).state == ModelVersionState.RETIRED
    assert AuditEvent.objects.filter(action="score.computed").count() == 2


@contextmanager
def _round_trips():
    """What the connection sends, read from libpq's trace of the protocol: each round trip
    ends with the server's ReadyForQuery, whatever sent it (psycopg's own BEGIN included, which
    no execute wrapper sees). Yields a list filled on exit with (text sent, transaction status
    after it) per round trip."""
    from psycopg import pq

    connection.ensure_connection()
    pgconn = connection.connection.pgconn
    found = []
    with tempfile.TemporaryFile() as trace:
        pgconn.trace(trace.fileno())
        pgconn.set_trace_flags(pq.Trace.SUPPRESS_TIMESTAMPS | pq.Trace.REGRESS_MODE)
        try:
            yield found
        finally:
            pgconn.untrace()
        trace.seek(0)
        sent = []
        for line in trace.read().decode().splitlines():
            where, _length, message, *rest = line.split("\t")
            if where == "F" and message == "Query":
                sent.append(rest[0].strip())
            elif where == "B" and message == "ReadyForQuery":
                found.append(("; ".join(sent), rest[0].strip()))
                sent = []


@pytest.mark.django_db(transaction=True)
def test_a_fresh_score_of_its_own_is_two_round_trips(on_postgresql, investigated):
    """The read, then the writes as one text with no BEGIN or COMMIT, which PostgreSQL runs as
    one transaction (its implicit transaction block): what it wrote is committed (seen from
    another connection) and the connection is idle again; inside a caller's transaction the
    commit stays the caller's (its hooks run at its end)."""
    from django.db import connections, transaction

    services.application_score(application_id=investigated.pk)  # prepares the reads
    ScoreResult.objects.filter(application_id=investigated.pk).delete()
    with _round_trips() as trips:
        result = services.application_score(application_id=investigated.pk)
    assert len(trips) == 2, trips
    (read, _idle), (written, status) = trips
    assert "EXECUTE credence_" in read and "INSERT" not in read
    assert written.startswith("\"SELECT set_config('synchronous_commit', 'off', true);")
    assert 'INSERT INTO "audit_auditevent"' in written
    assert "BEGIN" not in written and "COMMIT" not in written
    assert status == "I"  # not in a transaction: the text's own committed
    assert not connection.in_atomic_block
    other = connections.create_connection("default")
    try:
        with other.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM scoring_scoreresult WHERE id = %s", [result.pk])
            assert cursor.fetchone()[0] == 1
            cursor.execute("SELECT payload->>'score_result' FROM audit_auditevent "
                           "WHERE action = 'score.computed' ORDER BY seq DESC LIMIT 1")
            assert cursor.fetchone()[0] == str(result.pk)
    finally:
        other.close()
    assert audit_chain_verify().ok
    with _round_trips() as trips:  # a replay: the read only
        assert services.application_score(application_id=investigated.pk) == result
    assert len(trips) == 1
    hooks = []
    ScoreResult.objects.filter(application_id=investigated.pk).delete()
    with transaction.atomic():  # a caller's transaction: its commit, at its end
        transaction.on_commit(lambda: hooks.append("caller"))
        with CaptureQueriesContext(connection) as ctx:
            services.application_score(application_id=investigated.pk)
        assert not any("COMMIT" in (q["sql"] or "") for q in ctx.captured_queries)
        assert connection.in_atomic_block and not hooks
    assert hooks == ["caller"]
    assert ScoreResult.objects.filter(application_id=investigated.pk).count() == 1
    assert audit_chain_verify().ok
