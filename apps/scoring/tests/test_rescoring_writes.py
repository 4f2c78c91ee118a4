"""The re-score's PostgreSQL write path: the COPY text it builds by hand, and chunks written in
transactions of the job's own (a temporary table made once per database session and emptied
by each commit; commits that do not wait for the WAL flush, set for that transaction only)."""

from decimal import ROUND_DOWN, Decimal

import pytest
from django.db import connection

from apps.audit.models import AuditEvent
from apps.scoring import services
from apps.scoring.models import ScoreResult
from apps.scoring.services.rescoring import _copy_text
from apps.scoring.tests.test_rescoring import _portfolio

pytestmark = pytest.mark.django_db


def test_copy_text_reads_back_as_written(on_postgresql):
    texts = ["plain", "back\\slash", "tab\there", "line\nbreak", "cr\rhere", "\\N",
             '[{"feature": "caf\\u00e9\\t"}]', ""]
    with connection.cursor() as cursor:
        cursor.execute("CREATE TEMP TABLE copy_check (i int, t text)")
        with cursor.cursor.copy("COPY copy_check FROM STDIN") as copy:
            copy.write("".join(f"{i}\t{_copy_text(t)}\n" for i, t in enumerate(texts)))
        cursor.execute("SELECT t FROM copy_check ORDER BY i")
        assert [r[0] for r in cursor.fetchall()] == texts


@pytest.mark.django_db(transaction=True)
def test_chunks_in_the_jobs_own_transactions(on_postgresql, world):
    ids = _portfolio(world, 5)
    with connection.cursor() as cursor:
        cursor.execute("SHOW synchronous_commit")
        before = cursor.fetchone()[0]
    job = services.rescoring_start(actor=world.user("reviewer.north"), chunk_size=2)
    assert not connection.in_atomic_block
    job = services.rescoring_run(job_id=job.pk)
    assert (job.total, job.done, job.created) == (5, 5, 5)
    assert sorted(ScoreResult.objects.filter(job=job).values_list("application_id", flat=True)
                  ) == sorted(ids)
    chunks = AuditEvent.objects.filter(action="score.rescored_chunk").order_by("seq")
    assert [e.payload["created"] for e in chunks] == [2, 2, 1]
    with connection.cursor() as cursor:
        # The setting was the chunk transactions' own (SET LOCAL), not left on the session.
        cursor.execute("SHOW synchronous_commit")
        assert cursor.fetchone()[0] == before
        cursor.execute("SELECT to_regclass('pg_temp.scoring_rescore_tmp') IS NOT NULL")
        if cursor.fetchone()[0]:  # the session kept: the commit emptied the table
            cursor.execute("SELECT count(*) FROM scoring_rescore_tmp")
            assert cursor.fetchone()[0] == 0


def _varied_portfolio(world) -> list[int]:
    """Files whose limits take every branch of the rule: an amount under and over the grade's
    share of revenue, no amount, an enterprise without a revenue, a knock-out (declined)."""
    from decimal import Decimal

    from apps.applications.models import Application
    from apps.parties.models import Enterprise

    ids = _portfolio(world, 16)  # the first has a knock-out: declined, limit 0
    amounts = [None, Decimal("1.00"), Decimal("99999999.99"), Decimal("123456.78")] * 4
    for pk, amount in zip(ids, amounts, strict=True):
        Application.objects.filter(pk=pk).update(amount_requested=amount)
    poor = world.enterprise(annual_revenue=None)
    odd = world.enterprise(annual_revenue=Decimal("1234567.89"))
    Application.objects.filter(pk__in=ids[4:6]).update(enterprise=poor)
    Application.objects.filter(pk__in=ids[6:11]).update(enterprise=odd)
    assert Enterprise.objects.filter(annual_revenue__isnull=True).exists()
    return ids


def _contents(job) -> dict:
    fields = ["application_id", "model_version_id", "snapshot_id", "input_hash",
              "probability", "score", "grade", "reasons", "policy_id", "recommendation",
              "knockouts", "suggested_limit", "price_band", "trigger"]
    return {row[0]: row for row in ScoreResult.objects.filter(job=job).values_list(*fields)}


