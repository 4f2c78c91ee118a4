"""A page's SQL built once per kind of viewer, not once per request (issue #22).

The notification centre and the officer scorecard read through the owning apps' scoped
selectors (the approvals inbox with its segregation-of-duties checks, the application,
inspection, action and signal lists). Building those querysets and compiling them to SQL
cost more than running them: ~15 ms of Python per view against a few ms of SQL. Yet the SQL
of a selector depends on the viewer only through its *shape* (superuser or not, roles, how
many branches it sees, whether it has a branch) and, for the rest, through values that end up
as bound parameters (the viewer's id, authority level, branch ids, today's date, now).

So each page builds its querysets once per shape for a stand-in viewer whose values are
sentinels (numbers and dates no real row or day has), compiles them, and keeps the SQL with
its parameters. A request then swaps each sentinel parameter for the real viewer's value and
runs the statement. Nothing of the rules is copied: the SQL is the selectors' own, compiled by
the ORM; only its building is saved. A test compiles each page's querysets afresh for viewers
of every kind and checks the kept SQL and parameters are the same (apps/insight/tests).

PostgreSQL only: there the compiled parameters are the Python values themselves (dates,
datetimes, ints), so a sentinel is found by value, and rows need no converters. Elsewhere
(SQLite under `make run`) `compiled` returns None and the caller builds as before.
"""

import datetime as dt
from collections.abc import Callable

from django.conf import settings
from django.core.exceptions import EmptyResultSet
from django.db import connection
from django.db.models import QuerySet
from django.db.models.query import ModelIterable
from django.utils import timezone

from apps.accounts.models import User
from apps.accounts.selectors import visible_branch_ids
from apps.core.compiled import Compiled, converting, send_statements

_USER = -730_001
_LEVEL = -730_002
_BRANCH = -740_000          # the i-th branch: _BRANCH - i
_DAY = dt.date(1901, 1, 1)  # the i-th day: _DAY + i days
_AT = dt.datetime(1901, 6, 1, 0, 0, 7, tzinfo=dt.UTC)
_ID = -750_000              # the i-th record id the page is about (an enterprise): _ID - i
_MOMENT = dt.datetime(1902, 3, 1, 0, 0, 13, tzinfo=dt.UTC)  # the i-th: _MOMENT + i seconds
_MAX_SHAPES = 256

_kept: dict[tuple, dict[str, tuple | None]] = {}


class Converted:
    """A values() part (`compiled`'s build) whose rows `batch` gives as the ORM would, its
    converters applied (a JSON column decoded), not as the driver's values."""

    def __init__(self, queryset: QuerySet):
        self.queryset = queryset


class Converting(tuple):
    """A part's (sql, params) whose rows `batch` gives as the ORM would: model instances, or
    a `Converted` part's dicts; `recipe` (`apps.core.compiled.converting`) turns the
    driver's rows into them."""

    recipe: Compiled

    def __new__(cls, sql: str, params, recipe: Compiled):
        found = super().__new__(cls, (sql, params))
        found.recipe = recipe
        return found


class StandIn:
    """What the build function gets: a viewer of the real one's shape with sentinel values,
    and `day(i)` / `at` for the dates and the time the page passes to its querysets."""

    def __init__(self, viewer: User, branches: set[int] | None):
        # A level of None or 0 is kept as it is (it may decide the SQL's shape); any other
        # level is a parameter.
        level = _LEVEL if viewer.authority_level else viewer.authority_level
        self.viewer = User(pk=_USER, username="", is_superuser=viewer.is_superuser,
                           is_active=viewer.is_active, authority_level=level,
                           branch_id=None if viewer.branch_id is None else _BRANCH)
        self.viewer.__dict__["roles"] = frozenset(viewer.roles)
        subtree = frozenset(_BRANCH - i for i in range(len(branches or ())))
        self.viewer._authz_subtree = (self.viewer.branch_id, subtree)  # as accounts.authz primes
        self.at = _AT

    @staticmethod
    def day(i: int) -> dt.date:
        return _DAY + dt.timedelta(days=i)

    @staticmethod
    def id(i: int) -> int:
        return _ID - i

    @staticmethod
    def moment(i: int) -> dt.datetime:
        return _MOMENT + dt.timedelta(seconds=i)


def _key(name: str, viewer: User, branches: set[int] | None, extra: tuple) -> tuple:
    # The active time zone too: a date truncation compiles its name into the SQL.
    return (connection.vendor, timezone.get_current_timezone_name(), name,
            viewer.is_superuser, viewer.is_active,
            frozenset(viewer.roles), viewer.branch_id is None,
            viewer.authority_level if not viewer.authority_level else True,
            None if branches is None else len(branches), extra)


