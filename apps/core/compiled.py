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

import hashlib
import json
import weakref
from collections.abc import Callable, Generator, Sequence
from dataclasses import dataclass, replace

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connection, connections
from django.db.models import Field, JSONField, Value

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


@dataclass(frozen=True)
class _Plan:
    """How a key's rows are converted: only the columns that have converters are touched (most
    have none: a score's reads were ~260 cells a score, each passed through an empty loop),
    and a column whose one converter is the JSON field's decode is decoded in one `json.loads`
    for all its rows (the ~40 answers of a checklist were as many decodes)."""

    width: int
    columns: tuple  # (position, expression, converters) of each column with converters
    json_columns: frozenset  # positions decoded together (PostgreSQL: each text valid JSON)


def _plan(fields: Sequence[Field]) -> _Plan:
    columns, json_columns = [], set()
    for position, (expression, found) in enumerate(_converters(fields)):
        if not found:
            continue
        columns.append((position, expression, tuple(found)))
        field = expression.output_field
        # Exactly what `JSONField.from_db_value` does to a text: `json.loads` with no decoder
        # class (a value that is not a KeyTransform). Only where every text is one JSON value
        # of its own (PostgreSQL's json/jsonb output), so that joined they decode the same.
        if (connection.vendor == "postgresql" and len(found) == 1
                and getattr(found[0], "__func__", None) is JSONField.from_db_value
                and getattr(found[0], "__self__", None) is field and field.decoder is None):
            json_columns.add(position)
    return _Plan(len(fields), tuple(columns), frozenset(json_columns))


def _decode_together(texts: list) -> list | None:
    """The JSON texts decoded in one call, or None when it cannot stand for one decode each
    (a value that is not text, or one that does not decode alone: the caller decodes each)."""
    if not all(type(text) is str for text in texts):
        return None
    try:
        values = json.loads("[" + ",".join(texts) + "]")
    except ValueError:
        return None
    return values if len(values) == len(texts) else None


# The conversion plan of a key's columns, found once per process (a key names one query, whose
# columns' output fields do not change).
_CONVERTERS: dict[tuple, _Plan] = {}


@dataclass(frozen=True)
class Compiled:
    """A compiled query with its value filled in: sent alone (`rows_of`) or in one round trip
    with others (`run_together`)."""

    key: str
    sql: str
    params: tuple
    output_fields: Sequence[Field]
    # Set by `compiled_query` and `compiled_instances`: the compiled parameters (`MARKER` in
    # the value's places) and the value, so the statement can be prepared once per connection
    # and executed with the value alone (`run_together(..., prepared=True)`).
    template: tuple | None = None
    value: int | None = None

    def convert(self, rows) -> list[tuple]:
        """The driver's rows as the ORM would give them (see `compiled_rows`)."""
        if not rows:
            return []
        db = connections[DEFAULT_DB_ALIAS]  # once: `connection` is a proxy looked up per use
        cache_key = (db.alias, self.key, len(self.output_fields))
        plan = _CONVERTERS.get(cache_key)
        if plan is None:
            plan = _CONVERTERS[cache_key] = _plan(self.output_fields)
        if len(rows[0]) != plan.width:
            raise RuntimeError(f"{self.key}: {len(rows[0])} columns, "
                               f"{plan.width} output fields")
        if not plan.columns:
            return [row if type(row) is tuple else tuple(row) for row in rows]
        rows = [list(row) for row in rows]
        for position, expression, found in plan.columns:
            if position in plan.json_columns and len(rows) > 1:
                present = [row for row in rows if row[position] is not None]
                values = _decode_together([row[position] for row in present])
                if values is not None:
                    for row, value in zip(present, values, strict=True):
                        row[position] = value
                    continue
            for row in rows:
                value = row[position]
                for converter in found:
                    value = converter(value, expression, db)
                row[position] = value
        return [tuple(row) for row in rows]


def compiled_query(key: str, run: Callable[[int], object], value: int | None, *,
                   output_fields: Sequence[Field]) -> Compiled:
    """The query `run(MARKER)` executes, compiled once per process (see `compiled_rows`), with
    `value` in the marker's places (None: a query with no changing value); nothing is sent."""
    cache_key = (DEFAULT_DB_ALIAS, key)  # `connection.alias`, without the proxy's lookup
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
    if value is None:  # a query with no changing value
        return Compiled(key, sql, params, tuple(output_fields), template=params)
    if MARKER not in params:
        raise RuntimeError(f"{key}: the value does not appear in the compiled query")
    return Compiled(key, sql, tuple(value if p == MARKER else p for p in params),
                    tuple(output_fields), template=params, value=value)


