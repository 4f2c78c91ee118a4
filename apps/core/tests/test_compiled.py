"""Queries compiled once per process and reads sent together (apps.core.compiled): the rows
and instances are what the ORM gives, and on PostgreSQL independent reads cost one round trip
(issue #20, bench_scoring_worker)."""

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.db.models import CharField, DateTimeField, F, JSONField, Value
from django.test.utils import CaptureQueriesContext

from apps.core.compiled import (
    compiled_instances,
    compiled_query,
    immediately,
    querysets_together,
    run,
    run_together,
    send_statements,
)

pytestmark = pytest.mark.django_db


def _users(n):
    User = get_user_model()
    return [User.objects.create(username=f"compiled-{i}", email=f"c{i}@example.com")
            for i in range(n)]


def _name_step(user_id):
    User = get_user_model()
    (rows,) = yield [compiled_query(
        "test.username", lambda marker: list(User.objects.filter(pk=marker)
                                             .values_list("username", "date_joined")),
        user_id, output_fields=[CharField(), DateTimeField()])]
    return rows


def _two_rounds(user_id):
    first = yield from _name_step(user_id)
    second = yield from _name_step(user_id)
    return first + second


def test_reads_sent_together_give_what_the_orm_gives_in_one_round_trip():
    a, b = _users(2)
    User = get_user_model()
    expected = [list(User.objects.filter(pk=u.pk).values_list("username", "date_joined"))
                for u in (a, b)]
    assert run(_name_step(a.pk)) == expected[0]  # compiled (the first use only captures it)
    with CaptureQueriesContext(connection) as ctx:
        found = run_together(_name_step(a.pk), _name_step(b.pk), immediately(lambda: "plain"))
    assert found == [*expected, "plain"]
    assert len(ctx.captured_queries) == (1 if connection.vendor == "postgresql" else 2)
    with CaptureQueriesContext(connection) as ctx:  # a step of two rounds: two round trips
        assert run_together(_two_rounds(a.pk), _name_step(b.pk)) == [expected[0] * 2,
                                                                     expected[1]]
    assert len(ctx.captured_queries) == (2 if connection.vendor == "postgresql" else 3)


def test_instances_are_built_as_the_orm_builds_them_deferred_fields_and_annotations():
    users = _users(3)
    User = get_user_model()
    queryset = (User.objects.filter(pk__in=[u.pk for u in users]).defer("email")
                .annotate(shout=F("username")).order_by("pk"))
    (built,) = run_together(_instances(queryset))
    orm = list(queryset)
    assert [(u.pk, u.username, u.shout, u.get_deferred_fields()) for u in built] == [
        (u.pk, u.username, u.shout, u.get_deferred_fields()) for u in orm]
    assert "email" in built[0].get_deferred_fields()
    assert built[0].email == users[0].email  # a deferred field loads as usual
    assert built[0]._state.db == connection.alias and not built[0]._state.adding


def test_querysets_together_give_what_the_orm_gives_in_one_round_trip():
    """Instances (a deferred field, an annotation) and values() dicts (a JSON value decoded
    by its converter, as the ORM decodes it), one round trip on PostgreSQL; a queryset that
    can match no row is not sent."""
    users = _users(3)
    User = get_user_model()
    ids = [u.pk for u in users]
    instances = (User.objects.filter(pk__in=ids).defer("email")
                 .annotate(shout=F("username")).order_by("pk"))
    values = (User.objects.filter(pk__in=ids[1:]).order_by("-pk")
              .values("pk", "username", "date_joined")
              .annotate(doc=Value({"a": [1, "二"]}, output_field=JSONField())))
    with CaptureQueriesContext(connection) as ctx:
        built, rows, empty = querysets_together(instances, values, User.objects.filter(pk__in=[]))
    assert len(ctx.captured_queries) == (1 if connection.vendor == "postgresql" else 2)
    assert [(u.pk, u.username, u.shout, u.get_deferred_fields()) for u in built] == [
        (u.pk, u.username, u.shout, u.get_deferred_fields()) for u in instances]
    assert built[0]._state.db == connection.alias and not built[0]._state.adding
    assert rows == list(values) and rows[0]["doc"] == {"a": [1, "二"]}
    assert empty == []


