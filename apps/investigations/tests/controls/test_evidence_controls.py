"""Issue 19 controls: edited photo reuse, reworded narratives (Chinese and English) and the two
officers on site together — unit cases, then a whole file faked by someone who knows the
controls, submitted through the workflow with real documents, and the reviewer's page."""

import datetime as dt
import random
from decimal import Decimal
from types import SimpleNamespace

import pytest
from django.utils import timezone

from apps.investigations import workflow
from apps.investigations.controls.geo import Site
from apps.investigations.controls.paraphrase import compare, features, sentences
from apps.investigations.controls.photo_edits import edited_reuse_findings
from apps.investigations.controls.together import intersect, merge, together_findings
from apps.investigations.evidence import PhotoReuse
from apps.investigations.models import SiteCheckIn

from . import narrative_fakes, visit_fakes
from .helpers import SITE, policy

T0 = dt.datetime(2026, 11, 20, 9, 0, tzinfo=dt.UTC)


def _at(minutes):
    return T0 + dt.timedelta(minutes=minutes)


# --- officers together ---------------------------------------------------------------------

def test_interval_union_and_intersection():
    a = merge([(_at(0), _at(30)), (_at(20), _at(50)), (_at(70), _at(90))])
    assert a == [(_at(0), _at(50)), (_at(70), _at(90))]
    assert intersect(a, [(_at(40), _at(80))]) == [(_at(40), _at(50)), (_at(70), _at(80))]
    assert intersect(a, [(_at(50), _at(70))]) == []


def _visit(officer, start, minutes, north_m=20):
    lat = SITE[0] + Decimal(str(round(north_m / 111_000, 6)))
    return SimpleNamespace(officer_id=officer, at=_at(start),
                           checked_out_at=_at(start + minutes) if minutes is not None else None,
                           lat=lat, lng=SITE[1], out_lat=lat, out_lng=SITE[1])


SITE_REF = Site(SITE[0], SITE[1], "operating_address")
BOTH = SimpleNamespace(lead_officer_id=1, assisting_officer_id=2)


def test_one_after_the_other_is_flagged_with_both_timelines():
    [finding] = together_findings(investigation=BOTH, site=SITE_REF, policy=policy(),
                                  check_ins=[_visit(1, 0, 70), _visit(2, 60, 70)])
    assert finding.code == "VISIT_NOT_TOGETHER" and finding.severity == "R2"
    assert finding.message_en == (
        "The two officers were on site together for 10 minutes; at least 40 are expected "
        "(lead officer 70 min, assisting officer 70 min on site).")
    assert "control.visit.min_overlap_minutes = 40 min" in finding.explanation
    timelines = finding.inputs["timelines"]
    assert [row["minutes_on_site"] for row in timelines["officers"]] == [70, 70]
    assert timelines["together"][0]["from"] == "2026-11-20 10:00 UTC"
    assert timelines["officers"][1]["visits"][0]["left"] == pytest.approx(46.2, abs=0.1)


def test_together_long_enough_passes_and_a_check_in_from_elsewhere_does_not_count():
    assert together_findings(investigation=BOTH, site=SITE_REF, policy=policy(),
                             check_ins=[_visit(1, 0, 70), _visit(2, 5, 60)]) == []
    [far] = together_findings(investigation=BOTH, site=SITE_REF, policy=policy(),
                              check_ins=[_visit(1, 0, 70), _visit(2, 5, 60, north_m=3000)])
    assert far.inputs["overlap_minutes"] == 0
    assistant = far.inputs["timelines"]["officers"][1]["visits"][0]
    assert assistant["on_site"] is False and 2900 <= assistant["distance_m"] <= 3100
    # the policy minimum is data: a lower one lets the 55 shared minutes pass
    assert together_findings(investigation=BOTH, site=SITE_REF,
                             policy=policy(control__visit__min_overlap_minutes=10),
                             check_ins=[_visit(1, 0, 70), _visit(2, 60, 70)]) == []


def test_stepping_out_counts_only_the_time_back_on_site():
    [finding] = together_findings(
        investigation=BOTH, site=SITE_REF, policy=policy(),
        check_ins=[_visit(1, 0, 60), _visit(2, 0, 20), _visit(2, 45, 30)])
    assert finding.inputs["overlap_minutes"] == 35