@dataclass(frozen=True)
class CompiledInstances(Compiled):
    """A compiled queryset of model instances: its rows are built into instances as the ORM's
    ModelIterable builds them (deferred fields left deferred, annotations set)."""

    model: type | None = None
    field_names: tuple = ()
    model_columns: tuple = (0, 0)
    annotations: tuple = ()

    def convert(self, rows) -> list:
        start, end = self.model_columns
        found = []
        alias = DEFAULT_DB_ALIAS  # `connection.alias`
        for row in super().convert(rows):
            instance = self.model.from_db(alias, self.field_names, row[start:end])
            for name, position in self.annotations:
                setattr(instance, name, row[position])
            found.append(instance)
        return found


_INSTANCES: dict[tuple, CompiledInstances] = {}


def compiled_instances(key: str, queryset, value: int | None = None) -> CompiledInstances:
    """The instances `queryset` gives (no related objects selected), compiled once per process
    under `key`; its parameters must not change while the key is the same, except `value`:
    when given, the queryset is written with `MARKER` in its place (as in `compiled_query`).
    `queryset` may be a callable that returns it: it is then built only the first time (the
    ORM's build of a queryset costs more than sending it)."""
    cache_key = (DEFAULT_DB_ALIAS, key)  # `connection.alias`
    compiled = _INSTANCES.get(cache_key)
    if compiled is None:
        compiled = _INSTANCES[cache_key] = instances_of(
            key, queryset() if callable(queryset) else queryset)
    params = compiled.template
    if value is not None:
        if MARKER not in params:
            raise RuntimeError(f"{key}: the value does not appear in the compiled query")
        params = tuple(value if p == MARKER else p for p in params)
    return replace(compiled, params=params, value=value)


def instances_of(key: str, queryset) -> CompiledInstances:
    """`queryset` (model instances, no related objects selected) compiled now, with what
    turns its driver rows into the instances the ORM would give (`CompiledInstances.convert`;
    `key` names its columns' converters)."""
    compiler = queryset.query.get_compiler(connection=connection)
    sql, params = compiler.as_sql()
    select, klass_info = compiler.select, compiler.klass_info
    if klass_info.get("related_klass_infos"):  # pragma: no cover - not supported here
        raise RuntimeError(f"{key}: select_related is not supported")
    start, end = klass_info["select_fields"][0], klass_info["select_fields"][-1] + 1
    return CompiledInstances(
        key, sql, tuple(params), tuple(s[0].output_field for s in select), tuple(params),
        model=queryset.model, field_names=tuple(s[0].target.attname for s in select[start:end]),
        model_columns=(start, end), annotations=tuple(compiler.annotation_col_map.items()))


def querysets_together(*querysets) -> list[list]:
    """What each queryset gives (model instances, no related objects selected; or values()
    dicts), as the ORM gives it (its converters applied), all of them sent in one round trip
    on PostgreSQL (`_send`); elsewhere one after another. For a page's reads that wait on
    nothing but are each built for the request: every round trip is a chance to lose the CPU
    on a busy machine (issue #22). A queryset that can match no row (`EmptyResultSet`, e.g. an
    empty IN list) is not sent."""
    from django.core.exceptions import EmptyResultSet

    sending: list[Compiled] = []
    at: list[int | None] = []
    for queryset in querysets:
        try:
            sending.append(converting(queryset))
        except EmptyResultSet:
            at.append(None)
            continue
        at.append(len(sending) - 1)
    sent = _send(sending) if sending else []
    return [[] if i is None else sending[i].convert(sent[i]) for i in at]


def converting(queryset) -> Compiled:
    """`queryset` compiled now, with what turns the driver's rows into what the ORM gives:
    model instances (`instances_of`; no related objects selected) or values() dicts
    (`CompiledValues`). Raises EmptyResultSet for a queryset that can match no row."""
    from django.db.models.query import ModelIterable, ValuesIterable

    label = queryset.model._meta.label
    if issubclass(queryset._iterable_class, ModelIterable):
        found = instances_of("", queryset)
        return replace(found, key=_fields_key(label, found.output_fields))
    if not issubclass(queryset._iterable_class, ValuesIterable):  # pragma: no cover
        raise RuntimeError(f"{label}: only instances or values() dicts are converted here")
    query = queryset.query
    compiler = query.get_compiler(connection=connection)
    sql, params = compiler.as_sql()
    fields = tuple(s[0].output_field for s in compiler.select)
    return CompiledValues(_fields_key(label, fields), sql, tuple(params), fields,
                          names=(*query.extra_select, *query.values_select,
                                 *query.annotation_select))


