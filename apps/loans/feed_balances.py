"""The latest reported balances of a large feed batch, applied in the same UPDATE as the days
past due (PostgreSQL; `apps.loans.feed._finish`).

Applying the balances and then the DPD figures updated most touched loans twice in one
transaction, and PostgreSQL re-checks every foreign key of a row whose previous version the
same transaction wrote (seven on `loans_loan`): 0.34 s of a 100,000-row import. So the
balances a batch brings are first staged (`stage`), the DPD recomputation writes them along
with its figures for the loans whose figures it updates (`apps.loans.dpd_pg.recompute`,
`balances=TABLE`), and `apply_rest` writes them for the other loans: one UPDATE per loan.

Which balance wins is as in `apps.loans.feed._apply_balances`: per loan the snapshot with the
latest as-of date (then the latest id), when it is at least as recent as what the loan
carries.
"""

from __future__ import annotations

from collections.abc import Sequence

from django.db import connection

from apps.loans.states import LoanState

TABLE = "loans_feed_balances"


def stage(loan_ids: Sequence[int]) -> list[int]:
    """Stage the balances to apply; returns the active loans they report as paid off."""
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {TABLE}")
        cursor.execute(f"""
            CREATE TEMP TABLE {TABLE} ON COMMIT DROP AS
            SELECT latest.*, l.state FROM (
                SELECT DISTINCT ON (loan_id) loan_id, as_of, outstanding_principal,
                       overdue_principal, overdue_interest
                  FROM loans_balancesnapshot WHERE loan_id = ANY(%s)
                 ORDER BY loan_id, as_of DESC, id DESC) latest
              JOIN loans_loan l ON l.id = latest.loan_id
             WHERE l.balance_as_of IS NULL OR l.balance_as_of <= latest.as_of""",  # noqa: S608
                       [list(loan_ids)])
        # Statistics for the joins that follow (a temporary table has none until analysed:
        # planned as tiny, the DPD UPDATE's join took 1.5 s instead of a few ms).
        cursor.execute(f"ANALYZE {TABLE}")
        cursor.execute(f"SELECT loan_id FROM {TABLE} WHERE outstanding_principal = 0 "  # noqa: S608
                       "AND state = %s ORDER BY loan_id", [LoanState.ACTIVE])
        return [pk for (pk,) in cursor.fetchall()]


def apply_rest(updated: Sequence[int]) -> None:
    """Write the staged balances of the loans the DPD recomputation did not update."""
    with connection.cursor() as cursor:
        cursor.execute(f"""
            UPDATE loans_loan l
               SET outstanding_principal = b.outstanding_principal,
                   overdue_principal = b.overdue_principal,
                   overdue_interest = b.overdue_interest,
                   balance_as_of = b.as_of, updated_at = now()
              FROM {TABLE} b
             WHERE l.id = b.loan_id
               -- An anti-join (hashed), not `NOT loan_id = ANY(…)`: that scans the whole
               -- list per row (0.19 s for 10,000 loans).
               AND NOT EXISTS (SELECT 1 FROM unnest(%s::bigint[]) AS u(id)
                                WHERE u.id = b.loan_id)""",  # noqa: S608
                       [list(updated)])
