"""The step clock summary (apps/insight/models.py), kept current from the audit trail.

Each run reads only the audit events past the watermark (`seq` > watermark, a range of the
trail's unique index), in batches, never the whole trail: for each application move it writes
one StepClock row, pairing it with the move before it (earlier in the same batch, else the
application's latest StepClock row). The audit trail's `seq` is handed out under a lock held
until commit (apps/audit/services.py), so events become visible in `seq` order and nothing
can appear behind the watermark.

The same run keeps the open files summary (one row per application in a waiting state, since
when, apps/insight/models.py OpenFile) under the same watermark and lock: each application
moved in a batch gets its state (read from the application, as the page reads it) and the
time of its latest move; one no longer waiting is removed. A run from watermark 0 (the first,
or --rebuild) first enters every waiting application at its last update, for files that
never moved. The page reads the summary for files not moved since the watermark and the
application plus its latest move for those that did (`open_tail_sql`).

The open files carry their account manager (a reassignment is in the trail:
`application.reassigned`, kept like a move but for the state and since) and the local day
they entered their state, and are added up into open cells (apps/insight/models.py OpenCell:
files and the earliest since by branch, product, state, manager and day). Each batch counts
again the cells of the days its files were in before and after it, so the cells are always
the open files grouped; the page adds up cells, reading file by file only a state's deadline
day and the cells of files moved or reassigned since the watermark (`open_cells_tail_sql`).
A database summarised before the open cells gets them (and the open files their manager and
day) on its next run; the page reads the open files meanwhile.

The same run adds the new step clock rows to the step days (apps/insight/models.py StepDay:
moves, seconds, longest and moves past the deadline by local day, branch, product and step),
so the page's time in each step adds up a few rows a day. The moves past the deadline are
counted against the deadlines in force when counted; when a deadline changes, the next run
counts the days again from the step clock (the page reads that step from the clock
meanwhile).

Safe to run twice at once: a run locks the watermark row for each batch (the second waits,
then finds the batch done) and rows are keyed by the move's `seq` (a repeat inserts nothing).
Beat runs it every minute (`insight.summaries_refresh`); `manage.py insight_summaries
[--rebuild]` runs it by hand. The pipeline page reads the summary plus the moves since the
watermark (`clock_rows_sql(upper=False)`), so it is never stale, only slower if beat stops.
"""

import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from apps.applications.states import ApplicationState as S
from apps.insight.models import OpenCell, OpenFile, StepClock, StepDay, SummaryWatermark

STEP_CLOCK = "step_clock"
# Its row says the step days were built (they then follow the step clock's watermark); a
# database summarised before they existed has none until the next run builds them.
STEP_DAYS = "step_days"
# Its row says the open cells were built (they then follow the step clock's watermark, and
# the open files have their account manager and day).
OPEN_CELLS = "open_cells"
# The states a file waits in on its way to money, in workflow order (draft is the officer's
# own work, not a queue; terminal states do not wait): the open files the summary keeps.
WAITING_STATES = (S.SUBMITTED, S.INVESTIGATING, S.UNDER_REVIEW, S.IN_APPROVAL, S.RETURNED,
                  S.APPROVED, S.CONTRACTED)
BATCH = 200_000
DAY = 86400
# The audit actions that move an application (each records payload "from" and "to").
MOVES = ("application.submitted", "application.investigation_started",
         "application.sent_to_review", "application.returned",
         "application.investigation_resumed", "application.sent_to_approval",
         "application.approved", "application.rejected", "application.contracted",
         "application.disbursed", "application.withdrawn", "application.expired")
# A team lead hands a file to another account manager (not a move: the open cells follow it).
REASSIGNED = "application.reassigned"


def values_in_force(keys, *, on: dt.date | None = None) -> dict[str, Decimal]:
    """key → value of the policy values in force on `on` (today by default) among `keys`:
    the rule of `policy_values_in_force` (the highest published version effective that day,
    never a draft), read as values for these keys only instead of every value in force built
    as a model instance (a page reads two or three keys of a hundred)."""
    rows = values_in_force_query(keys, on=on or timezone.localdate())
    return values_from_rows((row["key"], row["value"]) for row in rows)


def values_in_force_query(keys, *, on: dt.date):
    """The read behind `values_in_force`: rows of key and value, the highest version of a key
    first (a page sends it in a batch with its other reads: apps/insight/compiled.py)."""
    from django.db.models import Q

    from apps.investigations.models import PolicyValue

    return (PolicyValue.objects.filter(key__in=list(keys), effective_from__lte=on)
            .filter(Q(effective_to__isnull=True) | Q(effective_to__gt=on))
            .order_by("key", "-version").values("key", "value"))


