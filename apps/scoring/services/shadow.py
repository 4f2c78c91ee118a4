"""Challengers scoring in shadow (issue #20): when the champion scores an application, the
model versions the decision policy names (`shadow_states`, by default validated challengers and
those awaiting promotion) score the same input too, into `ShadowScore`.

Shadow scores never reach a decision: they are stored apart from `ScoreResult` and read only by
the agreement report on the model page. A challenger that fails to score (an artefact that
cannot read the current features) is logged and skipped; it never blocks the champion's score.
"""

from __future__ import annotations

import logging

from django.db import IntegrityError, transaction

from apps.core.compiled import compiled_instances, run
from apps.scoring.features.assemble import records_to_columns
from apps.scoring.models import ModelVersion, ShadowScore
from apps.scoring.policy import DEFAULT_SHADOW_STATES
from apps.scoring.services.registry import champion_ensure, model_of, scoring_versions
from apps.scoring.states import ModelVersionState

logger = logging.getLogger(__name__)


def _shadow_states(policy) -> list[str]:
    return [s for s in policy.document.get("shadow_states", DEFAULT_SHADOW_STATES)
            if s != ModelVersionState.CHAMPION]


def shadow_versions(policy) -> list[ModelVersion]:
    """The challengers the policy in force has score in shadow (never the champion)."""
    states = _shadow_states(policy)
    if not states:
        return []
    return list(scoring_versions(ModelVersion.objects.filter(state__in=states)).order_by("pk"))


def scoring_models(policy) -> tuple[ModelVersion, list[ModelVersion]]:
    """(the champion, the challengers `shadow_versions` names) as scoring reads them, in one
    query; the shipped default is installed when there is no champion (`champion_ensure`).
    Only the version in the champion state is returned as the champion."""
    return run(scoring_models_steps(policy))


def shadow_states(policy) -> tuple[str, ...]:
    """The model states the policy has score in shadow (never the champion's)."""
    return tuple(_shadow_states(policy))


def scoring_models_steps(policy=None, *, states=None):
    """`scoring_models` as a step of `apps.core.compiled.run_together` (the scoring worker
    sends it with the application's feature sources); compiled once per set of states.
    `states`: the shadow states, when the caller knows them without the policy."""
    states = [ModelVersionState.CHAMPION,
              *(_shadow_states(policy) if states is None else states)]
    (versions,) = yield [compiled_instances(
        "scoring_models:" + ",".join(states),
        lambda: scoring_versions(ModelVersion.objects.filter(state__in=states)).order_by("pk"))]
    champions = [v for v in versions if v.state == ModelVersionState.CHAMPION]
    challengers = [v for v in versions if v.state != ModelVersionState.CHAMPION]
    champion = champions[0] if champions else champion_ensure(for_scoring=True)
    return champion, challengers


def shadow_scores_record(*, application_id: int, record, snapshot, policy, trigger: str,
                         versions: list[ModelVersion] | None = None) -> list[ShadowScore]:
    """Score one assembled input with every shadow challenger (`versions`, when the caller
    read them with the champion: `scoring_models`); idempotent per (model version,
    application, input hash). Called inside the champion's scoring transaction."""
    written = []
    for version in shadow_versions(policy) if versions is None else versions:
        try:
            with transaction.atomic():  # a savepoint: one challenger's failure stays its own
                model = model_of(version)
                columns = records_to_columns([record.values], model.feature_kinds)
                scored = model.predict(columns, grades=policy.document["grades"], top_k=0)[0]
                shadow, _created = ShadowScore.objects.get_or_create(
                    model_version=version, application_id=application_id,
                    input_hash=record.input_hash,
                    defaults={"snapshot": snapshot, "probability": scored["probability"],
                              "score": scored["score"], "grade": scored["grade"],
                              "policy": policy, "trigger": trigger})
                written.append(shadow)
        except IntegrityError:
            continue  # a concurrent twin wrote it
        except Exception:  # noqa: BLE001 — a challenger must never stop the champion's score
            logger.exception("shadow scoring with %s failed for application %s",
                             version.version, application_id)
    return written
