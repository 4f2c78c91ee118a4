"""The officer scorecard's volume and NPL columns from the portfolio facts (issue #22).

The scorecard grouped the open book by officer twice per view (loans and outstanding, then
the NPL ratio joined to risk status): two scans of every open loan of the branch. Now the
refresh adds the facts up into officer cells (apps/insight/models.py OfficerCell) and the
page reads, in one statement, the cells of its scope less the facts of the loans changed
since the facts' watermark (the tail, `portfolio_facts.tail_sql`) plus those loans' rows as
the tables give them now (`portfolio_facts.live_rows`): the same figures as grouping the
loans, never stale.

The cells are rebuilt under the facts' watermark lock and remember the watermark and the NPL
floor they were counted with (a FactWatermark row of their own); the page reads them only
while both still match, and otherwise groups the loans as before (`None` from
`officer_volume`). The NPA rule is monitoring's (`npl_ratios`): category in force or rule
floor substandard or worse, or days past due (the longer of principal and interest) past the
floor in policy. Plain SQL on both databases, money sums from apps.monitoring.dialect.
"""

from decimal import Decimal

from django.db import connection, transaction
from django.db.models import Q
from django.db.models.expressions import RawSQL

from apps.accounts.selectors import visible_branch_ids
from apps.insight.compiled import compiled, prepared_rows
from apps.insight.models import FactWatermark
from apps.insight.portfolio_facts import NPA, PORTFOLIO, live_rows, tail_sql
from apps.insight.summaries import read_datetime
from apps.loans.models import Loan
from apps.monitoring import dialect

OFFICER_CELLS = "officer_cells"


def refresh_officer_cells() -> int:
    """Rebuild the cells from the facts as they stand (after `refresh_portfolio_facts`).
    Returns the cells written; 0 and nothing stored while the facts were never built."""
    with transaction.atomic():
        mark = FactWatermark.objects.select_for_update(of=("self",)).filter(
            name=PORTFOLIO).first()
        if mark is None:
            return 0
        with connection.cursor() as cursor:
            cursor.execute("DELETE FROM insight_officercell")
            flag = "dpd > %s" if mark.npa_dpd_gt is not None else "1 = 0"
            params = [mark.npa_dpd_gt] * 2 if mark.npa_dpd_gt is not None else []
            cursor.execute(
                "INSERT INTO insight_officercell (branch_id, officer_id, category, floor, "  # noqa: S608 - constants
                f"dpd_npa, loans, outstanding) SELECT branch_id, officer_id, category, floor, "
                f"{flag}, COUNT(*), SUM(outstanding) FROM insight_loanfact "
                f"GROUP BY branch_id, officer_id, category, floor, {flag}", params)
            written = max(cursor.rowcount, 0)
        FactWatermark.objects.update_or_create(
            name=OFFICER_CELLS, defaults={"as_of": mark.as_of, "npa_dpd_gt": mark.npa_dpd_gt})
    return written


# The two watermarks the cells are checked against, as a statement a page may send with its
# other reads (apps/insight/compiled.py `batch`): rows of name, as_of, npa_dpd_gt.
MARKS_SQL = ("SELECT name, as_of, npa_dpd_gt FROM insight_factwatermark WHERE name IN (%s, %s)",
             [PORTFOLIO, OFFICER_CELLS])


def _cells_usable(npa_dpd_gt: int | None, marks: list[dict] | None = None):
    """The facts' watermark when the cells were counted from the facts as they stand and
    with the NPL floor in force; else None. `marks`: MARKS_SQL's rows, when already read."""
    if marks is None:
        with connection.cursor() as cursor:
            cursor.execute(*MARKS_SQL)
            marks = [dict(zip(("name", "as_of", "npa_dpd_gt"), row, strict=True))
                     for row in cursor.fetchall()]
    marks = {m["name"]: (read_datetime(m["as_of"]), m["npa_dpd_gt"]) for m in marks}
    facts, cells = marks.get(PORTFOLIO), marks.get(OFFICER_CELLS)
    if facts is None or cells is None or facts[0] != cells[0] or cells[1] != npa_dpd_gt:
        return None
    return facts[0]


def _changed(branch_ids, officer_id: int | None) -> tuple[str, list]:
    """The live rows (`live_rows`) of the loans in scope whose ids are in the statement's CTE
    `tail_ids` (the loans changed since the cells' watermark)."""
    loans = Loan.objects.filter(pk__in=RawSQL("SELECT loan_id FROM tail_ids", []))  # noqa: S611 - fixed SQL
    if branch_ids is not None:
        loans = loans.filter(branch_id__in=branch_ids)
    if officer_id is not None:
        loans = loans.filter(Q(officer_id=officer_id))
    return live_rows(loans).query.sql_with_params()