def compiled(name: str, viewer: User, build: Callable[[StandIn], dict[str, QuerySet | tuple]],
             *, days: list[dt.date], at: dt.datetime | None = None,
             ids: tuple[int, ...] = (), moments: tuple[dt.datetime, ...] = (),
             extra: tuple = ()) -> dict[str, tuple[str, list] | None] | None:
    """{part: (sql, params) for `viewer`, or None where the part can match no row}, from SQL
    built once per shape of viewer by `build(stand_in)` (each part a queryset, or an
    already composed (sql, params); a queryset of model instances, or a `Converted` values()
    part, comes as `Converting`: `batch` gives its rows as the ORM would); `days[i]` stands
    where `stand_in.day(i)` was passed, `at` where `stand_in.at` was, `ids[i]` where
    `stand_in.id(i)` was, `moments[i]` where `stand_in.moment(i)` was (a period's bounds).
    `extra`: whatever else shapes the SQL (a page size, a flag).
    None off PostgreSQL: the caller builds its querysets itself."""
    if connection.vendor != "postgresql":
        return None
    branches = visible_branch_ids(viewer=viewer)
    key = _key(name, viewer, branches, extra)
    parts = _kept.get(key)
    if parts is None:
        parts = {}
        for part, query in build(StandIn(viewer, branches)).items():
            try:
                if isinstance(query, Converted) or (isinstance(query, QuerySet) and issubclass(
                        query._iterable_class, ModelIterable)):
                    recipe = converting(getattr(query, "queryset", query))
                    parts[part] = (recipe.sql, recipe.params, recipe)
                    continue
                sql, params = (query if isinstance(query, tuple)
                               else query.query.sql_with_params())
            except EmptyResultSet:
                parts[part] = None
                continue
            parts[part] = (sql, tuple(params))
        if len(_kept) >= _MAX_SHAPES:
            _kept.clear()
        _kept[key] = parts
    swap = {(int, _USER): viewer.pk, (int, _LEVEL): viewer.authority_level}
    if at is not None:
        swap[(dt.datetime, _AT)] = at
    swap.update(((int, _BRANCH - i), branch) for i, branch in enumerate(sorted(branches or ())))
    swap.update(((dt.date, StandIn.day(i)), day) for i, day in enumerate(days))
    swap.update(((int, StandIn.id(i)), pk) for i, pk in enumerate(ids))
    swap.update(((dt.datetime, StandIn.moment(i)), m) for i, m in enumerate(moments))
    return {part: None if found is None else
            Converting(found[0], [_swap(p, swap) for p in found[1]], found[2])
            if len(found) > 2
            else (found[0], [_swap(p, swap) for p in found[1]])
            for part, found in parts.items()}


