"""Portfolio figures: NPL ratio by dimension and the migration matrix, viewer-scoped."""

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from apps.monitoring.models import ClassificationRunChunk
from apps.monitoring.selectors import migration_matrix, npl_ratios, npl_tolerance, review_queue
from apps.monitoring.services.classification import classification_propose
from apps.monitoring.services.run import classification_chunk_run, classification_run_start


def _run(as_of):
    run = classification_run_start(as_of=as_of)
    for chunk in ClassificationRunChunk.objects.filter(run=run):
        classification_chunk_run(chunk_id=chunk.pk)
    return run


def test_npl_ratio_by_branch_scoped(world, django_assert_max_num_queries):
    world.loan(dpd=95, outstanding="100000")
    world.loan(outstanding="300000")
    world.loan(branch=world.south, dpd=400, outstanding="50000")
    _run(timezone.localdate())
    auditor = world.user("auditor.north")
    rows = {r["key"]: r for r in npl_ratios(viewer=auditor, by="branch")}
    assert rows[world.north.name]["ratio"] == Decimal("0.25")
    assert rows[world.south.name]["ratio"] == Decimal(1)
    with django_assert_max_num_queries(5):  # roles, branches, policy, figures
        north_only = npl_ratios(viewer=world.user("postloan.north"), by="branch")
    assert [r["key"] for r in north_only] == [world.north.name]
    vintages = npl_ratios(viewer=auditor, by="vintage")
    assert sum(r["loans"] for r in vintages) == 3
    assert npl_tolerance() == Decimal("0.045")


# The migration matrix is PostgreSQL SQL (= ANY); no SQLite dialect yet.
@pytest.mark.integration
def test_migration_matrix_month_to_month(world):
    today = timezone.localdate()
    worse, same = world.loan(dpd=20), world.loan()
    leaving = world.loan()
    _run(today - dt.timedelta(days=30))
    worse.dpd_principal = 100
    worse.save(update_fields=["dpd_principal"])
    from apps.loans.models import Loan
    Loan.objects.filter(pk=leaving.pk).update(outstanding_principal=0)
    world.loan()  # new this month
    _run(today)
    matrix = migration_matrix(viewer=world.user("auditor.north"),
                              from_date=today - dt.timedelta(days=30), to_date=today)
    cells = matrix["cells"]
    assert cells[("special_mention", "substandard")]["count"] == 1
    assert cells[("normal", "normal")]["count"] == 2
    assert cells[("new", "normal")]["count"] == 1
    south = migration_matrix(viewer=world.user("postloan.south"),
                             from_date=today - dt.timedelta(days=30), to_date=today)
    assert south["cells"] == {}
    assert same.pk


def test_review_queue_four_eyes(world):
    loan = world.loan()
    reviewer = world.user("reviewer.north")
    classification_propose(loan_id=loan.pk, category="substandard", reason="x",
                           actor=reviewer)
    assert list(review_queue(viewer=reviewer)) == []
    other = world.user("postloan.north")
    classification_propose(loan_id=world.loan().pk, category="doubtful", reason="y",
                           actor=other)
    assert len(review_queue(viewer=reviewer)) == 1