def test_visit_generator_rates():
    rnd = random.Random(3)
    honest = sum(bool(together_findings(investigation=visit_fakes.investigation(),
                                        check_ins=visit_fakes.honest(rnd), site=SITE_REF,
                                        policy=policy())) for _ in range(100))
    faked = sum(bool(together_findings(investigation=visit_fakes.investigation(),
                                       check_ins=visit_fakes.faked(rnd), site=SITE_REF,
                                       policy=policy())) for _ in range(100))
    assert honest <= 5 and faked >= 95


# --- reworded narratives --------------------------------------------------------------------

EARLIER_ZH = ("该企业2012年开业，主营五金生意，老板有15年行业经验。门店在义乌，约80平方米，"
              "房租每个月3000元。每月销售额大概40万元，生意平稳。下游客户以装修公司为主。"
              "收款主要通过微信。")
REWORDED_ZH = ("收入方面，每个月营业额大约45万元，经营稳定。结算主要通过微信。"
               "店铺在义乌，差不多80平方米，租金每月3000元。顾客以装修公司为主。"
               "该公司2012年成立，主营五金，经营者有15年行业经验。")
HONEST_ZH = ("该企业2016年开业，主营茶叶生意，老板有6年行业经验。门店在泉州，约40平方米，"
             "房租每个月1500元。每月销售额大概12万元，生意平稳。下游客户以酒店为主。"
             "收款主要通过现金。")


def test_sentences_and_synonym_folding():
    assert sentences("甲。乙！丙；\nOne. Two? 3.5 stays") == ["甲", "乙", "丙", "One", "Two",
                                                            "3.5 stays"]
    assert features("房租每个月3000元") == features("租金每月3000元")
    assert features("Monthly sales are steady") == features("monthly turnover is stable")


def test_a_reworded_reordered_chinese_copy_matches_sentence_by_sentence():
    result = compare(REWORDED_ZH, EARLIER_ZH, sentence_min=0.7)
    assert result.score >= 0.6
    pairs = {p.mine: p.theirs for p in result.passages}
    assert pairs["店铺在义乌，差不多80平方米，租金每月3000元"] == (
        "门店在义乌，约80平方米，房租每个月3000元")
    assert compare(HONEST_ZH, EARLIER_ZH, sentence_min=0.7).score < 0.6


def test_english_rewording_and_an_honest_report():
    earlier = ("The shop mainly sells office desks and chairs. Monthly revenue is about "
               "300,000 yuan and stable. Customers are mainly decorators, with many repeat "
               "buyers. Goods come from suppliers in Foshan, used for 6 years.")
    copy = ("Clients are chiefly decorators, with many repeat customers. Stock is bought from "
            "vendors in Foshan, used for 6 years. Turnover is roughly 300,000 yuan a month "
            "and steady. The store mostly sells office desks and chairs.")
    honest = ("We saw fertiliser and seed on the shelves. Sales are roughly 120,000 yuan a "
              "month. Most buyers are farmers from nearby villages.")
    assert compare(copy, earlier, sentence_min=0.7).score >= 0.6
    assert compare(honest, earlier, sentence_min=0.7).score < 0.6


def test_narrative_generator_rates():
    hits = {"honest": 0, "faked": 0}
    for _language, earlier, honest, faked in narrative_fakes.cases(60, seed=4):
        hits["honest"] += compare(honest, earlier, sentence_min=0.7).score >= 0.6
        hits["faked"] += compare(faked, earlier, sentence_min=0.7).score >= 0.6
    assert hits["honest"] <= 3 and hits["faked"] >= 55


# --- edited photo reuse findings ------------------------------------------------------------

def test_edited_reuse_findings_name_both_photos_and_the_stage():
    reuse = [PhotoReuse(5, 9, 77, 8), PhotoReuse(5, 9, 77, 10), PhotoReuse(6, 3, 1, 4)]
    found = edited_reuse_findings(reuse=reuse, references={77: "CR-77"}, policy=policy(),
                                  own_application_id=1)
    assert [f.code for f in found] == ["PHOTO_REUSED_EDITED"] * 2
    assert found[0].severity == "R3"
    assert found[0].message_en == "Photo #5 is an edited copy of photo #9 of application CR-77."
    assert found[1].message_en == ("Photo #6 is an edited copy of photo #3 taken at an earlier "
                                   "visit to this file (#1).")
    assert "control.photo.fingerprint_max_distance = 16" in found[0].explanation
    assert found[0].policies["control.photo.fingerprint_min_pairs"] == 10


