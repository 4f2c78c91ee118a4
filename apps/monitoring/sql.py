"""`column = ANY(array)` filters for chunk-sized id lists: one bound parameter instead of
5,000 (`__in` expands every id into the SQL text, and compiling it cost more than the query).
SQLite (local runs) reads the same list as a JSON array through `json_each`."""

from django.db.models import BooleanField
from django.db.models.expressions import RawSQL

from apps.monitoring import dialect


def any_of(model, field: str, ids) -> RawSQL:
    """A filter expression: `<table>.<column> = ANY(ids)` (qualified, so joins are safe)."""
    column = model._meta.get_field(field).column
    qualified = f'"{model._meta.db_table}"."{column}"'
    sql = (f"{qualified} = ANY(%s)" if dialect.is_postgres()
           else f"{qualified} IN (SELECT value FROM json_each(%s))")  # noqa: S608 - fragments from apps.monitoring.dialect, values bound
    # Table and column come from the model's metadata, the ids are a bound parameter.
    return RawSQL(sql, (dialect.id_list(ids),), output_field=BooleanField())  # noqa: S611
