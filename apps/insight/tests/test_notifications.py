"""The notification centre: each kind for the person it concerns, the notice period from
policy, scoping, and a query count that does not grow with the notices."""

import datetime as dt
import itertools
from decimal import Decimal

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from apps.applications.models import Application
from apps.insight.notifications import notification_centre
from apps.insight.tests.test_scorecard import _inspection
from apps.investigations.models import PolicyValue
from apps.monitoring.models import Signal, SignalRule

TODAY = timezone.localdate()
_n = itertools.count(1)


def _file(world, state, manager="am.north"):
    user = world.user(manager)
    return Application.objects.create(
        reference=f"NT{next(_n):06d}", enterprise=world.enterprise(), product_version=world.version,
        branch=world.north, account_manager=user, created_by=user, state=state,
        amount_requested=Decimal("100000"))


def _signal(loan, level):
    rule = SignalRule.objects.order_by("id").first()
    now = timezone.now()
    return Signal.objects.create(loan=loan, branch=loan.branch, code=rule.code, rule=rule,
                                 level=level, observed="95", source="test", raised_at=now,
                                 observed_at=now)


def _sections(centre):
    return {s["kind"]: s for s in centre["sections"]}


def test_each_kind_reaches_the_person_it_concerns(world, client):
    returned = _file(world, "returned")
    _file(world, "investigating")
    _file(world, "returned", manager="am.south")
    loan = world.loan()
    late = _inspection(loan, due_days_ago=3)          # postloan.north's, late
    _inspection(loan, due_days_ago=-10)                # due in 10 days
    _signal(loan, 1)

    manager = _sections(notification_centre(viewer=world.user("am.north")))
    assert manager["returned"]["total"] == 1
    assert returned.reference in manager["returned"]["notices"][0].text
    assert manager["assignment"]["total"] == 1
    assert manager["deadline"]["total"] == 0

    officer = _sections(notification_centre(viewer=world.user("postloan.north")))
    # Without a notice period only what is due today or late shows.
    assert officer["deadline"]["total"] == 1 and officer["deadline"]["notices"][0].late
    assert str(late.pk) in officer["deadline"]["notices"][0].url
    assert officer["signal"]["total"] == 1
    PolicyValue.objects.create(key="notifications.due_soon_days", value=Decimal(14), unit="days",
                               version=1, effective_from=TODAY - dt.timedelta(days=1))
    officer = _sections(notification_centre(viewer=world.user("postloan.north")))
    assert officer["deadline"]["total"] == 2

    # The head of the branch sees its level 2-3 signals, not the level 1 one.
    lead = _sections(notification_centre(viewer=world.user("lead.north")))
    assert lead["signal"]["total"] == 0
    _signal(world.loan(), 3)
    lead = _sections(notification_centre(viewer=world.user("lead.north")))
    assert lead["signal"]["total"] == 1 and lead["signal"]["late"] == 1
    south = _sections(notification_centre(viewer=world.user("lead.south")))
    assert south["signal"]["total"] == 0

    client.force_login(world.user("am.north"))
    page = client.get(reverse("insight:notifications")).content.decode()
    assert returned.reference in page


def test_query_count_does_not_grow_with_notices(world, client):
    client.force_login(world.user("postloan.north"))
    loan = world.loan()
    _inspection(loan, due_days_ago=1)
    # A session's first page reads the person's rights once and keeps them (apps/accounts/authz.py).
    assert client.get(reverse("insight:notifications")).status_code == 200
    with CaptureQueriesContext(connection) as small:
        assert client.get(reverse("insight:notifications")).status_code == 200
    for _ in range(5):
        other = world.loan()
        _inspection(other, due_days_ago=2)
        _signal(other, 2)
    with CaptureQueriesContext(connection) as large:
        assert client.get(reverse("insight:notifications")).status_code == 200
    assert len(large) == len(small) <= 25, [q["sql"][:80] for q in large.captured_queries]


def test_totals_count_past_the_first_page(world, monkeypatch):
    """Each kind's total is read beside its first page: the whole count, not the page's."""
    from apps.insight import notifications

    monkeypatch.setattr(notifications, "LIST_LIMIT", 2)
    for _ in range(3):
        _file(world, "returned")
    _file(world, "submitted")
    _file(world, "returned", manager="am.south")
    manager = _sections(notification_centre(viewer=world.user("am.north")))
    assert (manager["returned"]["total"], len(manager["returned"]["notices"])) == (3, 2)
    assert (manager["assignment"]["total"], len(manager["assignment"]["notices"])) == (1, 1)

    loan = world.loan()
    for days in (1, 2, 3):
        _inspection(loan, due_days_ago=days)
    officer = _sections(notification_centre(viewer=world.user("postloan.north")))
    assert (officer["deadline"]["total"], len(officer["deadline"]["notices"])) == (3, 2)
    assert officer["approval"]["total"] == 0 and officer["approval"]["notices"] == []


def test_notices_name_the_file_step_action_and_rule(world):
    """Each notice reads its words from the row it stands for: the file, firm and step of an
    approval (the step's label in the reader's language), an action's kind as the bank calls
    it, a signal's rule by name, with links to the record."""
    from django.utils import translation

    from apps.approvals.tests.factories import in_approval
    from apps.monitoring.models import Action, LevelActionRule
    from apps.monitoring.states import ActionKind

    application, route = in_approval(world)
    step = route.steps.get(state="waiting")
    approver = _sections(notification_centre(viewer=world.user("approver.north")))
    assert approver["approval"]["total"] == 1
    notice = approver["approval"]["notices"][0]
    assert application.reference in notice.text
    assert application.enterprise.name in notice.text and step.label_en in notice.text
    assert notice.url == reverse("approvals:inbox")
    assert notice.when == (timezone.localtime(step.due_at).date() if step.due_at else None)
    # The account manager is conflicted out of signing their own file.
    manager = _sections(notification_centre(viewer=world.user("am.north")))
    assert manager["approval"]["total"] == 0

    loan = world.loan()
    rule = LevelActionRule.objects.order_by("id").first()
    action = Action.objects.create(loan=loan, branch=loan.branch, kind="contact", level=2,
                                   rule=rule, owner=loan.officer, due_date=TODAY)
    signal = _signal(loan, 2)
    with translation.override("zh-hans"):
        zh = _sections(notification_centre(viewer=world.user("postloan.north")))
        assert signal.rule.name_zh in zh["signal"]["notices"][0].text
        if step.label_zh:
            approver = _sections(notification_centre(viewer=world.user("approver.north")))
            assert step.label_zh in approver["approval"]["notices"][0].text
    officer = _sections(notification_centre(viewer=world.user("postloan.north")))
    deadline = officer["deadline"]["notices"][0]
    assert officer["deadline"]["total"] == 1 and not deadline.late
    assert str(ActionKind.CONTACT.label) in deadline.text
    assert loan.loan_number in deadline.text and loan.enterprise.name in deadline.text
    assert deadline.url == reverse("monitoring:loan", args=[loan.pk]) and action.due_date == TODAY
    notice = officer["signal"]["notices"][0]
    assert signal.rule.name_en in notice.text and loan.loan_number in notice.text
    assert notice.url.endswith(f"#signal-{signal.pk}") and not notice.late
