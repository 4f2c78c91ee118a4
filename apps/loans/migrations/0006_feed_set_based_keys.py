"""The feed's foreign keys checked once per statement instead of once per row (issue #14,
bench/bench_loans_feed.py).

A 100,000-row import spent a fifth of its time in PostgreSQL's per-row foreign-key checks of
`loan_id` (and of `reverses_id`, NULL on every repayment yet still queued and fired per row).
Here the database constraints give way to statement-level triggers over the statement's
transition table, with the same guarantee:

- an INSERT or UPDATE of repayment events or balance snapshots whose rows name a loan (or, for
  a reversal, a repayment) that does not exist is refused (SQLSTATE 23503,
  foreign_key_violation); the named rows are locked FOR KEY SHARE, as a foreign key locks
  them, so a concurrent DELETE of them waits and then finds the new rows;
- a DELETE of loans that events or snapshots name, or of repayments a reversal names, is
  refused (23503), as the NO ACTION constraints refused it (the ORM's PROTECT refuses it
  first).

Not covered: changing a loan's or an event's id in place (nothing does). SQLite (the local
demo) has no such triggers: there the feed's validation (unknown loan, unknown repayment) and
the ORM's PROTECT stand. `reverses_id` is unique where set (partial index): repayments add no
entry. apps/loans/tests/test_feed_keys.py proves each refusal.
"""

import django.db.models.deletion
from django.db import migrations, models

CREATE = """
CREATE OR REPLACE FUNCTION loans_rows_name_loans() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    wanted bigint;
    found bigint;
BEGIN
    SELECT count(DISTINCT loan_id) INTO wanted FROM new_rows;
    SELECT count(*) INTO found FROM (SELECT 1 FROM loans_loan l
                                      WHERE l.id IN (SELECT loan_id FROM new_rows)
                                        FOR KEY SHARE OF l) k;
    IF found < wanted THEN
        RAISE EXCEPTION 'insert or update on table "%" names a loan that does not exist',
            TG_TABLE_NAME USING ERRCODE = 'foreign_key_violation';
    END IF;
    RETURN NULL;
END;
$$;
CREATE OR REPLACE FUNCTION loans_reversals_name_events() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    wanted bigint;
    found bigint;
BEGIN
    SELECT count(DISTINCT reverses_id) INTO wanted FROM new_rows WHERE reverses_id IS NOT NULL;
    IF wanted > 0 THEN
        SELECT count(*) INTO found FROM (SELECT 1 FROM loans_repaymentevent t
                                          WHERE t.id IN (SELECT reverses_id FROM new_rows)
                                            FOR KEY SHARE OF t) k;
        IF found < wanted THEN
            RAISE EXCEPTION 'insert or update on table "loans_repaymentevent" reverses an '
                'event that does not exist' USING ERRCODE = 'foreign_key_violation';
        END IF;
    END IF;
    RETURN NULL;
END;
$$;
CREATE OR REPLACE FUNCTION loans_loans_named_stay() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM old_rows o
                WHERE EXISTS (SELECT 1 FROM loans_repaymentevent e WHERE e.loan_id = o.id)
                   OR EXISTS (SELECT 1 FROM loans_balancesnapshot b WHERE b.loan_id = o.id))
    THEN
        RAISE EXCEPTION 'delete on table "loans_loan" removes a loan that repayment events '
            'or balance snapshots name' USING ERRCODE = 'foreign_key_violation';
    END IF;
    RETURN NULL;
END;
$$;
CREATE OR REPLACE FUNCTION loans_reversed_events_stay() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM old_rows o JOIN loans_repaymentevent e ON e.reverses_id = o.id)
    THEN
        RAISE EXCEPTION 'delete on table "loans_repaymentevent" removes a repayment a '
            'reversal names' USING ERRCODE = 'foreign_key_violation';
    END IF;
    RETURN NULL;
END;
$$;
CREATE TRIGGER loans_event_loan_insert AFTER INSERT ON loans_repaymentevent
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT
    EXECUTE FUNCTION loans_rows_name_loans();
CREATE TRIGGER loans_event_loan_update AFTER UPDATE ON loans_repaymentevent
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT
    EXECUTE FUNCTION loans_rows_name_loans();
CREATE TRIGGER loans_event_reverses_insert AFTER INSERT ON loans_repaymentevent
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT
    EXECUTE FUNCTION loans_reversals_name_events();
CREATE TRIGGER loans_event_reverses_update AFTER UPDATE ON loans_repaymentevent
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT
    EXECUTE FUNCTION loans_reversals_name_events();
CREATE TRIGGER loans_balance_loan_insert AFTER INSERT ON loans_balancesnapshot
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT
    EXECUTE FUNCTION loans_rows_name_loans();
CREATE TRIGGER loans_balance_loan_update AFTER UPDATE ON loans_balancesnapshot
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT
    EXECUTE FUNCTION loans_rows_name_loans();
CREATE TRIGGER loans_loan_named_delete AFTER DELETE ON loans_loan
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT
    EXECUTE FUNCTION loans_loans_named_stay();
CREATE TRIGGER loans_event_reversed_delete AFTER DELETE ON loans_repaymentevent
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT
    EXECUTE FUNCTION loans_reversed_events_stay();
"""

DROP = """
DROP TRIGGER IF EXISTS loans_event_reversed_delete ON loans_repaymentevent;
DROP TRIGGER IF EXISTS loans_loan_named_delete ON loans_loan;
DROP TRIGGER IF EXISTS loans_balance_loan_update ON loans_balancesnapshot;
DROP TRIGGER IF EXISTS loans_balance_loan_insert ON loans_balancesnapshot;
DROP TRIGGER IF EXISTS loans_event_reverses_update ON loans_repaymentevent;
DROP TRIGGER IF EXISTS loans_event_reverses_insert ON loans_repaymentevent;
DROP TRIGGER IF EXISTS loans_event_loan_update ON loans_repaymentevent;
DROP TRIGGER IF EXISTS loans_event_loan_insert ON loans_repaymentevent;
DROP FUNCTION IF EXISTS loans_reversed_events_stay();
DROP FUNCTION IF EXISTS loans_loans_named_stay();
DROP FUNCTION IF EXISTS loans_reversals_name_events();
DROP FUNCTION IF EXISTS loans_rows_name_loans();
"""


def _on_postgresql(sql):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(sql, params=None)  # None: "%" in plpgsql is not a placeholder
    return run


class Migration(migrations.Migration):

    dependencies = [
        ('loans', '0005_feed_lean_indexes'),
    ]

    operations = [
        migrations.RunPython(_on_postgresql(CREATE), _on_postgresql(DROP)),
        migrations.AlterField(
            model_name='balancesnapshot',
            name='loan',
            field=models.ForeignKey(db_constraint=False, db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name='balances', to='loans.loan', verbose_name='loan'),
        ),
        migrations.AlterField(
            model_name='repaymentevent',
            name='loan',
            field=models.ForeignKey(db_constraint=False, db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name='repayments', to='loans.loan', verbose_name='loan'),
        ),
        migrations.AlterField(
            model_name='repaymentevent',
            name='reverses',
            field=models.ForeignKey(blank=True, db_constraint=False, db_index=False, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='reversed_by', to='loans.repaymentevent', verbose_name='reverses'),
        ),
        migrations.AddConstraint(
            model_name='repaymentevent',
            constraint=models.UniqueConstraint(condition=models.Q(('reverses__isnull', False)), fields=('reverses',), name='loans_repayment_reversed_once'),
        ),
    ]