def test_a_missing_policy_value_stops_the_control_visibly():
    from apps.investigations.controls.policies import ControlNotConfigured

    with pytest.raises(ControlNotConfigured):
        edited_reuse_findings(reuse=[], references={},
                              policy=lambda key: None if "min_pairs" in key else policy()(key))


# --- a whole faked file, through the workflow, with real documents -------------------------

@pytest.mark.django_db
def test_a_file_faked_by_someone_who_knows_the_controls(docs_world, people, client):
    from apps.documents import checking
    from apps.documents.tests.helpers import upload
    from apps.documents.tests.photo_fakes import edit, scene, with_exif

    from .conftest import save, start_investigation
    from .test_box_ticking_end_to_end import _investigate, _take_time

    taken = timezone.localtime(timezone.now() - dt.timedelta(hours=1)).replace(tzinfo=None)

    def photo_bytes(img, quality=88):
        return with_exif(img, lat=float(SITE[0]) + 0.0002, lng=float(SITE[1]),
                         taken_at=taken, quality=quality)

    def site_upload(application, data, name):
        document = upload(docs_world, application, data, type_code="site_photo", name=name,
                          device_lat=SITE[0], device_lng=SITE[1],
                          device_accuracy_m=Decimal("8"))
        checking.document_check(document_id=document.pk)
        return document

    earlier = start_investigation(docs_world, people, enterprise=docs_world.enterprise(
        operating_lat=SITE[0], operating_lng=SITE[1]))
    save(earlier, people["assistant"], "B10_REPUTATION", EARLIER_ZH)
    original = site_upload(earlier.application, photo_bytes(scene(401)), "gate.jpg")

    investigation, _ = _investigate(
        docs_world, people, narrative=REWORDED_ZH, declared_factor=Decimal("1.02"),
        photos=[lambda app: site_upload(app, photo_bytes(edit(scene(401), 402), 62), "a.jpg"),
                *[lambda app, n=n: site_upload(app, photo_bytes(scene(n)), f"{n}.jpg")
                  for n in range(403, 407)]])
    _take_time(investigation)
    # the assisting officer came when the lead officer was leaving
    lead = SiteCheckIn.objects.get(investigation=investigation,
                                   officer=investigation.lead_officer)
    SiteCheckIn.objects.filter(investigation=investigation,
                               officer=investigation.assisting_officer).update(
        at=lead.checked_out_at - dt.timedelta(minutes=5),
        checked_out_at=lead.checked_out_at + dt.timedelta(minutes=70))
    submitted = workflow.investigation_submit(investigation_id=investigation.pk,
                                              actor=people["am"])
    flags = {}
    for finding in submitted.red_flags:
        flags.setdefault(finding["code"], []).append(finding)

    [photo] = flags["PHOTO_REUSED_EDITED"]
    assert photo["severity"] == "R3" and photo["inputs"]["other_photo"] == original.pk
    assert earlier.application.reference in photo["message_en"]
    assert "PHOTO_REUSED" not in flags  # the old hash alone would have missed it

    [narrative] = flags["NARRATIVE_REWORDED"]
    assert "NARRATIVE_COPIED" not in flags  # trigram similarity stays below 0.8
    assert narrative["item"] == "B10_REPUTATION"
    assert f"investigation #{earlier.pk}" in narrative["message_en"]
    assert any(p["theirs"] == "门店在义乌，约80平方米，房租每个月3000元"
               for p in narrative["inputs"]["passages"])

    [together] = flags["VISIT_NOT_TOGETHER"]
    assert together["inputs"]["overlap_minutes"] == 5

    client.force_login(docs_world.user("reviewer.north"))
    page = client.get(f"/investigations/{submitted.pk}/review/").content.decode()
    assert 'class="passages"' in page and "门店在义乌，约80平方米，房租每个月3000元" in page
    assert "店铺在义乌，差不多80平方米，租金每月3000元" in page
    assert 'class="timelines"' in page and "Both on site" in page
    assert "assisting officer · 75 min on site" in page


@pytest.mark.django_db
def test_an_honest_file_raises_none_of_the_new_findings(docs_world, people):
    from .test_box_ticking_end_to_end import _WORLD, _good_photos, _investigate, _take_time

    _WORLD["world"] = docs_world
    investigation, _ = _investigate(docs_world, people, photos=_good_photos(range(601, 606)),
                                    narrative=HONEST_ZH, declared_factor=Decimal("1.02"))
    _take_time(investigation)
    submitted = workflow.investigation_submit(investigation_id=investigation.pk,
                                              actor=people["am"])
    assert submitted.red_flags == []
