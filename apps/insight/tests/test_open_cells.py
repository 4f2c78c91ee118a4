"""The open cells (the open files by branch, product, state, account manager and day) against
the computations they replace: the pipeline's open files by state and account manager added
up from the cells equal the same figures read file by file from the open files summary, and
the per-file computation over the trail, for files moving between states, days and account
managers, with a tail past the watermark, after a refresh and a rebuild, at moments that put
each state's deadline inside a day holding files on both sides of it."""

import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings
from django.db.models import Count, F, Min, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone

from apps.accounts.models import User
from apps.applications.models import Application
from apps.applications.services import application_reassign
from apps.audit.models import AuditEvent
from apps.insight.models import OpenCell, OpenFile, SummaryWatermark
from apps.insight.pipeline import (
    PipelineFilters,
    _open_by_manager,
    _open_by_manager_from_files,
    deadlines,
    pipeline_dashboard,
)
from apps.insight.summaries import (
    MOVES,
    OPEN_CELLS,
    WAITING_STATES,
    refresh_step_clock,
    watermark,
)
from apps.insight.tests.test_pipeline import NOW, _file, _move
from apps.investigations.models import PolicyValue

ZONE = ZoneInfo(settings.TIME_ZONE)
# The day the deadlines fall on in most of the moments below (local midnight), ten days ago.
D = dt.datetime.combine(NOW.astimezone(ZONE).date() - dt.timedelta(days=10), dt.time(),
                        tzinfo=ZONE)


def _ago(moment: dt.datetime) -> float:
    """`moment` as the days before the trail's NOW `_move` takes."""
    return (NOW - moment).total_seconds() / 86400


def _at(application, action, source, target, moment):
    _move(application, action, source, target, _ago(moment))


def _hours(h: float) -> dt.datetime:
    return D + dt.timedelta(hours=h)


@pytest.fixture
def moving(world):
    """Files in both branches entering their states on the days around D, some at the same
    local day on either side of the moment a deadline falls, one closed, one never moved."""
    for state, days in (("submitted", 2), ("investigating", 5), ("under_review", 3)):
        PolicyValue.objects.create(key=f"pipeline.deadline_days.{state}", value=Decimal(days),
                                   unit="days", version=1,
                                   effective_from=timezone.localdate() - dt.timedelta(days=30))
    north, south = world.north, world.south
    f = {}
    f["early"] = _file(world, state="submitted")
    _at(f["early"], "application.submitted", "draft", "submitted", _hours(9))
    f["late_day"] = _file(world, state="submitted")
    _at(f["late_day"], "application.submitted", "draft", "submitted", _hours(15))
    f["night"] = _file(world, state="submitted")
    _at(f["night"], "application.submitted", "draft", "submitted", _hours(23.75))
    f["investigating"] = _file(world, state="investigating")
    _at(f["investigating"], "application.submitted", "draft", "submitted", _hours(-0.5))
    _at(f["investigating"], "application.investigation_started", "submitted", "investigating",
        _hours(72 + 10))
    f["review"] = _file(world, branch=south, state="under_review")
    _at(f["review"], "application.submitted", "draft", "submitted", _hours(-120 + 8))
    _at(f["review"], "application.investigation_started", "submitted", "investigating",
        _hours(-96 + 12))
    _at(f["review"], "application.sent_to_review", "investigating", "under_review", _hours(11))
    f["south_submitted"] = _file(world, branch=south, state="submitted")
    _at(f["south_submitted"], "application.submitted", "draft", "submitted", _hours(13))
    f["next_day"] = _file(world, state="submitted")
    _at(f["next_day"], "application.submitted", "draft", "submitted", _hours(24.5))
    f["closed"] = _file(world, state="withdrawn")
    _at(f["closed"], "application.submitted", "draft", "submitted", _hours(-480))
    _at(f["closed"], "application.withdrawn", "submitted", "withdrawn", _hours(-456))
    f["approved"] = _file(world, state="approved")
    _at(f["approved"], "application.sent_to_approval", "under_review", "in_approval",
        _hours(20))
    _at(f["approved"], "application.approved", "in_approval", "approved", _hours(50))
    f["quiet"] = _file(world, state="under_review")  # never moved: since its last update
    assert north != south
    return f


