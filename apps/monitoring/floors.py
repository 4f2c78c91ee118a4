"""The classification floor of each loan (§5.2, §5.3): set-based per chunk of loan ids.

Floor = the worst of
- the DPD floor: days past due (principal or interest, whichever is longer) above each
  category's policy threshold (`classification.floor.<category>.dpd_gt`);
- the restructuring floor: a loan restructured less than the policy's observation months ago
  keeps at least the policy's category;
- open signals' implied floors: the highest open level of a rule that implies one (L2 → 关注,
  L3 → 次级 by policy);
- cross-default: when more than the policy share of a (non-retail) borrower's outstanding
  claims is NPA, every claim of that borrower is at least 次级 (Art. 7).

Two queries per chunk (the loans, then their borrowers' exposure); the rest is arithmetic on
rows. Each loan's reasons name the rule, what was observed and the policy versions.
"""

import calendar
import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import connection

from apps.loans.states import OPEN_LOAN_STATES
from apps.monitoring import dialect
from apps.monitoring.policy import K, Policy
from apps.monitoring.states import CATEGORY_BY_RANK, CATEGORY_RANK, Category

OPEN_STATES = sorted(str(s) for s in OPEN_LOAN_STATES)
NPA_CODES = [str(Category.SUBSTANDARD), str(Category.DOUBTFUL), str(Category.LOSS)]


def add_months(day: dt.date, months: int) -> dt.date:
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    month += 1
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


@dataclass
class LoanFloor:
    loan_id: int
    enterprise_id: int
    branch_id: int
    officer_id: int
    product_id: int
    application_id: int
    value_date: dt.date
    dpd: int
    outstanding: Decimal
    state: str
    category: str  # in force
    restructured_on: dt.date | None
    signal_level: int
    floor_rank: int = 1
    reasons: list = field(default_factory=list)

    @property
    def floor(self) -> str:
        return str(CATEGORY_BY_RANK[self.floor_rank])

    def raise_to(self, rank: int, reason: dict) -> None:
        if rank > 1:
            self.reasons.append({**reason, "category": str(CATEGORY_BY_RANK[rank])})
        self.floor_rank = max(self.floor_rank, rank)


def _loans_sql() -> str:
    return f"""
SELECT l.id, l.enterprise_id, l.branch_id, l.officer_id, pv.product_id, l.application_id,
       l.value_date, {dialect.greatest("l.dpd_principal", "l.dpd_interest")},
       l.outstanding_principal, l.state, COALESCE(rs.category, 'normal'), rr.restructured_on,
       COALESCE(sg.level, 0)
FROM loans_loan l
JOIN products_productversion pv ON pv.id = l.product_version_id
LEFT JOIN monitoring_loanriskstatus rs ON rs.loan_id = l.id
LEFT JOIN (SELECT loan_id, MAX(restructured_on) AS restructured_on
           FROM monitoring_loanrestructuring WHERE loan_id BETWEEN %(lo)s AND %(hi)s
           GROUP BY loan_id) rr ON rr.loan_id = l.id
LEFT JOIN (SELECT s.loan_id, MAX(s.level) AS level FROM monitoring_signal s
           JOIN monitoring_signalrule r ON r.id = s.rule_id AND r.implies_floor
           WHERE s.loan_id BETWEEN %(lo)s AND %(hi)s AND s.state <> 'closed'
           GROUP BY s.loan_id) sg ON sg.loan_id = l.id
WHERE l.id BETWEEN %(lo)s AND %(hi)s AND {dialect.in_ids("l.state", "states")}
ORDER BY l.id
"""  # noqa: S608 - fragments from apps.monitoring.dialect, values bound


def _exposure_sql() -> str:
    """A borrower's outstanding, and the part that is NPA on its own (category in force, DPD
    floor, restructuring floor or an open signal floor): the base of the cross-default rule."""
    return f"""
SELECT l.enterprise_id, SUM(l.outstanding_principal),
       SUM(CASE WHEN {dialect.in_ids("COALESCE(rs.category, 'normal')", "npa")}
                  OR {dialect.greatest("l.dpd_principal", "l.dpd_interest")} > %(sub_gt)s
                  OR (%(restr_npa)s AND rr.restructured_on IS NOT NULL
                      AND {dialect.add_months("rr.restructured_on", "months")} > %(as_of)s)
                  OR (COALESCE(sg.level, 0) >= 3 AND %(l3_npa)s)
                  OR (COALESCE(sg.level, 0) = 2 AND %(l2_npa)s)
                THEN l.outstanding_principal ELSE 0 END)
FROM loans_loan l
LEFT JOIN monitoring_loanriskstatus rs ON rs.loan_id = l.id
LEFT JOIN (SELECT loan_id, MAX(restructured_on) AS restructured_on
           FROM monitoring_loanrestructuring GROUP BY loan_id) rr ON rr.loan_id = l.id
LEFT JOIN (SELECT s.loan_id, MAX(s.level) AS level FROM monitoring_signal s
           JOIN monitoring_signalrule r ON r.id = s.rule_id AND r.implies_floor
           WHERE s.state <> 'closed' GROUP BY s.loan_id) sg ON sg.loan_id = l.id
WHERE {dialect.in_ids("l.enterprise_id", "enterprises")} AND {dialect.in_ids("l.state", "states")}
GROUP BY l.enterprise_id
HAVING COUNT(*) > 1
"""  # noqa: S608 - fragments from apps.monitoring.dialect, values bound


