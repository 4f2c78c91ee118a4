"""A query compiled once per process and run again with new values (hot paths only).

Building and compiling a Django queryset with several subqueries costs milliseconds of Python,
more than PostgreSQL takes to answer it: group exposure, read for every score, was a fifth of
scoring one application in the worker bench. `compiled_rows` compiles the query once, with
`MARKER` standing for the one value that changes, and afterwards only sends its SQL with the
marker's places filled in. The queryset is still written with the ORM, so it is the single
definition of the query; nothing here is hand-written SQL.

The rows come from the cursor, past the ORM's converters: the caller names the columns' output
fields and gets the values the ORM would give (SQLite returns a decimal sum as a float or an
int, PostgreSQL as a Decimal; both come back as Decimal for a DecimalField).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from django.db import connection
from django.db.models import Field, Value

# An id no row has: the places of the changing value in the compiled parameters.
MARKER = -7_314_159_265_358


class _Compiled(Exception):
    def __init__(self, sql, params):
        super().__init__("compiled")
        self.sql, self.params = sql, params


_SQL: dict[tuple, tuple[str, tuple]] = {}


def _capture(execute, sql, params, many, context):
    raise _Compiled(sql, tuple(params or ()))


def _converters(fields: Sequence[Field]) -> list[tuple[Value, list]]:
    """Per column, what the ORM's compiler applies to a computed value of that field: the
    backend's converters, then the expression's own (SQLCompiler.get_converters)."""
    found = []
    for field in fields:
        expression = Value(None, output_field=field)
        found.append((expression, connection.ops.get_db_converters(expression)
                      + expression.get_db_converters(connection)))
    return found


def compiled_rows(key: str, run: Callable[[int], object], value: int, *,
                  output_fields: Sequence[Field]) -> list[tuple]:
    """The rows of the query `run(MARKER)` executes, with `value` for the marker, each column
    converted as the ORM converts a computed value of its field in `output_fields`.

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
        rows = cursor.fetchall()
    converters = _converters(output_fields)
    if rows and len(rows[0]) != len(converters):
        raise RuntimeError(f"{key}: {len(rows[0])} columns, {len(converters)} output fields")
    return [tuple(_convert(v, expression, found)
                  for v, (expression, found) in zip(row, converters, strict=True))
            for row in rows]


def _convert(value, expression, converters):
    for converter in converters:
        value = converter(value, expression, connection)
    return value
