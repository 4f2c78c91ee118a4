"""The quality half of the officer scorecard (§4.5) against a hand-computed set of files: one
officer who led two investigations, one loan now non-performing, one issue caught before
lending and one found only later, a re-verification mismatch, and exemption tiers."""

import datetime as dt
from decimal import Decimal

from django.urls import reverse
from django.utils import timezone

from apps.insight.officer_quality import officer_quality
from apps.insight.tests.helpers import run, score
from apps.insight.tests.test_notifications import _signal
from apps.investigations.models import Investigation, ReVerification
from apps.investigations.seed import seed_builtin_templates
from apps.oversight.exemption_models import ExemptionCase, ExemptionPerson

NOW = timezone.now()


def _investigation(world, loan, flags, lead="am.north", assisting="postloan.north"):
    return Investigation.objects.create(
        application=loan.application, template=seed_builtin_templates()[0],
        lead_officer=world.user(lead), assisting_officer=world.user(assisting),
        state="accepted", submitted_at=NOW - dt.timedelta(days=420), red_flags=flags)


def _reverified(investigation, outcome, who):
    return ReVerification.objects.create(
        investigation=investigation, assigned_to=who, state="done", sample_rate=Decimal("0.05"),
        draw=Decimal("0.01"), outcome=outcome, completed_at=NOW)


def _exemption(world, loan, user, tier, appeal=""):
    case = ExemptionCase.objects.create(
        loan=loan, application=loan.application, branch=loan.branch, incident="non_performing",
        deadline_at=NOW + dt.timedelta(days=300), deadline_policy_version=1,
        handled_on=loan.value_date)
    ExemptionPerson.objects.create(case=case, user=user, tier=tier, appeal_outcome=appeal)


def test_quality_metrics_by_investigating_officer(world, client):
    bad = world.loan(dpd=95)
    good = world.loan()
    score(bad.application, grade="B", probability=0.10)
    score(good.application, grade="A", probability=0.30)
    caught = _investigation(world, bad, [
        {"kind": "control", "code": "PHOTO_OFF_SITE", "severity": "R2", "message_en": "x"}])
    quiet = _investigation(world, good, [
        {"kind": "control", "code": "NARRATIVE_COPIED", "severity": "R1", "message_en": "y"}])
    run(timezone.localdate())  # classifies the 95-days-late loan substandard
    _signal(good, 3)  # found only after lending, on a file with no serious flag
    lead = world.user("lead.north")
    _reverified(caught, "discrepancies", lead)
    _reverified(quiet, "confirmed", lead)
    am = world.user("am.north")
    _exemption(world, bad, am, "none", appeal="reduced")  # the appeal lightened it
    _exemption(world, good, am, "full")

    chart = officer_quality(viewer=lead, everyone=True)
    rows = {r["label"]: r for r in chart.rows}
    am_row = rows["am.north"]
    assert (am_row["loans"], am_row["defaulted"]) == (2, 1)
    assert am_row["default_rate"] == Decimal("0.5")
    assert am_row["expected_pd"] == Decimal("0.2")
    assert am_row["vs_expected"] == Decimal("2.50")
    assert am_row["early_detection"] == Decimal("0.5")  # 1 caught, 1 found later
    assert am_row["photo_geo_ok"] == Decimal("0.5")
    assert am_row["copied"] == Decimal("0.5")
    assert (am_row["reverified"], am_row["mismatch_rate"]) == (2, Decimal("0.5"))
    assert am_row["exemptions"] == "1 / 1 / 0"
    # The assisting officer shares the re-verification outcome.
    assert rows["postloan.north"]["mismatch_rate"] == Decimal("0.5")

    own = officer_quality(viewer=world.user("postloan.north"), everyone=False)
    assert [r["label"] for r in own.rows] == ["postloan.north"]
    south = officer_quality(viewer=world.user("lead.south"), everyone=True)
    assert south.rows == []

    client.force_login(lead)
    page = client.get(reverse("insight:officers"))
    assert page.status_code == 200 and "section-officer_quality" in page.content.decode()
    csv = client.get(reverse("insight:officers-export", args=["officer_quality", "csv"]))
    assert "am.north" in csv.content.decode("utf-8-sig")


def test_a_requested_re_verification_is_no_random_sample(world):
    """A team lead asks for a re-verification where something already looked wrong: its outcome
    says nothing of the officer's random mismatch rate, which counts the random draws only."""
    investigation = _investigation(world, world.loan(), [])
    lead = world.user("lead.north")
    ReVerification.objects.create(
        investigation=investigation, assigned_to=lead, state="done", requested_by=lead,
        reason="The stock photographed looks like another shop's.", outcome="discrepancies",
        completed_at=NOW)
    rows = {r["label"]: r for r in officer_quality(viewer=lead, everyone=True).rows}
    assert "reverified" not in rows.get("am.north", {})
    assert rows.get("am.north", {}).get("mismatch_rate") is None