CENT = Decimal("0.01")


def money(value) -> Decimal:
    """A sum of money from either database: SQLite returns numeric columns and their sums
    as int or float (cents are exact after rounding to them)."""
    if value is None or isinstance(value, Decimal):
        return value
    return Decimal(str(value)).quantize(CENT)


def _date(value):
    return dt.date.fromisoformat(value) if isinstance(value, str) else value


def _typed(row) -> list:
    """Dates and money as PostgreSQL returns them (SQLite gives text and floats)."""
    row = list(row)
    row[6], row[8], row[11] = _date(row[6]), money(row[8]), _date(row[11])
    return row


_DPD_KEYS = [(2, K.FLOOR_SPECIAL_MENTION_DPD_GT), (3, K.FLOOR_SUBSTANDARD_DPD_GT),
             (4, K.FLOOR_DOUBTFUL_DPD_GT), (5, K.FLOOR_LOSS_DPD_GT)]


def dpd_floor_rank(dpd: int, policy: Policy) -> tuple[int, dict]:
    """The DPD floor alone: (rank, policy versions)."""
    rank = 1
    for category_rank, key in _DPD_KEYS:
        if dpd > policy.integer(key):
            rank = category_rank
    return rank, policy.versions(*(k for _r, k in _DPD_KEYS))


def loan_floors(*, first_id: int, last_id: int, as_of: dt.date, policy: Policy
                ) -> list[LoanFloor]:
    """Floors of the open loans with ids in [first_id, last_id]."""
    with connection.cursor() as cursor:
        cursor.execute(_loans_sql(), {"lo": first_id, "hi": last_id,
                                      "states": dialect.id_list(OPEN_STATES)})
        loans = [LoanFloor(*_typed(row)) for row in cursor.fetchall()]
    if not loans:
        return loans
    months = policy.integer(K.RESTRUCTURED_MONTHS)
    restr_rank = policy.integer(K.RESTRUCTURED_FLOOR)
    signal_ranks = {2: policy.integer(K.SIGNAL_FLOOR_L2), 3: policy.integer(K.SIGNAL_FLOOR_L3)}
    share_gt = policy.value(K.CROSS_DEFAULT_SHARE_GT)
    # The DPD table read once per chunk (the same answer as `dpd_floor_rank` per loan).
    _rank, dpd_versions = dpd_floor_rank(0, policy)
    dpd_table = [(policy.integer(key), category_rank) for category_rank, key in _DPD_KEYS]
    for loan in loans:
        rank = 1
        for threshold, category_rank in dpd_table:
            if loan.dpd > threshold:
                rank = category_rank
        loan.raise_to(rank, {"rule": "dpd", "observed": loan.dpd, "policy": dpd_versions})
        if loan.restructured_on and add_months(loan.restructured_on, months) > as_of:
            loan.raise_to(restr_rank, {
                "rule": "restructured", "observed": loan.restructured_on.isoformat(),
                "until": add_months(loan.restructured_on, months).isoformat(),
                "policy": policy.versions(K.RESTRUCTURED_MONTHS, K.RESTRUCTURED_FLOOR)})
        if loan.signal_level >= 2:
            level = min(loan.signal_level, 3)
            key = K.SIGNAL_FLOOR_L3 if level == 3 else K.SIGNAL_FLOOR_L2
            loan.raise_to(signal_ranks[level], {"rule": "signal", "observed": level,
                                                "policy": policy.versions(key)})
    _apply_cross_default(loans, as_of=as_of, policy=policy, months=months,
                         restr_rank=restr_rank, signal_ranks=signal_ranks, share_gt=share_gt)
    return loans


def _apply_cross_default(loans, *, as_of, policy, months, restr_rank, signal_ranks,
                         share_gt) -> None:
    substandard = CATEGORY_RANK[Category.SUBSTANDARD]
    params = {"npa": dialect.id_list(NPA_CODES),
              "sub_gt": policy.integer(K.FLOOR_SUBSTANDARD_DPD_GT),
              "restr_npa": restr_rank >= substandard, "months": months, "as_of": as_of,
              "l3_npa": signal_ranks[3] >= substandard, "l2_npa": signal_ranks[2] >= substandard,
              "enterprises": dialect.id_list(sorted({loan.enterprise_id for loan in loans})),
              "states": dialect.id_list(OPEN_STATES)}
    with connection.cursor() as cursor:
        cursor.execute(_exposure_sql(), params)
        exposure = {row[0]: (money(row[1]), money(row[2])) for row in cursor.fetchall()}
    versions = policy.versions(K.CROSS_DEFAULT_SHARE_GT)
    for loan in loans:
        total, npa = exposure.get(loan.enterprise_id, (Decimal(0), Decimal(0)))
        if total and npa / total > share_gt:
            loan.raise_to(substandard, {"rule": "cross_default",
                                        "observed": str((npa / total).quantize(Decimal("0.0001"))),
                                        "policy": versions})
