"""Reject inference for training from the database (domain reference §7.4), an option.

A model trained only on the loans the bank granted learns from a population its own past
decisions chose; declined applicants — often the riskiest — are missing. Every application is
kept with its feature snapshot as of decision time (the engine requirement of §7.4), so the
declined ones can be brought back with an inferred outcome:

Parcelling (the method offered here): the declined applications are scored with the champion
and grouped by its grade; in each grade the share inferred bad is the bad rate observed among
the granted, labelled loans of that grade times a coefficient (≥ 1 says rejects are riskier than
the accepts of the same grade: the MNAR case §7.4 calls "reasonable, but the coefficients are
arbitrary"). Within a grade the declined applications with the highest PD are the ones labelled
bad, so the result is deterministic and needs no sample weights. A grade with no labelled loans
uses the overall bad rate.

Augmentation and fuzzy augmentation need weighted training, which the scorecard and challenger
do not take yet; the bank's gold standard — granting a small random sample below the cut-off —
needs no inference at all.
"""

from __future__ import annotations

import math
from collections import Counter

import numpy as np

from apps.applications.models import Application
from apps.applications.states import ApplicationState
from apps.scoring.features.assemble import records_to_columns
from apps.scoring.features.training import snapshot_ids_at_decision
from apps.scoring.models import FeatureSnapshot
from apps.scoring.scorecard.data import DataError
from apps.scoring.services.registry import champion_ensure, decision_policy_ensure, model_of

METHODS = ("parcelling",)


def _graded(snapshot_ids: dict[int, int], model, grades) -> dict[int, tuple[float, str]]:
    """{application id: (PD, grade)} by the champion on each snapshot at decision."""
    rows = list(FeatureSnapshot.objects.filter(id__in=list(snapshot_ids.values()))
                .order_by("application_id").values_list("application_id", "values"))
    if not rows:
        return {}
    scored = model.predict(records_to_columns([v for _, v in rows], model.feature_kinds),
                           grades=grades, top_k=0)
    return {a: (s["probability"], s["grade"]) for (a, _), s in zip(rows, scored, strict=True)}


def rejects_parcelled(*, outcomes: dict[int, int], coefficient: float = 1.0,
                      policy=None) -> tuple[dict[int, int], dict]:
    """Inferred outcomes {application id: 1 bad / 0 good} for the declined applications that
    have a snapshot at decision, and a summary (counts, rates used per grade)."""
    if not (isinstance(coefficient, (int, float)) and math.isfinite(coefficient)
            and coefficient > 0):
        raise DataError("the parcelling coefficient must be a number above 0")
    policy = policy or decision_policy_ensure()
    grades = policy.document["grades"]
    champion = champion_ensure()
    model = model_of(champion)
    rejected = list(Application.objects.filter(state=ApplicationState.REJECTED)
                    .values_list("id", flat=True))
    reject_scores = _graded(snapshot_ids_at_decision(rejected), model, grades)
    accept_scores = _graded(snapshot_ids_at_decision(list(outcomes)), model, grades)
    overall = (sum(outcomes.values()) / len(outcomes)) if outcomes else 0.0
    n, bads = Counter(), Counter()
    for app_id, (_p, grade) in accept_scores.items():
        n[grade] += 1
        bads[grade] += outcomes[app_id]
    inferred, used = {}, {}
    for grade, _minimum in grades:
        members = sorted((a for a, (_p, g) in reject_scores.items() if g == grade),
                         key=lambda a: (-reject_scores[a][0], a))
        if not members:
            continue
        rate = bads[grade] / n[grade] if n[grade] else overall
        share = min(1.0, rate * coefficient)
        k = int(np.round(share * len(members)))
        for i, app_id in enumerate(members):
            inferred[app_id] = 1 if i < k else 0
        used[grade] = {"rejects": len(members), "accept_bad_rate": round(rate, 6),
                       "inferred_bads": k}
    summary = {"method": "parcelling", "coefficient": coefficient,
               "champion": champion.version, "rejects": len(inferred),
               "inferred_bads": sum(inferred.values()),
               "rejects_without_snapshot": len(rejected) - len(reject_scores), "grades": used}
    return inferred, summary