def values_from_rows(rows) -> dict[str, Decimal]:
    """key → value from `values_in_force_query`'s (key, value) rows: the first of each key."""
    found: dict[str, Decimal] = {}
    for key, value in rows:
        found.setdefault(key, value)
    return found


def seconds_sql(later: str, earlier: str) -> str:
    """SQL for the seconds from timestamp column `earlier` to `later`, to the microsecond on
    both databases. SQLite keeps a timestamp as text, 'YYYY-MM-DD HH:MM:SS[.ffffff]' in UTC
    (Django's adapter), and its julianday() rounds to the millisecond: the whole seconds come
    from julianday() of the first 19 characters (exact once rounded), the fraction from the
    text after them ('' or '.ffffff', read as 0 or 0.ffffff)."""
    if connection.vendor == "postgresql":
        return f"EXTRACT(EPOCH FROM ({later} - {earlier}))"
    return (f"(ROUND((julianday(substr({later}, 1, 19)) - julianday(substr({earlier}, 1, 19)))"
            f" * 86400.0) + CAST('0' || substr({later}, 20) AS REAL)"
            f" - CAST('0' || substr({earlier}, 20) AS REAL))")


def sql_datetime(value: dt.datetime) -> dt.datetime | str:
    """An aware datetime as a raw-SQL parameter compared with stored timestamps: unchanged on
    PostgreSQL; on SQLite the stored text form (UTC), since the driver's own adapter writes
    the local offset ('+08:00') and text compares as text."""
    return connection.ops.adapt_datetimefield_value(value)


def read_datetime(value) -> dt.datetime | None:
    """A timestamp read by raw SQL as an aware datetime: SQLite gives the stored UTC text for a
    computed column (MIN, a UNION), PostgreSQL an aware datetime."""
    if value is None or (isinstance(value, dt.datetime) and timezone.is_aware(value)):
        return value
    if not isinstance(value, dt.datetime):
        value = parse_datetime(value)
    return value if timezone.is_aware(value) else timezone.make_aware(value, dt.UTC)


def _dialect() -> dict[str, str]:
    if connection.vendor == "postgresql":
        return {"step": "e.payload ->> 'from'",
                "seconds": seconds_sql("b.occurred_at", "b.entered")}
    return {"step": "json_extract(e.payload, '$.from')",
            "seconds": seconds_sql("b.occurred_at", "b.entered")}


def clock_rows_sql(*, lower: str = "%s", upper: bool) -> tuple[str, list]:
    """SELECT of the StepClock rows of the moves with seq in (lower, %s] (or (lower, ∞)
    without `upper`): seq, application, branch, product, step, entered_at, left_at, seconds.
    `lower` is a placeholder or a scalar subquery (its parameters come first)."""
    d = _dialect()
    moves = ", ".join(["%s"] * len(MOVES))
    bound = "AND e.seq <= %s " if upper else ""
    sql = (
        "SELECT b.seq, b.application_id, a.branch_id, v.product_id, b.step, "  # noqa: S608 - fixed fragments
        "b.entered AS entered_at, b.occurred_at AS left_at, " + d["seconds"] + " AS seconds FROM ("
        "SELECT e.seq, e.application_id, e.occurred_at, " + d["step"] + " AS step, "
        "COALESCE(LAG(e.occurred_at) OVER (PARTITION BY e.application_id ORDER BY e.seq), "
        "(SELECT c.left_at FROM insight_stepclock c WHERE c.application_id = e.application_id "
        "ORDER BY c.seq DESC LIMIT 1)) AS entered "
        "FROM audit_auditevent e WHERE e.seq > " + lower + " " + bound
        + f"AND e.action IN ({moves}) "
        "AND e.application_id IS NOT NULL) b "
        "JOIN applications_application a ON a.id = b.application_id "
        "JOIN products_productversion v ON v.id = a.product_version_id")
    return sql, list(MOVES)


def _waiting() -> tuple[str, list]:
    return ", ".join(["%s"] * len(WAITING_STATES)), [str(s) for s in WAITING_STATES]


def open_tail_sql() -> tuple[str, list]:
    """SELECT of the applications moved past a watermark (its placeholder comes first):
    application_id and the time of its latest move, `since`."""
    moves = ", ".join(["%s"] * len(MOVES))
    sql = ("SELECT m.application_id, e.occurred_at AS since FROM ("  # noqa: S608 - fixed fragments
           "SELECT t.application_id, MAX(t.seq) AS seq FROM audit_auditevent t "
           f"WHERE t.seq > %s AND t.action IN ({moves}) AND t.application_id IS NOT NULL "
           "GROUP BY t.application_id) m JOIN audit_auditevent e ON e.seq = m.seq")
    return sql, list(MOVES)