def officer_volume(*, branch_ids, officer_id: int | None, npa_dpd_gt: int | None,
                   viewer=None, marks: list[dict] | None = None) -> list[dict] | None:
    """Per responsible officer of the open loans in `branch_ids` (None: every branch), only
    `officer_id` when given: loans, outstanding principal and NPA principal (None without an
    NPL floor). None when the cells cannot be used: the caller groups the loans itself.
    `viewer`: the person whose visible branches `branch_ids` are (and whose id `officer_id`
    is, when given): the SQL of the changed loans is then built once per shape of viewer
    (apps/insight/compiled.py). `marks`: MARKS_SQL's rows, when the caller read them.
    """
    as_of = _cells_usable(npa_dpd_gt, marks)
    if as_of is None:
        return None
    where, params = [], []
    if branch_ids is not None:
        where.append(f"x.branch_id IN ({', '.join(['%s'] * len(branch_ids))})"
                     if branch_ids else "1 = 0")
        params += sorted(branch_ids)
    if officer_id is not None:
        where.append("x.officer_id = %s")
        params.append(officer_id)
    scope = " AND ".join(where) or "1 = 1"
    tail, tail_params = tail_sql(as_of)
    kept = None if viewer is None else compiled(
        "officer_volume", viewer, lambda stand_in: {"changed": _changed(
            None if branch_ids is None else visible_branch_ids(viewer=stand_in.viewer),
            None if officer_id is None else stand_in.viewer.pk)},
        days=[], extra=(branch_ids is None, officer_id is None))
    if kept is not None and kept["changed"] is not None:
        changed, changed_params = kept["changed"]
    else:
        changed, changed_params = _changed(branch_ids, officer_id)
    flag = "%s" if npa_dpd_gt is None else "dpd > %s"
    flag_param = False if npa_dpd_gt is None else npa_dpd_gt
    npa_list = ", ".join(["%s"] * len(NPA))
    npa = dialect.money_sum(f"CASE WHEN b.category IN ({npa_list}) OR b.floor IN ({npa_list}) "
                            "OR b.npa THEN b.outstanding ELSE 0 END")
    # The tail's ids as a CTE, planned once for its two readers; the statement planned in the
    # order it is written (apps/insight/compiled.py, FIXED_ORDER): 0.93 ms to plan -> 0.63;
    # prepared once per connection where it can be (`prepared_rows`: its text repeats until
    # the cells' next refresh), so not planned at all per request.
    sql = (
        f"WITH tail_ids (loan_id) AS ({tail}) "  # noqa: S608 - fixed fragments, values bound
        f"SELECT u.id, u.username, SUM(b.loans), {dialect.money_sum('b.outstanding')}, {npa} "
        "FROM (SELECT x.officer_id, x.category, x.floor, x.dpd_npa AS npa, x.loans, "
        f"x.outstanding FROM insight_officercell x WHERE {scope} "
        f"UNION ALL SELECT x.officer_id, x.category, x.floor, {flag.replace('dpd', 'x.dpd')}, "
        f"-1, -x.outstanding FROM insight_loanfact x WHERE x.loan_id IN "
        f"(SELECT loan_id FROM tail_ids) AND {scope} "
        f"UNION ALL SELECT t.f_officer_id, t.f_category, t.f_floor, "
        f"{flag.replace('dpd', 't.f_dpd')}, 1, t.f_outstanding FROM ({changed}) t) b "
        "JOIN accounts_user u ON u.id = b.officer_id GROUP BY u.id, u.username "
        "HAVING SUM(b.loans) <> 0")
    rows = prepared_rows(sql, [*tail_params, *NPA, *NPA, *params, flag_param, *params,
                                  flag_param, *changed_params])
    return [{"officer_id": pk, "officer__username": username, "loans": int(count),
             "outstanding": dialect.money_total(outstanding),
             "npa": dialect.money_total(npa_sum) if npa_dpd_gt is not None else None}
            for pk, username, count, outstanding, npa_sum in rows]


def npa_ratio(row: dict) -> Decimal:
    """NPA principal over outstanding, as `monitoring.selectors.npl_ratios` gives it."""
    return row["npa"] / row["outstanding"] if row["outstanding"] else Decimal(0)
