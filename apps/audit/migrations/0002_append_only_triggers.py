"""PostgreSQL refuses UPDATE, DELETE and TRUNCATE on the audit table, whoever asks.

TRUNCATE is let through only when the session sets `credence.audit_truncate_allowed = on`,
which only the test settings do (Django flushes test databases with TRUNCATE). SQLite has no
such triggers: there, the hash chain alone detects tampering.
"""

from django.db import migrations

CREATE = """
CREATE OR REPLACE FUNCTION credence_audit_refuse_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'TRUNCATE'
       AND coalesce(current_setting('credence.audit_truncate_allowed', true), '') = 'on' THEN
        RETURN NULL;
    END IF;
    RAISE EXCEPTION 'audit_auditevent is append-only: % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$;
CREATE TRIGGER audit_event_refuse_update_delete
    BEFORE UPDATE OR DELETE ON audit_auditevent
    FOR EACH ROW EXECUTE FUNCTION credence_audit_refuse_change();
CREATE TRIGGER audit_event_refuse_truncate
    BEFORE TRUNCATE ON audit_auditevent
    FOR EACH STATEMENT EXECUTE FUNCTION credence_audit_refuse_change();
"""

DROP = """
DROP TRIGGER IF EXISTS audit_event_refuse_truncate ON audit_auditevent;
DROP TRIGGER IF EXISTS audit_event_refuse_update_delete ON audit_auditevent;
DROP FUNCTION IF EXISTS credence_audit_refuse_change();
"""


def _on_postgresql(sql):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(sql, params=None)  # None: "%" in plpgsql is not a placeholder
    return run


class Migration(migrations.Migration):
    dependencies = [("audit", "0001_initial")]

    operations = [migrations.RunPython(_on_postgresql(CREATE), _on_postgresql(DROP))]
