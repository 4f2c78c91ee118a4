"""The pipeline and SLA dashboard against a hand-computed set of files: ages against the policy
deadlines, time in each step from the audit trail, approval rate and turnaround, scoping and
a query count that does not grow with the number of files."""

import datetime as dt
import hashlib
import itertools
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from apps.applications.models import Application
from apps.audit.models import AuditEvent
from apps.insight.pipeline import PipelineFilters, pipeline_dashboard
from apps.investigations.models import PolicyValue

NOW = timezone.now()
_seq = itertools.count(10_000_000)


def _move(application, action, source, target, days_ago):
    """A move in the trail at a chosen time (the chain's hashing is audit's own test)."""
    seq = next(_seq)
    AuditEvent.objects.create(
        seq=seq, occurred_at=NOW - dt.timedelta(days=days_ago), action=action,
        subject_type="applications.application", subject_id=str(application.pk),
        branch_id=application.branch_id, application_id=application.pk,
        enterprise_id=application.enterprise_id,
        payload={"from": source, "to": target}, prev_hash="0" * 64,
        hash=hashlib.sha256(str(seq).encode()).hexdigest())


def _file(world, *, branch=None, state, **fields):
    n = next(_seq)
    branch = branch or world.north
    manager = world.user(f"am.{branch.code}")
    return Application.objects.create(
        reference=f"PL{n}", enterprise=world.enterprise(branch), product_version=world.version,
        branch=branch, account_manager=manager, created_by=manager, state=state,
        amount_requested=Decimal("100000"), **fields)


@pytest.fixture
def files(world):
    for state, days in (("submitted", 2), ("investigating", 5), ("under_review", 3)):
        PolicyValue.objects.create(key=f"pipeline.deadline_days.{state}", value=Decimal(days),
                                   unit="days", version=1,
                                   effective_from=timezone.localdate() - dt.timedelta(days=30))
    a = _file(world, state="under_review")
    _move(a, "application.submitted", "draft", "submitted", 10)
    _move(a, "application.investigation_started", "submitted", "investigating", 9)
    _move(a, "application.sent_to_review", "investigating", "under_review", 2)
    b = _file(world, state="submitted")
    _move(b, "application.submitted", "draft", "submitted", 6)
    c = _file(world, branch=world.south, state="submitted")
    _move(c, "application.submitted", "draft", "submitted", 30)
    d = _file(world, state="disbursed", submitted_at=NOW - dt.timedelta(days=20),
              decided_at=NOW - dt.timedelta(days=5), amount_approved=Decimal("100000"))
    e = _file(world, state="rejected", submitted_at=NOW - dt.timedelta(days=10),
              decided_at=NOW - dt.timedelta(days=4))
    return {"a": a, "b": b, "c": c, "d": d, "e": e}


def _charts(dashboard):
    return {chart.key: chart for chart in dashboard["charts"]}


def test_pipeline_figures_for_the_north_branch_head(world, files):
    dashboard = pipeline_dashboard(viewer=world.user("lead.north"), filters=PipelineFilters())
    charts = _charts(dashboard)
    ages = {r["label"]: r for r in charts["open_by_state"].rows}
    # B waits 6 days in "submitted" (deadline 2): late. A entered review 2 days ago (3): within.
    assert (ages["Submitted"]["files"], ages["Submitted"]["late"]) == (1, 1)
    assert (ages["Under review"]["within"], ages["Under review"]["late"]) == (1, 0)
    assert ages["Submitted"]["oldest"] == Decimal("6.0")
    assert dashboard["facts"]["open"] == 2 and dashboard["facts"]["late"] == 1

    steps = {r["code"]: r for r in charts["time_in_step"].rows}
    # A: 1 day in "submitted" (within 2), 7 days investigating (past 5).
    assert (steps["submitted"]["moves"], steps["submitted"]["average"]) == (1, Decimal("1.0"))
    assert steps["submitted"]["late_share"] == 0
    assert (steps["investigating"]["average"], steps["investigating"]["late_share"]) == (
        Decimal("7.0"), 1)
    assert "draft" not in steps

    rates = charts["approval_by_branch"].rows
    assert [(r["label"], r["decided"], r["approved"], r["rate"]) for r in rates] == [
        (world.north.name, 2, 1, Decimal("0.5"))]
    assert rates[0]["turnaround"] == Decimal("10.5")  # (15 + 6) / 2 days
    assert charts["approval_by_product"].rows[0]["rate"] == Decimal("0.5")
    from apps.insight.selectors import product_name

    assert charts["approval_by_product"].rows[0]["label"] == product_name(
        world.version.product) != ""

    people = {r["label"]: r for r in charts["bottlenecks"].rows}
    assert people["am.north · Submitted"] == {"label": "am.north · Submitted", "files": 1,
                                              "late": 1}


