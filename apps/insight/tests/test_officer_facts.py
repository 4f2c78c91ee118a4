"""The officer cells against the grouping of the loans they replace: the scorecard read from
the cells (with a tail of changes past the watermark, after a refresh) equals the scorecard
grouped from the loans; stale cells (another watermark) send the page back to the loans."""

import datetime as dt
from decimal import Decimal

from django.utils import timezone

from apps.insight.models import FactWatermark, OfficerCell
from apps.insight.officer_facts import OFFICER_CELLS, refresh_officer_cells
from apps.insight.portfolio_facts import PORTFOLIO, refresh_portfolio_facts
from apps.insight.scorecard import officer_scorecard
from apps.loans.models import Loan


def _rows(viewer) -> list[dict]:
    return [dict(r) for r in officer_scorecard(viewer=viewer).rows]


def _live(viewer) -> list[dict]:
    """The scorecard with no cells to read (grouped from the loans, as before)."""
    saved = list(FactWatermark.objects.filter(name=OFFICER_CELLS).values_list(
        "as_of", "npa_dpd_gt"))
    FactWatermark.objects.filter(name=OFFICER_CELLS).delete()
    try:
        return _rows(viewer)
    finally:
        for as_of, floor in saved:
            FactWatermark.objects.create(name=OFFICER_CELLS, as_of=as_of, npa_dpd_gt=floor)


def _refresh():
    refresh_portfolio_facts()
    refresh_officer_cells()
    # As if the refresh had read the book just now: the fixture's writes are before it.
    FactWatermark.objects.filter(name__in=[PORTFOLIO, OFFICER_CELLS]).update(
        as_of=timezone.now())


def _book(world):
    return {"late": world.loan(dpd=95, outstanding="100000"),
            "current": world.loan(outstanding="300000"),
            "other": world.loan(outstanding="50000", officer=world.user("am.north")),
            "south": world.loan(branch=world.south, outstanding="70000")}


def test_cells_equal_the_loans_grouped_and_are_read(world):
    book = _book(world)
    _refresh()
    assert OfficerCell.objects.count() >= 3
    viewers = [world.user(u) for u in ("lead.north", "postloan.north", "auditor.north",
                                       "lead.south")]
    for viewer in viewers:
        assert _rows(viewer) == _live(viewer), viewer.username
    lead = {r["label"]: r for r in _rows(world.user("lead.north"))}
    assert (lead["postloan.north"]["loans"], lead["postloan.north"]["outstanding"],
            lead["postloan.north"]["npl_ratio"]) == (2, Decimal("400000"), Decimal("0.25"))
    # A cell that no longer matches the loans is what the page shows: proof it reads cells.
    OfficerCell.objects.filter(officer_id=book["other"].officer_id).update(
        outstanding=Decimal("1"))
    lead = {r["label"]: r for r in _rows(world.user("lead.north"))}
    assert lead["am.north"]["outstanding"] == Decimal("1")
    # Cells counted at another watermark than the facts': the loans are grouped instead.
    FactWatermark.objects.filter(name=OFFICER_CELLS).update(
        as_of=timezone.now() - dt.timedelta(hours=1))
    lead = {r["label"]: r for r in _rows(world.user("lead.north"))}
    assert lead["am.north"]["outstanding"] == Decimal("50000")


def test_tail_changes_match_the_loans_then_refresh_catches_up(world):
    book = _book(world)
    _refresh()
    later = timezone.now() + dt.timedelta(seconds=5)
    # After the watermark: a repayment and a new DPD, a loan handed to another officer, a
    # closed loan, a new loan.
    Loan.objects.filter(pk=book["current"].pk).update(
        outstanding_principal=Decimal("250000"), dpd_principal=120, updated_at=later)
    Loan.objects.filter(pk=book["late"].pk).update(officer=world.user("am.north"),
                                                   updated_at=later)
    Loan.objects.filter(pk=book["other"].pk).update(state="settled", updated_at=later)
    world.loan(outstanding="12345")
    viewers = [world.user(u) for u in ("lead.north", "postloan.north", "am.north",
                                       "auditor.north")]
    for viewer in viewers:
        assert _rows(viewer) == _live(viewer), viewer.username
    _refresh()
    for viewer in viewers:
        assert _rows(viewer) == _live(viewer), viewer.username
