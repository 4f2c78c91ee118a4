"""Scheduled refreshes for loans on the book and the changes they hand to monitoring."""

import datetime as dt

import pytest
from django.utils import timezone

from apps.core.models import OutboxMessage
from apps.datahub import hooks, services
from apps.datahub.changes import changes_between
from apps.datahub.connectors.base import NormalisedRecord as R
from apps.datahub.models import Pull
from apps.datahub.refresh import refresh_due
from apps.datahub.tests.conftest import consent_for


def test_court_changes_are_new_listings_and_newly_open_cases():
    before = [R("enforcement", "a", {"status": "closed", "court": "c", "amount": "1"})]
    after = [R("enforcement", "a", {"status": "open", "court": "c", "amount": "1"}),
             R("dishonest", "d", {"court": "c", "listed_on": "2025-01-01"})]
    assert [(c["code"], c["kind"], c["key"]) for c in changes_between("court", before, after)] \
        == [("W10", "dishonest", "d"), ("W10", "enforcement", "a")]
    assert changes_between("court", after, after) == []


def test_registry_changes_need_a_baseline():
    reg = {"legal_representative": "王立"}
    before = [R("registration", "x", reg), R("shareholder", "王立", {"share": "1"})]
    after = [R("registration", "x", {"legal_representative": "赵六"}),
             R("shareholder", "赵六", {"share": "1"}),
             R("pledge", "2026-01-01/某银行", {"pledgee": "某银行", "registered_on": "2026-01-01"})]
    assert changes_between("registry", None, after) == []
    codes = [c["code"] for c in changes_between("registry", before, after)]
    assert codes == ["W12", "W12", "W11"]


@pytest.fixture
def loan(hub, db):
    from apps.applications.tests.factories import World
    from apps.monitoring.tests.inspections.inspection_factories import make_loan

    return make_loan(World())


@pytest.fixture
def heard():
    calls = []

    def listener(**kwargs):
        calls.append(kwargs)

    hooks.register_change_listener(listener)
    yield calls
    hooks.unregister_change_listener(listener)


@pytest.mark.django_db
def test_a_refresh_that_finds_a_new_court_case_raises_a_signal_input(hub, loan, heard):
    consent_for(loan.enterprise, loan.application.account_manager, purpose="post_loan")
    counts = refresh_due()
    assert counts["requested"] == 2                     # registry and court
    assert OutboxMessage.objects.filter(task_name="datahub.refresh_pull_run").count() == 2
    for pull in Pull.objects.all():
        services.pull_run(pull_id=pull.pk)
    assert heard == [] and refresh_due()["requested"] == 0   # answered within the interval
    Pull.objects.filter(source="court").update(
        fetched_at=timezone.now() - dt.timedelta(days=31))
    hub.court.add_dishonest(loan.enterprise.uscc, "(2026)浙01执9号")
    assert refresh_due()["requested"] == 1
    pull = Pull.objects.get(source="court", state="requested")
    assert pull.purpose == "post_loan" and pull.branch_id == loan.branch_id
    services.pull_run(pull_id=pull.pk)
    [call] = heard
    assert call["loan_id"] == loan.pk and call["code"] == "W10" and call["kind"] == "dishonest"
    assert "(2026)浙01执9号" in call["observed"] and str(pull.query_id) in call["source"]
    assert Pull.objects.get(pk=pull.pk).changes[0]["key"] == "(2026)浙01执9号"


@pytest.mark.django_db
def test_a_new_legal_representative_is_a_w12_input(hub, loan, heard):
    consent_for(loan.enterprise, loan.application.account_manager, purpose="post_loan",
                sources=["registry"])
    refresh_due()
    services.pull_run(pull_id=Pull.objects.get().pk)
    Pull.objects.update(fetched_at=timezone.now() - dt.timedelta(days=91))
    hub.registry.enterprises[loan.enterprise.uscc] = {"legal_representative": {"name": "赵六"}}
    refresh_due()
    services.pull_run(pull_id=Pull.objects.get(state="requested").pk)
    assert [c["code"] for c in heard] == ["W12"] and "赵六" in heard[0]["observed"]