def _local_day_sql(column: str) -> tuple[str, list]:
    """SQL for the date of timestamp `column` in the project's time zone (the open cells' day),
    on either database (Django's own cast, as for a __date lookup)."""
    sql, params = connection.ops.datetime_cast_date_sql(column, (), settings.TIME_ZONE)
    return sql, list(params)


def _touched_sql(*, after: int, upper: int | None = None) -> tuple[str, list]:
    """SELECT of the applications moved or reassigned with seq in (after, upper] (or
    (after, ∞)): application_id and `seq`, its latest move's (empty if only reassigned)."""
    moves = ", ".join(["%s"] * len(MOVES))
    actions = ", ".join(["%s"] * (len(MOVES) + 1))
    bound = "AND t.seq <= %s " if upper is not None else ""
    sql = ("SELECT t.application_id, MAX(CASE WHEN t.action IN (" + moves + ") "  # noqa: S608 - fixed fragments
           "THEN t.seq END) AS seq FROM audit_auditevent t WHERE t.seq > %s " + bound
           + f"AND t.action IN ({actions}) AND t.application_id IS NOT NULL "
           "GROUP BY t.application_id")
    return sql, [*MOVES, after, *([upper] if upper is not None else []), *MOVES, REASSIGNED]


def open_cells_tail_sql(*, mark: int) -> tuple[str, list]:
    """SELECT of the applications moved or reassigned past the watermark `mark`:
    application_id and the time of its latest move past it, `since` (empty if it was only
    reassigned)."""
    touched, params = _touched_sql(after=mark)
    sql = ("SELECT m.application_id, e.occurred_at AS since FROM (" + touched + ") m "  # noqa: S608 - fixed fragments
           "LEFT JOIN audit_auditevent e ON e.seq = m.seq")
    return sql, params


def _refresh_open_files(cursor, *, after: int, upper: int) -> None:
    """Upsert the open files moved in (after, upper]; remove those no longer waiting; give
    those reassigned their account manager now; count again the open cells of the days the
    files touched were in, before and after. The files touched are read from the trail once,
    into a temporary table the statements share (dropped at the end, or with the
    transaction)."""
    waiting, states = _waiting()
    touched_select, touched_params = _touched_sql(after=after, upper=upper)
    cursor.execute("CREATE TEMPORARY TABLE insight_touched AS " + touched_select,  # noqa: S608
                   touched_params)
    touched = "SELECT application_id, seq FROM insight_touched"
    day, day_params = _local_day_sql("e.occurred_at")
    days_of_touched = ("SELECT DISTINCT o.day FROM insight_openfile o "  # noqa: S608
                       "JOIN insight_touched m ON m.application_id = o.application_id")
    cursor.execute(days_of_touched)
    days = {row[0] for row in cursor.fetchall()}
    cursor.execute(
        "INSERT INTO insight_openfile (application_id, state, since, branch_id, product_id, "  # noqa: S608
        "manager_id, day) SELECT a.id, a.state, e.occurred_at, a.branch_id, v.product_id, "
        "a.account_manager_id, " + day + " FROM (" + touched + ") m "
        "JOIN audit_auditevent e ON e.seq = m.seq "
        "JOIN applications_application a ON a.id = m.application_id "
        "JOIN products_productversion v ON v.id = a.product_version_id "
        f"WHERE a.state IN ({waiting}) ON CONFLICT (application_id) DO UPDATE SET "
        "state = excluded.state, since = excluded.since, branch_id = excluded.branch_id, "
        "product_id = excluded.product_id, manager_id = excluded.manager_id, "
        "day = excluded.day", [*day_params, *states])
    cursor.execute(  # reassigned only: the manager now, the state and since unchanged
        "UPDATE insight_openfile SET manager_id = (SELECT a.account_manager_id "  # noqa: S608
        "FROM applications_application a WHERE a.id = insight_openfile.application_id) "
        "WHERE application_id IN (SELECT m.application_id FROM insight_touched m "
        "WHERE m.seq IS NULL)")
    cursor.execute(
        "DELETE FROM insight_openfile WHERE application_id IN ("  # noqa: S608
        "SELECT a.id FROM insight_touched m JOIN applications_application a "
        f"ON a.id = m.application_id WHERE a.state NOT IN ({waiting}))", states)
    cursor.execute(days_of_touched)
    days |= {row[0] for row in cursor.fetchall()}
    cursor.execute("DROP TABLE insight_touched")
    _count_open_cells(cursor, days=sorted(d for d in days if d is not None))