def test_pipeline_without_deadlines_measures_nothing_against_a_constant(world):
    a = _file(world, state="submitted")
    _move(a, "application.submitted", "draft", "submitted", 40)
    charts = _charts(pipeline_dashboard(viewer=world.user("lead.north"),
                                        filters=PipelineFilters()))
    row = charts["open_by_state"].rows[0]
    assert (row["unmeasured"], row["late"], row["deadline"]) == (1, None, None)


def test_scoping_and_404_outside_the_subtree(world, files, client):
    south = pipeline_dashboard(viewer=world.user("lead.south"), filters=PipelineFilters())
    ages = {r["label"]: r["files"] for r in _charts(south)["open_by_state"].rows}
    assert ages == {"Submitted": 1}
    client.force_login(world.user("lead.north"))
    assert client.get(reverse("insight:pipeline"), {"branch": world.south.pk}).status_code == 404
    page = client.get(reverse("insight:pipeline"))
    assert page.status_code == 200 and "PL" not in page.content.decode()[:0]
    csv = client.get(reverse("insight:pipeline-export", args=["open_by_state", "csv"]))
    assert csv.status_code == 200 and "Submitted" in csv.content.decode("utf-8-sig")
    client.force_login(world.user("am.north"))
    assert client.get(reverse("insight:pipeline")).status_code == 403


@pytest.mark.parametrize("summarised", [False, True])
def test_query_count_does_not_grow_with_the_pipeline(world, files, client, summarised):
    from apps.insight.summaries import refresh_step_clock

    if summarised:  # the open cells, step days and step clock, then more files past them
        refresh_step_clock()
    client.force_login(world.user("lead.north"))
    # A session's first page reads the person's rights once and keeps them (apps/accounts/authz.py).
    assert client.get(reverse("insight:pipeline")).status_code == 200
    with CaptureQueriesContext(connection) as small:
        assert client.get(reverse("insight:pipeline")).status_code == 200
    for n in range(12):
        extra = _file(world, state="investigating")
        _move(extra, "application.submitted", "draft", "submitted", 20 + n)
        _move(extra, "application.investigation_started", "submitted", "investigating", 3)
    if summarised:
        refresh_step_clock()
    with CaptureQueriesContext(connection) as large:
        assert client.get(reverse("insight:pipeline")).status_code == 200
    assert len(large) == len(small) <= 20, [q["sql"][:90] for q in large.captured_queries]
    if summarised:
        assert any("insight_opencell" in q["sql"] for q in large.captured_queries)


