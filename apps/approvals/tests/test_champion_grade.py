"""Issue #20: the approval route and the dossier read the champion's grade only; a draft's or
a validated challenger's score never decides who signs."""

import pytest
from django.urls import reverse

from apps.approvals.seed import BRANCH_APPROVER
from apps.approvals.services import review_send_to_approval
from apps.approvals.tests.factories import approvals_ready, under_review
from apps.scoring.models import ScoreResult, ShadowScore
from apps.scoring.selectors import latest_score
from apps.scoring.tests.helpers import challenger_like_champion, rescore, snapshot_for

pytestmark = pytest.mark.django_db


def test_route_and_dossier_use_the_champions_grade_not_a_challengers(world, client):
    approvals_ready([BRANCH_APPROVER])
    application = under_review(world)
    snapshot_for(application)
    rescore(world)
    champion_score = latest_score(application_id=application.pk)
    other = "A" if champion_score.grade != "A" else "E"
    draft = challenger_like_champion(world, version="chal-1")
    validated = challenger_like_champion(world, version="chal-2", validated=True)
    rescore(world, draft)
    rescore(world, validated)
    assert ShadowScore.objects.filter(application_id=application.pk).count() == 2
    # And a row a draft wrote into the decision table (as before the fix), newer and graded
    # differently: still not the latest.
    ScoreResult.objects.create(
        application=application, model_version=draft, snapshot=champion_score.snapshot,
        input_hash="f" * 64, probability=0.01, score=999.0, grade=other,
        policy=champion_score.policy, recommendation="approve", trigger="rescoring")
    opinion = review_send_to_approval(application_id=application.pk,
                                      actor=world.user("reviewer.north"), risks="None.",
                                      proposed_amount=None, conditions=[], exceptions=[])
    assert opinion.route.grade == champion_score.grade
    client.force_login(world.user("approver.north"))
    page = client.get(reverse("approvals:dossier", args=[application.pk])).content.decode()
    assert champion_score.model_version.version in page
    assert "chal-1" not in page and "chal-2" not in page
