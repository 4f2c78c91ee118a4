from decimal import Decimal

import pytest

from apps.applications.models import Application
from apps.scoring.features.assemble import records_to_columns
from apps.scoring.features.spec import FEATURE_NAMES, KINDS
from apps.scoring.features.training import training_set_from_snapshots
from apps.scoring.models import FeatureSnapshot
from apps.scoring.scorecard.data import DataError
from apps.scoring.services import model_of, model_version_train
from apps.scoring.synthetic import TARGET, generate_rows

pytestmark = pytest.mark.django_db


def test_a_model_trains_on_the_stored_snapshots_and_scores_the_same_records(world):
    enterprise = world.enterprise()
    template = world.draft(enterprise=enterprise)
    Application.objects.bulk_create([
        Application(reference=f"T{i:06d}", enterprise=enterprise,
                    product_version=template.product_version, branch=template.branch,
                    account_manager=template.account_manager, amount_requested=Decimal("1"))
        for i in range(1200)])
    ids = list(Application.objects.filter(reference__startswith="T").order_by("id")
               .values_list("id", flat=True))
    outcomes, snapshots = {}, []
    for i, (app_id, row) in enumerate(zip(ids, generate_rows(1200, seed=4), strict=True)):
        values = {k: (None if row[k] == "" else float(row[k]) if KINDS[k] == "numeric"
                      else row[k]) for k in KINDS}
        snapshots.append(FeatureSnapshot(application_id=app_id, input_hash=f"{i:064d}",
                                         spec_version="t", values=values))
        outcomes[app_id] = int(row[TARGET])
    FeatureSnapshot.objects.bulk_create(snapshots)

    data = training_set_from_snapshots(outcomes)
    assert data.table.header == [*FEATURE_NAMES, "default"] and len(data.y) == 1200
    version, metrics = model_version_train(data=data, target="default", version="db-1",
                                           actor=world.user("reviewer.north"))
    assert set(version.features) <= set(FEATURE_NAMES) and metrics["auc"] > 0.6
    assert version.training_profile["n"] == metrics["n_train"]
    model = model_of(version)
    scored = model.predict(records_to_columns([snapshots[0].values], model.feature_kinds))
    assert 0 < scored[0]["probability"] < 1
    with pytest.raises(DataError):
        training_set_from_snapshots({ids[0]: 2})
