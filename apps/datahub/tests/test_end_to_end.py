"""Issue #21's end-to-end line in one file: an investigation pulls registry and court data; the
court hit is a finding of the investigation with its provenance; the application goes on to a
loan, and a later court refresh raises W10 on that active loan."""

import datetime as dt

import pytest
from django.utils import timezone

from apps.applications.tests.factories import World
from apps.datahub import services
from apps.datahub.models import Pull
from apps.datahub.refresh import refresh_due
from apps.datahub.tests.conftest import consent_for
from apps.investigations.models import Investigation

pytestmark = pytest.mark.django_db


def _book(application):
    from django.contrib.auth import get_user_model

    from apps.approvals.demo import satisfy_conditions
    from apps.loans.demo import _tranche
    from apps.loans.seed import seed_loan_policy
    from apps.loans.services.contracts import contract_create

    users = get_user_model().objects
    seed_loan_policy()
    maker, checker = users.get(username="ops.north"), users.get(username="ops2.north")
    satisfy_conditions(application, users.get(username="postloan.north"))
    contract = contract_create(
        application_id=application.pk,
        actor=maker,
        signing_mode="in_person",
        signing_place="north",
        signing_witness=checker,
    )
    return _tranche(contract, contract.amount, maker, checker, timezone.localdate())


def test_investigation_pulls_then_a_later_refresh_raises_a_signal_on_the_loan(hub):
    from apps.demo.lifecycle import walk_to_state
    from apps.loans.models import Loan
    from apps.monitoring.models import Signal
    from apps.monitoring.seed import seed_monitoring

    world = World()
    seed_monitoring()
    manager = world.user("am.north")
    application = world.draft()
    enterprise = application.enterprise
    consent_for(enterprise, manager, sources=["registry", "court"])
    hub.court.add_enforcement(enterprise.uscc, "(2025)浙0106执123号", status="open")
    pulls = {}
    for source in ("registry", "court"):
        pull = services.pull_request(
            enterprise_id=enterprise.pk,
            source=source,
            purpose="pre_loan",
            actor=manager,
            application_id=application.pk,
        )
        assert services.pull_run(pull_id=pull.pk) == "succeeded", source
        pulls[source] = pull

    # The demo walk runs the investigation to acceptance, then review and approval.
    application = walk_to_state(application, "approved", branch_code="north")
    findings = Investigation.objects.get(application=application).cross_check_findings
    [court] = [f for f in findings if f["code"] == "COURT_ENFORCEMENT"]
    assert "(2025)浙0106执123号" in court["message_en"]
    provenance = court["inputs"]["provenance"]
    assert (provenance["source"], provenance["query_id"], provenance["pull_id"]) == (
        "court",
        str(pulls["court"].query_id),
        pulls["court"].pk,
    )

    # The bank contracts and pays out as the demo book does: the loan is on the book.
    loan = _book(application)
    assert Loan.objects.get(application=application) == loan
    # The enterprise consents to post-loan monitoring.
    consent_for(enterprise, manager, sources=["court"], purpose="post_loan", days=365)
    # A month on, the court lists the enterprise as a dishonest debtor.
    Pull.objects.update(fetched_at=timezone.now() - dt.timedelta(days=31))
    hub.court.add_dishonest(enterprise.uscc, "(2026)浙01执77号")
    refresh_due()
    [refresh] = Pull.objects.filter(state="requested", purpose="post_loan")
    assert services.pull_run(pull_id=refresh.pk) == "succeeded"
    signal = Signal.objects.get(loan=loan, code="W10")
    assert signal.level == 3 and "(2026)浙01执77号" in signal.observed
    assert str(refresh.query_id) in signal.source