def _swap(value, swap: dict):
    """The real value for a sentinel parameter, in the parameter's own type (the PostgreSQL
    backend hands an integer Value over as psycopg's Int4, an int); anything else as it is."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        real = swap.get((int, int(value)), value)
        return real if real is value or type(value) is int else type(value)(real)
    if isinstance(value, dt.datetime):
        return swap.get((dt.datetime, value), value)
    if isinstance(value, dt.date):
        return swap.get((dt.date, value), value)
    return value


def rows(found: tuple[str, list] | None) -> list[dict]:
    """Run one kept statement; its rows as dicts by column name (a values() query names
    every column)."""
    return [] if found is None else batch({"one": found})["one"]


# Planning, not running, was most of the time of a few of the pages' statements (issue #22;
# EXPLAIN at 100,000 loans): the notification centre's inbox read (four tables joined, one
# semi-join and four anti-joins of the segregation-of-duties checks: nine relations, one
# more than `join_collapse_limit`) took 2.1-2.9 ms to plan and 0.05 ms to run; the
# portfolio's breakdowns 1.2-2.0 ms and 0.5 ms. Their SQL already names the tables in an
# order that reads well (the rows asked for first, then what they point to, then the
# checks), so the planner is told to keep it: `SET LOCAL join_collapse_limit = 1` and
# `from_collapse_limit = 1` around such a statement, in the same round trip, back to the
# defaults right after it (the rest of the batch, and of the transaction when there is
# one, plans as before). The planner still picks each join's method and which side drives
# it; only the search over orders goes (inbox 2.1-2.9 -> 0.4 ms, portfolio 1.2-2.0 -> 1.1
# ms; the results are the same, a planner setting cannot change them). Not for a statement
# whose written order is a bad one (officer quality's loans part: `officer_quality._split`).
# PostgreSQL with client-side binding only (one text, one implicit transaction): elsewhere
# the statement runs as it is.
FIXED_ORDER = [("SET LOCAL join_collapse_limit = 1", ()),
               ("SET LOCAL from_collapse_limit = 1", ())]
FREE_ORDER = [("SET LOCAL join_collapse_limit TO DEFAULT", ()),
              ("SET LOCAL from_collapse_limit TO DEFAULT", ())]


def batch(found: dict[str, tuple[str, list] | None],
          fixed_order: tuple[str, ...] = ()) -> dict[str, list[dict]]:
    """Run several kept statements in one round trip (`apps.core.compiled.send_statements`),
    each one's rows as dicts by column name (a `Converting` part's as the ORM gives them). A
    page's independent reads then wait on the database once rather than once each: on a busy
    machine every round trip is a chance to lose the CPU (issue #22). `fixed_order`: the
    parts planned in the join order their SQL writes (FIXED_ORDER above), on PostgreSQL."""
    parts = [part for part, statement in found.items() if statement is not None]
    out: dict[str, list[dict]] = {part: [] for part in found}
    if not parts:
        return out
    names: list[list[str]] = []
    sent = send_planned([(found[part], part in fixed_order) for part in parts], names=names)
    for part, columns, part_rows in zip(parts, names, sent, strict=True):
        recipe = getattr(found[part], "recipe", None)
        out[part] = (recipe.convert(part_rows) if recipe is not None
                     else [dict(zip(columns, row, strict=True)) for row in part_rows])
    return out


def send_planned(statements: list[tuple[tuple[str, list], bool]], *,
                 names: list | None = None) -> list[list[tuple]]:
    """The driver's rows of each (statement, fixed), in one round trip on PostgreSQL
    (`send_statements`); a fixed one is planned in the join order its SQL writes, between
    FIXED_ORDER and FREE_ORDER (PostgreSQL only: elsewhere each runs as it is). `names`: a
    list to receive each statement's column names."""
    # Off PostgreSQL the settings do not exist: each statement goes as it is, one by one
    # (`send_statements`).
    planner = connection.vendor == "postgresql"
    sending: list = []
    at: list[int] = []  # each statement's position among those sent
    for statement, fixed in statements:
        if fixed and planner:
            sending += FIXED_ORDER
        at.append(len(sending))
        sending.append(statement)
        if fixed and planner:
            sending += FREE_ORDER
    if not sending:
        return []
    sent_names: list[list[str]] = []
    sent = send_statements(sending, names=sent_names)
    if names is not None:
        names += [sent_names[i] for i in at]
    return [sent[i] for i in at]


def fixed_order_rows(sql: str, params: list) -> list[tuple]:
    """The rows of one statement planned in the join order its SQL writes (FIXED_ORDER
    above) on PostgreSQL, the settings sent with it in one round trip; else as it is."""
    return send_planned([((sql, params), True)])[0]


def prepared_rows(sql: str, params: list) -> list[tuple]:
    """The rows of one long statement that a page sends again and again with the same values
    (the portfolio's breakdowns: the same watermark until the next refresh, the same scope):
    prepared with its values once per connection, in the round trip of its first execution,
    then executed by name (`send_statements(prepared=True)`): planning it was 3.1-3.6 ms of
    the page's server time every request, running it 0.8 (issue #22). Where statements are
    not prepared (off PostgreSQL, or DATABASE_PREPARED_READS off behind a transaction-mode
    pooler), planned in the join order its SQL writes (`fixed_order_rows`)."""
    return prepared_planned([((sql, params), True)])[0]


def prepared_planned(statements: list[tuple[tuple[str, list], bool]]) -> list[list[tuple]]:
    """`send_planned`, but on PostgreSQL with prepared reads on, each statement prepared with
    its values once per connection and executed by name, all in one round trip as before: for
    statements whose text with its values repeats per viewer and watermark (the officers'
    grouped reads), planning was most of their server time (issue #22: the officers' fixed
    UNION ALL ~3 ms). Not for texts that carry one record's id (a portrait's enterprise): a
    plan kept per record serves only repeat views of it."""
    if connection.vendor == "postgresql" and getattr(settings, "DATABASE_PREPARED_READS", True):
        return send_statements([statement for statement, _fixed in statements], prepared=True)
    return send_planned(statements)


def read_together(querysets: dict[str, QuerySet]) -> dict[str, list[dict]]:
    """The rows of each values() queryset, as dicts by column name: compiled for this request
    and sent in one round trip on PostgreSQL (`batch`), evaluated one by one elsewhere. For
    reads whose values (a period's bounds) are not the sentinels `compiled` swaps."""
    if connection.vendor != "postgresql":
        return {part: list(query) for part, query in querysets.items()}
    found: dict[str, tuple[str, list] | None] = {}
    for part, query in querysets.items():
        try:
            found[part] = query.query.sql_with_params()
        except EmptyResultSet:
            found[part] = None
    return batch(found)