def _moments() -> list[dt.datetime]:
    """Moments putting the deadlines before, inside and after the days the files are on:
    the submitted deadline (2 days) at D 00:00, 09:00 (a file entered exactly then: within),
    12:00 and 15:00 (files on both sides of it that day), 23:59, the next day; the others
    likewise around their own days."""
    two_days = dt.timedelta(days=2)
    moments = [_hours(h) + two_days for h in (-1, 0, 9, 12, 15, 23.99, 24, 24.5, 30, 240)]
    moments += [_hours(h) + dt.timedelta(days=3) for h in (10, 11, 11.5, 24)]  # under review
    moments += [_hours(h) + dt.timedelta(days=5) for h in (82, 82.5, 100)]  # investigating
    return moments + [timezone.now()]


def _per_file(*, branches, product_id, limits, now) -> list[tuple]:
    """The figures before any summary: each waiting application's latest move (its last
    update if none), one probe per file; the account manager the application's now."""
    entered = Subquery(AuditEvent.objects.filter(
        application_id=OuterRef("pk"), action__in=MOVES).order_by("-seq")
        .values("occurred_at")[:1])
    waiting = Application.objects.order_by().filter(state__in=WAITING_STATES)
    if branches is not None:
        waiting = waiting.filter(branch_id__in=branches)
    if product_id is not None:
        waiting = waiting.filter(product_version__product_id=product_id)
    waiting = waiting.annotate(entered=Coalesce(entered, F("updated_at")))
    late = Q(pk__in=[])
    for state, days in limits.items():
        late |= Q(state=state, entered__lt=now - dt.timedelta(days=float(days)))
    return sorted((r["state"], r["account_manager__username"], r["files"], r["late"],
                   r["oldest"]) for r in waiting.values("state", "account_manager__username")
                  .annotate(files=Count("pk"), late=Count("pk", filter=late),
                            oldest=Min("entered")))


def _rows(found) -> list[tuple]:
    return sorted((r["state"], r["account_manager__username"], r["files"], r["late"],
                   r["oldest"]) for r in found)


def _assert_cells_equal_the_files(world):
    """In every scope and at every moment: the cells' figures = the files' = the trail's."""
    limits = deadlines()
    product = world.version.product_id
    mark = max(watermark(), 1)
    checked = late = 0
    for now in _moments():
        for branches in (None, {world.north.pk}, {world.south.pk},
                         {world.north.pk, world.south.pk}, set()):
            for product_id in (None, product, product + 10_000):
                query = {"branches": branches, "product_id": product_id, "limits": limits,
                         "now": now}
                cells = _rows(_open_by_manager(**query, mark=mark))
                assert cells == _per_file(**query), (now, branches, product_id)
                assert cells == _rows(_open_by_manager_from_files(**query, mark=mark))
                checked += sum(r[2] for r in cells)
                late += sum(r[3] for r in cells)
    assert checked and late


def _assert_cells_are_the_files_grouped():
    grouped = sorted(
        (r["branch_id"], r["product_id"], r["state"], r["manager_id"], r["day"], r["n"],
         r["oldest"]) for r in OpenFile.objects.values(
            "branch_id", "product_id", "state", "manager_id", "day").annotate(
            n=Count("pk"), oldest=Min("since")))
    assert sorted(OpenCell.objects.values_list(
        "branch_id", "product_id", "state", "manager_id", "day", "files", "oldest")) == grouped
    for row in OpenFile.objects.all():
        assert row.day == row.since.astimezone(ZONE).date()
        assert row.manager_id == Application.objects.get(pk=row.application_id
                                                         ).account_manager_id


def _second_manager(world) -> User:
    """Another account manager of the north branch (the demo has one per branch)."""
    first = world.user("am.north")
    other = User.objects.create(username="am2.north", branch=first.branch)
    other.groups.set(first.groups.all())
    return other


