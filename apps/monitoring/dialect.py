"""The few SQL spellings the monitoring run needs that PostgreSQL and SQLite write
differently (`make run` and embedded local runs use SQLite; production runs PostgreSQL).

- `greatest(a, b)`: PostgreSQL's GREATEST; SQLite's scalar two-argument max().
- `id_list(ids)`: a whole id list as one bound parameter, for `col = ANY(...)` /
  `col IN (SELECT value FROM json_each(...))` (5,000 `%s` in the SQL text cost more to
  compile than the query).
- `rows(columns, values)`: a chunk's rows as one relation to INSERT … SELECT or UPDATE … FROM:
  `unnest()` of typed arrays on PostgreSQL, `json_each()` of a JSON array on SQLite.
- `json_value(expr)`, `add_months(column, months)`: a jsonb cast, and date + months clamped
  to the month's end (PostgreSQL's interval arithmetic; SQLite's '+N months' would roll
  31 Jan into March).

Every function reads `connection.vendor`, so the same SQL string works on either database.
"""

import datetime as dt
import json
from decimal import Decimal

from django.db import connection

_PG_ARRAY = {"bigint": "bigint[]", "int": "int[]", "text": "text[]", "numeric": "numeric[]",
             "date": "date[]", "json": "text[]"}


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
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    return value


def rows(param: str, columns: list[tuple[str, str]], values: dict[str, list],
         params: dict) -> str:
    """A relation `u(<columns>)` of the given column lists (all the same length), added to
    `params` under names starting with `param`. Types: bigint, int, text, numeric, date, json
    (json columns are text holding JSON; wrap them in `json_value`)."""
    names = [name for name, _type in columns]
    if is_postgres():
        parts = []
        for i, (name, kind) in enumerate(columns):
            params[f"{param}_{i}"] = list(values[name])
            parts.append(f"%({param}_{i})s::{_PG_ARRAY[kind]}")
        return f"unnest({', '.join(parts)}) AS u({', '.join(names)})"
    length = len(values[names[0]]) if names else 0
    params[param] = json.dumps([[_plain(values[name][i]) for name in names]
                                for i in range(length)])
    picks = ", ".join(
        f"json_extract(value, '$[{i}]') AS {name}" if kind != "json"
        else f"json(json_extract(value, '$[{i}]')) AS {name}"
        for i, (name, kind) in enumerate(columns))
    return f"(SELECT {picks} FROM json_each(%({param})s)) AS u"  # noqa: S608 - fragments from apps.monitoring.dialect, values bound
