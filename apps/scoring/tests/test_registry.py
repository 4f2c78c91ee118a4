import pytest
from django_fsm import can_proceed

from apps.scoring.models import ModelVersion
from apps.scoring.scorecard.model import ArtefactError
from apps.scoring.services import model_version_load
from apps.scoring.states import ModelVersionState as S
from apps.scoring.tests.helpers import hand_scorecard

TRANSITIONS = ["validate", "request_promotion", "approve_promotion", "reject_promotion",
               "install_default", "retire"]
ALLOWED = {
    (S.DRAFT, "validate"), (S.DRAFT, "install_default"), (S.DRAFT, "retire"),
    (S.VALIDATED, "request_promotion"), (S.VALIDATED, "retire"),
    (S.PROMOTION_REQUESTED, "approve_promotion"), (S.PROMOTION_REQUESTED, "reject_promotion"),
    (S.CHAMPION, "retire"),
}


def test_every_transition_is_in_the_table():
    declared = {t.name for t in ModelVersion._meta.get_field("state").get_all_transitions(
        ModelVersion)}
    assert declared == set(TRANSITIONS)


@pytest.mark.parametrize("state", list(S))
@pytest.mark.parametrize("transition", TRANSITIONS)
def test_transition_table(state, transition):
    version = ModelVersion()
    version.__dict__["state"] = state  # bypass protection for a table check only
    assert can_proceed(getattr(version, transition), check_conditions=False) == (
        (state, transition) in ALLOWED)


def _register(label="v1", **fields):
    card = hand_scorecard()
    return ModelVersion.objects.create(
        version=label, kind="scorecard", artefact=card.to_json(), artefact_sha256=card.sha256,
        training_data_sha256="0" * 64, target="default", features=card.features, **fields)


@pytest.mark.django_db
def test_state_cannot_be_written_directly():
    version = _register()
    with pytest.raises(AttributeError):
        version.state = S.CHAMPION


@pytest.mark.django_db
def test_the_registered_artefact_loads_and_scores():
    _register()
    version, card = model_version_load(version="v1")
    assert card.sha256 == version.artefact_sha256
    assert card.predict({"turnover": [12.0], "tax": ["A"]})[0]["grade"] == "A"


@pytest.mark.django_db
def test_an_artefact_altered_in_the_database_is_refused():
    version = _register()
    ModelVersion.objects.filter(pk=version.pk).update(
        artefact=version.artefact.replace('"pdo":50.0', '"pdo":40.0'))
    with pytest.raises(ArtefactError, match="does not match"):
        model_version_load(version="v1")


@pytest.mark.django_db
def test_version_labels_are_unique():
    from django.db import IntegrityError, transaction

    _register()
    with pytest.raises(IntegrityError), transaction.atomic():
        _register()
