"""Issue #18: the dossier reads as an approver expects — findings as sentences in the reader's
language, ranked by severity, repeated ones counted once; score figures rounded; reasons named;
no raw dicts, codes without words or unrounded floats."""

import re

import pytest
from django.urls import reverse
from django.utils import translation

from apps.approvals.seed import BRANCH_APPROVER
from apps.approvals.tests.factories import approvals_ready, under_review
from apps.investigations.models import Investigation
from apps.investigations.seed import seed_builtin_templates
from apps.investigations.states import InvestigationState
from apps.scoring.selectors import latest_score
from apps.scoring.tests.helpers import rescore, snapshot_for

pytestmark = pytest.mark.django_db

PHOTO_FLAG = {"kind": "red_flag", "code": "PHOTO_NOT_ON_FILE", "severity": "R2",
              "message_en": "A site photo is not among the file's documents.",
              "message_zh": "现场照片不在档案文件中。", "explanation": "", "item": "A3_SITE_PHOTO"}
LEVERAGE = {"kind": "cross_check", "code": "LEVERAGE_HIGH", "severity": "R3",
            "message_en": "Leverage 0.82 is above the policy limit 0.70.",
            "message_zh": "资产负债率 0.82 高于政策上限 0.70。",
            "explanation": "D7_LEVERAGE = 0.82 > 0.70", "item": None}
NOTE = {"kind": "red_flag", "code": "SHORT_VISIT", "severity": "R1",
        "message_en": "The visit lasted 12 minutes.", "message_zh": "现场停留 12 分钟。",
        "explanation": "", "item": None}


def _dossier(world, client, language="en"):
    approvals_ready([BRANCH_APPROVER])
    application = under_review(world)
    snapshot_for(application)
    rescore(world)
    Investigation.objects.create(
        application=application, template=seed_builtin_templates()[0],
        lead_officer=world.user("am.north"), assisting_officer=world.user("assistant.north"),
        state=InvestigationState.ACCEPTED,
        red_flags=[NOTE, PHOTO_FLAG, PHOTO_FLAG, PHOTO_FLAG], cross_check_findings=[LEVERAGE])
    client.force_login(world.user("reviewer.north"))
    with translation.override(language):
        response = client.get(reverse("approvals:dossier", args=[application.pk]),
                              HTTP_ACCEPT_LANGUAGE=language)
    assert response.status_code == 200
    return application, response.content.decode()


def test_findings_are_sentences_ranked_by_severity_and_repeats_counted_once(world, client):
    _application, page = _dossier(world, client)
    assert page.count("A site photo is not among the file&#x27;s documents.") == 1
    assert "(3 times)" in page
    assert "R2: reviewer must comment" in page
    # The R2 photo flag comes before the R1 note.
    assert page.index("A site photo is not among") < page.index("The visit lasted 12 minutes.")
    assert "Leverage 0.82 is above the policy limit 0.70." in page
    assert "{&#x27;" not in page and "{'" not in page


def test_score_is_rounded_and_reasons_are_named(world, client):
    application, page = _dossier(world, client)
    score = latest_score(application_id=application.pk)
    assert str(score.score) not in page  # the unrounded float
    assert f">{round(score.score)}<" in page
    assert re.search(r">\d+\.\d{2} %<", page), "probability of default as a percentage"
    assert score.get_recommendation_display() in page
    for reason in score.reasons:
        assert f"{reason['feature']}:" not in page  # a code where the name should be


def test_in_chinese_the_findings_read_in_chinese(world, client):
    _application, page = _dossier(world, client, language="zh-hans")
    assert "现场照片不在档案文件中。" in page
    assert "资产负债率 0.82 高于政策上限 0.70。" in page
    assert "A site photo is not among" not in page
