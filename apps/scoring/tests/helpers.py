"""A small scorecard built by hand, so tests can check arithmetic against hand-computed values."""

from apps.scoring.scorecard.binning import Bin, FeatureBinning
from apps.scoring.scorecard.model import Scaling, Scorecard


def hand_scorecard() -> Scorecard:
    """ln(odds_bad) = −2 + 0.8·WOE(turnover) + 1.2·WOE(tax); 600 points at 19:1, PDO 50."""
    turnover = FeatureBinning(name="turnover", kind="numeric", splits=[10.0], trend="descending",
                              bins=[Bin("(-inf, 10]", 300, 200, woe=0.4),
                                    Bin("(10, +inf)", 400, 100, woe=-0.5),
                                    Bin("missing", 0, 0, woe=0.4, missing=True)])
    tax = FeatureBinning(name="tax", kind="categorical", bins=[
        Bin("A, B", 500, 100, woe=-0.2, categories=["A", "B"]),
        Bin("C + other", 150, 150, woe=0.3, categories=["C"], other=True),
        Bin("missing", 50, 50, woe=0.1, missing=True)])
    return Scorecard(target="default", binnings={"turnover": turnover, "tax": tax},
                     intercept=-2.0, coefficients={"turnover": 0.8, "tax": 1.2},
                     scaling=Scaling(base_score=600, base_odds=19, pdo=50),
                     grades=[["A", 550.0], ["B", 490.0], ["C", None]])


def challenger_like_champion(world, *, version: str = "chal-1", validated: bool = False,
                             trained_by: str = "reviewer.north"):
    """A non-champion version with the champion's artefact (so it scores any snapshot)."""
    from apps.scoring import services
    from apps.scoring.models import ModelVersion

    champion = services.champion_ensure()
    challenger = ModelVersion.objects.create(
        version=version, kind=champion.kind, artefact=champion.artefact,
        artefact_sha256=champion.artefact_sha256,
        training_data_sha256=champion.training_data_sha256, target=champion.target,
        features=champion.features, training_profile=champion.training_profile,
        trained_by=world.user(trained_by))
    if validated:
        services.model_version_validate(version_id=challenger.pk,
                                        actor=world.user("admin.north"))
        challenger.refresh_from_db()
    return challenger


def snapshot_for(application, *, seed: int = 5, index: int = 0):
    """A stored feature snapshot for `application`, as if it had been scored before."""
    from apps.scoring.features.spec import KINDS
    from apps.scoring.models import FeatureSnapshot
    from apps.scoring.synthetic import generate_rows

    row = generate_rows(index + 1, seed=seed)[index]
    values = {k: (None if row[k] == "" else float(row[k]) if KINDS[k] == "numeric" else row[k])
              for k in KINDS}
    return FeatureSnapshot.objects.create(application=application,
                                          input_hash=f"{application.pk:064d}",
                                          spec_version="t", values=values)


def rescore(world, version=None):
    """Run a whole re-scoring job now with `version` (default: the champion)."""
    from apps.scoring import services

    job = services.rescoring_start(actor=world.user("reviewer.north"),
                                   model_version_id=version.pk if version else None)
    return services.rescoring_run(job_id=job.pk)