def test_statements_prepared_with_their_values_give_the_same_rows(monkeypatch):
    """`send_statements(prepared=True)`: on PostgreSQL each statement is prepared with its
    values in its text once per connection, in the same round trip as its first execution
    (a page's query count does not change), then executed by name; other values are another
    statement; past `_MAX_PREPARED`, or after a failed round trip, the connection's plans are
    dropped and prepared again. Elsewhere the statements run as they are."""
    from django.db import DatabaseError, transaction

    from apps.core import compiled

    a, b = _users(2)
    sql = "SELECT username, '100%%' FROM accounts_user WHERE id = %s"
    postgresql = connection.vendor == "postgresql"
    with CaptureQueriesContext(connection) as ctx:
        assert send_statements([(sql, [a.pk])], prepared=True) == [[(a.username, "100%")]]
    assert len(ctx.captured_queries) == 1
    first = ctx.captured_queries[0]["sql"]
    assert ("PREPARE credence_" in first and "EXECUTE credence_" in first) is postgresql
    with CaptureQueriesContext(connection) as ctx:
        assert send_statements([(sql, [a.pk]), (sql, [b.pk])], prepared=True) == [
            [(a.username, "100%")], [(b.username, "100%")]]
    sent = ctx.captured_queries[0]["sql"]
    if postgresql:  # b's prepared (a's was), both executed, in one round trip
        assert sent.count("PREPARE credence_") == 1 and sent.count("EXECUTE credence_") == 2
    monkeypatch.setattr(compiled, "_MAX_PREPARED", 2)
    with CaptureQueriesContext(connection) as ctx:
        assert send_statements([(sql, [a.pk - 1000])], prepared=True) == [[]]
    if postgresql:  # a third statement on this connection: the two dropped first
        assert ctx.captured_queries[0]["sql"].startswith("DEALLOCATE ALL; PREPARE credence_")
        with pytest.raises(DatabaseError), transaction.atomic():
            send_statements([(sql, [a.pk]), ("SELECT 1 / 0", [])], prepared=True)
        with CaptureQueriesContext(connection) as ctx:  # not known which were kept: dropped
            assert send_statements([(sql, [a.pk])], prepared=True) == [[(a.username, "100%")]]
        assert ctx.captured_queries[0]["sql"].startswith("DEALLOCATE ALL; PREPARE credence_")


def _instances(queryset):
    (found,) = yield [compiled_instances("test.users", queryset)]
    return found



def test_prepared_reads_give_the_same_rows_and_are_executed_by_name_once_prepared(settings):
    """`run_together(..., prepared=True)`: on PostgreSQL each compiled query is prepared once
    per connection (the ORM's SQL, constants inlined, the value as $1) and then sent as an
    EXECUTE of it, still one round trip; rolled-back transactions keep it; elsewhere, or with
    DATABASE_PREPARED_READS off, the SQL itself is sent."""
    from django.db import transaction

    a, b = _users(2)
    User = get_user_model()
    expected = [list(User.objects.filter(pk=u.pk).values_list("username", "date_joined"))
                for u in (a, b)]
    postgresql = connection.vendor == "postgresql"
    with CaptureQueriesContext(connection) as ctx:
        assert run_together(_name_step(a.pk), _name_step(b.pk), prepared=True) == expected
    if postgresql:  # the PREPARE (this connection's first), then the read
        prepare, read = [q["sql"] for q in ctx.captured_queries]
        assert prepare.startswith("PREPARE credence_") and "$1" in prepare
        assert read.count("EXECUTE credence_") == 2 and "SELECT" not in read
    with CaptureQueriesContext(connection) as ctx:
        assert run_together(_name_step(b.pk), _name_step(a.pk), prepared=True) == expected[::-1]
    assert len(ctx.captured_queries) == (1 if postgresql else 2)
    assert ("EXECUTE" in ctx.captured_queries[0]["sql"]) is postgresql
    with pytest.raises(_RolledBack), transaction.atomic():  # prepared, rolled back
        assert run(_email_step(a.pk), prepared=True) == [(a.email,)]
        raise _RolledBack
    with CaptureQueriesContext(connection) as ctx:  # still prepared: not again
        assert run(_email_step(b.pk), prepared=True) == [(b.email,)]
    assert len(ctx.captured_queries) == 1
    assert ("EXECUTE" in ctx.captured_queries[0]["sql"]) is postgresql
    settings.DATABASE_PREPARED_READS = False
    with CaptureQueriesContext(connection) as ctx:
        assert run_together(_name_step(a.pk), _name_step(b.pk), prepared=True) == expected
    assert "EXECUTE" not in ctx.captured_queries[0]["sql"]