@dataclass(frozen=True)
class CompiledValues(Compiled):
    """A compiled values() queryset: its rows as the dicts ValuesIterable gives."""

    names: tuple = ()

    def convert(self, rows) -> list[dict]:
        return [dict(zip(self.names, row, strict=True)) for row in super().convert(rows)]


def _fields_key(label: str, fields: Sequence[Field]) -> str:
    """A key for the converters of these columns (`Compiled.convert` keeps them per key): a
    model's field by its name, a computed column by its type and precision."""
    return f"together:{label}:" + ",".join(
        str(f) if hasattr(f, "model") else
        f"{type(f).__name__}({getattr(f, 'max_digits', '')},{getattr(f, 'decimal_places', '')})"
        for f in fields)


_INSERTS: dict[tuple, tuple[str, tuple]] = {}


def compiled_insert(key: str, instance, *, unique_fields: Sequence[str] = (),
                    update_fields: Sequence[str] = (), with_pk: bool = False) -> Compiled:
    """The INSERT the ORM sends to save the new `instance` (as `Model.objects.create`; with
    `unique_fields` and `update_fields`, as `bulk_create(update_conflicts=True)`), returning
    its primary key, to send with others (`run_together`); nothing is sent. Built by the ORM's
    own insert compiler, so fields are prepared as a save prepares them (the instance gets its
    pre-save values, e.g. auto_now_add); a field may hold an expression (a subquery). No
    signals are sent: for models no receiver listens to. Set the primary key it returns with
    `inserted`.

    An insert of plain values has the same text every time: it is compiled once per process
    under `key`, and afterwards only its values are prepared (`Field.get_db_prep_save` of the
    pre-save value, what the compiler does for a field with no placeholder of its own).
    `with_pk`: the instance's primary key is inserted too (one the caller allocated, e.g. from
    the table's sequence), instead of the database's default."""
    db = connections[DEFAULT_DB_ALIAS]  # `connection`, looked up once (not once per field)
    if not db.features.can_return_columns_from_insert:  # pragma: no cover - old SQLite
        raise RuntimeError(f"{key}: the database cannot return the inserted row's key")
    meta = instance._meta
    fields = _inserted_fields(meta, with_pk)
    cache_key = (DEFAULT_DB_ALIAS, key, type(instance), with_pk)
    cached = _INSERTS.get(cache_key)
    if cached is not None:
        sql, fields = cached
        values = [field.pre_save(instance, add=True) for field in fields]
        if not any(hasattr(v, "resolve_expression") for v in values):
            return Compiled(key, sql, tuple(field.get_db_prep_save(v, connection=db)
                                            for field, v in zip(fields, values, strict=True)),
                            tuple(meta.db_returning_fields))
    from django.db.models.constants import OnConflict
    from django.db.models.sql import InsertQuery

    query = InsertQuery(type(instance), on_conflict=OnConflict.UPDATE if update_fields else None,
                        update_fields=[meta.get_field(n) for n in update_fields],
                        unique_fields=[meta.get_field(n) for n in unique_fields])
    query.insert_values(fields, [instance])
    compiler = query.get_compiler(connection=connection)
    compiler.returning_fields = meta.db_returning_fields
    ((sql, params),) = compiler.as_sql()
    plain = (len(params) == len(fields) and sql.count("%s") == len(fields)
             and not any(hasattr(f, "get_placeholder") for f in fields)
             and not any(hasattr(getattr(instance, f.attname), "resolve_expression")
                         for f in fields))
    if plain:  # one "%s" per field, each its prepared value: the text can be reused
        _INSERTS[cache_key] = (sql, fields)
    return Compiled(key, sql, tuple(params), tuple(meta.db_returning_fields))


def _inserted_fields(meta, with_pk: bool) -> list:
    return [f for f in meta.concrete_fields
            if not f.generated and (with_pk or f is not meta.auto_field)]


