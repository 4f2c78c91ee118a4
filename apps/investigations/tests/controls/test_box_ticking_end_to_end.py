"""Acceptance (issue 4): a box-ticked investigation gets every flag with its explanation; an
honest, complete one passes with none.

Real documents: photos (EXIF time and GPS, phone position at upload) and a bank statement are
uploaded through apps.documents and checked by its checkers; the controls read them through the
registered evidence source, as in production.
"""

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from apps.documents import checking
from apps.documents.evidence import DocumentEvidenceSource
from apps.documents.seed import seed_documents
from apps.documents.tests.helpers import site_photo_bytes, upload, upload_photo, upload_statement
from apps.investigations import workflow
from apps.investigations.evidence import evidence_source
from apps.investigations.models import Investigation, Item, SectionTiming
from apps.investigations.tests.test_builtin_template import honest_answers

from .conftest import save, start_investigation, visit
from .helpers import SITE

pytestmark = pytest.mark.django_db

COPIED = ("Spoke to Mr Li of the hardware shop next door and Ms Wang, the packaging supplier: "
          "both say the owner pays on time and has traded here for eight years.")


@pytest.fixture
def docs(world):
    seed_documents(with_requirements=False)
    assert isinstance(evidence_source(), DocumentEvidenceSource)  # the real one is registered
    return world


def _checked(document):
    checking.document_check(document_id=document.pk)
    return document


def _evidence(item: Item, photo_ids=()) -> dict:
    spec = item.evidence or {}
    evidence = {}
    if spec.get("document_types"):
        evidence["documents"] = {t: [f"{t}-1"] for t in spec["document_types"]}
    if spec.get("photo_count") and item.answer_type != "photo":
        evidence["photos"] = list(photo_ids)[:spec["photo_count"]]
    return evidence


def _investigate(world, people, *, photos, narrative, declared_factor, ticked_without=()):
    """Answer the whole 三品三表 template consistently with the parsed bank inflows I
    (declared sales = declared_factor × I), with `photos` as the site photos."""
    enterprise = world.enterprise(operating_lat=SITE[0], operating_lng=SITE[1])
    investigation = start_investigation(world, people, enterprise=enterprise)
    application = investigation.application
    Investigation.objects.filter(pk=investigation.pk).update(
        started_at=timezone.now() - dt.timedelta(hours=3))  # the visit began this morning
    _checked(upload_statement(world, application))
    inflows = DocumentEvidenceSource().figures(application.pk)["bank.inflows_12m"]
    assert inflows and inflows > 0
    photo_ids = [_checked(make(application)).pk for make in photos]
    # the stock-count photos backing the reconstructed balance sheet (D1 asks for two)
    count_photos = [_checked(upload_photo(world, application, 900 + application.pk * 10 + n)).pk
                    for n in range(2)]

    answers = honest_answers()
    answers.update(
        B10_REPUTATION=narrative, D2_ANNUAL_SALES=(inflows * declared_factor).quantize(1),
        E3_VAT_SALES_12M=(inflows * Decimal("0.97")).quantize(1),
        F2_TOTAL_INFLOW_12M=inflows, F2_EXCLUDED_12M=(inflows * Decimal("0.05")).quantize(1),
        E1_KWH_12M=(inflows * 400 / 10000).quantize(1),
        E1_KWH_PRIOR_12M=(inflows * 380 / 10000).quantize(1),
        C1_SITE_PHOTOS=photo_ids)
    answers.pop("D4_LOGISTICS_SALES")
    items = {i.code: i for i in Item.objects.filter(template=investigation.template)}
    for code, value in answers.items():
        evidence = {} if code in ticked_without else _evidence(items[code], count_photos)
        save(investigation, people["am"], code, value, evidence=evidence)
    visit(investigation, people, minutes=75)
    return investigation, inflows


def _take_time(investigation):
    """An hour's work per section, as the autosave timestamps of a real visit show."""
    for timing in SectionTiming.objects.filter(investigation=investigation):
        SectionTiming.objects.filter(pk=timing.pk).update(
            first_saved_at=timing.last_saved_at - dt.timedelta(hours=1))


def _good_photos(seeds):
    return [lambda app, s=s: upload_photo_for(app, s) for s in seeds]


_WORLD = {}


