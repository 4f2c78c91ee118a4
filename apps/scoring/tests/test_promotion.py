import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from apps.audit.models import AuditEvent
from apps.core.exceptions import TransitionConflict
from apps.scoring import services
from apps.scoring.models import ModelVersion
from apps.scoring.states import ModelVersionState as S

pytestmark = pytest.mark.django_db

def _challenger(world, trained_by="reviewer.north") -> ModelVersion:
    champion = services.champion_ensure()
    return ModelVersion.objects.create(
        version="challenger-1", kind=champion.kind, artefact=champion.artefact,
        artefact_sha256=champion.artefact_sha256,
        training_data_sha256=champion.training_data_sha256, target=champion.target,
        features=champion.features, training_profile=champion.training_profile,
        trained_by=world.user(trained_by))


def test_promotion_needs_someone_other_than_the_trainer_and_the_requester(world):
    old = services.champion_ensure()
    challenger = _challenger(world)
    services.model_version_validate(version_id=challenger.pk, actor=world.user("reviewer.north"))
    with pytest.raises(ValidationError):
        services.model_version_request_promotion(version_id=challenger.pk,
                                                 actor=world.user("admin.north"), reason=" ")
    with pytest.raises(PermissionDenied):  # an account manager does not manage models
        services.model_version_request_promotion(version_id=challenger.pk,
                                                 actor=world.user("am.north"), reason="Better")
    services.model_version_request_promotion(version_id=challenger.pk,
                                             actor=world.user("admin.north"),
                                             reason="Higher holdout AUC on the same rows")
    for refused in ("reviewer.north", "admin.north"):  # the trainer, then the requester
        with pytest.raises(PermissionDenied):
            services.model_version_approve_promotion(version_id=challenger.pk,
                                                     actor=world.user(refused))
    promoted = services.model_version_approve_promotion(version_id=challenger.pk,
                                                        actor=world.user("reviewer.south"))
    old.refresh_from_db()
    assert promoted.state == S.CHAMPION and old.state == S.RETIRED
    assert promoted.promoted_by == world.user("reviewer.south")
    assert services.champion_get() == promoted
    actions = list(AuditEvent.objects.filter(action__startswith="model.").order_by("seq")
                   .values_list("action", flat=True))
    assert actions == ["model.installed_default", "model.validated",
                       "model.promotion_requested", "model.retired", "model.promoted"]
    with pytest.raises(TransitionConflict):
        services.model_version_approve_promotion(version_id=challenger.pk,
                                                 actor=world.user("reviewer.south"))


def test_a_refused_promotion_goes_back_to_validated(world):
    challenger = _challenger(world, trained_by="admin.north")
    services.model_version_validate(version_id=challenger.pk, actor=world.user("reviewer.north"))
    services.model_version_request_promotion(version_id=challenger.pk,
                                             actor=world.user("reviewer.north"), reason="Try")
    version = services.model_version_reject_promotion(
        version_id=challenger.pk, actor=world.user("reviewer.south"), reason="KS too low")
    assert version.state == S.VALIDATED and version.promotion_requested_by is None
    assert services.champion_get().version.startswith("default-synthetic-")