def test_open_cells_equal_the_files_as_files_move_and_change_hands(world, moving):
    refresh_step_clock()
    assert SummaryWatermark.objects.filter(name=OPEN_CELLS).exists()
    _assert_cells_are_the_files_grouped()
    # the files are on several days, and D holds several cells (both branches, two states)
    assert OpenCell.objects.values("day").distinct().count() >= 5
    assert OpenCell.objects.filter(day=D.date()).count() >= 3
    _assert_cells_equal_the_files(world)

    # Past the watermark: a file moves on (its old day's cell read file by file), one
    # closes, one changes hands (not a move: its state and since stay), one moves twice.
    _at(moving["late_day"], "application.investigation_started", "submitted",
        "investigating", _hours(60))
    Application.objects.filter(pk=moving["late_day"].pk).update(state="investigating")
    _at(moving["next_day"], "application.withdrawn", "submitted", "withdrawn", _hours(70))
    Application.objects.filter(pk=moving["next_day"].pk).update(state="withdrawn")
    _at(moving["night"], "application.investigation_started", "submitted", "investigating",
        _hours(26))
    _at(moving["night"], "application.sent_to_review", "investigating", "under_review",
        _hours(40))
    Application.objects.filter(pk=moving["night"].pk).update(state="under_review")
    other = _second_manager(world)
    application_reassign(application_id=moving["early"].pk, account_manager=other,
                         actor=world.user("lead.north"))
    application_reassign(application_id=moving["approved"].pk, account_manager=other,
                         actor=world.user("lead.north"))
    _assert_cells_equal_the_files(world)
    assert OpenFile.objects.get(application_id=moving["early"].pk).manager_id != other.pk

    refresh_step_clock()
    _assert_cells_are_the_files_grouped()
    early = OpenFile.objects.get(application_id=moving["early"].pk)
    assert (early.manager_id, early.state, early.since) == (
        other.pk, "submitted", _hours(9))
    assert not OpenFile.objects.filter(application_id=moving["next_day"].pk).exists()
    _assert_cells_equal_the_files(world)

    cells = sorted(OpenCell.objects.values_list(
        "branch_id", "product_id", "state", "manager_id", "day", "files", "oldest"))
    refresh_step_clock(rebuild=True)
    assert sorted(OpenCell.objects.values_list(
        "branch_id", "product_id", "state", "manager_id", "day", "files", "oldest")) == cells
    _assert_cells_equal_the_files(world)


def test_small_batches_keep_the_cells(world, moving):
    refresh_step_clock(batch=1)
    _assert_cells_are_the_files_grouped()
    _assert_cells_equal_the_files(world)


def test_the_page_reads_the_cells_and_before_them_the_files(world, moving):
    viewer = world.user("lead.north")

    def states():
        charts = {c.key: c for c in pipeline_dashboard(
            viewer=viewer, filters=PipelineFilters())["charts"]}
        return {r["label"]: (r["files"], r["late"]) for r in charts["open_by_state"].rows}

    before = states()
    refresh_step_clock()
    assert states() == before
    # Proof the page adds up cells: a cell away from any deadline day, tampered with.
    cell = OpenCell.objects.get(day=D.date(), state="submitted", branch_id=world.north.pk)
    OpenCell.objects.filter(pk=cell.pk).update(files=cell.files + 5)
    assert states()["Submitted"] == (before["Submitted"][0] + 5, before["Submitted"][1] + 5)
    # A database summarised before the cells: the page reads the files; the next run fills
    # the files' manager and day and builds the cells.
    OpenCell.objects.all().delete()
    OpenFile.objects.update(manager_id=None, day=None)
    SummaryWatermark.objects.filter(name=OPEN_CELLS).delete()
    assert states() == before
    refresh_step_clock()
    _assert_cells_are_the_files_grouped()
    assert states() == before
    _assert_cells_equal_the_files(world)