@pytest.mark.django_db
def test_without_a_post_loan_consent_nothing_is_pulled(hub, loan):
    consent_for(loan.enterprise, loan.application.account_manager, purpose="pre_loan")
    assert refresh_due() == {"requested": 0, "cached": 0, "no_consent": 5, "budget_stop": 0}
    assert not Pull.objects.exists()


@pytest.mark.django_db
def test_a_failing_listener_does_not_lose_the_pull(hub, loan):
    def broken(**kwargs):
        raise RuntimeError("monitoring is down")

    hooks.register_change_listener(broken)
    try:
        consent_for(loan.enterprise, loan.application.account_manager, purpose="post_loan",
                    sources=["court"])
        hub.court.add_enforcement(loan.enterprise.uscc, "(2026)x")
        refresh_due()
        pull = Pull.objects.get()
        assert services.pull_run(pull_id=pull.pk) == "succeeded"
        assert Pull.objects.get(pk=pull.pk).changes[0]["code"] == "W10"
    finally:
        hooks.unregister_change_listener(broken)


def link(loan, kind, name):
    from apps.parties.models import Relationship
    from apps.parties.tests.factories import PersonFactory

    person = PersonFactory(name=name)
    Relationship.objects.create(kind=kind, from_person=person, to_enterprise=loan.enterprise)
    return person


@pytest.mark.django_db
def test_guarantors_and_the_legal_representative_are_refreshed_with_their_own_consent(
        hub, loan, heard):
    from apps.parties.models import RelationshipKind

    officer = loan.application.account_manager
    guarantor = link(loan, RelationshipKind.GUARANTOR, "周保")
    legal_rep = link(loan, RelationshipKind.LEGAL_REPRESENTATIVE, "钱法")
    shareholder_only = link(loan, RelationshipKind.ACTUAL_CONTROLLER, "孙控")
    consent_for(loan.enterprise, officer, purpose="post_loan", sources=["bureau"])
    consent_for(loan.enterprise, officer, purpose="post_loan", sources=["bureau"],
                person=guarantor)
    consent_for(loan.enterprise, officer, purpose="post_loan", sources=["bureau"],
                person=shareholder_only)
    counts = refresh_due()
    # the enterprise's report and the guarantor's; registry, court, tax, utility and the legal
    # representative have no consent, the controller is not refreshed on the schedule
    assert counts == {"requested": 2, "cached": 0, "no_consent": 5, "budget_stop": 0}
    person_pull = Pull.objects.get(person__isnull=False)
    assert (person_pull.person_id, person_pull.source, person_pull.purpose) == (
        guarantor.pk, "bureau", "post_loan")
    assert person_pull.branch_id == loan.branch_id and person_pull.requested_by is None
    assert OutboxMessage.objects.filter(task_name="datahub.refresh_pull_run").count() == 2
    assert not Pull.objects.filter(person__in=[legal_rep, shareholder_only]).exists()
    for pull in Pull.objects.all():
        services.pull_run(pull_id=pull.pk)
    heard.clear()
    assert refresh_due()["requested"] == 0                          # answered within 30 days
    # past the person's interval (policy), asked again; a new overdue is the loan's W02
    Pull.objects.filter(person=guarantor).update(
        fetched_at=timezone.now() - dt.timedelta(days=31))
    hub.bureau.add_loan(guarantor.resident_id, "L-9", status="overdue", dpd=40)
    refresh_due()
    again = Pull.objects.get(person=guarantor, state="requested")
    services.pull_run(pull_id=again.pk)
    assert [c["code"] for c in heard] == ["W02"] and "周保" in heard[0]["observed"]


@pytest.mark.django_db
def test_without_the_person_refresh_policy_persons_are_not_refreshed(hub, loan):
    from apps.investigations.models import PolicyValue
    from apps.parties.models import RelationshipKind

    officer = loan.application.account_manager
    guarantor = link(loan, RelationshipKind.GUARANTOR, "周保")
    consent_for(loan.enterprise, officer, purpose="post_loan", sources=["bureau"],
                person=guarantor)
    PolicyValue.objects.filter(key="datahub.bureau.person_refresh_days").delete()
    refresh_due()
    assert not Pull.objects.filter(person=guarantor).exists()
