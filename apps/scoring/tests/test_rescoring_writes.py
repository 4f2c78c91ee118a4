"""The re-score's PostgreSQL write path: the COPY text it builds by hand, and chunks written in
transactions of the job's own (a temporary table made once per database session and emptied
by each commit; commits that do not wait for the WAL flush, set for that transaction only)."""

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
