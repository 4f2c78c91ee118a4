"""The few SQL spellings the monitoring run needs that PostgreSQL and SQLite write
differently (`make run` and embedded local runs use SQLite; production runs PostgreSQL).

- `greatest(a, b)`: PostgreSQL's GREATEST; SQLite's scalar two-argument max().
- `id_list(ids)`: a whole id list as one bound parameter, for `col = ANY(...)` /
  `col IN (SELECT value FROM json_each(...))` (5,000 `%s` in the SQL text cost more to
  compile than the query).
- `rows(param, columns, values, params)`: a chunk's rows as one relation to INSERT … SELECT
  or UPDATE … FROM:
  `json_to_recordset()` on PostgreSQL, `json_each()` of a JSON array on SQLite.
- `money_sum(expr)` / `money_total(value)`: an exact SUM of a money column as a Decimal
  (SQLite keeps amounts with cents as floats, so it sums whole cents).
- `distinct(a, b)`: null-safe "differs" (IS DISTINCT FROM / IS NOT).
- `quarter_label(column)`: a date's quarter as '2024Q3' (a snapshot's vintage).
- `json_value(expr)`, `add_months(column, months)`: a jsonb cast, and date + months clamped
  to the month's end (PostgreSQL's interval arithmetic; SQLite's '+N months' would roll
  31 Jan into March).

Every function reads `connection.vendor`, so the same SQL string works on either database.
"""

import datetime as dt
import json
from decimal import Decimal

from django.db import connection


def is_postgres() -> bool:
    return connection.vendor == "postgresql"


def greatest(a: str, b: str) -> str:
    return f"GREATEST({a}, {b})" if is_postgres() else f"max({a}, {b})"


def in_ids(column: str, param: str) -> str:
    """`column` is one of the values of the named list parameter `param` (see `id_list`)."""
    if is_postgres():
        return f"{column} = ANY(%({param})s)"
    return f"{column} IN (SELECT value FROM json_each(%({param})s))"  # noqa: S608 - fragments from apps.monitoring.dialect, values bound


def id_list(values) -> list | str:
    """The bound value for `in_ids`: a list for psycopg, a JSON array for SQLite."""
    values = list(values)
    return values if is_postgres() else json.dumps(values, default=str)


def money_sum(expr: str) -> str:
    """SUM of a money expression, 0 when there are no rows: PostgreSQL's numeric is exact;
    SQLite sums whole cents as integers (floats would drift over a book's balances).
    Read the result with `money_total`."""
    if is_postgres():
        return f"COALESCE(SUM({expr}), 0)"
    return f"COALESCE(SUM(CAST(ROUND(({expr}) * 100) AS INTEGER)), 0)"


CENT = Decimal("0.01")


def money_total(value) -> Decimal:
    """The value of a `money_sum` column as a Decimal with cents."""
    if is_postgres():
        return Decimal(value).quantize(CENT)
    return Decimal(int(value)).scaleb(-2)


def distinct(a: str, b: str) -> str:
    return f"{a} IS DISTINCT FROM {b}" if is_postgres() else f"{a} IS NOT {b}"


def quarter_label(column: str) -> str:
    """The date's year and quarter, '2024Q3' (as `f"{year}Q{quarter}"` in Python)."""
    if is_postgres():
        return f"to_char({column}, 'YYYY\"Q\"Q')"
    return (f"(strftime('%%Y', {column}) || 'Q' || "
            f"((CAST(strftime('%%m', {column}) AS INTEGER) + 2) / 3))")


def json_value(expr: str) -> str:
    """`expr` (text holding JSON) as the JSON column's value."""
    return f"({expr})::jsonb" if is_postgres() else expr


def empty_json_list() -> str:
    return "'[]'::jsonb" if is_postgres() else "'[]'"


def add_months(column: str, param: str) -> str:
    """`column` + months (the named integer parameter), clamped to the month's end."""
    if is_postgres():
        return f"({column} + make_interval(months => %({param})s))"
    # The earlier of the naive shift and the target month's last day = the clamped date.
    return (f"min(date({column}, '+' || %({param})s || ' months'), "
            f"date({column}, 'start of month', '+' || (%({param})s + 1) || ' months', "
            f"'-1 day'))")


def _plain(value):
    """`json.dumps` default: what JSON has no type for, as text the databases parse."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not a column value")


_PG_TYPE = {"bigint": "bigint", "int": "int", "text": "text", "numeric": "numeric",
            "date": "date", "json": "text", "jsonobj": "json", "bool": "boolean",
            "timestamptz": "timestamptz"}


def typed(expr: str, kind: str) -> str:
    """A bound value as a column of `kind` (a `rows` type): PostgreSQL needs the type of a
    parameter in a select list; SQLite stores by the column's affinity."""
    return f"CAST({expr} AS {_PG_TYPE[kind]})" if is_postgres() else expr


def rows(param: str, columns: list[tuple[str, str]], values: dict[str, list],
         params: dict) -> str:
    """A relation `u(<columns>)` of the given column lists (all the same length), bound as
    one JSON parameter `param`. Types: bigint, int, text, numeric, date, bool, timestamptz,
    json (json columns are text holding JSON; wrap them in `json_value`), jsonobj (the
    value itself, a dict or list nested in the one JSON parameter: no `json.dumps` per row;
    also wrapped in `json_value`).

    One JSON text, not an array per column: psycopg's client-side array dumping of a
    chunk's columns cost more than the INSERT itself (22 s of a 20,000-loan run's profile);
    `json.dumps` is C and the database parses the text."""
    names = [name for name, _type in columns]
    if is_postgres():
        params[param] = json.dumps([dict(zip(names, row, strict=True))
                                    for row in zip(*(values[n] for n in names), strict=True)],
                                   default=_plain)
        spec = ", ".join(f"{name} {_PG_TYPE[kind]}" for name, kind in columns)
        return f"json_to_recordset(%({param})s::json) AS u({spec})"
    params[param] = json.dumps(list(zip(*(values[n] for n in names), strict=True)),
                               default=_plain)
    picks = ", ".join(
        f"json_extract(value, '$[{i}]') AS {name}" if kind not in ("json", "jsonobj")
        else f"json(json_extract(value, '$[{i}]')) AS {name}"
        for i, (name, kind) in enumerate(columns))
    return f"(SELECT {picks} FROM json_each(%({param})s)) AS u"  # noqa: S608 - column names and types from the callers