def _count_open_cells(cursor, *, days: list | None) -> None:
    """The open cells of `days` (every day with None) counted again from the open files."""
    columns = "branch_id, product_id, state, manager_id, day"
    insert = (f"INSERT INTO insight_opencell ({columns}, files, oldest) "  # noqa: S608 - fixed fragments
              f"SELECT {columns}, COUNT(*), MIN(since) FROM insight_openfile ")
    if days is None:
        cursor.execute("DELETE FROM insight_opencell")
        cursor.execute(insert + "GROUP BY " + columns)
        return
    waiting, states = _waiting()  # every open file's state: the index is by state and day
    for at in range(0, len(days), 500):
        chunk = [connection.ops.adapt_datefield_value(d) for d in days[at:at + 500]]
        listed = ", ".join(["%s"] * len(chunk))
        cursor.execute(f"DELETE FROM insight_opencell WHERE day IN ({listed})", chunk)  # noqa: S608
        cursor.execute(insert + f"WHERE state IN ({waiting}) AND day IN ({listed}) "
                       "GROUP BY " + columns, [*states, *chunk])


def _fill_open_files(cursor) -> None:
    """Rows written before the open cells: their account manager now and their day."""
    day, day_params = _local_day_sql("since")
    cursor.execute(
        "UPDATE insight_openfile SET manager_id = (SELECT a.account_manager_id "  # noqa: S608
        "FROM applications_application a WHERE a.id = insight_openfile.application_id), "
        "day = " + day + " WHERE manager_id IS NULL OR day IS NULL", day_params)


def _seed_open_files(cursor) -> None:
    """Every waiting application at its last update (a run from watermark 0): the batches
    then give those that moved the time of their latest move."""
    waiting, states = _waiting()
    day, day_params = _local_day_sql("a.updated_at")
    cursor.execute(
        "INSERT INTO insight_openfile (application_id, state, since, branch_id, product_id, "  # noqa: S608
        "manager_id, day) SELECT a.id, a.state, a.updated_at, a.branch_id, v.product_id, "
        "a.account_manager_id, " + day + " FROM applications_application a "
        "JOIN products_productversion v ON v.id = a.product_version_id "
        f"WHERE a.state IN ({waiting}) ON CONFLICT (application_id) DO NOTHING",
        [*day_params, *states])


def watermark() -> int:
    """The step clock's watermark: moves up to it are summarised, later ones are the tail."""
    found = SummaryWatermark.objects.filter(name=STEP_CLOCK).values_list("seq", flat=True)
    return next(iter(found), 0)


def watermarks() -> tuple[int, bool]:
    """(the step clock's watermark, whether the step days are built) in one query."""
    found = dict(SummaryWatermark.objects.filter(name__in=[STEP_CLOCK, STEP_DAYS])
                 .values_list("name", "seq"))
    return found.get(STEP_CLOCK, 0), STEP_DAYS in found


def _head() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT COALESCE(MAX(seq), 0) FROM audit_auditevent")
        return cursor.fetchone()[0]


