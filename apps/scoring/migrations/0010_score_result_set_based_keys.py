"""A score result's references to scoring's own rows checked once per statement instead of once
per row (issue #20, bench/bench_rescoring.py).

A portfolio re-score inserts 5,000 results per chunk; at its commit PostgreSQL ran five deferred
foreign-key checks per row, 25,000 in all: measured with EXPLAIN ANALYZE, ~950 ms of the ~1.5 s
a chunk's INSERT cost, more than the insert and its indexes. Four of the five reference
scoring's own tables (the model version, the decision policy and the re-scoring job are one and
the same row for a whole chunk; the input snapshot is one per row): here those four database
constraints give way to statement-level triggers over the statement's transition table, with
the same guarantee (the precedent: loans 0006_feed_set_based_keys):

- an INSERT or UPDATE of score results naming a model version, decision policy, re-scoring job
  or feature snapshot that does not exist is refused (SQLSTATE 23503, foreign_key_violation);
  the named rows are locked FOR KEY SHARE, as a foreign key locks them, so a concurrent DELETE
  of them waits and then finds the new rows;
- a DELETE of a model version, decision policy, re-scoring job or feature snapshot that a score
  result names is refused (23503), as the NO ACTION constraints refused it (the ORM's PROTECT
  refuses it first; deleting a job sets its results' job to NULL first, as before).

The application stays a real foreign key (its table belongs to an earlier app), without its
own index: the unique (application, model version, input hash) and scoring_result_latest
(application, -created_at) both lead with it, so the third index only cost every insert. Not covered:
changing a referenced row's id in place (nothing does). SQLite (the local demo) has no such
triggers: there the ORM's PROTECT / SET_NULL stand. apps/scoring/tests/test_score_result_keys.py
proves each refusal.
"""

import django.db.models.deletion
from django.db import migrations, models

# (column in scoring_scoreresult, referenced table)
KEYS = [("model_version_id", "scoring_modelversion"), ("policy_id", "scoring_decisionpolicy"),
        ("job_id", "scoring_rescoringjob"), ("snapshot_id", "scoring_featuresnapshot")]


def _check(column: str, table: str) -> str:
    return f"""
    SELECT count(DISTINCT {column}) INTO wanted FROM new_rows;
    IF wanted > 0 THEN
        SELECT count(*) INTO found FROM (SELECT 1 FROM {table} p
                                          WHERE p.id IN (SELECT {column} FROM new_rows)
                                            FOR KEY SHARE OF p) k;
        IF found < wanted THEN
            RAISE EXCEPTION 'insert or update on table "scoring_scoreresult" names a row of '
                '"{table}" that does not exist' USING ERRCODE = 'foreign_key_violation';
        END IF;
    END IF;"""


def _stays(column: str, table: str) -> str:
    return f"""
CREATE OR REPLACE FUNCTION {table}_named_by_scores_stay() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM old_rows o JOIN scoring_scoreresult r ON r.{column} = o.id) THEN
        RAISE EXCEPTION 'delete on table "{table}" removes a row that score results name'
            USING ERRCODE = 'foreign_key_violation';
    END IF;
    RETURN NULL;
END;
$$;
CREATE TRIGGER {table}_named_by_scores_delete AFTER DELETE ON {table}
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT
    EXECUTE FUNCTION {table}_named_by_scores_stay();
"""


CREATE = ("""
CREATE OR REPLACE FUNCTION scoring_results_name_rows() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    wanted bigint;
    found bigint;
BEGIN""" + "".join(_check(c, t) for c, t in KEYS) + """
    RETURN NULL;
END;
$$;
CREATE TRIGGER scoring_result_keys_insert AFTER INSERT ON scoring_scoreresult
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT
    EXECUTE FUNCTION scoring_results_name_rows();
CREATE TRIGGER scoring_result_keys_update AFTER UPDATE ON scoring_scoreresult
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT
    EXECUTE FUNCTION scoring_results_name_rows();
""" + "".join(_stays(c, t) for c, t in KEYS))

DROP = "".join(f"""
DROP TRIGGER IF EXISTS {t}_named_by_scores_delete ON {t};
DROP FUNCTION IF EXISTS {t}_named_by_scores_stay();""" for _c, t in KEYS) + """
DROP TRIGGER IF EXISTS scoring_result_keys_update ON scoring_scoreresult;
DROP TRIGGER IF EXISTS scoring_result_keys_insert ON scoring_scoreresult;
DROP FUNCTION IF EXISTS scoring_results_name_rows();
"""


def _on_postgresql(sql):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(sql, params=None)  # None: "%" in plpgsql is not a placeholder
    return run


class Migration(migrations.Migration):

    dependencies = [
        ('scoring', '0009_decision_policy_shared_versioning'),
    ]

    operations = [
        migrations.RunPython(_on_postgresql(CREATE), _on_postgresql(DROP)),
        migrations.AlterField(
            model_name='scoreresult',
            name='application',
            field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='applications.application', verbose_name='application'),
        ),
        migrations.AlterField(
            model_name='scoreresult',
            name='model_version',
            field=models.ForeignKey(db_constraint=False, db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name='scores', to='scoring.modelversion', verbose_name='model version'),
        ),
        migrations.AlterField(
            model_name='scoreresult',
            name='policy',
            field=models.ForeignKey(db_constraint=False, db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='scoring.decisionpolicy', verbose_name='decision policy'),
        ),
        migrations.AlterField(
            model_name='scoreresult',
            name='job',
            field=models.ForeignKey(blank=True, db_constraint=False, db_index=False, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to='scoring.rescoringjob', verbose_name='re-scoring job'),
        ),
        migrations.AlterField(
            model_name='scoreresult',
            name='snapshot',
            field=models.ForeignKey(db_constraint=False, db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='scoring.featuresnapshot', verbose_name='input snapshot'),
        ),
    ]
