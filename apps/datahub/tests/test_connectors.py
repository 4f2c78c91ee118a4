"""The connectors against the loopback stand-ins: no mock of the HTTP layer."""

import pytest

from apps.datahub.connectors import connector_for
from apps.datahub.connectors.base import (
    HttpTransport,
    MalformedAnswer,
    SourceRefused,
    SourceUnavailable,
    Subject,
    TransportLimits,
)
from apps.parties.tests.factories import make_uscc

LIMITS = TransportLimits(timeout=0.3, max_attempts=3, backoff=0.01, backoff_max=0.02)


@pytest.fixture
def servers(loopback):
    for name in ("registry", "court", "tax", "utility"):
        getattr(loopback, name).reset()
        getattr(loopback, name).slow_seconds = 1.0
    return loopback


def ask(servers, source, uscc, limits=LIMITS):
    url = getattr(servers, f"{source}_url")
    transport = HttpTransport(url, limits)
    try:
        return connector_for(source).query(Subject(uscc, "测试企业"), query_id="q-1",
                                           transport=transport)
    finally:
        transport.session.close()


def test_registry_answer_is_normalised_with_the_raw_answer_and_version(servers):
    uscc = make_uscc()
    answer = ask(servers, "registry", uscc)
    kinds = sorted(r.kind for r in answer.records)
    assert kinds == ["change", "registration", "shareholder", "shareholder"]
    registration = next(r for r in answer.records if r.kind == "registration")
    assert registration.data["legal_representative"] == "王立"
    assert registration.data["registered_capital"] == "1000000.00"
    assert answer.format_version == "registry/1"
    assert f'"uscc": "{uscc}"' in answer.body and answer.attempts == 1
    assert servers.registry.request_ids == ["q-1"]   # the query id travels with the request


def test_court_answer_lists_enforcements_and_dishonest_listings(servers):
    uscc = make_uscc()
    servers.court.add_enforcement(uscc, "(2025)浙0106执123号")
    servers.court.add_dishonest(uscc, "(2025)浙01执456号")
    records = ask(servers, "court", uscc).records
    assert {(r.kind, r.key) for r in records} == {("enforcement", "(2025)浙0106执123号"),
                                                  ("dishonest", "(2025)浙01执456号")}


def test_a_slow_answer_times_out_on_every_attempt(servers):
    servers.registry.mode = "slow"
    with pytest.raises(SourceUnavailable) as caught:
        ask(servers, "registry", make_uscc())
    assert "no answer within 0.3 s" in caught.value.detail and caught.value.attempts == 3


def test_server_errors_are_retried_then_given_up(servers):
    servers.court.mode = "error"
    with pytest.raises(SourceUnavailable) as caught:
        ask(servers, "court", make_uscc())
    assert servers.court.calls == 3 and "HTTP 503" in caught.value.detail


def test_a_passing_error_is_retried_and_answered(servers):
    servers.court.mode, servers.court.fail_first = "flaky", 1
    answer = ask(servers, "court", make_uscc())
    assert answer.attempts == 2 and servers.court.calls == 2


def test_a_refusal_is_not_retried(servers):
    uscc = make_uscc()
    servers.registry.unknown.add(uscc)
    with pytest.raises(SourceRefused):
        ask(servers, "registry", uscc)
    assert servers.registry.calls == 1


@pytest.mark.parametrize(("source", "field"), [
    ("registry", "enterprise.legal_representative"),
    ("court", "result.enforcements"),
    ("tax", "taxpayer.months.3.tax_paid"),
    ("utility", "readings.0.month"),
])
def test_a_malformed_answer_is_refused_naming_the_field(servers, source, field):
    getattr(servers, source).mode = "malformed"
    with pytest.raises(MalformedAnswer) as caught:
        ask(servers, source, make_uscc())
    assert caught.value.field == field and caught.value.body


def test_an_unknown_format_version_is_refused():
    with pytest.raises(MalformedAnswer) as caught:
        connector_for("court").parse({"version": "court/3", "result": {}})
    assert caught.value.field == "version"


def test_nested_fields_are_named_with_their_index():
    payload = {"version": "court/2", "result": {"enforcements": [
        {"case_no": "a", "court": "c", "filed_on": "2025-01-01", "amount": "1", "status": "open"},
        {"case_no": "b", "court": "c", "filed_on": "2025-13-01", "amount": "1",
         "status": "open"}], "dishonest": []}}
    with pytest.raises(MalformedAnswer) as caught:
        connector_for("court").parse(payload)
    assert caught.value.field == "result.enforcements.1.filed_on"


def test_tax_and_utility_answers_are_monthly_records(servers):
    servers.tax.rating = "B"
    tax = ask(servers, "tax", make_uscc())
    assert tax.format_version == "tax/1" and tax.records[0].data == {"credit_rating": "B"}
    months = [r for r in tax.records if r.kind == "month"]
    assert len(months) == 12 and months[0].data["tax_paid"] == "7500.00"
    utility = ask(servers, "utility", make_uscc())
    assert utility.format_version == "utility/1" and len(utility.records) == 12
    assert utility.records[0].data == {"month": "2025-01", "kwh": "12000.0",
                                       "water_m3": "310.0"}
