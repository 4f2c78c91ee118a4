"""The portfolio facts against the live computation they replace: the dashboard read from the
facts (with or without a tail of changes past the watermark, after an incremental refresh or a
rebuild) equals the dashboard read live from the loans, borrowers, risk statuses and scores;
a model promotion sends the page back to the live rows; closed loans leave the facts."""

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from apps.insight.models import BorrowerScope, BorrowerTotal, FactWatermark, LoanFact
from apps.insight.portfolio_facts import (
    PORTFOLIO,
    live_rows,
    refresh_portfolio_facts,
    scope_key,
)
from apps.insight.selectors import PortfolioFilters, portfolio_dashboard
from apps.insight.tests.helpers import score
from apps.insight.tests.test_portfolio import book  # noqa: F401 - the fixture
from apps.insight.tests.test_portfolio import (
    test_book_figures_for_the_north_branch_head as north_figures,
)
from apps.loans.models import Loan
from apps.org.selectors import branch_subtree_ids
from apps.scoring.models import ModelVersion

TODAY = timezone.localdate()



def _seen(dashboard) -> dict:
    """Everything the page shows, as comparable values."""
    charts = {c.key: [dict(r) for r in c.rows] for c in dashboard["charts"]}
    return {"facts": dashboard["facts"], "charts": charts,
            "summaries": [c.summary for c in dashboard["charts"]]}


def _live(viewer, filters) -> dict:
    """The dashboard with no facts to read (as before the summary was built)."""
    saved = list(FactWatermark.objects.filter(name=PORTFOLIO).values_list("as_of", flat=True))
    FactWatermark.objects.filter(name=PORTFOLIO).delete()
    try:
        return _seen(portfolio_dashboard(viewer=viewer, filters=filters))
    finally:
        for as_of in saved:
            FactWatermark.objects.create(name=PORTFOLIO, as_of=as_of)


def _watermark_now():
    """As if the refresh had read the book just now: every write of the fixture is before
    the watermark, so the page reads those loans from the facts, not from the tail."""
    FactWatermark.objects.filter(name=PORTFOLIO).update(as_of=timezone.now())


def _tamper(loan_id, outstanding: str):
    """A fact that no longer matches its loan, with the cells and the borrower totals added
    up from the facts again (as the refresh does): what the page shows while it reads them."""
    from django.db import connection

    from apps.insight.portfolio_facts import _rebuild_cells, _refresh_borrowers

    LoanFact.objects.filter(loan_id=loan_id).update(outstanding=Decimal(outstanding))
    with connection.cursor() as cursor:
        _rebuild_cells(cursor, FactWatermark.objects.get(name=PORTFOLIO).npa_dpd_gt)
        _refresh_borrowers(cursor, full=True, tail=None)


def _views(world):
    lead, auditor = world.user("lead.north"), world.user("auditor.north")
    product = Loan.objects.values_list("product_version__product_id", flat=True).first()
    return [(lead, PortfolioFilters()), (auditor, PortfolioFilters()),
            (auditor, PortfolioFilters(branch_id=world.south.pk)),
            (auditor, PortfolioFilters(product_id=product)),
            (auditor, PortfolioFilters(disbursed_from=TODAY - dt.timedelta(days=3650),
                                       disbursed_to=TODAY)),
            (auditor, PortfolioFilters(disbursed_to=TODAY - dt.timedelta(days=1)))]


def test_facts_equal_live_figures(world, book):  # noqa: F811 - the fixture
    assert refresh_portfolio_facts() == 4
    assert LoanFact.objects.count() == 4
    _watermark_now()
    for viewer, filters in _views(world):
        from_facts = _seen(portfolio_dashboard(viewer=viewer, filters=filters))
        assert from_facts == _live(viewer, filters)
    # the hand-computed figures, read from the facts
    north_figures(world, book)


def test_facts_are_read_and_the_tail_is_live(world, book):  # noqa: F811 - the fixture
    refresh_portfolio_facts()
    lead = world.user("lead.north")
    before = _seen(portfolio_dashboard(viewer=lead, filters=PortfolioFilters()))
    # A fact that no longer matches its loan is read (the loan did not change since the
    # watermark): proof the page reads the facts.
    _watermark_now()
    _tamper(book["l2"].pk, "1")
    stale = portfolio_dashboard(viewer=lead, filters=PortfolioFilters())
    assert stale["facts"]["outstanding"] == Decimal("150001")  # from the cells
    top = next(c for c in stale["charts"] if c.key == "top_borrowers")
    assert [r["outstanding"] for r in top.rows] == [Decimal("100000"), Decimal("50001")]
    # The loan written since the watermark (as the feed writes it) is read live instead.
    Loan.objects.filter(pk=book["l2"].pk).update(
        updated_at=timezone.now() + dt.timedelta(seconds=1))
    assert _seen(portfolio_dashboard(viewer=lead, filters=PortfolioFilters())) == before


