"""Auditors' search: every filter, keyset paging, constant queries."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from apps.audit.models import AuditEvent
from apps.audit.services import audit_record_now
from apps.oversight.selectors import audit_event_list, audit_event_page

pytestmark = pytest.mark.django_db


def _seqs(viewer, **filters):
    return list(audit_event_list(viewer=viewer, filters=filters).values_list("seq", flat=True))


def test_each_filter_selects_its_events(world):
    auditor = world.user("auditor.north")
    application = world.in_state("submitted")
    other = world.draft()
    mine = AuditEvent.objects.filter(application_id=application.pk)
    assert _seqs(auditor, application_id=application.pk) == list(
        mine.order_by("seq").values_list("seq", flat=True))
    assert set(mine.values_list("action", flat=True)) >= {"application.created",
                                                          "application.submitted"}
    assert other.pk not in set(AuditEvent.objects.filter(
        seq__in=_seqs(auditor, application_id=application.pk)).values_list(
        "application_id", flat=True))
    by_enterprise = _seqs(auditor, enterprise_id=application.enterprise_id)
    assert set(_seqs(auditor, application_id=application.pk)) <= set(by_enterprise)
    am = world.user("am.north")
    assert all(e.actor_id == am.pk for e in AuditEvent.objects.filter(
        seq__in=_seqs(auditor, actor_id=am.pk)))
    assert _seqs(auditor, action="application.submitted") == list(
        AuditEvent.objects.filter(action="application.submitted").values_list("seq", flat=True))
    north = _seqs(auditor, branch_id=world.north.pk)
    assert north and all(b == world.north.pk for b in AuditEvent.objects.filter(
        seq__in=north).values_list("branch_id", flat=True))
    today = timezone.localdate()
    assert _seqs(auditor, date_from=today.isoformat(), date_to=today.isoformat()) == _seqs(
        auditor)
    assert _seqs(auditor, date_to=(today - dt.timedelta(days=1)).isoformat()) == []


def test_keyset_pages_cover_everything_once_in_constant_queries(world,
                                                                django_assert_num_queries):
    auditor = world.user("auditor.north")
    for n in range(23):
        audit_record_now(action="branch.updated", actor=auditor, subject=("org.branch", str(n)))
    seen, before = [], None
    assert auditor.roles  # the role check reads the groups once per request
    while True:
        with django_assert_num_queries(1):
            rows, before = audit_event_page(viewer=auditor, filters={"action": "branch.updated"},
                                            before_seq=before, size=10)
            names = [row.actor.username for row in rows]  # actors came with the page
        assert names and set(names) == {"auditor.north"}
        seen += [row.seq for row in rows]
        if before is None:
            break
    assert seen == sorted(seen, reverse=True) and len(seen) == len(set(seen)) == 23


def test_search_page_queries_do_not_grow_with_the_page(world, client_as):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = client_as("auditor.north")
    actors = [world.user(name) for name in ("am.north", "lead.north", "reviewer.north")]
    for n in range(60):
        audit_record_now(action="branch.updated", actor=actors[n % 3],
                         subject=("org.branch", str(n)))
    # A session's first page reads the person's rights once and keeps them (apps/accounts/authz.py).
    assert client.get(reverse("oversight:events")).status_code == 200
    with CaptureQueriesContext(connection) as full:
        response = client.get(reverse("oversight:events"), {"action": "branch.updated"})
    assert response.status_code == 200
    assert len(response.context["rows"]) == 50 and response.context["next_url"]
    with CaptureQueriesContext(connection) as short:
        older = client.get(reverse("oversight:events") + response.context["next_url"])
    assert len(older.context["rows"]) == 10 and not older.context["next_url"]
    assert len(full) == len(short) <= 10  # session, user, roles, banner, form, page...


def test_filters_by_reference_uscc_and_username_resolve_or_explain(world, client_as):
    application = world.draft()
    client = client_as("auditor.north")
    response = client.get(reverse("oversight:events"), {
        "application": application.reference, "enterprise": application.enterprise.uscc,
        "user": "am.north"})
    assert response.context["valid"] and len(response.context["rows"]) == 1
    response = client.get(reverse("oversight:events"), {"user": "nobody"})
    assert not response.context["valid"]
    assert "user" in response.context["form"].errors
