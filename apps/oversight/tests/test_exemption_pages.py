"""Exemption pages and API: scoping (403/404), forms with errors next to fields, the
dashboard's ratios, idempotent commands and the PDF of the frozen pack."""

import uuid
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse
from pypdf import PdfReader
from rest_framework.test import APIClient

from apps.loans.states import LoanState
from apps.oversight import exemption_services as svc
from apps.oversight.exemption_models import ExemptionCase
from apps.oversight.exemption_states import ExemptionCaseState as S
from apps.oversight.exemption_states import Tier
from apps.oversight.tests.exemption_factories import (
    committee_member,
    make_loan,
    plain_application,
)

pytestmark = pytest.mark.django_db


def _page(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _api(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.fixture
def case(world):
    loan = make_loan(world, dpd=120)
    return svc.exemption_case_open(loan_id=loan.pk, incident="non_performing",
                                   actor=committee_member(world))


def test_list_and_case_pages_scope_by_role(world, case):
    auditor, chair = world.user("auditor.south"), committee_member(world)
    for user in (auditor, chair, world.user("postloan.north")):
        response = _page(user).get(reverse("oversight:exemptions"))
        assert response.status_code == 200 and case.loan.loan_number in response.content.decode()
        assert _page(user).get(reverse("oversight:exemption", args=[case.pk])).status_code == 200
    outsider = world.user("am.south")
    assert case.loan.loan_number not in _page(outsider).get(
        reverse("oversight:exemptions")).content.decode()
    assert _page(outsider).get(reverse("oversight:exemption", args=[case.pk])).status_code == 404
    assert _page(outsider).get(reverse("oversight:exemption-dashboard")).status_code == 403
    # Auditors read, never decide.
    response = _page(auditor).post(reverse("oversight:exemption-command",
                                           args=[case.pk, "start-review"]))
    assert response.status_code == 403


def test_decision_form_shows_errors_next_to_fields_then_decides(world, case):
    chair = committee_member(world)
    client = _page(chair)
    client.post(reverse("oversight:exemption-command", args=[case.pk, "start-review"]))
    page = client.get(reverse("oversight:exemption", args=[case.pk])).content.decode()
    assert "Record the committee" in page
    response = client.post(reverse("oversight:exemption-command", args=[case.pk, "decide"]),
                           {"summary": "ok"})
    assert response.status_code == 400
    body = response.content.decode()
    assert "Choose a tier for this person." in body and "at least 5 characters" in body
    posted = {"summary": "The committee met on the case"}
    for person in case.people.all():
        posted[f"tier_{person.pk}"] = Tier.REDUCED
        posted[f"reason_{person.pk}"] = "Minor gaps in the file"
    response = client.post(reverse("oversight:exemption-command", args=[case.pk, "decide"]),
                           posted)
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.state == S.DECIDED
    # The person under review sees the appeal form on their own case, in Chinese too.
    officer = _page(world.user("postloan.north"))
    page = officer.get(reverse("oversight:exemption", args=[case.pk]),
                       HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert 'name="grounds"' in page


def test_dashboard_compares_branches_with_overall_plus_tolerance(world):
    make_loan(world, dpd=0, principal=Decimal("900000"))
    make_loan(world, dpd=100, principal=Decimal("100000"))  # north: 10 % NPL
    south_app = plain_application(world, branch=world.south)
    make_loan(world, south_app, dpd=0, principal=Decimal("1000000"), officer="postloan.south")
    make_loan(world, dpd=0, principal=Decimal("1"), outstanding=Decimal("0"),
              state=LoanState.SETTLED)  # settled: not on the book
    response = _page(world.user("auditor.north")).get(reverse("oversight:exemption-dashboard"))
    assert response.status_code == 200
    rows = {row.branch.code: row for row in response.context["rows"]}
    assert response.context["overall_pct"] == Decimal("5.00")
    assert response.context["limit_pct"] == Decimal("8.00")
    assert rows["north"].ratio_pct == Decimal("10.00")
    assert rows["north"].status == "above_tolerance"
    assert rows["south"].status == "within_target"


def test_pack_pdf_carries_the_hash_and_is_audited(world, case):
    response = _page(world.user("auditor.north")).get(reverse("oversight:exemption-pdf",
                                                              args=[case.pk]))
    assert response.status_code == 200 and response.content[:5] == b"%PDF-"
    import io
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(response.content)).pages)
    assert case.pack_sha256[:16] in text and case.loan.loan_number in text


def test_api_lists_scoped_and_commands_are_idempotent(world, case):
    chair = committee_member(world)
    listed = _api(world.user("auditor.north")).get("/api/v1/oversight/exemptions/")
    assert listed.status_code == 200 and [c["id"] for c in listed.json()] == [case.pk]
    assert _api(world.user("am.south")).get("/api/v1/oversight/exemptions/").json() == []
    assert _api(world.user("am.south")).get(
        f"/api/v1/oversight/exemptions/{case.pk}/").status_code == 404
    detail = _api(chair).get(f"/api/v1/oversight/exemptions/{case.pk}/").json()
    assert detail["pack_sha256"] == case.pack_sha256 and detail["people"]

    key = {"HTTP_IDEMPOTENCY_KEY": str(uuid.uuid4())}
    url = f"/api/v1/oversight/exemptions/{case.pk}/start-review/"
    first = _api(chair).post(url, {}, format="json", **key)
    again = _api(chair).post(url, {}, format="json", **key)
    assert first.status_code == again.status_code == 200
    assert again.headers.get("Idempotent-Replayed") == "true"
    assert _api(chair).post(url, {}, format="json").status_code == 409

    officer = world.user("postloan.north")
    officer.groups.add(chair.groups.get())
    tiers = [{"person": p.pk, "tier": Tier.NONE, "reason": "Serious breach of duty"}
             for p in case.people.all()]
    decide = f"/api/v1/oversight/exemptions/{case.pk}/decide/"
    refused = _api(world.user("postloan.north")).post(
        decide, {"summary": "Judging myself", "tiers": tiers}, format="json")
    assert refused.status_code == 403
    assert _api(chair).post(decide, {"summary": "Committee decision", "tiers": tiers},
                            format="json").status_code == 200
    appeal = _api(world.user("postloan.north")).post(
        f"/api/v1/oversight/exemptions/{case.pk}/appeal/",
        {"grounds": "The fraud was undetectable"}, format="json")
    assert appeal.status_code == 200 and appeal.json()["state"] == S.APPEALED
    line = case.people.get(user__username="postloan.north")
    url = f"/api/v1/oversight/exemptions/{case.pk}/decide-appeal/"
    body = {"summary": "Heard", "outcomes": [{"person": line.pk, "outcome": Tier.FULL,
                                               "reason": "Undetectable fraud"}]}
    assert _api(chair).post(url, body, format="json").status_code == 403  # the decider
    reviewer = committee_member(world, "exempt.appeal")
    assert _api(reviewer).post(url, body, format="json").status_code == 200
    assert ExemptionCase.objects.get(pk=case.pk).state == S.APPEAL_DECIDED


def test_pack_pdf_in_chinese_embeds_every_font(world, case, tmp_path):
    """Issue #18: on a machine without a Chinese font every character would be a blank box
    unless the font travels inside the PDF (pdffonts: emb yes on every line)."""
    import subprocess

    client = _page(world.user("auditor.north"))
    response = client.get(reverse("oversight:exemption-pdf", args=[case.pk]),
                          HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert response.status_code == 200
    path = tmp_path / "pack.pdf"
    path.write_bytes(response.content)
    fonts = subprocess.run(["pdffonts", str(path)], capture_output=True, text=True,
                           check=True).stdout.splitlines()[2:]
    text = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True,
                          check=True).stdout
    assert fonts and all(line.split()[-5] == "yes" for line in fonts), fonts
    assert "STSong" not in "".join(fonts)
    assert "证据" in text, text[:300]
