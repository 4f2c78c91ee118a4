"""Repayment histories for the demo book, as the bank's core system would send them.

Each demo loan has a behaviour (`Profile`): most pay on time, a few fall behind, one bounces
a payment (a reversal), one slips once and catches up. The rows are the core-banking feed's
own columns, written to a CSV file and imported through `feed_file_import`, so days past due
and balances are computed by the production path.

On PostgreSQL that is the set-based path (COPY, arrays); on the embedded SQLite of `make run`
the feed's portable path (`apps.loans.feed_portable`: the reference engine decides every row,
the ORM reads and writes): the same file, the same refusals and figures a bank sees.
`tests/test_demo_history.py` runs it on either database.
"""

from __future__ import annotations

import csv
import datetime as dt
import tempfile
from dataclasses import dataclass
from pathlib import Path

from apps.loans import dpd
from apps.loans.models import (
    FeedImport,
    Loan,
    ScheduleInstalment,
)

ON_TIME, CURED, BOUNCED, LATE, PARTIAL, STOPPED = (
    "on_time", "cured", "bounced", "late", "partial", "stopped")

COLUMNS = ("source_record_id", "kind", "loan_number", "date", "principal", "interest",
           "reverses", "outstanding_principal", "overdue_principal", "overdue_interest")


@dataclass(frozen=True)
class Profile:
    """How a demo borrower pays. `missed_from`: the first instalment left unpaid (None: all
    paid); `days_late`: how many days ago that instalment fell due (sets the value date)."""

    behaviour: str
    missed_from: int | None = None
    days_late: int = 0
    months_on_book: int = 6

    @property
    def late(self) -> bool:
        return self.missed_from is not None


def record_id(loan_number: str, *parts) -> str:
    return "-".join(("DEMO", loan_number, *map(str, parts)))


def feed_rows(loan: Loan, profile: Profile, *, today: dt.date) -> list[dict]:
    """The core's records for `loan` up to `today`: repayments (a reversal for a bounced one)
    and one balance snapshot as of today, figures as the schedule and payments give them."""
    instalments = list(ScheduleInstalment.objects.filter(
        loan=loan, version=loan.schedule_version).order_by("number"))
    rows: list[dict] = []
    payments: list[tuple[dt.date, int]] = []

    def pay(number: int, day: dt.date, principal, interest, suffix: str = "") -> str:
        rid = record_id(loan.loan_number, f"R{number:02d}{suffix}")
        rows.append({"source_record_id": rid, "kind": "repayment",
                     "loan_number": loan.loan_number, "date": day.isoformat(),
                     "principal": f"{principal:.2f}", "interest": f"{interest:.2f}"})
        payments.append((day, dpd.to_fen(principal) + dpd.to_fen(interest)))
        return rid

    for inst in instalments:
        if inst.due_date > today:
            break
        number = inst.number
        if profile.late and number >= profile.missed_from:
            if profile.behaviour == PARTIAL and number == profile.missed_from:
                pay(number, inst.due_date, 0, inst.interest)  # the interest, not the principal
            elif profile.behaviour == BOUNCED and number == profile.missed_from:
                bounced = pay(number, inst.due_date, inst.principal, inst.interest)
                back = min(inst.due_date + dt.timedelta(days=3), today)
                rows.append({"source_record_id": record_id(loan.loan_number,
                                                           f"V{number:02d}"),
                             "kind": "reversal", "loan_number": loan.loan_number,
                             "date": back.isoformat(), "reverses": bounced})
                payments.pop()
            continue
        # On time: on the due date or a day or two before it (direct debit, transfer).
        day = inst.due_date - dt.timedelta(days=(loan.pk + number) % 3)
        if profile.behaviour == CURED and number == 2:
            day = min(inst.due_date + dt.timedelta(days=6), today)  # one slip, made good
        pay(number, max(day, loan.value_date), inst.principal, inst.interest)
    schedule = [(i.due_date, dpd.to_fen(i.principal), dpd.to_fen(i.interest))
                for i in instalments]
    _points, figures = dpd.loan_dpd(schedule, sorted(payments), as_of=today)
    outstanding = max(dpd.to_fen(loan.principal) - figures.principal_paid, 0)
    rows.append(balance_row(loan, today=today, outstanding=dpd.to_yuan(outstanding),
                            overdue_principal=dpd.to_yuan(figures.overdue_principal),
                            overdue_interest=dpd.to_yuan(figures.overdue_interest)))
    return rows


def balance_row(loan: Loan, *, today: dt.date, outstanding, overdue_principal=0,
                overdue_interest=0, suffix: str = "") -> dict:
    """The core's balance record for `loan` as of `today`."""
    return {"source_record_id": record_id(loan.loan_number, "B", today.isoformat(),
                                          *([suffix] if suffix else [])),
            "kind": "balance", "loan_number": loan.loan_number, "date": today.isoformat(),
            "outstanding_principal": f"{outstanding:.2f}",
            "overdue_principal": f"{overdue_principal:.2f}",
            "overdue_interest": f"{overdue_interest:.2f}"}


def import_rows(rows: list[dict], *, today: dt.date, name: str = "") -> FeedImport:
    """Import the demo feed as a file through the core-banking feed (`feed_file_import`), on
    either database. One batch, as the system."""
    filename = f"demo-core-feed-{today:%Y%m%d}{'-' + name if name else ''}.csv"
    from apps.loans.feed_files import feed_file_import

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / filename
        with open(path, "w", newline="", encoding="utf-8") as handle:
            writer = csv.DictWriter(handle, fieldnames=COLUMNS)
            writer.writeheader()
            writer.writerows(rows)
        outcome = feed_file_import(path=path, filename=filename, actor=None, today=today)
    batch = outcome.feed_import
    if batch.outcome != FeedImport.Outcome.ACCEPTED:
        raise RuntimeError(f"The demo feed was refused: {batch.errors[:3]}")
    return batch

