import pytest
from django.core.exceptions import PermissionDenied

from apps.audit.models import AuditEvent
from apps.investigations.models import Answer
from apps.scoring import services
from apps.scoring.models import FeatureSnapshot, ModelVersion, ScoreResult
from apps.scoring.selectors import latest_score
from apps.scoring.states import ModelVersionState, Recommendation

pytestmark = pytest.mark.django_db


def test_a_fresh_install_scores_an_application_with_the_shipped_model(investigated):
    result = services.application_score(application_id=investigated.pk)
    champion = ModelVersion.objects.get(state=ModelVersionState.CHAMPION)
    assert champion.version.startswith("default-synthetic-")
    assert result.model_version == champion and 0 < result.probability < 1
    assert result.grade in "ABCDE" and result.recommendation in Recommendation.values
    assert result.snapshot.values["red_flags_r3"] == 0  # submitted: zero, not unknown
    assert result.snapshot.values["controller_experience_years"] is None  # template lacks A7
    assert latest_score(application_id=investigated.pk) == result
    events = AuditEvent.objects.filter(action="score.computed", subject_id=str(investigated.pk))
    assert events.count() == 1 and events.get().payload["grade"] == result.grade


def test_scoring_twice_on_the_same_inputs_writes_one_result(investigated):
    first = services.application_score(application_id=investigated.pk)
    again = services.application_score(application_id=investigated.pk)
    assert again.pk == first.pk
    assert ScoreResult.objects.count() == 1 and FeatureSnapshot.objects.count() == 1
    assert AuditEvent.objects.filter(action="score.computed").count() == 1


def test_a_changed_answer_is_a_new_input_and_a_new_result(investigated):
    first = services.application_score(application_id=investigated.pk)
    answer = Answer.objects.get(investigation__application=investigated,
                                item__code="B3_INQUIRIES")
    Answer.objects.filter(pk=answer.pk).update(value="9")
    second = services.application_score(application_id=investigated.pk)
    assert second.pk != first.pk and second.input_hash != first.input_hash
    assert second.snapshot.values["inquiries_6m"] == 9.0
    assert latest_score(application_id=investigated.pk) == second


def test_score_now_is_queued_after_commit_for_authorised_roles_only(
        world, investigated, django_capture_on_commit_callbacks, monkeypatch):
    sent = []
    monkeypatch.setattr("apps.core.queue.current_app.send_task",
                        lambda name, kwargs, **options: sent.append((name, kwargs)))
    with pytest.raises(PermissionDenied):
        services.application_score_request(application_id=investigated.pk,
                                           actor=world.user("am.north"))
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        services.application_score_request(application_id=investigated.pk,
                                           actor=world.user("reviewer.north"))
    assert len(callbacks) == 1
    assert sent == [("scoring.application_score",
                     {"application_id": investigated.pk, "trigger": "on_demand",
                      "actor_id": world.user("reviewer.north").pk})]


def test_the_sweeper_requeues_accepted_investigations_without_a_score(
        investigated, django_capture_on_commit_callbacks, monkeypatch):
    import datetime as dt

    from django.utils import timezone

    sent = []
    monkeypatch.setattr("apps.core.queue.current_app.send_task",
                        lambda name, kwargs, **options: sent.append(kwargs["application_id"]))
    later = timezone.now() + dt.timedelta(hours=1)
    with django_capture_on_commit_callbacks(execute=True):
        assert services.score_sweep(now=later) == 1
    assert sent == [investigated.pk]
    assert services.score_sweep(now=timezone.now()) == 0  # still inside the grace period
    services.application_score(application_id=investigated.pk)
    assert services.score_sweep(now=later) == 0  # scored since acceptance: nothing to do
