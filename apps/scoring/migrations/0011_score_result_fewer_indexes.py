"""Score results lose the two indexes that only duplicated others (issue #20,
bench/bench_rescoring.py: each index is written by every row of a portfolio re-score).

- scoring_result_latest (application, -created_at): an application's scores are found by the
  unique scoring_result_idempotent (application, model version, input hash), which leads with
  the application; a file has a handful of results (one per model version and input), so the
  newest is a sort of those few rows (EXPLAIN on 30,000 results: 0.1 ms either way);
- scoring_result_recent (model version, created_at): drift reads one version's scores within
  its window by insight_tail_score_created (created_at, insight 0003_portfolio_loan_facts),
  filtering the version among the window's rows, nearly all the champion's.

Measured with 30,000 results inserted in one statement: 3.5 s with both, 2.3 s without.

Also: a re-scoring job's default chunk size is the 1,000 rows the service has used since
issue #23 (2) (models.RESCORING_CHUNK; was 5,000 here). No change to the database.
"""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('scoring', '0010_score_result_set_based_keys'),
        ('insight', '0003_portfolio_loan_facts'),
    ]

    operations = [
        migrations.RemoveIndex(
            model_name='scoreresult',
            name='scoring_result_latest',
        ),
        migrations.RemoveIndex(
            model_name='scoreresult',
            name='scoring_result_recent',
        ),
        migrations.AlterField(
            model_name='rescoringjob',
            name='chunk_size',
            field=models.PositiveIntegerField(default=1000, verbose_name='chunk size'),
        ),
    ]
