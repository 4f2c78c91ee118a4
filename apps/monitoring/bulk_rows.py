"""Insert a chunk's rows in one `INSERT … SELECT` from `dialect.rows` (arrays on PostgreSQL,
a JSON array on SQLite), for the monthly run's actions, proposals and signals.

`Model.objects.bulk_create` builds a model instance and a VALUES tuple per row; for the
run's thousands of rows per chunk that was most of the chunk's time (~1 ms a row, measured
in the benchmark's profile). Here the caller gives plain column lists; every other column
gets its field default (Django defaults are Python-side) and auto_now fields the time.
"""

import datetime as dt
import json
from decimal import Decimal

from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection
from django.utils import timezone

from apps.monitoring import dialect

_KINDS = {"BigAutoField": "bigint", "AutoField": "bigint", "ForeignKey": "bigint",
          "BigIntegerField": "bigint", "IntegerField": "int", "PositiveIntegerField": "int",
          "PositiveSmallIntegerField": "int", "SmallIntegerField": "int",
          "BooleanField": "bool", "CharField": "text", "TextField": "text",
          "DateField": "date", "DateTimeField": "timestamptz", "DecimalField": "numeric",
          "JSONField": "json"}


def _kind(field) -> str:
    return _KINDS.get(field.get_internal_type(), "text")


class _RowNumber:
    column = "n"


def _same(values: list) -> bool:
    """Every value is the first one: the same object (a shared dict), or an equal scalar of
    the same type (1 == True and {"a": 1} == {"a": 1.0}, but they are stored differently)."""
    first = values[0]
    if all(v is first for v in values):
        return True
    if first is None or not isinstance(first, (str, int)):
        return False
    kind = type(first)
    return all(type(v) is kind and v == first for v in values)


def _bound(name: str, kind: str, value, params: dict) -> str:
    """A select-list expression for one value bound as the parameter `name`."""
    if kind == "json":
        params[name] = json.dumps(value, cls=DjangoJSONEncoder)
        return dialect.json_value(f"%({name})s")
    if kind == "timestamptz":
        value = connection.ops.adapt_datetimefield_value(value)
    elif not dialect.is_postgres() and isinstance(value, (Decimal, dt.date)):
        value = str(value) if isinstance(value, Decimal) else value.isoformat()
    params[name] = value
    return dialect.typed(f"%({name})s", kind)


def insert_rows(model, columns: dict[str, list], *, on_conflict_nothing: bool = False,
                returning: tuple[str, ...] = ()) -> list[tuple]:
    """Insert the rows given as {attname: values}; returns the `returning` columns of the
    rows inserted (in no particular order: callers map them back by a natural key)."""
    names = list(columns)
    if not names or not columns[names[0]]:
        return []
    count = len(columns[names[0]])
    now = timezone.now()
    fields = {f.attname: f for f in model._meta.concrete_fields}
    per_row: dict[str, list] = {}
    constant: dict[str, object] = {}
    for attname, column_values in columns.items():
        if _same(column_values):
            constant[attname] = column_values[0]
        else:
            per_row[attname] = column_values
    for attname, field in fields.items():
        if attname in columns or field.primary_key:
            continue
        if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
            constant[attname] = now
        elif field.has_default() or not field.null:
            constant[attname] = field.get_default()
    params: dict = {}
    spec, outputs, targets = [], [], []
    # Columns with one value for every row (defaults, timestamps, the run's policy
    # versions) are bound once instead of repeated in every row of the JSON parameter.
    for index, (attname, value) in enumerate(constant.items()):
        field = fields[attname]
        targets.append(field.column)
        outputs.append(_bound(f"c{index}", _kind(field), value, params))
    for attname, column_values in per_row.items():
        field = fields[attname]
        kind = _kind(field)
        if kind == "json":
            # One serialisation per distinct object: rows often share a dict (an action
            # rule's deadline policy), and json.dumps per row was a visible cost.
            dumped: dict[int, str] = {}
            column_values = [dumped[id(v)] if id(v) in dumped
                             else dumped.setdefault(id(v), json.dumps(v, cls=DjangoJSONEncoder))
                             for v in column_values]
        elif kind == "timestamptz":
            column_values = [connection.ops.adapt_datetimefield_value(v) for v in column_values]
            kind = "timestamptz" if dialect.is_postgres() else "text"
        spec.append((field.column, kind))
        per_row[attname] = column_values
        targets.append(field.column)
        outputs.append(dialect.json_value(f"u.{field.column}") if kind == "json"
                       else f"u.{field.column}")
    if not spec:  # every column constant: still one row per value, from the row count
        spec.append(("n", "int"))
        per_row["n"] = list(range(count))
        fields = {**fields, "n": _RowNumber}
    source = dialect.rows("r", spec, {fields[a].column: v for a, v in per_row.items()}, params)
    sql = (f"INSERT INTO {model._meta.db_table} ({', '.join(targets)}) "  # noqa: S608 - names from the model's metadata, values bound
           f"SELECT {', '.join(outputs)} FROM {source} WHERE true")
    if on_conflict_nothing:
        sql += " ON CONFLICT DO NOTHING"
    if returning:
        sql += f" RETURNING {', '.join(fields[a].column for a in returning)}"
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall() if returning else []


def insert_select(model, selected: dict[str, str], from_sql: str, params: dict, *,
                  returning: str = "") -> str:
    """`INSERT INTO <model> (…) SELECT <selected expressions> FROM <from_sql>`: the columns
    named in `selected` ({attname: SQL expression}) computed by the database, every other
    column its field default bound once (Django defaults are Python-side: the same values
    `insert_rows` and `Model.objects.create` write; auto_now fields the time). Returns the
    statement; the defaults are added to `params`."""
    now = timezone.now()
    targets, outputs = [], []
    for index, field in enumerate(model._meta.concrete_fields):
        if field.primary_key:
            continue
        targets.append(field.column)
        if field.attname in selected:
            outputs.append(selected[field.attname])
            continue
        if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
            value = now
        elif field.has_default() or not field.null:
            value = field.get_default()
        else:
            value = None
        outputs.append(_bound(f"d{index}", _kind(field), value, params))
    sql = (f"INSERT INTO {model._meta.db_table} ({', '.join(targets)}) "  # noqa: S608 - names from the model's metadata, values bound
           f"SELECT {', '.join(outputs)} FROM {from_sql}")
    return sql + (f" RETURNING {returning}" if returning else "")
