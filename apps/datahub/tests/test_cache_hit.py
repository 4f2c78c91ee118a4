"""The cache hit on PostgreSQL: one INSERT … SELECT … RETURNING, the same row the portable
path writes, and every refusal left to the locking path."""

from decimal import Decimal

import pytest
from django.db import connection
from django.http import Http404
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from apps.datahub import services
from apps.datahub.models import Pull
from apps.datahub.states import Channel, PullState
from apps.datahub.tests.conftest import consent_for

pytestmark = pytest.mark.django_db


def ask(people, actor, enterprise=None, source="registry"):
    return services.pull_request(enterprise_id=(enterprise or people.firm).pk, source=source,
                                 purpose="pre_loan", actor=actor)


def paid_answer(people, source="registry"):
    paid = ask(people, people.am, source=source)
    assert services.pull_run(pull_id=paid.pk) == PullState.SUCCEEDED
    paid.refresh_from_db()
    return paid


def warm(actor):
    """What a request has read about its user before (permissions, roles)."""
    actor.has_perm("datahub.add_pull")
    actor.sees_all_branches  # noqa: B018


def test_the_hit_is_one_statement_and_writes_the_portable_paths_row(on_postgresql, hub, people):
    consent = consent_for(people.firm, people.am)
    paid = paid_answer(people)
    warm(people.lead)
    with CaptureQueriesContext(connection) as seen:
        hit = ask(people, people.lead)
    assert len(seen.captured_queries) == 1, [q["sql"] for q in seen.captured_queries]
    sql = seen.captured_queries[0]["sql"].upper()           # prepared: $1 … placeholders
    assert sql.lstrip().startswith("WITH RECURSIVE") and "RETURNING" in sql and "$1" in sql
    assert "FOR UPDATE" not in sql and "AUDIT_AUDITEVENT" not in sql
    stored = Pull.objects.get(pk=hit.pk)
    for pull in (hit, stored):
        assert (pull.channel, pull.state, pull.answered_by_id) == (
            Channel.CACHE, PullState.SUCCEEDED, paid.pk)
        assert (pull.price, pull.cost, pull.saved) == (Decimal("5"), 0, Decimal("5"))
        assert (pull.fetched_at, pull.format_version) == (paid.fetched_at, paid.format_version)
        assert (pull.consent_id, pull.branch_id, pull.requested_by_id) == (
            consent.pk, people.north.pk, people.lead.pk)
        assert pull.audit_pending and pull.changes == [] and pull.person_id is None
        assert pull.finished_at is not None and pull.query_id != paid.query_id
    assert hub.registry.calls == 1


def test_the_hit_without_preparing_is_the_same_one_statement(on_postgresql, hub, people,
                                                              settings):
    settings.DATAHUB_CACHE_HIT_PREPARED = False
    consent_for(people.firm, people.am)
    paid = paid_answer(people)
    warm(people.lead)
    with CaptureQueriesContext(connection) as seen:
        hit = ask(people, people.lead)
    assert len(seen.captured_queries) == 1
    sql = seen.captured_queries[0]["sql"].upper()
    assert sql.lstrip().startswith("WITH RECURSIVE") and "RETURNING" in sql
    assert "FOR UPDATE" not in sql and "AUDIT_AUDITEVENT" not in sql
    assert hit.channel == Channel.CACHE and hit.answered_by_id == paid.pk


def test_the_hit_refuses_without_consent(on_postgresql, hub, people):
    consent = consent_for(people.firm, people.am)
    paid_answer(people)
    consent.revoked_at = timezone.now()
    consent.save()
    with pytest.raises(services.ConsentRequired):
        ask(people, people.am)
    consent_for(people.firm, people.am, sources=["court"])    # another source's consent
    with pytest.raises(services.ConsentRequired):
        ask(people, people.am)
    assert not Pull.objects.filter(channel=Channel.CACHE).exists()


def test_the_hit_keeps_to_the_viewers_branches(on_postgresql, hub, people):
    from apps.parties.tests.factories import BranchFactory, make_user

    consent_for(people.firm, people.am)
    paid_answer(people)
    with pytest.raises(Http404):
        ask(people, people.south_am)
    sub = BranchFactory(code="hub-north-sub", parent=people.north)
    people.firm.branch = sub
    people.firm.save()
    sub_am = make_user("hub.am.sub", branch=sub, roles=["account_manager"])
    assert ask(people, people.am).channel == Channel.CACHE       # the branch above sees it
    assert ask(people, sub_am).channel == Channel.CACHE
    people.firm.branch = people.north
    people.firm.save()
    with pytest.raises(Http404):
        ask(people, sub_am)                                       # the sub-branch does not


def test_a_stale_answer_or_a_missing_price_is_not_a_hit(on_postgresql, hub, people):
    import datetime as dt

    from apps.investigations.models import PolicyValue

    consent_for(people.firm, people.am)
    paid = paid_answer(people)
    Pull.objects.filter(pk=paid.pk).update(fetched_at=timezone.now() - dt.timedelta(days=31))
    again = ask(people, people.am)
    assert again.channel == Channel.HTTP                          # asked again, paid
    assert services.pull_run(pull_id=again.pk) == PullState.SUCCEEDED
    PolicyValue.objects.filter(key="datahub.registry.price").delete()
    from apps.datahub.cache import cache_answer

    assert cache_answer(enterprise_id=people.firm.pk, source="registry", purpose="pre_loan",
                        actor=people.am, application_id=None) is None