def compiled_insert_selecting(key: str, instance, attname: str, select: Compiled, *,
                              with_pk: bool = False) -> Compiled:
    """`compiled_insert(key, instance)` with the value of the field `attname` the scalar
    subquery `select` (e.g. the key of a row written earlier in the same text, which the
    caller cannot know): the insert of plain values compiled once per process, `select`'s SQL
    put in that field's place, instead of the ORM compiling an insert with a `Subquery` every
    time (the largest Python cost of the scoring worker's write)."""
    saved = getattr(instance, attname)
    setattr(instance, attname, None)
    try:
        insert = compiled_insert(key, instance, with_pk=with_pk)
    finally:
        setattr(instance, attname, saved)
    fields = [f.attname for f in _inserted_fields(instance._meta, with_pk)]
    parts = insert.sql.split("%s")
    if len(parts) != len(fields) + 1 or "%%" in insert.sql:  # pragma: no cover - not plain
        raise RuntimeError(f"{key}: not an insert of one value per field")
    at = fields.index(attname)
    sql = ("%s".join(parts[:at + 1]) + f"({select.sql})" + "%s".join(parts[at + 1:]))
    return replace(insert, sql=sql,
                   params=(*insert.params[:at], *select.params, *insert.params[at + 1:]))


def inserted(instance, rows) -> None:
    """`instance` saved by the `compiled_insert` whose converted rows are `rows`."""
    for field, value in zip(instance._meta.db_returning_fields, rows[0], strict=True):
        setattr(instance, field.attname, value)
    instance._state.adding, instance._state.db = False, DEFAULT_DB_ALIAS  # connection.alias


def compiled_rows(key: str, run: Callable[[int], object], value: int, *,
                  output_fields: Sequence[Field]) -> list[tuple]:
    """The rows of the query `run(MARKER)` executes, with `value` for the marker, each column
    converted as the ORM converts a computed value of its field in `output_fields`.

    `run` executes exactly one query (e.g. `lambda v: qs(v).aggregate(...)`); the first call
    in a process executes nothing: the SQL it would send is kept instead. The cache is per
    database alias vendor and key; the query's shape must not depend on the value."""
    query = compiled_query(key, run, value, output_fields=output_fields)
    return query.convert(_send([query])[0])


def send_statements(statements: Sequence[tuple[str, Sequence]], *,
                    names: list | None = None, prepared: bool = False) -> list[list[tuple]]:
    """The driver's rows of each (sql, params), in one round trip where the database allows
    it (`_send`); no converters applied. `names`: a list to receive each statement's column
    names. `prepared`: each statement prepared with its values in its text (no parameter:
    its one plan is the plan of these values) once per connection, in the same round trip
    as its first execution, then executed by name (`_by_name`): for a long statement sent
    again and again with the same values, whose planning costs more than running it."""
    return _send([Compiled("", sql, tuple(params), (), template=tuple(params) if prepared
                           else None) for sql, params in statements],
                 names=names, prepared=prepared, prepare_ahead=prepared)


def _send(queries: Sequence[Compiled], names: list | None = None, *,
          prepared: bool = False, prepare_ahead: bool = False) -> list[list[tuple]]:
    """The driver's rows of each query (and, into `names` when given, its column names). On
    PostgreSQL several go in one round trip: one text of several statements, which psycopg's
    client-side cursor (Django's default, no server-side binding) sends with the simple query
    protocol, one result set each. Elsewhere (SQLite, or server-side binding) one after
    another. `prepared`: on PostgreSQL, the queries of `compiled_query` and
    `compiled_instances` are executed by name, prepared once per connection (`_by_name`);
    `prepare_ahead`: their PREPAREs sent in the same text, ahead of the queries (one round
    trip, whether or not they were prepared already)."""

    def fetch(cursor) -> list[tuple]:
        if not _has_rows(cursor):  # a statement that returns no rows (e.g. COMMIT)
            if names is not None:
                names.append([])
            return []
        if names is not None:
            names.append([column[0] for column in cursor.description])  # DB-API: name first
        return cursor.fetchall()

    db = connections[DEFAULT_DB_ALIAS]  # `connection`, looked up once
    postgresql = db.vendor == "postgresql"
    with db.cursor() as cursor:
        ahead: list[str] = []  # statements sent first in the same text, their results skipped
        if (prepared and postgresql and _client_side(cursor)
                and getattr(settings, "DATABASE_PREPARED_READS", True)):
            queries = _by_name(cursor, queries, db, ahead=ahead if prepare_ahead else None)
        if (len(queries) > 1 or ahead) and postgresql and _client_side(cursor):
            try:
                # The texts ahead are sent as they are: their `%` escaped for the placeholders.
                cursor.execute("; ".join([*(a.replace("%", "%%") for a in ahead),
                                          *(q.sql for q in queries)]),
                               tuple(p for q in queries for p in q.params))
            except Exception:
                if ahead:  # which of them the server kept is not known: drop them all next time
                    _PREPARED[db.connection] = {_UNSURE}
                raise
            for _ in ahead:
                cursor.nextset()
            found = [fetch(cursor)]
            while cursor.nextset():
                found.append(fetch(cursor))
            if len(found) != len(queries):  # pragma: no cover - a statement gave no result
                raise RuntimeError(f"{len(queries)} queries, {len(found)} results")
            return found
        found = []
        for query in queries:
            cursor.execute(query.sql, query.params)
            found.append(fetch(cursor))
        return found