def _batch_end(*, after: int, batch: int, head: int) -> int:
    """The seq of the `batch`-th event past `after` (a walk of the unique index), or the head:
    batches count events, whatever the gaps in seq."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT seq FROM audit_auditevent WHERE seq > %s AND seq <= %s "
                       "ORDER BY seq LIMIT 1 OFFSET %s", [after, head, batch - 1])
        found = cursor.fetchone()
    return found[0] if found else head


def refresh_step_clock(*, rebuild: bool = False, batch: int = BATCH) -> int:
    """Summarise the moves past the watermark (all of them after `rebuild`, which empties the
    summary first, in the same transaction as its first batch). Returns the rows written."""
    written, first = 0, True
    head = _head()
    while True:
        with transaction.atomic():
            mark, _ = SummaryWatermark.objects.get_or_create(name=STEP_CLOCK)
            mark = SummaryWatermark.objects.select_for_update(of=("self",)).get(pk=mark.pk)
            if rebuild and first:
                StepClock.objects.all().delete()
                OpenFile.objects.all().delete()
                OpenCell.objects.all().delete()
                StepDay.objects.all().delete()
                mark.seq = 0
            if first:
                limits = _deadlines()
                built = SummaryWatermark.objects.filter(name=STEP_DAYS).exists()
                if not built or _step_days_stale(limits):
                    _rebuild_step_days(upper=mark.seq, limits=limits)
            if mark.seq == 0 and head:
                with connection.cursor() as cursor:
                    _seed_open_files(cursor)
            if first and (rebuild or not SummaryWatermark.objects.filter(
                    name=OPEN_CELLS).exists()):
                with connection.cursor() as cursor:
                    _fill_open_files(cursor)
                    _count_open_cells(cursor, days=None)
                SummaryWatermark.objects.update_or_create(name=OPEN_CELLS,
                                                          defaults={"seq": mark.seq})
            first = False
            if mark.seq >= head:
                mark.save(update_fields=["seq", "updated_at"])
                return written
            upper = _batch_end(after=mark.seq, batch=batch, head=head)
            select, moves = clock_rows_sql(upper=True)
            with connection.cursor() as cursor:
                cursor.execute(
                    "INSERT INTO insight_stepclock (seq, application_id, branch_id, product_id, "  # noqa: S608 - fixed fragments
                    "step, entered_at, left_at, seconds) SELECT * FROM (" + select + ") n "
                    "WHERE true ON CONFLICT (seq) DO NOTHING", [mark.seq, upper, *moves])
                written += max(cursor.rowcount, 0)
                _refresh_open_files(cursor, after=mark.seq, upper=upper)
            _add_step_days(StepClock.objects.filter(seq__gt=mark.seq, seq__lte=upper),
                           limits=limits)
            mark.seq = upper
            mark.save(update_fields=["seq", "updated_at"])


def _deadlines() -> dict[str, Decimal]:
    from apps.insight.pipeline import deadlines

    return deadlines()


def step_day_zone_ok() -> bool:
    """The step days are dated in the project's time zone: a page in another reads the clock."""
    return timezone.get_current_timezone_name() == settings.TIME_ZONE


def _step_days_stale(limits: dict[str, Decimal]) -> bool:
    """Whether some step's moves were counted against another deadline than the one now."""
    for step, deadline in StepDay.objects.values_list("step", "deadline").distinct():
        if deadline != limits.get(step):
            return True
    return False


def _rebuild_step_days(*, upper: int, limits: dict[str, Decimal]) -> None:
    """The step days again from the step clock up to `upper`, against `limits`."""
    StepDay.objects.all().delete()
    _add_step_days(StepClock.objects.filter(seq__lte=upper), limits=limits)
    SummaryWatermark.objects.update_or_create(name=STEP_DAYS, defaults={"seq": upper})


def _add_step_days(moves, *, limits: dict[str, Decimal]) -> None:
    """Add the step clock rows `moves` (a queryset) to the step days: grouped in Python (the
    local date of a timestamp is not portable SQL), added to the stored rows by upsert."""
    zone = ZoneInfo(settings.TIME_ZONE)
    found: dict[tuple, list] = {}
    for step, left_at, seconds, branch, product in moves.filter(
            seconds__isnull=False, step__isnull=False).values_list(
            "step", "left_at", "seconds", "branch_id", "product_id").iterator(chunk_size=20_000):
        key = (left_at.astimezone(zone).date(), branch, product, step)
        cell = found.get(key)
        deadline = limits.get(step)
        late = int(deadline is not None and seconds > float(deadline) * DAY)
        if cell is None:
            found[key] = [1, seconds, seconds, late]
        else:
            cell[0] += 1
            cell[1] += seconds
            cell[2] = max(cell[2], seconds)
            cell[3] += late
    if not found:
        return
    rows = [(connection.ops.adapt_datefield_value(day), branch, product, step, n, total,
             longest, late, limits.get(step))
            for (day, branch, product, step), (n, total, longest, late) in found.items()]
    rows = [tuple(connection.ops.adapt_decimalfield_value(v) if isinstance(v, Decimal) else v
                  for v in row) for row in rows]
    with connection.cursor() as cursor:
        cursor.executemany(
            "INSERT INTO insight_stepday (day, branch_id, product_id, step, moves, seconds, "
            "longest, late, deadline) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s) "
            "ON CONFLICT (day, branch_id, product_id, step) DO UPDATE SET "
            "moves = insight_stepday.moves + excluded.moves, "
            "seconds = insight_stepday.seconds + excluded.seconds, "
            "longest = CASE WHEN excluded.longest > insight_stepday.longest "
            "THEN excluded.longest ELSE insight_stepday.longest END, "
            "late = insight_stepday.late + excluded.late, deadline = excluded.deadline", rows)
