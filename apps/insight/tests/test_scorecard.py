"""The officer scorecard against a hand-computed book; an officer sees only their own row."""

import datetime as dt
from decimal import Decimal

from django.urls import reverse
from django.utils import timezone

from apps.insight.scorecard import officer_scorecard
from apps.investigations.seed import seed_builtin_templates
from apps.monitoring.inspection_models import Inspection


def _inspection(loan, *, due_days_ago, submitted_days_ago=None, n=[0]):  # noqa: B006
    n[0] += 1
    submitted = (timezone.now() - dt.timedelta(days=submitted_days_ago)
                 if submitted_days_ago is not None else None)
    return Inspection.objects.create(
        loan=loan, branch=loan.branch, application=loan.application, kind="m2",
        schedule_key=f"insight-{n[0]}", template=seed_builtin_templates()[0],
        officer=loan.officer, state="submitted" if submitted else "overdue",
        # Today as the test runs, not as the module was imported: a run that crosses local
        # midnight (16:00 UTC in Asia/Shanghai) otherwise moves every due date by a day.
        due_date=timezone.localdate() - dt.timedelta(days=due_days_ago), submitted_at=submitted)


def test_scorecard_figures_and_scope(world, client):
    """postloan.north: 100,000 (95 days late, so NPA) + 300,000 → NPL 25%; inspections due:
    one on time, one late, one never submitted → 1/3. am.north: 50,000 current, one
    inspection on time → 100%. South's officer is out of the north head's sight."""
    late = world.loan(dpd=95, outstanding="100000")
    current = world.loan(outstanding="300000")
    other = world.loan(outstanding="50000", officer=world.user("am.north"))
    world.loan(branch=world.south, outstanding="70000")
    _inspection(late, due_days_ago=10, submitted_days_ago=12)
    _inspection(late, due_days_ago=20, submitted_days_ago=5)
    _inspection(current, due_days_ago=3)
    _inspection(current, due_days_ago=-5)  # not due yet: not counted
    _inspection(other, due_days_ago=30, submitted_days_ago=30)

    chart = officer_scorecard(viewer=world.user("lead.north"))
    rows = {r["label"]: r for r in chart.rows}
    assert set(rows) == {"postloan.north", "am.north"}
    assert (rows["postloan.north"]["loans"], rows["postloan.north"]["outstanding"]) == (
        2, Decimal("400000"))
    assert rows["postloan.north"]["npl_ratio"] == Decimal("0.25")
    assert rows["postloan.north"]["inspections_due"] == 3
    assert rows["postloan.north"]["inspections_on_time"] == Decimal(1) / 3
    assert rows["am.north"]["npl_ratio"] == Decimal(0)
    assert rows["am.north"]["inspections_on_time"] == Decimal(1)

    own = officer_scorecard(viewer=world.user("postloan.north"))
    assert [r["label"] for r in own.rows] == ["postloan.north"]

    client.force_login(world.user("postloan.north"))
    body = client.get(reverse("insight:officers")).content.decode()
    assert "postloan.north" in body and "am.north</th>" not in body
    csv = client.get(reverse("insight:officers-export", args=["officers", "csv"]))
    assert "am.north" not in csv.content.decode("utf-8-sig")
    client.logout()
    assert client.get(reverse("insight:officers")).status_code == 302
