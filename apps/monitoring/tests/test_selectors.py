"""Portfolio figures: NPL ratio by dimension and the migration matrix, viewer-scoped."""

import datetime as dt
from decimal import Decimal

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


def test_migration_matrix_month_to_month(world):
    """Runs on PostgreSQL and SQLite: the same SQL (no FULL OUTER JOIN, dialect id lists,
    balances summed exactly to the cent)."""
    today = timezone.localdate()
    worse, same = world.loan(dpd=20, outstanding="1000.10"), world.loan(outstanding="0.20")
    zero = world.loan()
    settled = world.loan(outstanding="250.05")
    _run(today - dt.timedelta(days=30))
    worse.dpd_principal = 100
    worse.save(update_fields=["dpd_principal"])
    from apps.loans.models import Loan
    Loan.objects.filter(pk=zero.pk).update(outstanding_principal=0)
    Loan.objects.filter(pk=settled.pk).update(state="settled", outstanding_principal=0)
    world.loan(outstanding="0.70")  # new this month
    _run(today)
    matrix = migration_matrix(viewer=world.user("auditor.north"),
                              from_date=today - dt.timedelta(days=30), to_date=today)
    cells = matrix["cells"]
    assert cells == {
        ("special_mention", "substandard"): {"count": 1, "balance": Decimal("1000.10"),
                                             "balance_before": Decimal("1000.10")},
        ("normal", "normal"): {"count": 2, "balance": Decimal("0.20"),
                               "balance_before": Decimal("100000.20")},
        ("normal", "off"): {"count": 1, "balance": Decimal("0.00"),
                            "balance_before": Decimal("250.05")},
        ("new", "normal"): {"count": 1, "balance": Decimal("0.70"),
                            "balance_before": Decimal("0.00")}}
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
