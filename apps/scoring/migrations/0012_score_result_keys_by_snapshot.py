"""A score result's references checked for less per statement (issue #20,
bench/bench_rescoring.py): a re-score chunk of 1,000 results spent ~10 ms of its commit on the
application's per-row foreign-key checks and ~12 ms of its insert on the statement-level
trigger of 0010_score_result_set_based_keys, against ~20 ms for the insert itself.

What a result names is refused when missing, as before (SQLSTATE 23503,
foreign_key_violation), with the same guarantee that what it names is not deleted meanwhile:

- the model version, decision policy and re-scoring job: one row each for a whole chunk (and
  for a single score), so the trigger reads the statement's smallest and largest id in one
  pass and, when they are equal, checks and locks (FOR KEY SHARE) that one row; several (any
  other statement) are checked as before. Was: a DISTINCT count and a hashed semi-join of the
  whole transition table per key;
- the snapshot and the application together: each result's (snapshot, application) pair must
  be a stored snapshot of that application (an anti-join over the snapshots' primary key),
  which is stricter than before (a result naming another application's snapshot is refused).
  The application's own foreign key is dropped: the snapshot's foreign key to its application
  keeps that application while the snapshot exists (an application with snapshots cannot be
  deleted), and the snapshot is kept while results name it;
- the snapshots are not locked row by row (FOR KEY SHARE wrote a lock into each of a chunk's
  1,000 snapshot rows, ~4 ms): instead, the rare statement that could take one away, a
  DELETE of snapshots or an UPDATE of a snapshot's application, first takes a SHARE lock on
  the score results. That waits for every transaction that inserted results to end, and no
  result can be inserted until the deleting transaction ends, so its check (a statement of
  its own, with a fresh snapshot under READ COMMITTED) sees every result that names the rows,
  and an insert that waited sees them gone. Nothing in the product deletes snapshots or moves
  them to another application; the lock would pause score inserts for that transaction.

SQLite (the local demo) has none of these triggers: the ORM's PROTECT stands there, as for the
other keys. apps/scoring/tests/test_score_result_keys.py proves each refusal.
"""

import importlib

import django.db.models.deletion
from django.db import migrations, models

# (column, referenced table): one row per statement in practice
SINGLE = [("model_version_id", "scoring_modelversion"), ("policy_id", "scoring_decisionpolicy"),
          ("job_id", "scoring_rescoringjob")]


def _missing(table: str) -> str:
    return (f"""RAISE EXCEPTION 'insert or update on table "scoring_scoreresult" names a row """
            f"""of "{table}" that does not exist' USING ERRCODE = 'foreign_key_violation';""")


def _single(i: int, column: str, table: str) -> str:
    return f"""
    IF lo{i} = hi{i} THEN
        PERFORM 1 FROM {table} p WHERE p.id = lo{i} FOR KEY SHARE OF p;
        IF NOT FOUND THEN
            {_missing(table)}
        END IF;
    ELSIF lo{i} IS NOT NULL THEN
        SELECT count(DISTINCT {column}) INTO n_wanted FROM new_rows;
        SELECT count(*) INTO n_found FROM (SELECT 1 FROM {table} p
                                            WHERE p.id IN (SELECT {column} FROM new_rows)
                                              FOR KEY SHARE OF p) k;
        IF n_found < n_wanted THEN
            {_missing(table)}
        END IF;
    END IF;"""


CREATE = ("""
CREATE OR REPLACE FUNCTION scoring_results_name_rows() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    n_wanted bigint;
    n_found bigint;""" + "".join(f"\n    lo{i} bigint;\n    hi{i} bigint;"
                                 for i in range(len(SINGLE))) + """
BEGIN
    SELECT """ + ", ".join(f"min({c}), max({c})" for c, _t in SINGLE) + """
      INTO """ + ", ".join(f"lo{i}, hi{i}" for i in range(len(SINGLE))) + """
      FROM new_rows;""" + "".join(_single(i, c, t) for i, (c, t) in enumerate(SINGLE)) + """
    IF EXISTS (SELECT 1 FROM new_rows n
                WHERE NOT EXISTS (SELECT 1 FROM scoring_featuresnapshot p
                                   WHERE p.id = n.snapshot_id
                                     AND p.application_id = n.application_id)) THEN
        RAISE EXCEPTION 'insert or update on table "scoring_scoreresult" names a row of '
            '"scoring_featuresnapshot" that does not exist (or one of another application)'
            USING ERRCODE = 'foreign_key_violation';
    END IF;
    RETURN NULL;
END;
$$;
CREATE OR REPLACE FUNCTION scoring_featuresnapshot_named_by_scores_stay() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    LOCK TABLE scoring_scoreresult IN SHARE MODE;
    IF EXISTS (SELECT 1 FROM old_rows o JOIN scoring_scoreresult r ON r.snapshot_id = o.id) THEN
        RAISE EXCEPTION 'delete on table "scoring_featuresnapshot" removes a row that score '
            'results name' USING ERRCODE = 'foreign_key_violation';
    END IF;
    RETURN NULL;
END;
$$;
CREATE OR REPLACE FUNCTION scoring_featuresnapshot_moved_stay() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    LOCK TABLE scoring_scoreresult IN SHARE MODE;
    IF EXISTS (SELECT 1 FROM scoring_scoreresult r WHERE r.snapshot_id = OLD.id) THEN
        RAISE EXCEPTION 'update on table "scoring_featuresnapshot" moves a snapshot that score '
            'results name to another application' USING ERRCODE = 'foreign_key_violation';
    END IF;
    RETURN NULL;
END;
$$;
CREATE TRIGGER scoring_featuresnapshot_moved AFTER UPDATE OF application_id
    ON scoring_featuresnapshot FOR EACH ROW
    WHEN (OLD.application_id IS DISTINCT FROM NEW.application_id)
    EXECUTE FUNCTION scoring_featuresnapshot_moved_stay();
""")


def _previous() -> str:
    """0010's functions, as they were."""
    earlier = importlib.import_module("apps.scoring.migrations.0010_score_result_set_based_keys")
    table = "scoring_featuresnapshot"
    stays = earlier._stays("snapshot_id", table)
    return ("""
DROP TRIGGER IF EXISTS scoring_featuresnapshot_moved ON scoring_featuresnapshot;
DROP FUNCTION IF EXISTS scoring_featuresnapshot_moved_stay();
CREATE OR REPLACE FUNCTION scoring_results_name_rows() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    wanted bigint;
    found bigint;
BEGIN""" + "".join(earlier._check(c, t) for c, t in earlier.KEYS) + """
    RETURN NULL;
END;
$$;
""" + stays[:stays.index(f"CREATE TRIGGER {table}_named_by_scores_delete")])


def _on_postgresql(sql):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(sql() if callable(sql) else sql, params=None)
    return run


class Migration(migrations.Migration):

    dependencies = [
        ('applications', '0004_decided_index'),
        ('scoring', '0011_score_result_fewer_indexes'),
    ]

    operations = [
        migrations.RunPython(_on_postgresql(CREATE), _on_postgresql(_previous)),
        migrations.AlterField(
            model_name='scoreresult',
            name='application',
            field=models.ForeignKey(db_constraint=False, db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='applications.application', verbose_name='application'),
        ),
    ]
