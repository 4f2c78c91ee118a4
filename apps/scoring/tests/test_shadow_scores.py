"""Issue #20: only the champion's score reaches decisions. Challengers (drafts, validated
versions) score in shadow, stored apart, and their agreement with the champion is reported."""

import pytest
from django.urls import reverse

from apps.scoring import services
from apps.scoring.models import ScoreResult, ShadowScore
from apps.scoring.selectors import latest_score, score_list, shadow_agreement
from apps.scoring.tests.helpers import challenger_like_champion, rescore, snapshot_for

pytestmark = pytest.mark.django_db


def _portfolio(world, n: int) -> list:
    enterprise = world.enterprise()
    apps = [world.draft(enterprise=enterprise) for _ in range(n)]
    for i, application in enumerate(apps):
        snapshot_for(application, index=i)
    return apps


@pytest.mark.parametrize("validated", [False, True], ids=["draft", "validated"])
def test_rescoring_with_a_non_champion_writes_shadow_scores_only(world, validated):
    apps = _portfolio(world, 4)
    rescore(world)  # the champion: decision scores
    decided = {a.pk: latest_score(application_id=a.pk) for a in apps}
    challenger = challenger_like_champion(world, validated=validated)
    job = rescore(world, challenger)
    assert (job.done, job.created) == (4, 4)
    assert ShadowScore.objects.filter(model_version=challenger, job=job).count() == 4
    assert not ScoreResult.objects.filter(model_version=challenger).exists()
    for application in apps:
        assert latest_score(application_id=application.pk) == decided[application.pk]
    assert rescore(world, challenger).created == 0  # idempotent like decision scores


def test_a_score_row_a_draft_wrote_into_the_decision_table_is_never_read(world):
    """Rows written before the fix (the draft "chal-1" re-score) stay out of decisions."""
    application = _portfolio(world, 1)[0]
    rescore(world)
    champion_score = latest_score(application_id=application.pk)
    draft = challenger_like_champion(world)
    other = "A" if champion_score.grade != "A" else "E"
    leaked = ScoreResult.objects.create(
        application=application, model_version=draft, snapshot=champion_score.snapshot,
        input_hash=champion_score.input_hash, probability=0.01, score=999.0, grade=other,
        policy=champion_score.policy, recommendation="approve", trigger="rescoring")
    assert leaked.created_at > champion_score.created_at
    assert latest_score(application_id=application.pk) == champion_score
    viewer = world.user("reviewer.north")
    assert list(score_list(viewer=viewer, application_id=application.pk)) == [champion_score]


def test_a_validated_challenger_scores_each_application_in_shadow(investigated, world):
    challenger = challenger_like_champion(world, validated=True)
    draft = challenger_like_champion(world, version="draft-2")
    result = services.application_score(application_id=investigated.pk)
    assert result.model_version.state == "champion"
    shadow = ShadowScore.objects.get(application_id=investigated.pk)
    assert shadow.model_version == challenger  # the policy shadows validated, not drafts
    assert not ShadowScore.objects.filter(model_version=draft).exists()
    assert (shadow.input_hash, shadow.snapshot_id) == (result.input_hash, result.snapshot_id)
    assert latest_score(application_id=investigated.pk) == result
    assert ScoreResult.objects.count() == 1


def test_agreement_with_the_champion_on_the_model_page(world, client):
    _portfolio(world, 6)
    rescore(world)
    challenger = challenger_like_champion(world, validated=True)
    rescore(world, challenger)
    viewer = world.user("reviewer.north")
    figures = shadow_agreement(viewer=viewer, version=challenger)
    # The same artefact on the same inputs: identical ranks and grades.
    assert figures["pairs"] == 6 and figures["spearman"] == pytest.approx(1.0)
    assert figures["same_grade"] == 1.0
    assert sum(row["total"] for row in figures["migration"]) == 6
    assert figures["labelled"] == 0 and figures["default_rates"] == []
    assert shadow_agreement(viewer=viewer, version=services.champion_get()) is None
    client.force_login(viewer)
    page = client.get(reverse("scoring:model-detail", args=[challenger.pk])).content.decode()
    assert "Agreement with the champion" in page and "Grade migration" in page
    assert "No outcomes yet" in page


def test_a_retired_model_does_not_rescore(world):
    from django.core.exceptions import ValidationError

    retired = challenger_like_champion(world)
    retired.retire()
    retired.save()
    with pytest.raises(ValidationError):
        services.rescoring_start(actor=world.user("reviewer.north"),
                                 model_version_id=retired.pk)