@pytest.mark.django_db(transaction=True)
def test_the_copy_writes_what_the_insert_wrote(on_postgresql, world):
    """Chunks in the job's own transactions are COPYed straight into the results, limits
    computed in Python; inside a caller's transaction they still go through the temporary
    table and INSERT … SELECT (limits in SQL). Both write the same results."""
    from django.db import transaction

    from apps.applications.models import Application
    from apps.scoring.services.rescoring import _limit_text

    ids = _varied_portfolio(world)
    reviewer = world.user("reviewer.north")
    copied = services.rescoring_run(
        job_id=services.rescoring_start(actor=reviewer, chunk_size=3).pk)
    assert (copied.done, copied.created) == (16, 16)
    direct = _contents(copied)
    ScoreResult.objects.filter(job=copied).delete()
    with transaction.atomic():  # a caller's transaction: each chunk a savepoint
        inserted = services.rescoring_run(
            job_id=services.rescoring_start(actor=reviewer, chunk_size=3).pk)
    assert (inserted.done, inserted.created) == (16, 16)
    assert _contents(inserted) == direct
    # And each limit is the rule's, worked out here.
    policy = services.decision_policy_ensure().document
    seen = set()
    for application in Application.objects.filter(pk__in=ids).select_related("enterprise"):
        grade, advice, limit = (direct[application.pk][6], direct[application.pk][9],
                                direct[application.pk][11])
        revenue, amount = application.enterprise.annual_revenue, application.amount_requested
        share = Decimal(str(policy["limits"][grade]["revenue_share"]))
        if revenue is None:
            expected, case = None, "no revenue"
        elif advice == "decline":
            expected, case = Decimal("0"), "declined"
        else:
            cap = revenue * share
            expected = min(cap, amount or cap).quantize(Decimal("0.01"), ROUND_DOWN)
            case = "amount" if amount is not None and amount < cap else "cap"
        assert limit == expected, (application.pk, grade, advice)
        seen.add(case)
    assert seen == {"no revenue", "declined", "amount", "cap"}
    assert _limit_text("5 10", Decimal("0.333"), False) == "3.33"  # cut, not rounded
    assert _limit_text(" 10", Decimal("0.5"), False) == "5.00"
    assert _limit_text("5 ", Decimal("0.5"), True) == "\\N"


@pytest.mark.django_db(transaction=True)
def test_a_result_written_after_the_read_sends_the_chunk_through_the_insert(on_postgresql,
                                                                            world):
    """A result of one of the chunk's keys committed between the chunk's read and its write
    (a single score of the same input): the COPY's unique violation rolls the chunk back
    whole, and it is written again skipping that one; one audit event, counted right."""
    from apps.scoring.services import rescoring

    ids = _portfolio(world, 4)
    job = services.rescoring_start(actor=world.user("reviewer.north"), chunk_size=4)
    version, policy = job.model_version, services.decision_policy_ensure()
    model = services.model_of(version)
    reasons = rescoring._ReasonText(model)
    snapshot_ids = rescoring._portfolio_snapshot_ids()
    rows, columns = rescoring._read_chunk_columns(snapshot_ids, model.feature_kinds,
                                                  rescoring._result_extra(version))
    assert [r[5] for r in rows] == [None] * 4  # none scored yet
    scored = rescoring._score_chunk(rows, policy.document, model, reasons, columns)
    twin = rows[2]
    ScoreResult.objects.create(
        application_id=twin[1], model_version=version, snapshot_id=twin[0],
        input_hash=twin[2], probability=0.5, score=1.0, grade="E", policy=policy,
        recommendation="decline", trigger="on_demand")
    rescoring._store_chunk(1, scored, job=job, version=version, policy=policy,
                           reasons=reasons, write=rescoring._writer(version), own=True)
    job.refresh_from_db()
    assert (job.done, job.created) == (4, 3)
    assert ScoreResult.objects.filter(job=job).count() == 3
    assert sorted(ScoreResult.objects.values_list("application_id", flat=True)) == sorted(ids)
    event = AuditEvent.objects.get(action="score.rescored_chunk")
    assert (event.payload["count"], event.payload["created"]) == (4, 3)
    again = rescoring._read_chunk_columns(snapshot_ids, model.feature_kinds,
                                          rescoring._result_extra(version))[0]
    assert [r[5] for r in again] == [True] * 4