def upload_photo_for(application, seed, **kw):
    return upload_photo(_WORLD["world"], application, seed, **kw)


def test_an_honest_complete_investigation_passes_with_no_flag(docs, people):
    _WORLD["world"] = docs
    investigation, _ = _investigate(
        docs, people, photos=_good_photos(range(201, 206)),
        narrative="Visited three neighbours: the grocer Mrs Zhou, the print shop owner and the "
                  "market committee clerk; all describe steady trade and prompt payment.",
        declared_factor=Decimal("1.02"))
    _take_time(investigation)
    submitted = workflow.investigation_submit(investigation_id=investigation.pk,
                                              actor=people["am"])
    assert submitted.red_flags == []
    assert submitted.cross_check_findings == []


def test_a_box_ticked_investigation_gets_every_flag_with_its_explanation(docs, people):
    _WORLD["world"] = docs
    # An earlier file of another client: its narrative and a site photo.
    earlier = start_investigation(docs, people, enterprise=docs.enterprise())
    save(earlier, people["assistant"], "B10_REPUTATION", COPIED)
    reused_bytes = site_photo_bytes(501)
    original = _checked(upload(docs, earlier.application, reused_bytes, type_code="site_photo",
                               name="gate.jpg", device_lat=SITE[0], device_lng=SITE[1],
                               device_accuracy_m=Decimal("8")))

    def reused(application):
        return upload(docs, application, reused_bytes, type_code="site_photo",
                      name="gate-again.jpg", device_lat=SITE[0], device_lng=SITE[1],
                      device_accuracy_m=Decimal("8"))

    def five_km_away(application):
        return upload(docs, application, site_photo_bytes(777, north_m=5000),
                      type_code="site_photo", name="far.jpg", device_lat=SITE[0],
                      device_lng=SITE[1], device_accuracy_m=Decimal("8"))

    investigation, inflows = _investigate(
        docs, people, photos=[reused, five_km_away, *_good_photos(range(301, 304))],
        narrative=COPIED.replace("eight", "nine"), declared_factor=Decimal("2"),
        ticked_without={"B1_OVERDUE"})

    # A ticked item without its evidence: refused, named in the missing list.
    with pytest.raises(workflow.InvestigationIncomplete) as refused:
        workflow.investigation_submit(investigation_id=investigation.pk, actor=people["am"])
    missing = refused.value.fields["missing"]
    assert [m for m in missing if m.startswith("B1_OVERDUE")] == [
        "B1_OVERDUE: evidence missing: document “credit_report_enterprise”, document "
        "“credit_authorisation”."]
    answer = investigation.answers.get(item__code="B1_OVERDUE")
    save(investigation, people["am"], "B1_OVERDUE", False, expected_version=answer.version,
         evidence=_evidence(answer.item))

    submitted = workflow.investigation_submit(investigation_id=investigation.pk,
                                              actor=people["am"])
    flags = {}
    for finding in submitted.red_flags + submitted.cross_check_findings:
        flags.setdefault(finding["code"], []).append(finding)

    [copied] = flags["NARRATIVE_COPIED"]
    assert copied["item"] == "B10_REPUTATION" and copied["severity"] == "R2"
    assert f"investigation #{earlier.pk}" in copied["message_en"]
    assert earlier.application.reference in copied["message_en"]
    assert float(copied["inputs"]["similarity"]) >= 0.8

    [reuse] = flags["PHOTO_REUSED"]
    assert reuse["severity"] == "R3"
    assert f"photo #{original.pk} of application {earlier.application.reference}" in (
        reuse["message_en"])

    [far] = flags["PHOTO_OFF_SITE"]
    assert far["severity"] == "R3" and 4900 <= far["inputs"]["distance_m"] <= 5100
    assert "from the enterprise's operating address (limit 500 m)" in far["message_en"]

    [sales] = flags["SALES_VS_BANK_DOCUMENTS"]
    assert sales["severity"] in ("R2", "R3")
    declared = (inflows * 2).quantize(1)
    assert f"Declared sales {declared} vs bank inflows over 12 months {inflows}" in (
        sales["message_en"])
    assert sales["inputs"]['evidence("bank.inflows_12m")'] == str(inflows)
    # and the phone placed that far photo at the site: its GPS and the phone disagree
    assert "PHOTO_DEVICE_MISMATCH" in flags
