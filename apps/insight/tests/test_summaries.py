"""The step clock summary against the computation it replaces: the pipeline's time in each step
read from the summary (with or without a tail past its watermark, after a rebuild) equals the
window over the whole audit trail, in several branches, steps and periods; the refresh is
incremental, idempotent, and safe when two run at once."""

import datetime as dt
import threading
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db import connection, connections
from django.db.models import Count, F, Min, OuterRef, Q, Subquery, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone

from apps.applications.models import Application
from apps.audit.models import AuditEvent
from apps.insight.models import OpenFile, StepClock, StepDay, SummaryWatermark
from apps.insight.pipeline import (
    PipelineFilters,
    _open_by_manager,
    _open_by_state,
    _step_durations,
    deadlines,
    pipeline_dashboard,
)
from apps.insight.summaries import (
    MOVES,
    STEP_CLOCK,
    STEP_DAYS,
    WAITING_STATES,
    refresh_step_clock,
    seconds_sql,
    sql_datetime,
    watermark,
    watermarks,
)
from apps.insight.tests.test_pipeline import _file, _move
from apps.investigations.models import PolicyValue

DAY = 86400


def _trail_durations(*, branches, product_id, start, end, limits) -> list[tuple]:
    """The computation before the summary (PostgreSQL), verbatim: a LAG window over every move
    of the applications that moved in the period. On SQLite the same window, with its JSON
    function, the summary's seconds expression and timestamps as its stored text."""
    postgresql = connection.vendor == "postgresql"
    if not postgresql:
        start, end = sql_datetime(start), sql_datetime(end)
    params: list = []
    moves = ", ".join(["%s"] * len(MOVES))
    where = [f"e.action IN ({moves})"]
    params += list(MOVES)
    if branches is not None:
        if not branches:
            return []
        where.append("a.branch_id IN ({})".format(", ".join(["%s"] * len(branches))))
        params += sorted(branches)
    if product_id is not None:
        where.append("v.product_id = %s")
        params.append(product_id)
    where.append("e.application_id IN (SELECT p.application_id FROM audit_auditevent p "  # noqa: S608
                 f"WHERE p.occurred_at >= %s AND p.occurred_at < %s AND p.action IN ({moves}))")
    params += [start, end, *MOVES]
    seconds = ("EXTRACT(EPOCH FROM (m.occurred_at - m.entered))" if postgresql
               else seconds_sql("m.occurred_at", "m.entered"))
    step = "e.payload ->> 'from'" if postgresql else "json_extract(e.payload, '$.from')"
    late_case, late_params = "0", []
    if limits:
        late_case = "CASE " + " ".join(
            f"WHEN m.step = %s AND {seconds} > %s THEN 1" for _ in limits) + " ELSE 0 END"
        for state, days in limits.items():
            late_params += [state, float(days) * DAY]
    sql = (
        "WITH m AS (SELECT e.occurred_at, " + step + " AS step, "  # noqa: S608
        "LAG(e.occurred_at) OVER (PARTITION BY e.application_id ORDER BY e.seq) AS entered "
        "FROM audit_auditevent e JOIN applications_application a ON a.id = e.application_id "
        "JOIN products_productversion v ON v.id = a.product_version_id "
        "WHERE " + " AND ".join(where) + ") "
        "SELECT m.step, COUNT(*), AVG(" + seconds + "), MAX(" + seconds + "), "
        "SUM(" + late_case + ") FROM m "
        "WHERE m.entered IS NOT NULL AND m.occurred_at >= %s AND m.occurred_at < %s "
        "GROUP BY m.step")
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, *late_params, start, end])
        return sorted((r[0], r[1], r[2], r[3], int(r[4] or 0)) for r in cursor.fetchall())


@pytest.fixture
def trail(world):
    """Files in both branches through several steps, some moved before the period, one sent
    back and resumed, one whose every move is older than the period."""
    for state, days in (("submitted", 2), ("investigating", 5), ("under_review", 3)):
        PolicyValue.objects.create(key=f"pipeline.deadline_days.{state}", value=Decimal(days),
                                   unit="days", version=1,
                                   effective_from=timezone.localdate() - dt.timedelta(days=30))
    chains = [
        (world.north, [("application.submitted", "draft", "submitted", 100),
                       ("application.investigation_started", "submitted", "investigating", 95),
                       ("application.sent_to_review", "investigating", "under_review", 80),
                       ("application.sent_to_approval", "under_review", "in_approval", 10.5)]),
        (world.north, [("application.submitted", "draft", "submitted", 40),
                       ("application.investigation_started", "submitted", "investigating", 37.25),
                       ("application.sent_to_review", "investigating", "under_review", 20),
                       ("application.returned", "under_review", "returned", 18),
                       ("application.investigation_resumed", "returned", "investigating", 15.5),
                       ("application.sent_to_review", "investigating", "under_review", 9)]),
        (world.south, [("application.submitted", "draft", "submitted", 30),
                       ("application.investigation_started", "submitted", "investigating", 29),
                       ("application.sent_to_review", "investigating", "under_review", 21.3)]),
        (world.south, [("application.submitted", "draft", "submitted", 200),
                       ("application.withdrawn", "submitted", "withdrawn", 150)]),
        (world.north, [("application.submitted", "draft", "submitted", 4)]),
    ]
    files = []
    for branch, moves in chains:
        application = _file(world, branch=branch, state=moves[-1][2])
        for action, source, target, days_ago in moves:
            _move(application, action, source, target, days_ago)
        files.append(application)
    return files


