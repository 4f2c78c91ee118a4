"""A query compiled once per process and run again with new values (hot paths only).

Building and compiling a Django queryset with several subqueries costs milliseconds of Python,
more than PostgreSQL takes to answer it: group exposure, read for every score, was a fifth of
scoring one application in the worker bench. `compiled_rows` compiles the query once, with
`MARKER` standing for the one value that changes, and afterwards only sends its SQL with the
marker's places filled in. The queryset is still written with the ORM, so it is the single
definition of the query; nothing here is hand-written SQL.
"""

from __future__ import annotations

from collections.abc import Callable

from django.db import connection

# An id no row has: the places of the changing value in the compiled parameters.
MARKER = -7_314_159_265_358


class _Compiled(Exception):
    def __init__(self, sql, params):
        super().__init__("compiled")
        self.sql, self.params = sql, params


_SQL: dict[tuple, tuple[str, tuple]] = {}


def _capture(execute, sql, params, many, context):
    raise _Compiled(sql, tuple(params or ()))


def compiled_rows(key: str, run: Callable[[int], object], value: int) -> list[tuple]:
    """The rows of the query `run(MARKER)` executes, with `value` for the marker.

    `run` executes exactly one query (e.g. `lambda v: qs(v).aggregate(...)`); the first call
    in a process executes nothing: the SQL it would send is kept instead. The cache is per
    database alias vendor and key; the query's shape must not depend on the value."""
    cache_key = (connection.alias, key)
    compiled = _SQL.get(cache_key)
    if compiled is None:
        try:
            with connection.execute_wrapper(_capture):
                run(MARKER)
        except _Compiled as found:
            compiled = _SQL[cache_key] = (found.sql, found.params)
        else:  # pragma: no cover - `run` executed no query
            raise RuntimeError(f"{key}: no query to compile")
    sql, params = compiled
    if MARKER not in params:
        raise RuntimeError(f"{key}: the value does not appear in the compiled query")
    with connection.cursor() as cursor:
        cursor.execute(sql, tuple(value if p == MARKER else p for p in params))
        return cursor.fetchall()
