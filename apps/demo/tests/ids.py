"""Row ids as the rest of the suite leaves them: the demo-seeding tests seed with them."""

from django.db import connection


def ids_moved_on(by: int) -> None:
    """Every table's next id `by` further on, as the rest of the suite leaves them before a test
    in one process (neither a rollback nor a flush takes a sequence back): the demo must
    make the same files whatever ids it gets (apps.documents.demo.demo_seed)."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT schemaname, sequencename FROM pg_sequences "
                           "WHERE schemaname = current_schema()")
            for schema, name in cursor.fetchall():
                qualified = f'"{schema}"."{name}"'
                cursor.execute("SELECT setval(%s, nextval(%s) + %s)", [qualified, qualified, by])
        elif connection.vendor == "sqlite":  # rolled back with the test
            cursor.execute("INSERT INTO sqlite_sequence (name, seq) SELECT name, 0 FROM "
                           "sqlite_master WHERE type = 'table' AND sql LIKE '%%AUTOINCREMENT%%' "
                           "AND name NOT IN (SELECT name FROM sqlite_sequence)")
            cursor.execute("UPDATE sqlite_sequence SET seq = seq + %s", [by])
