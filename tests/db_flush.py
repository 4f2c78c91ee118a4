"""The test flush on PostgreSQL: DELETE from the tables that hold rows instead of TRUNCATE of all.

After each transactional test (and before a serialized rollback) Django empties every table with
one `TRUNCATE` of all ~130 of them. PostgreSQL gives each truncated table and index a new file,
which costs 3–6 s a flush on this project's machines however few rows there are; a test leaves
rows in a handful of tables. Here the flush asks which tables hold rows (one query, ~20 ms) and
deletes from those only, with `session_replication_role = replica` for the transaction so that
foreign-key and audit triggers do not fire (every table with rows is emptied, so nothing is left
dangling). The result is the same empty database. A flush that resets sequences, a role that may
not set the replication role, or `CREDENCE_TEST_FAST_FLUSH=0`, keeps Django's TRUNCATE.
"""

from __future__ import annotations

import os


def enabled() -> bool:
    return os.environ.get("CREDENCE_TEST_FAST_FLUSH", "1") != "0"


def _tables_with_rows(connection, tables) -> list[str] | None:
    """The given tables that hold rows, or None when this role may not skip triggers."""
    quote = connection.ops.quote_name
    probes = " UNION ALL ".join(
        f"SELECT %s WHERE EXISTS (SELECT 1 FROM {quote(table)})"  # noqa: S608 - introspected names
        for table in tables)
    with connection.cursor() as cursor:
        cursor.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
        row = cursor.fetchone()
        if not (row and row[0]):
            return None
        cursor.execute(probes, list(tables))
        return [table for (table,) in cursor.fetchall()]


def install() -> None:
    from django.db.backends.postgresql.operations import DatabaseOperations

    truncate = DatabaseOperations.sql_flush
    if getattr(truncate, "deletes_rows", False):
        return

    def sql_flush(self, style, tables, *, reset_sequences=False, allow_cascade=False):
        if reset_sequences or not tables or not enabled():
            return truncate(self, style, tables, reset_sequences=reset_sequences,
                            allow_cascade=allow_cascade)
        with_rows = _tables_with_rows(self.connection, sorted(tables))
        if with_rows is None:
            return truncate(self, style, tables, reset_sequences=reset_sequences,
                            allow_cascade=allow_cascade)
        if not with_rows:
            return []
        # execute_sql_flush runs these in a transaction, or a savepoint when the caller holds
        # one open (the page sweep's seeding): the role is set back before either goes on.
        return ["SET LOCAL session_replication_role = replica",
                *(f"{style.SQL_KEYWORD('DELETE')} {style.SQL_KEYWORD('FROM')} "
                  f"{style.SQL_FIELD(self.quote_name(table))};" for table in with_rows),
                "SET LOCAL session_replication_role = origin"]

    sql_flush.deletes_rows = True
    DatabaseOperations.sql_flush = sql_flush
