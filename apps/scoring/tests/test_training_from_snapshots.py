import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

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
                    account_manager=template.account_manager, amount_requested=Decimal("1"),
                    decided_at=timezone.now() + dt.timedelta(days=1))
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


def test_the_snapshot_decided_on_is_used_never_a_later_rescore(world):
    application = world.draft()
    decided = timezone.now()
    Application.objects.filter(pk=application.pk).update(decided_at=decided)
    before = FeatureSnapshot.objects.create(application=application, input_hash="a" * 64,
                                            spec_version="t", values={"firm_age_years": 3.0})
    after = FeatureSnapshot.objects.create(application=application, input_hash="b" * 64,
                                           spec_version="t", values={"firm_age_years": 9.0})
    FeatureSnapshot.objects.filter(pk=before.pk).update(
        created_at=decided - dt.timedelta(hours=2))
    FeatureSnapshot.objects.filter(pk=after.pk).update(created_at=decided + dt.timedelta(days=90))
    data = training_set_from_snapshots({application.pk: 0})
    column = data.table.header.index("firm_age_years")
    assert data.table.rows[0][column] == "3.0"