def sent_as_one_text() -> bool:
    """Whether the queries of one round of `run_together` reach the database as one text: on
    PostgreSQL with the client-side cursor (`_send`). Such a text, with no transaction
    statements of its own and sent outside a transaction (autocommit), is one transaction:
    PostgreSQL runs a simple query of several statements as one implicit transaction block,
    committed after its last statement, and an error in any statement rolls back all of them
    (each statement still reads from a snapshot of its own under READ COMMITTED)."""
    if connection.vendor != "postgresql":
        return False
    connection.ensure_connection()
    raw = connection.connection
    found = _ONE_TEXT.get(raw)
    if found is None:  # the cursor's class is the connection's: asked once per connection
        with connection.cursor() as cursor:
            found = _ONE_TEXT[raw] = _client_side(cursor)
    return found


# Per driver connection: whether its texts of several statements go as one (`sent_as_one_text`).
_ONE_TEXT: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _client_side(cursor) -> bool:
    import psycopg

    return isinstance(cursor.cursor, psycopg.ClientCursor)


# --- statements prepared once per connection ---------------------------------------------------
#
# A simple-query text is parsed, analysed and planned afresh every time it is sent: for the
# scoring worker's read (ten statements, 11 kB of SQL) that was ~3 ms of PostgreSQL's ~3.5 ms,
# on every score (bench_scoring_worker, issue #20). Prepared once per connection (SQL `PREPARE`,
# the compiled text with its constants as the literals the client-side cursor sends and `$1` in
# the value's places) and sent as `EXECUTE name(value)`, the same ten statements in the same one
# round trip took ~0.8 ms. The statement is the ORM's own SQL, compiled as before; its name is
# derived from its text, so a name always means the same statement. Prepared statements belong
# to the server session: they outlive a rolled-back transaction, and a new connection prepares
# again. A connection pooler in transaction mode shares sessions between clients (PgBouncer
# keeps only protocol-level prepared statements): set DATABASE_PREPARED_READS=false there.

# Per driver connection (its server session): the names prepared on it.
_PREPARED: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
# Per (alias, key, SQL, compiled parameters): the name and its PREPARE text (None: the query
# cannot be prepared, e.g. its value also appears among its constants).
_PREPARE_TEXT: dict[tuple, tuple[str, str] | None] = {}
_MAX_PREPARE_TEXTS = 1024
# Statements prepared on one connection before its plans are dropped (`_by_name`); `_UNSURE`
# in a connection's names: a round trip with PREPAREs failed, drop them all before the next.
_MAX_PREPARED = 256
_UNSURE = ""


def _by_name(cursor, queries: Sequence[Compiled], db, *,
             ahead: list | None = None) -> list[Compiled]:
    """`queries`, those of `compiled_query` and `compiled_instances` (or sent with
    `send_statements(prepared=True)`) as an `EXECUTE` of their prepared statement; the ones
    not yet prepared on this connection are prepared first: in a round trip of their own,
    or, given `ahead`, appended to it to be sent ahead of the queries in the same text."""
    raw = db.connection
    done = _PREPARED.get(raw)
    if done is None:
        done = _PREPARED[raw] = set()
    sent, wanted = [], {}
    for query in queries:
        found = _prepare_text(cursor, query) if query.template is not None else None
        if found is None:
            sent.append(query)
            continue
        name, text = found
        wanted[name] = text
        sent.append(replace(query, sql=f"EXECUTE {name}", params=()) if query.value is None
                    else replace(query, sql=f"EXECUTE {name}(%s)", params=(query.value,)))
    missing = {name: text for name, text in wanted.items() if name not in done}
    texts = list(missing.values())
    if missing and (_UNSURE in done or len(done) + len(missing) > _MAX_PREPARED):
        # A statement prepared with its values (`send_statements(prepared=True)`) is a new
        # one whenever they change (a summary's watermark, every minute): the session's
        # plans are dropped now and then rather than kept without end (and after a failed
        # round trip, when which were kept is not known).
        done.clear()
        texts = ["DEALLOCATE ALL", *wanted.values()]
        missing = wanted
    if texts:
        if ahead is None:
            cursor.execute("; ".join(texts))
        else:
            ahead += texts
        done.update(missing)
    return sent


