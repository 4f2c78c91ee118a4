"""Training rows from the database: the exact feature snapshots scores were computed from.

The same records the scoring path stored (§7.1 feature record rule), so a model trained here
sees its characteristics exactly as it will be asked to score them. The outcome comes from the
caller (the default definition, e.g. ≥ 90 dpd within 12 months, is applied by whoever tracks
repayments: there is no loan book in Credence yet), as {application id: 1 bad / 0 good}.
"""

import numpy as np
from django.db.models import Max, OuterRef, Subquery

from apps.scoring.features.assemble import records_to_columns
from apps.scoring.features.spec import FEATURE_NAMES, KINDS
from apps.scoring.scorecard.data import DataError, Table, TrainingData

OUTCOME = "default"


def _cell(value) -> str:
    return "" if value is None else repr(value) if isinstance(value, float) else str(value)


def snapshot_ids_at_decision(application_ids) -> dict[int, int]:
    """{application id: the snapshot the decision was taken on}: the newest one assembled no
    later than the application's decision. A re-score after disbursement (portfolio
    re-scoring, drift checks) must not leak later knowledge into the training row."""
    from apps.applications.models import Application
    from apps.scoring.models import FeatureSnapshot

    decided_at = Application.objects.filter(pk=OuterRef("application_id")).values("decided_at")
    return dict(FeatureSnapshot.objects.filter(application_id__in=list(application_ids),
                                               created_at__lte=Subquery(decided_at[:1]))
                .values("application_id").annotate(last=Max("id"))
                .values_list("application_id", "last"))


def training_set_from_snapshots(outcomes: dict[int, int]) -> TrainingData:
    """The snapshot each application with a known outcome was decided on, as training data."""
    from apps.scoring.models import FeatureSnapshot

    if any(v not in (0, 1) for v in outcomes.values()):
        raise DataError("outcomes must be 1 (default) or 0 (performing)")
    at_decision = snapshot_ids_at_decision(outcomes)
    rows = list(FeatureSnapshot.objects.filter(id__in=list(at_decision.values()))
                .order_by("application_id").values_list("application_id", "values"))
    if not rows:
        raise DataError("none of these applications has a stored feature snapshot")
    y = np.array([outcomes[application_id] for application_id, _ in rows], dtype=np.int64)
    table = Table(header=[*FEATURE_NAMES, OUTCOME],
                  rows=[[_cell(values.get(n)) for n in FEATURE_NAMES] + [str(outcome)]
                        for (_, values), outcome in zip(rows, y.tolist(), strict=True)])
    return TrainingData(table=table, columns=records_to_columns([v for _, v in rows], KINDS),
                        kinds=dict(KINDS), y=y)
