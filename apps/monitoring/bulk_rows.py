"""Insert a chunk's rows in one `INSERT … SELECT` from `dialect.rows` (arrays on PostgreSQL,
a JSON array on SQLite), for the monthly run's actions, proposals and signals.

`Model.objects.bulk_create` builds a model instance and a VALUES tuple per row; for the
run's thousands of rows per chunk that was most of the chunk's time (~1 ms a row, measured
in the benchmark's profile). Here the caller gives plain column lists; every other column
gets its field default (Django defaults are Python-side) and auto_now fields the time.
"""

import json

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
    values = dict(columns)
    for attname, field in fields.items():
        if attname in values or field.primary_key:
            continue
        if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
            values[attname] = [now] * count
        elif field.has_default() or not field.null:
            default = field.get_default()
            values[attname] = [default] * count
    spec, outputs = [], []
    for attname, column_values in values.items():
        field = fields[attname]
        kind = _kind(field)
        if kind == "json":
            column_values = [json.dumps(v, cls=DjangoJSONEncoder) for v in column_values]
        elif kind == "timestamptz":
            column_values = [connection.ops.adapt_datetimefield_value(v) for v in column_values]
            kind = "timestamptz" if dialect.is_postgres() else "text"
        spec.append((field.column, kind))
        values[attname] = column_values
        outputs.append(dialect.json_value(f"u.{field.column}") if kind == "json"
                       else f"u.{field.column}")
    params: dict = {}
    source = dialect.rows("r", spec, {fields[a].column: v for a, v in values.items()}, params)
    sql = (f"INSERT INTO {model._meta.db_table} ({', '.join(c for c, _k in spec)}) "  # noqa: S608 - names from the model's metadata, values bound
           f"SELECT {', '.join(outputs)} FROM {source} WHERE true")
    if on_conflict_nothing:
        sql += " ON CONFLICT DO NOTHING"
    if returning:
        sql += f" RETURNING {', '.join(fields[a].column for a in returning)}"
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall() if returning else []