def _all_figures(world) -> list:
    """The time-in-step figures for every scope and period the page can ask for, both ways."""
    limits = deadlines()
    now = timezone.now()
    product = world.version.product_id
    found = []
    for branches in (None, {world.north.pk}, {world.south.pk}, {world.north.pk, world.south.pk},
                     set()):
        for product_id in (None, product, product + 10_000):
            for days in (7, 90, 365):
                query = {"branches": branches, "product_id": product_id,
                         "start": now - dt.timedelta(days=days), "end": now, "limits": limits}
                found.append((_same_scale(_step_durations(**query, mark=watermark())),
                              _same_scale(_trail_durations(**query))))
    return found


def _same_scale(rows) -> list[tuple]:
    """The average to the hundredth of a second (the page shows tenths of a day): the step
    days divide a sum by a count, the trail takes AVG(), which rounds at another digit."""
    return sorted((step, n, Decimal(str(avg)).quantize(Decimal("0.01")), Decimal(str(longest)),
                   late) for step, n, avg, longest, late in rows)


def _assert_equal_to_the_trail(world):
    figures = _all_figures(world)
    assert any(summary for summary, _ in figures)
    for summary, trail in figures:
        assert summary == trail


def _trail_open_by_state(*, branches, product_id, limits, now) -> dict:
    """The open files by state before any summary, verbatim: each waiting application's latest
    move in the trail (its last update if none), one probe per file."""
    scoped = Application.objects.order_by()
    if branches is not None:
        scoped = scoped.filter(branch_id__in=branches)
    if product_id is not None:
        scoped = scoped.filter(product_version__product_id=product_id)
    entered = Subquery(AuditEvent.objects.filter(
        application_id=OuterRef("pk"), action__in=MOVES).order_by("-seq")
        .values("occurred_at")[:1])
    waiting = scoped.filter(state__in=WAITING_STATES).annotate(
        entered=Coalesce(entered, F("updated_at")))
    late = Q(pk__in=[])
    for state, days in limits.items():
        late |= Q(state=state, entered__lt=now - dt.timedelta(days=float(days)))
    return {r["state"]: {"files": r["files"], "late": r["late"], "oldest": r["oldest"]}
            for r in waiting.values("state").annotate(
                files=Count("pk"), late=Count("pk", filter=late), oldest=Min("entered"))}


def _assert_open_files_equal_the_trail(world):
    """The open files summary plus its tail equals the per-file computation, in every scope
    (only once summarised: before, the page computes it the old way)."""
    limits, now = deadlines(), timezone.now()
    product = world.version.product_id
    seen = 0
    for branches in (None, {world.north.pk}, {world.south.pk}, {world.north.pk, world.south.pk},
                     set()):
        for product_id in (None, product, product + 10_000):
            query = {"branches": branches, "product_id": product_id, "limits": limits,
                     "now": now}
            summary = _open_by_state(**query, mark=max(watermark(), 1))
            assert summary == _trail_open_by_state(**query)
            seen += sum(r["files"] for r in summary.values())
    assert seen


def _pages(world):
    return [pipeline_dashboard(viewer=world.user(who), filters=PipelineFilters())
            for who in ("lead.north", "lead.south")]


def _rows(dashboards):
    return [[(c.key, c.rows) for c in d["charts"]] + [d["facts"]] for d in dashboards]