def _has_rows(cursor) -> bool:
    """Whether the current result gives rows (`cursor.description is not None`). On psycopg,
    read from the result itself: the description builds a Column object for every column of
    the result set, about 140 a score (bench_scoring_worker) only to be compared with None."""
    result = getattr(cursor.cursor, "pgresult", _NO_PGRESULT)
    if result is _NO_PGRESULT:  # another driver
        return cursor.description is not None
    return result is not None and (result.nfields > 0 or result.status in _ROW_STATUSES)


_NO_PGRESULT = object()
try:  # psycopg's statuses of a result with rows (its `Cursor.description` test)
    from psycopg.pq import ExecStatus

    _ROW_STATUSES = frozenset(ExecStatus[name] for name in ("TUPLES_OK", "SINGLE_TUPLE",
                                                             "TUPLES_CHUNK")
                              if name in ExecStatus.__members__)
except ImportError:  # pragma: no cover - SQLite only
    _ROW_STATUSES = frozenset()


def _prepare_text(cursor, query: Compiled) -> tuple[str, str] | None:
    cache_key = (DEFAULT_DB_ALIAS, query.key, query.sql, query.template)
    if cache_key in _PREPARE_TEXT:
        return _PREPARE_TEXT[cache_key]
    marker = str(MARKER)
    text = cursor.cursor.mogrify(query.sql, query.template)
    found = None
    if text.count(marker) == sum(p == MARKER for p in query.template) and "$1" not in text:
        body = text.replace(marker, "$1")
        name = "credence_" + hashlib.sha256(body.encode()).hexdigest()[:24]
        found = (name, f"PREPARE {name}{' (bigint)' if marker in text else ''} AS {body}")
    if len(_PREPARE_TEXT) >= _MAX_PREPARE_TEXTS:
        _PREPARE_TEXT.clear()
    _PREPARE_TEXT[cache_key] = found
    return found


# --- reads sent together ---------------------------------------------------------------------
#
# A *step* is a generator that yields a list of `Compiled` queries, receives their converted
# rows (a list of row lists, in the same order), may yield again, and returns its result:
#
#     def figures_steps(application_id):
#         (rows,) = yield [compiled_query("figures", ..., application_id, output_fields=...)]
#         return {key: value for key, value in rows}
#
# `run_together(a, b, c)` advances every step at once, so the queries of independent reads
# (the scoring worker's document figures, pulled figures, answers and group exposure) cost one
# round trip to the database instead of one each; `run(step)` runs one on its own.


def run_together(*steps: Generator, prepared: bool = False) -> list:
    """The results of `steps`, their queries of each round sent in one round trip.
    `prepared`: their compiled queries prepared once per connection and executed by name
    (PostgreSQL; for reads sent again and again, such as the scoring worker's)."""
    return _drive(together(*steps), prepared=prepared)


def run(step: Generator, *, prepared: bool = False):
    return _drive(step, prepared=prepared)


def _drive(step: Generator, *, prepared: bool = False):
    try:
        queries = next(step)
        while True:
            queries = step.send([q.convert(rows) for q, rows
                                 in zip(queries, _send(queries, prepared=prepared),
                                        strict=True)])
    except StopIteration as done:
        return done.value


def together(*steps: Generator) -> Generator:
    """A step of the `steps`: each round, the queries all of them are waiting for; its result
    is the list of theirs."""
    results: list = [None] * len(steps)
    waiting: dict[int, list[Compiled]] = {}
    for i, step in enumerate(steps):
        try:
            waiting[i] = next(step)
        except StopIteration as done:
            results[i] = done.value
    while waiting:
        batch: list[Compiled] = []
        spans = []
        for i, queries in waiting.items():
            spans.append((i, len(batch), len(queries)))
            batch.extend(queries)
        rows = yield batch
        waiting = {}
        for i, start, count in spans:
            try:
                waiting[i] = steps[i].send(rows[start:start + count])
            except StopIteration as done:
                results[i] = done.value
    return results


def immediately(fn: Callable, *args, **kwargs) -> Generator:
    """A step that sends nothing through the batch: `fn(*args, **kwargs)` run when it starts
    (a source that has no steps of its own)."""
    return fn(*args, **kwargs)
    yield  # noqa: B901 - makes this a generator; never reached