def test_tail_changes_match_live_then_refresh_catches_up(world, book):  # noqa: F811
    refresh_portfolio_facts()
    _watermark_now()
    later = timezone.now() + dt.timedelta(seconds=5)
    # Writes after the watermark: a repayment and a new DPD (the feed sets updated_at), a new
    # score, a borrower's industry, a new loan, a closed loan.
    Loan.objects.filter(pk=book["l1"].pk).update(outstanding_principal=Decimal("80000"),
                                                 dpd_principal=200, updated_at=later)
    score(book["l3"].application, grade="D")
    firm = book["l2"].enterprise
    firm.industry = "G"
    firm.save()
    world.loan(outstanding="12345")
    Loan.objects.filter(pk=book["l4"].pk).update(state="settled", updated_at=later)
    for viewer, filters in _views(world):
        assert _seen(portfolio_dashboard(viewer=viewer, filters=filters)) == \
            _live(viewer, filters)
    refresh_portfolio_facts()  # incremental: the tail's loans read again, the closed one gone
    assert sorted(LoanFact.objects.values_list(
        "loan_id", "branch_id", "product_id", "enterprise_id", "officer_id", "value_date",
        "industry", "size_class", "grade", "probability", "category", "floor", "dpd",
        "outstanding")) == sorted(live_rows())
    assert not LoanFact.objects.filter(loan_id=book["l4"].pk).exists()
    # the borrower totals kept incrementally equal those added up again from the facts
    assert _borrower_totals() == _borrower_totals(rebuilt=True)
    for viewer, filters in _views(world):
        assert _seen(portfolio_dashboard(viewer=viewer, filters=filters)) == \
            _live(viewer, filters)


def _borrower_totals(*, rebuilt: bool = False) -> list:
    from django.db import connection

    from apps.insight.portfolio_facts import _refresh_borrowers

    if rebuilt:
        with connection.cursor() as cursor:
            _refresh_borrowers(cursor, full=True, tail=None)
    return sorted(BorrowerTotal.objects.values_list("scope", "product_id", "enterprise_id",
                                                    "loans", "cents"))


def test_top_borrowers_are_read_from_the_borrower_totals(world, book):  # noqa: F811
    refresh_portfolio_facts()
    _watermark_now()
    lead = world.user("lead.north")
    firm = book["l2"].enterprise_id  # N2, the largest borrower
    north = branch_subtree_ids(branch_id=world.north.pk)
    # every branch's subtree and every branch are kept, each by product and in all
    scopes = set(BorrowerScope.objects.values_list("scope", flat=True))
    assert {scope_key(None), scope_key(north),
            scope_key(branch_subtree_ids(branch_id=world.south.pk))} <= scopes
    kept = BorrowerTotal.objects.get(scope=scope_key(north), product_id=0, enterprise_id=firm)
    assert (kept.loans, kept.cents) == (2, 35_000_000)
    # a total that no longer matches the facts is what the page shows: proof it reads them
    BorrowerTotal.objects.filter(pk=kept.pk).update(cents=kept.cents + 700)
    top = next(c for c in portfolio_dashboard(viewer=lead, filters=PortfolioFilters())[
        "charts"] if c.key == "top_borrowers")
    assert top.rows[0]["enterprise_id"] == firm
    assert top.rows[0]["outstanding"] == Decimal(kept.cents + 700) / 100
    # a branch set that is not kept (another org tree) reads the facts
    assert not BorrowerScope.objects.filter(scope=scope_key({world.north.pk, 10**9})).exists()


def test_rebuild_equals_incremental(world, book):  # noqa: F811
    refresh_portfolio_facts()
    Loan.objects.filter(pk=book["l3"].pk).update(outstanding_principal=Decimal("1000"),
                                                 updated_at=timezone.now())
    refresh_portfolio_facts()
    incremental = sorted(LoanFact.objects.values_list("loan_id", "outstanding", "grade"))
    refresh_portfolio_facts(rebuild=True)
    assert sorted(LoanFact.objects.values_list("loan_id", "outstanding", "grade")) == incremental
    assert dict(LoanFact.objects.values_list("loan_id", "outstanding"))[book["l3"].pk] == \
        Decimal("1000")


def test_a_model_promotion_sends_the_page_to_live_rows(world, book):  # noqa: F811
    refresh_portfolio_facts()
    _watermark_now()
    lead = world.user("lead.north")
    _tamper(book["l2"].pk, "1")
    assert portfolio_dashboard(viewer=lead, filters=PortfolioFilters())["facts"][
        "outstanding"] == Decimal("150001")  # the facts are read
    ModelVersion.objects.filter(promoted_at__isnull=False).update(
        updated_at=timezone.now() + dt.timedelta(seconds=1))
    assert portfolio_dashboard(viewer=lead, filters=PortfolioFilters())["facts"][
        "outstanding"] == Decimal("450000")  # live until the refresh rebuilds
    refresh_portfolio_facts()
    assert LoanFact.objects.get(loan_id=book["l2"].pk).outstanding == Decimal("300000")


@pytest.mark.parametrize("twice", [False, True])
def test_refresh_is_idempotent(world, book, twice):  # noqa: F811
    refresh_portfolio_facts()
    if twice:
        refresh_portfolio_facts()
    assert sorted(LoanFact.objects.values_list("loan_id", flat=True)) == sorted(
        r[0] for r in live_rows())
