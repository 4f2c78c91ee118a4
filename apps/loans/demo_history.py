"""Repayment histories for the demo book, as the bank's core system would send them.

Each demo loan has a behaviour (`Profile`): most pay on time, a few fall behind, one bounces
a payment (a reversal), one slips once and catches up. The rows are the core-banking feed's
own columns, written to a CSV file and imported through `feed_file_import`, so days past due
and balances are computed by the production path.

That path is PostgreSQL SQL (COPY, arrays). On the embedded SQLite of `make run` the same rows
are stored through the ORM and days past due computed with the same pure function
(`apps.loans.dpd.loan_dpd`); `tests/test_demo_history.py` holds the two paths equal.
"""

from __future__ import annotations

import csv
import datetime as dt
import tempfile
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from django.db import connection
from django.utils import timezone

from apps.audit.services import audit_record
from apps.loans import dpd
from apps.loans.models import (
    BalanceSnapshot,
    FeedImport,
    Loan,
    LoanDpd,
    RepaymentEvent,
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


def import_rows(rows: list[dict], *, today: dt.date, portable: bool | None = None,
                name: str = "") -> FeedImport:
    """Import the demo feed: through the core-banking feed on PostgreSQL, else (or with
    `portable`) through the ORM with the same figures. One batch, as the system."""
    if portable is None:
        portable = connection.vendor != "postgresql"
    filename = f"demo-core-feed-{today:%Y%m%d}{'-' + name if name else ''}.csv"
    if portable:
        return _import_portable(rows, today=today, filename=filename)
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


def _import_portable(rows: list[dict], *, today: dt.date, filename: str) -> FeedImport:
    """The feed's effect, written with the ORM (SQLite has no COPY nor arrays)."""
    from decimal import Decimal

    numbers = {r["loan_number"] for r in rows}
    loans = {loan.loan_number: loan for loan in Loan.objects.filter(loan_number__in=numbers)}
    batch = FeedImport.objects.create(
        source=FeedImport.Source.FILE, filename=filename, sha256="", rows_total=len(rows),
        rows_new=len(rows), outcome=FeedImport.Outcome.ACCEPTED)
    events = {}
    for row in rows:
        if row["kind"] == "repayment":
            events[row["source_record_id"]] = RepaymentEvent.objects.create(
                loan=loans[row["loan_number"]], source_record_id=row["source_record_id"],
                kind=RepaymentEvent.Kind.REPAYMENT,
                value_date=dt.date.fromisoformat(row["date"]),
                principal=Decimal(row["principal"]), interest=Decimal(row["interest"]),
                feed_import=batch)
        elif row["kind"] == "reversal":
            RepaymentEvent.objects.create(
                loan=loans[row["loan_number"]], source_record_id=row["source_record_id"],
                kind=RepaymentEvent.Kind.REVERSAL,
                value_date=dt.date.fromisoformat(row["date"]),
                reverses=events[row["reverses"]], feed_import=batch)
    for row in rows:
        if row["kind"] != "balance":
            continue
        loan = loans[row["loan_number"]]
        as_of = dt.date.fromisoformat(row["date"])
        BalanceSnapshot.objects.create(
            loan=loan, source_record_id=row["source_record_id"], as_of=as_of,
            outstanding_principal=Decimal(row["outstanding_principal"]),
            overdue_principal=Decimal(row["overdue_principal"]),
            overdue_interest=Decimal(row["overdue_interest"]), feed_import=batch)
        Loan.objects.filter(pk=loan.pk).update(
            outstanding_principal=Decimal(row["outstanding_principal"]),
            overdue_principal=Decimal(row["overdue_principal"]),
            overdue_interest=Decimal(row["overdue_interest"]), balance_as_of=as_of,
            updated_at=timezone.now())
    changed = recompute_portable([loan.pk for loan in loans.values()], as_of=today)
    audit_record(action="loan_feed.imported", actor=None, subject=batch, payload={
        "source": batch.source, "filename": filename, "sha256": "", "rows": len(rows),
        "new": len(rows), "duplicates": 0, "loans": len(loans), "dpd_loans_changed": changed,
        "paid_off": []})
    return batch


def recompute_portable(loan_ids, *, as_of: dt.date) -> int:
    """Days past due from scratch for `loan_ids` through the ORM, as `dpd_store` computes
    them: the schedule versions in force, standing repayments pooled by value date; a loan
    with a reported balance keeps the core's amounts. Returns how many histories changed."""
    loan_ids = sorted(set(loan_ids))
    loans = Loan.objects.in_bulk(loan_ids)
    from apps.loans.dpd_store import load_instalments

    schedules = load_instalments(loan_ids)  # the versions in force, each from its day
    pooled: dict[int, dict[dt.date, int]] = defaultdict(lambda: defaultdict(int))
    # A reversal cancels the whole repayment from its own value date: left out.
    standing = RepaymentEvent.objects.filter(loan_id__in=loan_ids,
                                             kind=RepaymentEvent.Kind.REPAYMENT,
                                             reversed_by__isnull=True)
    for event in standing:
        pooled[event.loan_id][event.value_date] += dpd.to_fen(event.principal) + \
            dpd.to_fen(event.interest)
    changed = 0
    for loan_id in loan_ids:
        loan = loans[loan_id]
        points, figures = dpd.loan_dpd(schedules.get(loan_id, []),
                                       sorted(pooled[loan_id].items()),
                                       as_of=as_of)
        old = [dpd.DpdPoint(p.as_of, p.dpd_principal, p.dpd_interest)
               for p in LoanDpd.objects.filter(loan_id=loan_id).order_by("as_of")]
        if old != points:
            changed += 1
            LoanDpd.objects.filter(loan_id=loan_id).delete()
            LoanDpd.objects.bulk_create([LoanDpd(loan_id=loan_id, as_of=p.as_of,
                                                 dpd_principal=p.dpd_principal,
                                                 dpd_interest=p.dpd_interest)
                                         for p in points])
        update = {"dpd_principal": figures.dpd_principal, "dpd_interest": figures.dpd_interest,
                  "dpd_as_of": as_of, "updated_at": timezone.now()}
        if loan.balance_as_of is None:
            update.update(
                overdue_principal=dpd.to_yuan(figures.overdue_principal),
                overdue_interest=dpd.to_yuan(figures.overdue_interest),
                outstanding_principal=max(loan.principal - dpd.to_yuan(
                    figures.principal_paid), 0))
        Loan.objects.filter(pk=loan_id).update(**update)
    return changed

