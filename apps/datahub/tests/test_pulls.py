"""Requesting and running pulls: consent, cache, budget, idempotency, failures, breaker."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.utils import timezone

from apps.audit.models import AuditEvent
from apps.core.models import OutboxMessage
from apps.datahub import services
from apps.datahub.models import Pull, Record
from apps.datahub.states import Channel, PullState
from apps.datahub.tests.conftest import consent_for, set_policy

pytestmark = pytest.mark.django_db


def request(people, source="court", enterprise=None, actor=None):
    return services.pull_request(enterprise_id=(enterprise or people.firm).pk, source=source,
                                 purpose="pre_loan", actor=actor or people.am)


def test_a_pull_is_queued_through_the_outbox_then_run_with_provenance(hub, people):
    consent_for(people.firm, people.am)
    hub.court.add_dishonest(people.firm.uscc, "(2025)浙01执456号")
    pull = request(people)
    assert pull.state == PullState.REQUESTED and pull.channel == Channel.HTTP
    message = OutboxMessage.objects.get(task_name="datahub.pull_run")
    assert message.kwargs == {"pull_id": pull.pk}
    assert services.pull_run(pull_id=pull.pk) == PullState.SUCCEEDED
    pull.refresh_from_db()
    assert pull.cost == Decimal("3") and pull.saved == 0 and pull.format_version == "court/2"
    assert '"dishonest"' in pull.raw_body and pull.attempts == 1
    record = Record.objects.get(pull=pull)
    assert record.provenance == {"source": "court", "query_id": str(pull.query_id),
                                 "fetched_at": pull.fetched_at.isoformat(),
                                 "format_version": "court/2", "pull_id": pull.pk}
    assert hub.court.request_ids == [str(pull.query_id)]
    assert AuditEvent.objects.filter(action="datahub.pull_succeeded",
                                     branch_id=people.north.pk).exists()


def test_without_consent_the_pull_is_refused_and_nothing_is_queued(hub, people):
    with pytest.raises(services.ConsentRequired) as caught:
        request(people)
    assert caught.value.fields == {"consent": ["missing or expired"]}
    consent_for(people.firm, people.am, sources=["registry"])   # another source only
    with pytest.raises(services.ConsentRequired):
        request(people, source="court")
    consent_for(people.firm, people.am, purpose="post_loan")   # another purpose only
    with pytest.raises(services.ConsentRequired):
        request(people, source="court")
    assert not Pull.objects.exists() and not OutboxMessage.objects.exists()
    assert hub.court.calls == 0


def test_an_expired_consent_does_not_count(hub, people):
    consent = consent_for(people.firm, people.am)
    consent.valid_until = consent.valid_from = timezone.localdate() - dt.timedelta(days=1)
    consent.save()
    with pytest.raises(services.ConsentRequired):
        request(people)


def test_a_repeat_inside_the_freshness_window_is_answered_free_from_the_cache(hub, people):
    consent_for(people.firm, people.am)
    paid = request(people, source="registry")
    services.pull_run(pull_id=paid.pk)
    again = request(people, source="registry", actor=people.lead)
    assert again.pk != paid.pk and again.channel == Channel.CACHE
    assert again.state == PullState.SUCCEEDED and again.answered_by_id == paid.pk
    assert again.cost == 0 and again.saved == Decimal("5")
    assert hub.registry.calls == 1                       # no second paid query
    assert OutboxMessage.objects.count() == 1            # nothing queued for the cache answer


def test_a_cache_answer_takes_no_lock_and_is_audited_by_the_sweep(hub, people):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from apps.audit.models import AuditEvent
    from apps.datahub.cache import audit_lag, cache_hits_audit

    consent_for(people.firm, people.am)
    paid = request(people, source="registry")
    services.pull_run(pull_id=paid.pk)
    with CaptureQueriesContext(connection) as seen:
        again = request(people, source="registry", actor=people.lead)
    sql = " ".join(q["sql"] for q in seen.captured_queries).upper()
    assert "FOR UPDATE" not in sql and "AUDIT_AUDITEVENT" not in sql
    assert again.channel == Channel.CACHE and again.audit_pending
    assert not AuditEvent.objects.filter(action="datahub.pull_answered_from_cache").exists()
    assert audit_lag() is not None
    assert cache_hits_audit() == 1 and cache_hits_audit() == 0     # once, never twice
    event = AuditEvent.objects.get(action="datahub.pull_answered_from_cache")
    assert event.actor_id == people.lead.pk and event.subject_id == str(again.pk)
    assert (event.branch_id, event.enterprise_id) == (people.north.pk, people.firm.pk)
    assert event.payload["answered_by"] == paid.pk and event.payload["saved"] == "5.00"
    assert event.payload["recorded_later"] is True and audit_lag() is None
    assert not Pull.objects.get(pk=again.pk).audit_pending


def test_the_cache_path_refuses_nothing_itself(hub, people):
    """Without a consent the read-only path steps aside and the locking path refuses."""
    consent = consent_for(people.firm, people.am)
    paid = request(people, source="registry")
    services.pull_run(pull_id=paid.pk)
    consent.revoked_at = timezone.now()
    consent.save()
    with pytest.raises(services.ConsentRequired):
        request(people, source="registry")


def test_after_the_window_the_source_is_asked_again(hub, people):
    consent_for(people.firm, people.am)
    paid = request(people, source="court")
    services.pull_run(pull_id=paid.pk)
    Pull.objects.filter(pk=paid.pk).update(
        fetched_at=timezone.now() - dt.timedelta(hours=169))
    fresh = request(people, source="court")
    assert fresh.channel == Channel.HTTP and fresh.pk != paid.pk


def test_a_second_request_while_one_is_in_flight_gets_the_same_pull(hub, people):
    consent_for(people.firm, people.am)
    first = request(people)
    assert request(people, actor=people.lead).pk == first.pk
    assert Pull.objects.count() == 1 and OutboxMessage.objects.count() == 1


def test_a_slow_source_ends_failed_after_its_attempts_and_costs_nothing(hub, people):
    consent_for(people.firm, people.am)
    hub.court.mode = "slow"
    pull = request(people)
    assert services.pull_run(pull_id=pull.pk) == PullState.FAILED
    pull.refresh_from_db()
    assert pull.error_code == "source_unavailable" and "no answer within" in pull.error_detail
    assert pull.attempts == 3 and pull.cost == 0 and not pull.records.exists()


def test_errors_are_retried_then_the_pull_is_failed_visibly(hub, people):
    consent_for(people.firm, people.am)
    hub.court.mode = "error"
    pull = request(people)
    services.pull_run(pull_id=pull.pk)
    pull.refresh_from_db()
    assert hub.court.calls == 3 and pull.state == PullState.FAILED
    assert AuditEvent.objects.filter(action="datahub.pull_failed").exists()
    # A failed pull holds no budget and does not block a new request.
    assert services.branch_spent(branch_id=people.north.pk, now=timezone.now()) == 0
    hub.court.mode = "normal"
    assert request(people).pk != pull.pk


def test_a_malformed_answer_fails_naming_the_field_and_stores_no_record(hub, people):
    consent_for(people.firm, people.am)
    hub.registry.mode = "malformed"
    pull = request(people, source="registry")
    services.pull_run(pull_id=pull.pk)
    pull.refresh_from_db()
    assert pull.state == PullState.FAILED and pull.error_code == "malformed_answer"
    assert pull.error_field == "enterprise.legal_representative"
    assert not Record.objects.exists() and pull.cost == 0
    # and a failed pull is never served from the cache
    hub.registry.mode = "normal"
    assert request(people, source="registry").channel == Channel.HTTP


def test_the_budget_warns_then_stops(hub, people):
    set_policy("datahub.budget.monthly", "8")          # registry 5 + court 3 = 8
    set_policy("datahub.budget.warning_share", "0.5")
    for firm in (people.firm, people.other):
        consent_for(firm, people.am)
    first = request(people, source="registry")
    assert first.budget_warning                       # 5 of 8 ≥ 50 %
    second = request(people, source="court")         # exactly the budget: allowed
    services.pull_run(pull_id=second.pk)
    with pytest.raises(services.BudgetExhausted) as caught:
        request(people, source="court", enterprise=people.other)
    assert caught.value.status_code == 409 and caught.value.code == "budget_exhausted"
    assert Pull.objects.count() == 2
    # a cache answer costs nothing, so it is still given past the hard stop
    assert request(people, source="court").channel == Channel.CACHE


def test_the_budget_is_per_month_last_months_spending_does_not_count(hub, people):
    set_policy("datahub.budget.monthly", "5")
    for firm in (people.firm, people.other):
        consent_for(firm, people.am)
    paid = request(people, source="registry")          # 5 of 5
    assert services.pull_run(pull_id=paid.pk) == PullState.SUCCEEDED
    with pytest.raises(services.BudgetExhausted):
        request(people, source="court", enterprise=people.other)
    # The same spending made last month leaves this month's budget whole.
    Pull.objects.filter(pk=paid.pk).update(
        created_at=services.month_start(timezone.now()) - dt.timedelta(seconds=1))
    fresh = request(people, source="court", enterprise=people.other)
    assert (fresh.channel, fresh.state) == (Channel.HTTP, PullState.REQUESTED)
    assert services.branch_spent(branch_id=people.north.pk, now=timezone.now()) == Decimal("3")


def test_a_branch_budget_overrides_the_bank_wide_one(hub, people):
    from apps.investigations.models import PolicyValue

    PolicyValue.objects.create(key=f"datahub.budget.monthly.{people.north.code}",
                               value=Decimal("4"), effective_from=dt.date(2024, 1, 1))
    consent_for(people.firm, people.am)
    with pytest.raises(services.BudgetExhausted):
        request(people, source="registry")            # 5 > 4


def test_the_breaker_opens_after_repeated_failures_and_sends_nothing(hub, people):
    set_policy("datahub.breaker.failure_threshold", "2")
    hub.court.mode = "error"
    pulls = []
    for firm in (people.firm, people.other, people.south_firm):
        consent_for(firm, people.south_am if firm == people.south_firm else people.am)
    for firm, actor in ((people.firm, people.am), (people.other, people.am),
                        (people.south_firm, people.south_am)):
        pulls.append(request(people, enterprise=firm, actor=actor))
    services.pull_run(pull_id=pulls[0].pk)
    services.pull_run(pull_id=pulls[1].pk)
    calls = hub.court.calls
    assert services.pull_run(pull_id=pulls[2].pk) == PullState.FAILED
    assert hub.court.calls == calls                    # refused without a query
    assert Pull.objects.get(pk=pulls[2].pk).error_code == "circuit_open"


def test_the_breaker_lets_one_through_when_the_time_is_up_and_closes_on_success(hub, people):
    from apps.datahub.models import SourceCircuit

    SourceCircuit.objects.create(source="court", failures=9,
                                 opened_until=timezone.now() - dt.timedelta(seconds=1))
    consent_for(people.firm, people.am)
    pull = request(people)
    assert services.pull_run(pull_id=pull.pk) == PullState.SUCCEEDED
    assert SourceCircuit.objects.get(source="court").failures == 0


def test_running_a_pull_twice_queries_once(hub, people):
    consent_for(people.firm, people.am)
    pull = request(people)
    services.pull_run(pull_id=pull.pk)
    services.pull_run(pull_id=pull.pk)   # a redelivery
    assert hub.court.calls == 1 and Record.objects.filter(pull=pull).count() == 0
    assert Pull.objects.get(pk=pull.pk).state == PullState.SUCCEEDED


def test_a_pull_held_by_a_live_worker_is_left_alone_and_a_dead_ones_is_taken_over(hub, people):
    consent_for(people.firm, people.am)
    pull = request(people)
    pull.start(until=timezone.now() + dt.timedelta(minutes=5))
    pull.save()
    assert services.pull_run(pull_id=pull.pk) == PullState.RUNNING and hub.court.calls == 0
    Pull.objects.filter(pk=pull.pk).update(claimed_until=timezone.now() - dt.timedelta(seconds=1))
    assert services.pull_run(pull_id=pull.pk) == PullState.SUCCEEDED and hub.court.calls == 1


def test_another_branchs_enterprise_is_not_found_and_roles_without_the_right_are_refused(
        hub, people):
    consent_for(people.south_firm, people.south_am)
    with pytest.raises(Http404):
        request(people, enterprise=people.south_firm, actor=people.am)
    with pytest.raises(PermissionDenied):
        request(people, actor=people.approver)
    assert request(people, enterprise=people.south_firm, actor=people.south_am).branch_id \
        == people.south.pk


def test_tax_and_utility_pulls_store_their_months_and_cost_their_price(hub, people):
    consent_for(people.firm, people.am, sources=["tax", "utility"])
    for source, price in (("tax", Decimal("4")), ("utility", Decimal("2"))):
        pull = request(people, source=source)
        assert services.pull_run(pull_id=pull.pk) == PullState.SUCCEEDED
        pull.refresh_from_db()
        assert pull.cost == price
        assert pull.records.filter(kind="month").count() == 12


def test_a_redelivery_during_a_live_claim_looks_again_when_the_claim_runs_out(hub, people):
    consent_for(people.firm, people.am)
    pull = request(people)
    now = timezone.now()
    assert services.claim_wait(pull_id=pull.pk) is None          # requested: nothing held
    pull.start(until=now + dt.timedelta(seconds=30))
    pull.save()
    assert 30 <= services.claim_wait(pull_id=pull.pk, now=now) <= 31
    services.pull_run(pull_id=pull.pk)                            # held: left alone
    Pull.objects.filter(pk=pull.pk).update(claimed_until=now - dt.timedelta(seconds=1))
    services.pull_run(pull_id=pull.pk)                            # expired: taken over
    assert services.claim_wait(pull_id=pull.pk) is None
