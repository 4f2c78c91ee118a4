"""The credit bureau: enterprise and person reports against its stand-in, each person with a
consent of their own, and W02 changes for the loans on the book."""

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from apps.datahub import services
from apps.datahub.changes import changes_between
from apps.datahub.connectors.base import NormalisedRecord as R
from apps.datahub.models import Pull, Record
from apps.datahub.tests.conftest import consent_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def guarantor(people):
    from apps.parties.models import Relationship, RelationshipKind
    from apps.parties.tests.factories import PersonFactory

    person = PersonFactory(name="周保")
    Relationship.objects.create(kind=RelationshipKind.GUARANTOR, from_person=person,
                                to_enterprise=people.firm)
    return person


def ask(people, *, person=None, actor=None):
    return services.pull_request(enterprise_id=people.firm.pk, source="bureau",
                                 purpose="pre_loan", actor=actor or people.am,
                                 person_id=person.pk if person else None)


def test_an_enterprise_report_is_read_into_records(hub, people):
    consent_for(people.firm, people.am, sources=["bureau"])
    pull = ask(people)
    assert services.pull_run(pull_id=pull.pk) == "succeeded"
    kinds = sorted(Record.objects.filter(pull=pull).values_list("kind", flat=True))
    assert kinds == ["guarantee", "loan", "query", "subject"]
    assert Pull.objects.get(pk=pull.pk).cost == 20 and hub.bureau.calls == 1


def test_a_persons_report_needs_the_persons_own_consent(hub, people, guarantor):
    consent_for(people.firm, people.am, sources=["bureau"])        # the enterprise's only
    with pytest.raises(services.ConsentRequired) as refused:
        ask(people, person=guarantor)
    assert "周保" in str(refused.value)
    consent_for(people.firm, people.am, sources=["bureau"], person=guarantor)
    pull = ask(people, person=guarantor)
    assert pull.person_id == guarantor.pk and pull.consent.person_id == guarantor.pk
    assert services.pull_run(pull_id=pull.pk) == "succeeded"
    # the ID number travels in the body, never in the URL
    [body] = hub.bureau.person_requests
    assert body["person"]["id_number"] == guarantor.resident_id
    record = Record.objects.get(pull=pull, kind="subject")
    assert record.person_id == guarantor.pk and record.data["kind"] == "person"
    # the enterprise's report and the person's are cached apart
    enterprise_pull = ask(people)
    assert enterprise_pull.channel == "http" and enterprise_pull.person_id is None
    again = ask(people, person=guarantor)
    assert again.channel == "cache" and again.answered_by_id == pull.pk


def test_only_persons_linked_to_the_enterprise_and_only_person_sources(hub, people):
    from apps.parties.tests.factories import PersonFactory

    stranger = PersonFactory()
    with pytest.raises(ValidationError) as refused:
        consent_for(people.firm, people.am, sources=["bureau"], person=stranger)
    assert "person" in refused.value.message_dict
    with pytest.raises(ValidationError):
        services.pull_request(enterprise_id=people.firm.pk, source="court",
                              purpose="pre_loan", actor=people.am, person_id=stranger.pk)


def test_a_malformed_report_names_the_field_and_stores_nothing(hub, people):
    consent_for(people.firm, people.am, sources=["bureau"])
    hub.bureau.mode = "malformed"
    pull = ask(people)
    assert services.pull_run(pull_id=pull.pk) == "failed"
    pull.refresh_from_db()
    assert pull.error_code == "malformed_answer" and pull.error_field == "report.loans.0.status"
    assert not Record.objects.exists()


def test_a_report_the_bureau_does_not_have_is_a_clear_failure(hub, people):
    consent_for(people.firm, people.am, sources=["bureau"])
    hub.bureau.unknown.add(people.firm.uscc)
    pull = ask(people)
    assert services.pull_run(pull_id=pull.pk) == "failed"
    assert Pull.objects.get(pk=pull.pk).error_code == "source_refused"


def test_w02_is_a_loan_newly_overdue_or_non_performing():
    def loan(status, dpd=0):
        return R("loan", "A1", {"status": status, "institution": "某银行", "balance": "1",
                                "dpd": dpd})

    assert changes_between("bureau", [loan("normal")], [loan("normal")]) == []
    [overdue] = changes_between("bureau", [loan("normal")], [loan("overdue", 35)])
    assert (overdue["code"], overdue["kind"], overdue["baseline"]) == ("W02", "overdue", "normal")
    [npa] = changes_between("bureau", [loan("overdue", 35)], [loan("npa", 120)],
                            subject="周保")
    assert npa["kind"] == "npa" and npa["observed"].startswith("周保: ")
    assert changes_between("bureau", [loan("npa")], [loan("npa")]) == []


def test_a_refresh_of_the_report_hands_w02_to_monitoring(hub, people):
    from apps.datahub import hooks
    from apps.datahub.refresh import refresh_due

    heard = []

    def listener(**kwargs):
        heard.append(kwargs)

    from apps.applications.tests.factories import World
    from apps.monitoring.tests.inspections.inspection_factories import make_loan

    loan = make_loan(World())
    consent_for(loan.enterprise, loan.application.account_manager, sources=["bureau"],
                purpose="post_loan")
    hooks.register_change_listener(listener)
    try:
        refresh_due()
        services.pull_run(pull_id=Pull.objects.get(source="bureau").pk)
        assert heard == []
        Pull.objects.update(fetched_at=timezone.now() - dt.timedelta(days=31))
        hub.bureau.add_loan(loan.enterprise.uscc, "OTHER-9", status="overdue", dpd=40)
        refresh_due()
        services.pull_run(pull_id=Pull.objects.get(source="bureau", state="requested").pk)
    finally:
        hooks.unregister_change_listener(listener)
    mine = [c for c in heard if c["loan_id"] == loan.pk]
    assert [(c["code"], c["kind"]) for c in mine] == [("W02", "overdue")]


def test_a_guarantors_consent_and_report_through_the_api(hub, people, guarantor):
    from apps.datahub.tests.test_api import client_for, consent_body

    api = client_for(people.am)
    body = {"enterprise": people.firm.pk, "source": "bureau", "purpose": "pre_loan",
            "person": guarantor.pk}
    refused = api.post("/api/v1/datahub/pulls/", body, format="json")
    assert refused.status_code == 409 and refused.json()["code"] == "consent_required"
    consent = api.post("/api/v1/datahub/consents/",
                       consent_body(people.firm, sources=["bureau"], person=guarantor.pk,
                                    signed_by="周保"), format="json")
    assert consent.status_code == 201 and consent.json()["person"] == guarantor.pk
    response = api.post("/api/v1/datahub/pulls/", body, format="json")
    assert response.status_code == 202 and response.json()["person"] == guarantor.pk
    wrong = api.post("/api/v1/datahub/consents/",
                     consent_body(people.firm, sources=["court"], person=guarantor.pk),
                     format="json")
    assert wrong.status_code == 400 and "sources" in wrong.json()["fields"]
