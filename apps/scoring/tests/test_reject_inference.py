"""Reject inference by parcelling (domain reference §7.4): declined applications come back
into training with outcomes inferred from the accepts' bad rate in the same champion grade."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from apps.applications.models import Application
from apps.scoring.features.spec import KINDS
from apps.scoring.models import FeatureSnapshot
from apps.scoring.scorecard.data import DataError
from apps.scoring.services.reject_inference import rejects_parcelled
from apps.scoring.synthetic import TARGET, generate_rows

pytestmark = pytest.mark.django_db


def _book(world, *, accepts: int, rejects: int) -> dict[int, int]:
    """Disbursed accepts with known outcomes and declined applications, each with the
    snapshot it was decided on; returns the accepts' outcomes."""
    template = world.draft()
    decided = timezone.now() + dt.timedelta(minutes=5)
    Application.objects.bulk_create([
        Application(reference=f"R{i:06d}", enterprise=template.enterprise,
                    state="disbursed" if i < accepts else "rejected",
                    product_version=template.product_version, branch=template.branch,
                    account_manager=template.account_manager, amount_requested=Decimal("1"),
                    decided_at=decided)
        for i in range(accepts + rejects)])
    apps = list(Application.objects.filter(reference__startswith="R").order_by("id"))
    outcomes = {}
    for i, (application, row) in enumerate(zip(apps, generate_rows(len(apps), seed=11),
                                               strict=True)):
        values = {k: (None if row[k] == "" else float(row[k]) if KINDS[k] == "numeric"
                      else row[k]) for k in KINDS}
        FeatureSnapshot.objects.create(application=application, input_hash=f"{i:064d}",
                                       spec_version="t", values=values)
        if i < accepts:
            outcomes[application.pk] = int(row[TARGET])
    return outcomes


def test_parcelling_labels_every_reject_by_its_grades_accept_bad_rate(world):
    outcomes = _book(world, accepts=300, rejects=60)
    inferred, summary = rejects_parcelled(outcomes=outcomes)
    rejected = set(Application.objects.filter(state="rejected").values_list("pk", flat=True))
    assert set(inferred) == rejected and summary["rejects"] == 60
    assert summary["inferred_bads"] == sum(inferred.values())
    for grade, row in summary["grades"].items():
        expected = round(min(1.0, row["accept_bad_rate"]) * row["rejects"])
        assert row["inferred_bads"] == expected, grade
    doubled, more = rejects_parcelled(outcomes=outcomes, coefficient=2.0)
    assert more["inferred_bads"] >= summary["inferred_bads"]
    assert set(doubled) == rejected
    with pytest.raises(DataError):
        rejects_parcelled(outcomes=outcomes, coefficient=0)


def test_reject_inference_needs_the_database_as_source(tmp_path):
    path = tmp_path / "loans.csv"
    path.write_text("x,default\n1,0\n2,1\n")
    with pytest.raises(CommandError, match="needs --from-database"):
        call_command("train_model", csv=str(path), target="default",
                     reject_inference="parcelling")