class _RolledBack(Exception):
    pass


def _email_step(user_id):
    User = get_user_model()
    (rows,) = yield [compiled_query(
        "test.email", lambda marker: list(User.objects.filter(pk=marker).values_list("email")),
        user_id, output_fields=[CharField()])]
    return rows


def test_statements_without_rows_give_none_beside_those_with_rows_even_empty():
    """A statement that returns no rows (a SAVEPOINT, an UPDATE without RETURNING) is told apart
    from a query that returns no row, without the driver's description (`_has_rows`)."""
    from django.db import transaction

    from apps.core.compiled import send_statements

    with transaction.atomic():
        names = []
        found = send_statements([
            ("SELECT 1 AS one, 'two' AS two", ()), ("SAVEPOINT w20c_probe", ()),
            ("SELECT 1 AS one WHERE 1 = 0", ()), ("RELEASE SAVEPOINT w20c_probe", ()),
            ("SELECT 3 AS three", ())], names=names)
        assert found == [[(1, "two")], [], [], [], [(3,)]]
        assert names == [["one", "two"], [], ["one"], [], ["three"]]
        assert send_statements([("SELECT 1 AS one WHERE 1 = 0", ()),
                                ("SAVEPOINT w20c_probe_2", ())]) == [[], []]


def test_rows_of_several_json_values_are_those_the_orm_gives_decoded_together():
    """A JSON column of several rows is decoded in one `json.loads` on PostgreSQL (the
    checklist's answers, every score): each row gets the value the ORM's decode gives it,
    in order, JSON null and every JSON type included; columns with no converter untouched."""
    from django.db.models import JSONField, Value

    from apps.core.models import IdempotencyRecord

    user = _users(1)[0]
    bodies = [{"b": [1, "2.50", None], "a": {"x": True}}, [], "五十万", 12.5, 10**20, None,
              {"quote": 'a "b", c'}, False, [{"row": "cash", "amount": "1,2"}]]
    for i, body in enumerate(bodies):
        IdempotencyRecord.objects.create(key=f"k{i:02d}", user=user, method="POST", path="/x",
                                         request_hash="0" * 64, response_status=200,
                                         # JSON null, as Value(None) writes it
                                         response_body=Value(None, JSONField())
                                         if body is None else body)
    orm = list(IdempotencyRecord.objects.filter(user=user).order_by("key")
               .values_list("key", "response_body", "response_status"))
    assert [row[1] for row in orm] == bodies

    def read(user_id):
        (rows,) = yield [compiled_query(
            "test.json_rows", lambda marker: list(
                IdempotencyRecord.objects.filter(user_id=marker).order_by("key")
                .values_list("key", "response_body", "response_status")), user_id,
            output_fields=[CharField(), JSONField(), IdempotencyRecord._meta.get_field(
                "response_status")])]
        return rows

    assert run(read(user.pk)) == orm
    assert run(read(user.pk)) == orm  # compiled: the plan found once, used again


def test_json_texts_decoded_together_only_when_that_is_one_decode_each():
    from apps.core.compiled import _decode_together

    assert _decode_together(['{"a": 1}', "[2, 3]", '"x"', "null"]) == [{"a": 1}, [2, 3], "x",
                                                                       None]
    assert _decode_together(['{"a": 1}', b"[2]"]) is None  # not text: decoded one by one
    assert _decode_together(["[1", "2]"]) is None  # not one value each
    assert _decode_together(["1, 2", "3"]) is None
    assert _decode_together(["{bad"]) is None
