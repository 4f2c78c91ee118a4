"""The local stand-ins on the loopback (one pair per test session, reset per test), fast
policy values, and people of two branches."""

from decimal import Decimal
from types import SimpleNamespace

import pytest

from apps.datahub.testservers.base import LoopbackServer
from apps.datahub.testservers.bureau import BureauService
from apps.datahub.testservers.court import CourtService
from apps.datahub.testservers.registry import RegistryService
from apps.datahub.testservers.tax import TaxService, UtilityService

SOURCES = ("registry", "court", "tax", "utility", "bureau")


@pytest.fixture(scope="session")
def loopback():
    registry = LoopbackServer(RegistryService()).start()
    court = LoopbackServer(CourtService()).start()
    tax = LoopbackServer(TaxService()).start()
    utility = LoopbackServer(UtilityService()).start()
    bureau = LoopbackServer(BureauService()).start()
    yield SimpleNamespace(registry=registry.service, court=court.service, tax=tax.service,
                          utility=utility.service, bureau=bureau.service,
                          registry_url=registry.url, court_url=court.url, tax_url=tax.url,
                          utility_url=utility.url, bureau_url=bureau.url)
    for server in (registry, court, tax, utility, bureau):
        server.stop()


def set_policy(key: str, value) -> None:
    from apps.investigations.models import PolicyValue

    assert PolicyValue.objects.filter(key=key).update(value=Decimal(str(value))) == 1, key


@pytest.fixture
def hub(loopback, settings, db):
    """Servers reset, URLs pointed at them, policies seeded with short timeouts."""
    from apps.datahub.policy import seed_datahub_policies

    for name in SOURCES:
        getattr(loopback, name).reset()
        getattr(loopback, name).slow_seconds = 1.0
    settings.DATAHUB_SOURCE_URLS = {name: getattr(loopback, f"{name}_url") for name in SOURCES}
    seed_datahub_policies()
    for source in SOURCES:
        set_policy(f"datahub.{source}.timeout_seconds", "0.3")
    set_policy("datahub.http.backoff_seconds", "0.01")
    set_policy("datahub.http.backoff_max_seconds", "0.02")
    return loopback


@pytest.fixture
def people(db):
    from apps.parties.tests.factories import BranchFactory, EnterpriseFactory, make_user

    north, south = BranchFactory(code="hub-north"), BranchFactory(code="hub-south")
    return SimpleNamespace(
        north=north, south=south,
        am=make_user("hub.am", branch=north, roles=["account_manager"]),
        lead=make_user("hub.lead", branch=north, roles=["team_lead"]),
        south_am=make_user("hub.am.south", branch=south, roles=["account_manager"]),
        approver=make_user("hub.approver", branch=north, roles=["approver"]),
        auditor=make_user("hub.auditor", roles=["auditor"]),
        firm=EnterpriseFactory(branch=north), other=EnterpriseFactory(branch=north),
        south_firm=EnterpriseFactory(branch=south))


def consent_for(enterprise, actor, *, sources=("registry", "court"), purpose="pre_loan",
                days=30, person=None):
    import datetime as dt

    from django.utils import timezone

    from apps.datahub.services import consent_record

    today = timezone.localdate()
    return consent_record(enterprise_id=enterprise.pk, signed_by="王立", sources=list(sources),
                          purpose=purpose, valid_from=today,
                          valid_until=today + dt.timedelta(days=days),
                          document_reference="AUTH-2026-0001", actor=actor,
                          person_id=person.pk if person is not None else None)