def test_summary_figures_equal_the_trail_with_tail_summary_and_rebuild(world, trail):
    before = _rows(_pages(world))
    _assert_equal_to_the_trail(world)  # nothing summarised yet: all of it is the tail

    _assert_open_files_equal_the_trail(world)  # all of it the tail

    assert refresh_step_clock() == 16  # one row per move
    assert SummaryWatermark.objects.get(name=STEP_CLOCK).seq == max(
        StepClock.objects.values_list("seq", flat=True))
    _assert_equal_to_the_trail(world)
    _assert_open_files_equal_the_trail(world)
    # Open files only: the withdrawn one is not kept.
    assert sorted(OpenFile.objects.values_list("application_id", "state")) == sorted(
        (f.pk, f.state) for f in trail if f.state != "withdrawn")
    assert _rows(_pages(world)) == before
    north = {r["code"]: r for r in _charts(_pages(world)[0])["time_in_step"].rows}
    # In the last 90 days, north's files left "investigating" after 15, 17.25 and 6.5 days.
    assert (north["investigating"]["moves"], north["investigating"]["average"]) == (
        3, Decimal("12.9"))
    assert north["investigating"]["late_share"] == 1

    # New moves land past the watermark: read from the tail until the next run.
    _move(trail[4], "application.investigation_started", "submitted", "investigating", 1)
    _move(trail[2], "application.sent_to_approval", "under_review", "in_approval", 0.5)
    Application.objects.filter(pk=trail[4].pk).update(state="investigating")  # the moves' rows
    Application.objects.filter(pk=trail[2].pk).update(state="in_approval")
    # A file closes (in the tail: gone from the page before the next run).
    _move(trail[0], "application.rejected", "in_approval", "rejected", 0.25)
    Application.objects.filter(pk=trail[0].pk).update(state="rejected")
    _assert_equal_to_the_trail(world)
    _assert_open_files_equal_the_trail(world)
    assert refresh_step_clock() == 3
    assert refresh_step_clock() == 0  # idempotent
    _assert_equal_to_the_trail(world)
    _assert_open_files_equal_the_trail(world)
    assert not OpenFile.objects.filter(application_id=trail[0].pk).exists()
    assert OpenFile.objects.get(application_id=trail[2].pk).state == "in_approval"

    summarised = sorted(StepClock.objects.values_list(
        "seq", "step", "entered_at", "left_at", "seconds", "branch_id"))
    opened = sorted(OpenFile.objects.values_list(
        "application_id", "state", "since", "branch_id", "product_id"))
    call_command("insight_summaries", "--rebuild", stdout=open("/dev/null", "w"))  # noqa: SIM115
    assert sorted(StepClock.objects.values_list(
        "seq", "step", "entered_at", "left_at", "seconds", "branch_id")) == summarised
    assert sorted(OpenFile.objects.values_list(
        "application_id", "state", "since", "branch_id", "product_id")) == opened
    _assert_equal_to_the_trail(world)
    _assert_open_files_equal_the_trail(world)


def test_open_files_never_moved_are_summarised_at_their_last_update(world, trail):
    """A waiting file with no move in the trail (imported history) ages from its last update,
    as before the summary; the first run enters it."""
    from apps.insight.tests.test_pipeline import _file as new_file

    quiet = new_file(world, state="under_review")
    refresh_step_clock()
    row = OpenFile.objects.get(application_id=quiet.pk)
    assert (row.state, row.since) == ("under_review", Application.objects.get(
        pk=quiet.pk).updated_at)
    _assert_open_files_equal_the_trail(world)
    _move(quiet, "application.sent_to_approval", "under_review", "in_approval", 2)
    Application.objects.filter(pk=quiet.pk).update(state="in_approval")
    _assert_open_files_equal_the_trail(world)  # from the tail
    refresh_step_clock()
    _assert_open_files_equal_the_trail(world)
    assert OpenFile.objects.get(application_id=quiet.pk).state == "in_approval"


def test_small_batches_pair_each_move_with_the_one_before_across_batches(world, trail):
    refresh_step_clock(batch=1)
    _assert_equal_to_the_trail(world)
    _assert_open_files_equal_the_trail(world)
    first = StepClock.objects.filter(application_id=trail[1].pk).order_by("seq")
    assert [row.step for row in first] == [
        "draft", "submitted", "investigating", "under_review", "returned", "investigating"]
    assert first[0].seconds is None and first[1].seconds == Decimal(2.75 * DAY)


def test_open_files_age_from_the_summary_and_its_tail(world, trail):
    before = _charts(_pages(world)[0])["open_by_state"].rows
    refresh_step_clock()
    assert _charts(_pages(world)[0])["open_by_state"].rows == before
    _move(trail[4], "application.investigation_started", "submitted", "investigating", 1)
    Application.objects.filter(pk=trail[4].pk).update(state="investigating")  # the move's row
    rows = {r["label"]: r for r in _charts(_pages(world)[0])["open_by_state"].rows}
    assert rows["Investigating"]["oldest"] == Decimal("1.0")  # the tail's move, not the clock
    refresh_step_clock()
    assert {r["label"]: r for r in _charts(_pages(world)[0])["open_by_state"].rows} == rows


