"""Fixtures for the controls: an application under investigation, its two officers, and
answer helpers that speak JSON the way the form does."""

import datetime as dt
from decimal import Decimal

import pytest

from apps.applications import services as app_services
from apps.investigations import workflow
from apps.investigations.evidence import evidence_source, register_evidence_source
from apps.investigations.seed import seed_builtin_templates

from .helpers import SITE, FakeSource


def as_json(value):
    """Answers as the form sends them: numbers and dates as text."""
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, (int, Decimal)):
        return str(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


@pytest.fixture
def people(world):
    return {name: world.user(f"{name}.north")
            for name in ("am", "assistant", "lead", "reviewer", "approver")}


def start_investigation(world, people, *, enterprise=None):
    seed_builtin_templates()
    draft = world.draft(enterprise=enterprise) if enterprise else world.draft()
    app_services.application_submit(application_id=draft.pk, actor=people["am"])
    app_services.application_start_investigation(application_id=draft.pk, actor=people["am"])
    investigation = workflow.investigation_assign(
        application_id=draft.pk, lead_officer=people["am"],
        assisting_officer=people["assistant"], actor=people["am"])
    return workflow.investigation_start(investigation_id=investigation.pk, actor=people["am"])


@pytest.fixture
def sited(world):
    """An enterprise whose operating address has coordinates (the geofence's centre)."""
    return world.enterprise(operating_lat=SITE[0], operating_lng=SITE[1])


@pytest.fixture
def started(world, people, sited):
    return start_investigation(world, people, enterprise=sited)


@pytest.fixture
def fake_source():
    """A fake EvidenceSource registered for the test, the real one restored after."""
    previous = evidence_source()
    source = FakeSource()
    register_evidence_source(source)
    yield source
    register_evidence_source(previous)


def save(investigation, user, code, value, **kw):
    return workflow.answer_save(investigation_id=investigation.pk, item_code=code,
                                value=as_json(value), actor=user, **kw)


def visit(investigation, people, *, minutes=75, at=SITE):
    """Both officers check in and out at `at`, `minutes` apart (times set in the past)."""
    from apps.investigations.models import SiteCheckIn

    for officer in (people["am"], people["assistant"]):
        workflow.site_check_in(investigation_id=investigation.pk, officer=officer,
                               lat=at[0], lng=at[1], accuracy_m=8)
        workflow.site_check_out(investigation_id=investigation.pk, officer=officer,
                                lat=at[0], lng=at[1])
    rows = SiteCheckIn.objects.filter(investigation=investigation)
    end = max(r.checked_out_at for r in rows)
    rows.update(at=end - dt.timedelta(minutes=minutes))


@pytest.fixture
def docs_world(world):
    """The world with the documents app's seed (types, policy) and its evidence source."""
    from apps.documents.seed import seed_documents

    seed_documents(with_requirements=False)
    return world