def test_deadlines_are_the_policy_values_in_force(world):
    """The deadlines read as values equal the deadline keys of `policy_values_in_force`:
    the highest version effective on the day, a retired one until its end, never a draft."""
    from apps.core.policy import PolicyVersionState
    from apps.insight.pipeline import DEADLINE_KEY, deadlines
    from apps.insight.summaries import WAITING_STATES
    from apps.investigations.policy import policy_values_in_force

    today = timezone.localdate()
    for version, (days, start, end) in enumerate(
            [(4, -50, -10), (6, -10, None), (9, 5, None)], start=1):
        PolicyValue.objects.create(
            key="pipeline.deadline_days.submitted", value=Decimal(days), unit="days",
            version=version, effective_from=today + dt.timedelta(days=start),
            effective_to=today + dt.timedelta(days=end) if end is not None else None)
    PolicyValue.objects.create(key="pipeline.deadline_days.returned", value=Decimal(3),
                               unit="days", version=1, effective_from=today)
    draft = PolicyValue.objects.create(key="pipeline.deadline_days.investigating",
                                       value=Decimal(1), unit="days", version=1,
                                       effective_from=today)  # published as written; made a draft:
    PolicyValue.all_versions.filter(pk=draft.pk).update(state=PolicyVersionState.DRAFT)

    def reference(on):
        values = policy_values_in_force(on=on)
        return {str(s): values[DEADLINE_KEY.format(state=s)].value for s in WAITING_STATES
                if DEADLINE_KEY.format(state=s) in values}

    seen = []
    for offset in (-60, -50, -20, -10, -1, 0, 4, 5, 30):
        on = today + dt.timedelta(days=offset)
        assert deadlines(on=on) == reference(on), offset
        seen.append(deadlines(on=on).get("submitted"))
    assert seen == [None, 4, 4, 6, 6, 6, 6, 9, 9]
    assert "investigating" not in deadlines()


@pytest.mark.parametrize("username", ["lead.north", "auditor.north"])
def test_reads_sent_together_give_what_they_give_one_by_one(world, files, username,
                                                            monkeypatch):
    """The page sends its independent reads as one batch and the two summaries' reads as
    another (PostgreSQL); evaluated one by one (the ORM's rows, one statement each, as on
    SQLite) every chart and the filter form are the same. A branch head's form lists their
    subtree's branches only."""
    from apps.insight import pipeline
    from apps.insight.selectors import filter_choices
    from apps.insight.summaries import refresh_step_clock

    refresh_step_clock()
    late = _file(world, state="investigating")  # past the summaries' watermark
    _move(late, "application.submitted", "draft", "submitted", 12)
    _move(late, "application.investigation_started", "submitted", "investigating", 8)
    viewer = world.user(username)

    def page():
        with CaptureQueriesContext(connection) as queries:
            found = pipeline_dashboard(viewer=viewer, filters=PipelineFilters())
        choices = filter_choices(viewer=viewer, products=found["products"],
                                 branches=found["branches"])
        return [(c.key, c.rows) for c in found["charts"]], found["facts"], choices, len(queries)

    page()  # the viewer's roles are read once
    together = page()
    monkeypatch.setattr(pipeline, "compiled", lambda *args, **kwargs: None)
    monkeypatch.setattr(pipeline, "read_together",
                        lambda reads: {part: list(query) for part, query in reads.items()})
    monkeypatch.setattr(pipeline, "send_statements",
                        lambda statements: [pipeline._send_one(s) for s in statements])
    one_by_one = page()
    assert together[:3] == one_by_one[:3]
    assert together[2] == filter_choices(viewer=viewer)
    # Narrowed to a branch (built for the request) and to a product (kept, its id swapped in).
    for narrowed in (PipelineFilters(branch_id=world.north.pk),
                     PipelineFilters(product_id=world.version.product_id)):
        built = pipeline_dashboard(viewer=viewer, filters=narrowed)
        monkeypatch.undo()
        kept = pipeline_dashboard(viewer=viewer, filters=narrowed)
        assert [c.rows for c in kept["charts"]] == [c.rows for c in built["charts"]]
        assert kept["charts"][0].rows
        monkeypatch.setattr(pipeline, "compiled", lambda *args, **kwargs: None)
        monkeypatch.setattr(pipeline, "read_together",
                            lambda reads: {part: list(query) for part, query in reads.items()})
    if connection.vendor == "postgresql":
        # six reads (the summaries' watermarks with the five) in one round trip, two in
        # another: 8 statements to 2
        assert one_by_one[3] - together[3] == 6, (together[3], one_by_one[3])
    names = {b["name"] for b in together[2]["branches"]}
    assert (world.south.name in names) == (username == "auditor.north")
    ages = {r["label"]: r for r in dict(together[0])["open_by_state"]}
    assert ages["Investigating"]["files"] == 1 and ages["Investigating"]["late"] == 1