def test_step_days_add_up_the_clock_and_follow_a_new_deadline(world, trail):
    """The step days (the clock by day) give the clock's figures; when a deadline changes, the
    page reads that step move by move until the next refresh counts the days again."""
    refresh_step_clock()
    assert StepDay.objects.aggregate(n=Sum("moves"))["n"] == StepClock.objects.filter(
        seconds__isnull=False).count()
    _assert_equal_to_the_trail(world)
    # Today the investigation deadline becomes 16 days: 17.25 days is still late, 15 is not.
    PolicyValue.objects.create(key="pipeline.deadline_days.investigating", value=Decimal(16),
                               unit="days", version=2, effective_from=timezone.localdate())
    assert deadlines()["investigating"] == Decimal(16)
    stale = set(StepDay.objects.filter(step="investigating").values_list("deadline", flat=True))
    assert stale == {Decimal(5)}
    _assert_equal_to_the_trail(world)  # that step from the clock
    north = {r["code"]: r for r in _charts(_pages(world)[0])["time_in_step"].rows}
    assert north["investigating"]["late_share"] == Decimal(1) / 3
    refresh_step_clock()
    assert set(StepDay.objects.filter(step="investigating").values_list(
        "deadline", flat=True)) == {Decimal(16)}
    _assert_equal_to_the_trail(world)
    # the tampered days are what the page reads (proof it reads them, not the clock)
    StepDay.objects.filter(step="investigating").update(late=0)
    north = {r["code"]: r for r in _charts(_pages(world)[0])["time_in_step"].rows}
    assert north["investigating"]["late_share"] == 0
    # A database summarised before the step days existed: the page reads the clock, and the
    # next run builds them.
    StepDay.objects.all().delete()
    SummaryWatermark.objects.filter(name=STEP_DAYS).delete()
    assert watermarks() == (watermark(), False)
    north = {r["code"]: r for r in _charts(_pages(world)[0])["time_in_step"].rows}
    assert north["investigating"]["late_share"] == Decimal(1) / 3
    refresh_step_clock()
    assert watermarks() == (watermark(), True)
    assert StepDay.objects.aggregate(n=Sum("moves"))["n"] == StepClock.objects.filter(
        seconds__isnull=False).count()
    _assert_equal_to_the_trail(world)


def test_open_files_by_account_manager_equal_the_trail(world, trail):
    """The bottlenecks' account managers from the open files summary (one read with the
    states) equal the per-file computation, before and after a reassignment."""
    limits, now = deadlines(), timezone.now()
    refresh_step_clock()

    def by_manager():
        rows = _open_by_manager(branches=None, product_id=None, limits=limits, now=now,
                                mark=watermark())
        return sorted((r["state"], r["account_manager__username"], r["files"], r["late"])
                      for r in rows)

    def per_file():
        entered = Subquery(AuditEvent.objects.filter(
            application_id=OuterRef("pk"), action__in=MOVES).order_by("-seq")
            .values("occurred_at")[:1])
        waiting = Application.objects.filter(state__in=WAITING_STATES).annotate(
            entered=Coalesce(entered, F("updated_at")))
        late = Q(pk__in=[])
        for state, days in limits.items():
            late |= Q(state=state, entered__lt=now - dt.timedelta(days=float(days)))
        return sorted((r["state"], r["account_manager__username"], r["files"], r["late"])
                      for r in waiting.values("state", "account_manager__username").annotate(
                          files=Count("pk"), late=Count("pk", filter=late)))

    assert by_manager() == per_file()
    # A reassignment (a team lead's, recorded in the trail) is read live until the next run.
    from apps.applications.services import application_reassign
    from apps.insight.tests.test_open_cells import _second_manager

    application_reassign(application_id=trail[1].pk, account_manager=_second_manager(world),
                         actor=world.user("lead.north"))
    assert by_manager() == per_file()
    refresh_step_clock()
    assert by_manager() == per_file()


def _charts(dashboard):
    return {chart.key: chart for chart in dashboard["charts"]}


@pytest.mark.skipif(connection.vendor != "postgresql",
                    reason="two writers at once need PostgreSQL here: SQLite's in-memory test "
                           "database (shared cache) refuses the second at once ('database "
                           "table is locked') where make run's file database queues it")
@pytest.mark.django_db(transaction=True)
def test_two_refreshes_at_once_summarise_each_move_once(world, trail):
    errors, results = [], []
    barrier = threading.Barrier(2)

    def run():
        try:
            barrier.wait()
            results.append(refresh_step_clock(batch=4))
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert sum(results) == 16 and StepClock.objects.count() == 16
    _assert_equal_to_the_trail(world)
    _assert_open_files_equal_the_trail(world)
