"""The feed import's reads and writes on a database other than PostgreSQL (SQLite under
`make run` and the unit tests): the same answers as the PostgreSQL spellings in
`apps.loans.feed`, through the ORM in chunks of ids, so each value comes back typed (SQLite
hands raw SQL dates back as text and amounts as floats).

PostgreSQL keeps its own spellings (temporary key tables filled by COPY, `= ANY`,
`DISTINCT ON … UPDATE … RETURNING`): they are what a 100,000-row batch needs there. Here the
batches are the embedded demo's, and a write transaction holds the whole database anyway.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence

from django.db import connection
from django.utils import timezone

from apps.loans.models import BalanceSnapshot, Loan, RepaymentEvent
from apps.loans.states import LoanState

# Ids per `IN (…)`: well under SQLite's bound-parameter limit on any build.
CHUNK = 500


def chunks(values: Iterable) -> Iterable[list]:
    values = sorted(set(values))
    for k in range(0, len(values), CHUNK):
        yield values[k:k + CHUNK]


def take_write_lock() -> None:
    """Hold the database's write lock from here to commit, so two imports decide their rows
    one after the other (PostgreSQL's import takes an advisory lock instead). SQLite grants
    it at the first write statement of a transaction, even one that changes no row."""
    with connection.cursor() as cursor:
        cursor.execute("UPDATE loans_feedimport SET id = id WHERE 1 = 0")


def stored_events(record_ids: Iterable[str]) -> dict[str, tuple]:
    """{record id: (id, kind, loan id, loan number, value date, principal, interest, id of
    the record it reverses or "")} for the stored repayments and reversals among the ids."""
    events = {}
    for chunk in chunks(record_ids):
        for rid, pk, kind, loan_id, number, day, p, i, reverses in (
                RepaymentEvent.objects.filter(source_record_id__in=chunk)
                .order_by().values_list("source_record_id", "id", "kind", "loan_id",
                                        "loan__loan_number", "value_date", "principal",
                                        "interest", "reverses__source_record_id")):
            events[rid] = (pk, kind, loan_id, number, day, p, i, reverses or "")
    return events


def reversed_ids(record_ids: Iterable[str]) -> set[str]:
    """The record ids among these of stored repayments a stored reversal cancels."""
    found = set()
    for chunk in chunks(record_ids):
        found.update(RepaymentEvent.objects.filter(source_record_id__in=chunk,
                                                   reversed_by__isnull=False)
                     .order_by().values_list("source_record_id", flat=True))
    return found


def stored_balances(record_ids: Iterable[str]) -> dict[str, tuple]:
    """{record id: (loan number, as of, outstanding, overdue principal, overdue interest)}."""
    balances = {}
    for chunk in chunks(record_ids):
        for rid, *figures in (
                BalanceSnapshot.objects.filter(source_record_id__in=chunk).order_by()
                .values_list("source_record_id", "loan__loan_number", "as_of",
                             "outstanding_principal", "overdue_principal",
                             "overdue_interest")):
            balances[rid] = tuple(figures)
    return balances


def visible_loans(numbers: Iterable[str], branches) -> dict[str, tuple]:
    """{loan number: (id, value date, state)} of the loans in `branches` (None: all)."""
    loans = {}
    for chunk in chunks(numbers):
        query = Loan.objects.filter(loan_number__in=chunk)
        if branches is not None:
            query = query.filter(branch_id__in=list(branches))
        for number, pk, value_date, state in query.order_by().values_list(
                "loan_number", "id", "value_date", "state"):
            loans[number] = (pk, value_date, state)
    return loans


def event_ids(record_ids: Iterable[str]) -> dict[str, tuple[int, dt.date]]:
    """{record id: (id, value date)} of stored repayment events."""
    found = {}
    for chunk in chunks(record_ids):
        for rid, pk, day in RepaymentEvent.objects.filter(source_record_id__in=chunk) \
                .order_by().values_list("source_record_id", "id", "value_date"):
            found[rid] = (pk, day)
    return found


def apply_balances(loan_ids: Sequence[int]) -> list[int]:
    """`apps.loans.feed._apply_balances` for any database: each loan takes its latest
    snapshot's figures (latest as of, then latest id) unless it carries more recent ones;
    returns the active loans now reported paid off."""
    latest: dict[int, tuple] = {}
    for chunk in chunks(loan_ids):
        for loan_id, *figures in (
                BalanceSnapshot.objects.filter(loan_id__in=chunk)
                .order_by("loan_id", "-as_of", "-id")
                .values_list("loan_id", "as_of", "outstanding_principal",
                             "overdue_principal", "overdue_interest")):
            latest.setdefault(loan_id, tuple(figures))
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    updates, paid_off = [], []
    for chunk in chunks(latest):
        for loan_id, balance_as_of, state in Loan.objects.filter(id__in=chunk).order_by() \
                .values_list("id", "balance_as_of", "state"):
            as_of, outstanding, overdue_p, overdue_i = latest[loan_id]
            if balance_as_of is not None and balance_as_of > as_of:
                continue
            updates.append((outstanding, overdue_p, overdue_i, as_of, now, loan_id))
            if outstanding == 0 and state == LoanState.ACTIVE:
                paid_off.append(loan_id)
    if updates:
        with connection.cursor() as cursor:
            cursor.executemany(
                """UPDATE loans_loan SET outstanding_principal = %s, overdue_principal = %s,
                          overdue_interest = %s, balance_as_of = %s, updated_at = %s
                    WHERE id = %s""", updates)
    return paid_off
