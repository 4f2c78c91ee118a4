"""The portfolio facts (apps/insight/models.py LoanFact): one narrow row per open loan, kept
current from a time watermark, and the portfolio page's breakdowns read in one statement.

Why: every breakdown of the portfolio page (five categories, product, industry, size class,
grade, NPL by branch, largest borrowers) grouped the open book joined to borrowers and risk
status, and the grade looked up each loan's latest decision score: seven scans of the book
per view. Now the page runs one aggregate over the facts, every breakdown a branch of one
UNION ALL over the same rows.

Never stale, only slower when the refresh stops: the page reads the facts of the loans not
changed since the watermark and, for those changed since (the tail), the same row computed
live from the loan. A loan is in the tail when, at or after the watermark, the loan was
written (`updated_at`: the feed, the DPD sweep and every service set it), its risk status
was (`updated_at`: set by every classification and signal write), its borrower was, or its
application got a new score. A promotion or retirement of a model changes which scores count
as decision scores: then the page reads the live rows of the whole book until the next
refresh rebuilds the facts. Without facts (never refreshed) the page reads the live rows too,
so the numbers are the same either way; only the time differs.

The watermark is taken before the refresh reads the book, less the start of the oldest
transaction still open (PostgreSQL) and a minute of clock margin: a write not yet committed
when the refresh reads has an `updated_at` no earlier than its transaction's start, so it
lands in the next tail instead of being lost. Beat runs the refresh with the step clock's
(`insight.summaries_refresh`); `manage.py insight_summaries [--rebuild]` by hand.

The SQL is the same on PostgreSQL and SQLite (`make run`): the live rows are the ORM's own
SQL, the rest is plain SQL with money sums from apps.monitoring.dialect.
"""

import datetime as dt
import hashlib
from decimal import Decimal

from django.db import connection, transaction
from django.db.models import F, OuterRef, QuerySet, Subquery
from django.db.models.expressions import RawSQL
from django.db.models.functions import Greatest
from django.utils import timezone

from apps.insight.compiled import prepared_rows
from apps.insight.models import FactWatermark
from apps.insight.summaries import read_datetime
from apps.loans.models import Loan
from apps.loans.states import OPEN_LOAN_STATES
from apps.monitoring import dialect
from apps.monitoring.states import NPA_CATEGORIES
from apps.scoring.selectors import decision_scores

PORTFOLIO = "portfolio"
# Clock margin between the web processes' clocks (auto_now) and the database's.
MARGIN = dt.timedelta(minutes=1)
TOP_BORROWERS = 10
COLUMNS = ("loan_id", "branch_id", "product_id", "enterprise_id", "officer_id", "value_date",
           "industry", "size_class", "grade", "probability", "category", "floor", "dpd",
           "outstanding")
NPA = sorted(str(c) for c in NPA_CATEGORIES)


def live_rows(loans: QuerySet | None = None) -> QuerySet:
    """The facts as the tables give them now, one row per open loan, in COLUMNS order (all
    annotations, so the SQL's column order is this order). The grade and PD are those of the
    application's latest decision score, as the portfolio and officer pages read them."""
    latest = decision_scores().filter(application_id=OuterRef("application_id")) \
        .order_by("-created_at", "-id")
    loans = Loan.objects.all() if loans is None else loans
    expressions = {
        "f_loan_id": F("pk"), "f_branch_id": F("branch_id"),
        "f_product_id": F("product_version__product_id"),
        "f_enterprise_id": F("enterprise_id"), "f_officer_id": F("officer_id"),
        "f_value_date": F("value_date"), "f_industry": F("enterprise__industry"),
        "f_size_class": F("enterprise__size_class"),
        "f_grade": Subquery(latest.values("grade")[:1]),
        "f_probability": Subquery(latest.values("probability")[:1]),
        "f_category": F("risk_status__category"), "f_floor": F("risk_status__floor"),
        "f_dpd": Greatest("dpd_principal", "dpd_interest"),
        "f_outstanding": F("outstanding_principal"),
    }
    return loans.filter(state__in=OPEN_LOAN_STATES).order_by().annotate(**expressions) \
        .values_list(*expressions)


def _at(value: dt.datetime):
    return connection.ops.adapt_datetimefield_value(value)


def tail_sql(since: dt.datetime) -> tuple[str, list]:
    """SELECT of the ids of the loans whose facts may have changed at or after `since`."""
    at = _at(since)
    return ("SELECT l.id FROM loans_loan l WHERE l.updated_at >= %s "
            "UNION SELECT r.loan_id FROM monitoring_loanriskstatus r WHERE r.updated_at >= %s "
            "UNION SELECT l.id FROM parties_enterprise e "
            "JOIN loans_loan l ON l.enterprise_id = e.id WHERE e.updated_at >= %s "
            "UNION SELECT l.id FROM scoring_scoreresult s "
            "JOIN loans_loan l ON l.application_id = s.application_id "
            "WHERE s.created_at >= %s"), [at, at, at, at]


def _horizon() -> dt.datetime:
    """The next watermark: now, or the start of the oldest open transaction if earlier,
    less the clock margin."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT LEAST(now(), COALESCE(MIN(xact_start), now())) "
                           "FROM pg_stat_activity WHERE xact_start IS NOT NULL "
                           "AND datname = current_database()")
            oldest = cursor.fetchone()[0]
        return oldest - MARGIN
    return timezone.now() - MARGIN  # SQLite: one writer at a time


def state_statement(branch_ids: set[int] | None) -> tuple[str, list]:
    """The read behind `_state` for the viewer's branches, for a page to send in a batch
    with its other reads (then handed to `book_breakdowns` as `state`)."""
    return _STATE_SQL, [scope_key(branch_ids), PORTFOLIO]


_STATE_SQL = ("SELECT w.as_of AS as_of, (SELECT MAX(m.updated_at) FROM scoring_modelversion m) "
              "AS models_at, w.npa_dpd_gt AS npa_dpd_gt, EXISTS (SELECT 1 FROM "
              "insight_borrowerscope b WHERE b.scope = %s) AS kept "
              "FROM insight_factwatermark w WHERE w.name = %s")


def _state(scope: str | None = None, found: tuple | None | bool = False
           ) -> tuple[dt.datetime | None, bool, int | None, bool]:
    """(watermark, whether a model was promoted or retired since, the cells' NPL floor,
    whether the borrower totals are kept for the branch set `scope`) in one query; no
    watermark when the facts were never built. `found`: the row `state_statement` read
    already (None: no row), else it is read here."""
    if found is False:
        with connection.cursor() as cursor:
            cursor.execute(_STATE_SQL, [scope, PORTFOLIO])
            found = cursor.fetchone()
    if not found:
        return None, False, None, False
    # SQLite's driver gives a naive datetime or the stored UTC text; PostgreSQL an aware one.
    as_of, models_changed = (read_datetime(v) for v in found[:2])
    return (as_of, models_changed is not None and models_changed >= as_of, found[2],
            bool(found[3]))


def refresh_portfolio_facts(*, rebuild: bool = False) -> int:
    """Bring the facts up to date: the loans changed since the watermark are read again
    (all open loans on the first run, after `rebuild`, or after a model promotion or
    retirement). Returns the rows written. Safe twice at once: a run locks the watermark."""
    columns = ", ".join(COLUMNS)
    with transaction.atomic():
        mark, created = FactWatermark.objects.get_or_create(
            name=PORTFOLIO, defaults={"as_of": timezone.now()})
        mark = FactWatermark.objects.select_for_update(of=("self",)).get(pk=mark.pk)
        as_of, models_changed, _floor, _kept = _state()
        full = rebuild or created or models_changed
        horizon = _horizon()
        with connection.cursor() as cursor:
            if full:
                cursor.execute("DELETE FROM insight_loanfact")
                select, params = live_rows().query.sql_with_params()
                cursor.execute(f"INSERT INTO insight_loanfact ({columns}) {select}",  # noqa: S608 - ORM SQL, values bound
                               params)
            else:
                tail, tail_params = tail_sql(as_of)
                cursor.execute(f"DELETE FROM insight_loanfact WHERE loan_id IN ({tail})",  # noqa: S608 - fixed SQL, values bound
                               tail_params)
                changed = live_rows(Loan.objects.filter(
                    pk__in=RawSQL(tail, tail_params)))  # noqa: S611 - fixed SQL, values bound
                select, params = changed.query.sql_with_params()
                # Upsert: a loan entering the tail between the two statements is in both.
                update = ", ".join(f"{c} = excluded.{c}" for c in COLUMNS[1:])
                cursor.execute(
                    f"INSERT INTO insight_loanfact ({columns}) SELECT * FROM ({select}) n "  # noqa: S608 - ORM SQL, values bound
                    f"WHERE true ON CONFLICT (loan_id) DO UPDATE SET {update}", params)
            written = max(cursor.rowcount, 0)
            _refresh_borrowers(cursor, full=full, tail=None if full else (tail, tail_params))
            npa_dpd_gt = _npa_dpd_gt()
            _rebuild_cells(cursor, npa_dpd_gt)
        mark.as_of, mark.npa_dpd_gt = horizon, npa_dpd_gt
        mark.save(update_fields=["as_of", "npa_dpd_gt"])
    return written


def _npa_dpd_gt() -> int | None:
    """The NPL floor in days past due in force (policy data), or None when not published."""
    from apps.monitoring.policy import K, MissingPolicy, Policy

    try:
        return Policy().integer(K.FLOOR_SUBSTANDARD_DPD_GT)
    except MissingPolicy:
        return None


ALL_BRANCHES = "*"
ALL_PRODUCTS = 0


def scope_key(branch_ids: set[int] | None) -> str:
    """The name of a branch set in the borrower totals: "*" for every branch, else a hash of
    its sorted ids (the set itself, so a changed org tree never reads another set's totals)."""
    if branch_ids is None:
        return ALL_BRANCHES
    text = ",".join(str(b) for b in sorted(branch_ids))
    return hashlib.blake2b(text.encode(), digest_size=8).hexdigest()


def _scopes() -> dict[str, set[int]]:
    """Every branch's subtree (a page's scope), by scope_key; every branch under "*"."""
    from apps.org.models import Branch

    parents = dict(Branch.objects.values_list("id", "parent_id"))
    children: dict[int, set[int]] = {}
    for branch, parent in parents.items():
        if parent is not None:
            children.setdefault(parent, set()).add(branch)
    scopes = {}
    for branch in parents:
        found, frontier = {branch}, {branch}
        while frontier:
            frontier = {c for b in frontier for c in children.get(b, ())} - found
            found |= frontier
        scopes[scope_key(found)] = found
    scopes[ALL_BRANCHES] = {0}
    return scopes


def _cents(expr: str) -> str:
    return f"CAST(ROUND(({expr}) * 100) AS BIGINT)"


def _money_of_cents(expr: str) -> str:
    """A sum of cents as `money_sum` gives it (read with `dialect.money_total`)."""
    return f"({expr}) / 100.0" if connection.vendor == "postgresql" else expr


def _refresh_borrowers(cursor, *, full: bool, tail: tuple[str, list] | None) -> None:
    """The borrower totals from the facts just written (same transaction): all of them when
    the facts were rebuilt or the branch sets changed, else those of the borrowers of the
    loans in the tail (a loan's borrower never changes). Upserted, so a loan entering the
    tail between the two statements only re-adds a borrower whose facts did not change."""
    scopes = _scopes()
    cursor.execute("SELECT scope, branch_id FROM insight_borrowerscope")
    stored: dict[str, set[int]] = {}
    for scope, branch in cursor.fetchall():
        stored.setdefault(scope, set()).add(branch)
    firms, params = "", []
    if full or tail is None or stored != scopes:
        cursor.execute("DELETE FROM insight_borrowertotal")
        cursor.execute("DELETE FROM insight_borrowerscope")
        members = [(s, b) for s, branches in scopes.items() for b in sorted(branches)]
        cursor.executemany("INSERT INTO insight_borrowerscope (scope, branch_id) "
                           "VALUES (%s, %s)", members)
    else:
        firms = ("AND f.enterprise_id IN (SELECT l.enterprise_id FROM loans_loan l "  # noqa: S608 - fixed SQL, values bound
                 f"WHERE l.id IN ({tail[0]}))")
        params = tail[1]
        cursor.execute(
            f"DELETE FROM insight_borrowertotal WHERE enterprise_id IN ("  # noqa: S608 - fixed SQL, values bound
            f"SELECT l.enterprise_id FROM loans_loan l WHERE l.id IN ({tail[0]}))", tail[1])
    cents = _cents("f.outstanding")
    scoped = ("FROM insight_loanfact f JOIN insight_borrowerscope m ON m.branch_id = f.branch_id "
              f"WHERE m.scope <> '{ALL_BRANCHES}' {firms}")
    every = f"FROM insight_loanfact f WHERE 1 = 1 {firms}"
    cursor.execute(
        "INSERT INTO insight_borrowertotal (scope, product_id, enterprise_id, loans, cents) "  # noqa: S608 - constants, values bound
        "SELECT * FROM ("
        f"SELECT m.scope, f.product_id, f.enterprise_id, COUNT(*), SUM({cents}) {scoped} "
        "GROUP BY m.scope, f.product_id, f.enterprise_id "
        f"UNION ALL SELECT m.scope, {ALL_PRODUCTS}, f.enterprise_id, COUNT(*), SUM({cents}) "
        f"{scoped} GROUP BY m.scope, f.enterprise_id "
        f"UNION ALL SELECT '{ALL_BRANCHES}', f.product_id, f.enterprise_id, COUNT(*), "
        f"SUM({cents}) {every} GROUP BY f.product_id, f.enterprise_id "
        f"UNION ALL SELECT '{ALL_BRANCHES}', {ALL_PRODUCTS}, f.enterprise_id, COUNT(*), "
        f"SUM({cents}) {every} GROUP BY f.enterprise_id"
        ") n WHERE true ON CONFLICT (scope, product_id, enterprise_id) DO UPDATE SET "
        "loans = excluded.loans, cents = excluded.cents", params * 4)


CELL_KEYS = ("branch_id", "product_id", "industry", "size_class", "grade", "category", "floor")


def _rebuild_cells(cursor, npa_dpd_gt: int | None) -> None:
    """The cells from the facts just written (same transaction): a GROUP BY of a narrow table,
    a few hundred rows out. None without an NPL floor (the page then reads the facts)."""
    cursor.execute("DELETE FROM insight_portfoliocell")
    if npa_dpd_gt is None:
        return
    keys = ", ".join(CELL_KEYS)
    cursor.execute(
        f"INSERT INTO insight_portfoliocell ({keys}, dpd_npa, loans, outstanding) "  # noqa: S608 - constants
        f"SELECT {keys}, dpd > %s, COUNT(*), SUM(outstanding) FROM insight_loanfact "
        f"GROUP BY {keys}, dpd > %s", [npa_dpd_gt, npa_dpd_gt])


def _scope_sql(alias: str, *, branch_ids, filters, dates: bool = True) -> tuple[list, list]:
    """WHERE terms and parameters of the page's scope on a summary table's columns."""
    where, params = [], []
    if branch_ids is not None:
        if not branch_ids:
            where.append("1 = 0")
        else:
            where.append(f"{alias}.branch_id IN ({', '.join(['%s'] * len(branch_ids))})")
            params += sorted(branch_ids)
    if filters.product_id is not None:
        where.append(f"{alias}.product_id = %s")
        params.append(filters.product_id)
    if dates and filters.disbursed_from is not None:
        where.append(f"{alias}.value_date >= %s")
        params.append(connection.ops.adapt_datefield_value(filters.disbursed_from))
    if dates and filters.disbursed_to is not None:
        where.append(f"{alias}.value_date <= %s")
        params.append(connection.ops.adapt_datefield_value(filters.disbursed_to))
    return where, params


CELL_COLUMNS = (*CELL_KEYS, "npa", "loans", "outstanding")


def _book_sql(*, loans_q, branch_ids, filters, npa_dpd_gt, state=False
              ) -> tuple[str, list, str, list, str, list, str, list]:
    """The shared CTEs (each ending in ", "; none when the facts are not usable), then
    SELECTs of the book under the scope: its rows (COLUMNS), its cells (CELL_COLUMNS,
    signed: a cell's loans and outstanding are added up) and its borrowers (enterprise_id,
    loans, outstanding as `money_sum` gives it; at least every borrower in the top
    TOP_BORROWERS with the ties at the cut). Rows: the facts outside the tail plus the tail
    live, or every row live when the facts are not usable. Cells: the stored cells, less the
    tail's facts, plus the tail live; or one cell per row when the stored cells do not apply
    (a value-date filter, another NPL floor in policy). Borrowers: the first rows of the
    borrower totals kept for the scope, plus the tail's borrowers netted as the cells are;
    else the rows grouped by borrower. The tail's ids and its live rows are CTEs of their
    own (`tail_ids`, `changed_rows`), written and planned once for the three: planning the
    statement, not running it, was most of its time."""
    scope = scope_key(branch_ids)
    as_of, models_changed, cells_floor, borrowers_kept = _state(scope, state)
    flag = "dpd > %s" if npa_dpd_gt is not None else "1 = 0"
    flag_params = [npa_dpd_gt] if npa_dpd_gt is not None else []
    keys = ", ".join(CELL_KEYS)
    per_row = (f"SELECT {keys}, {flag}, 1, outstanding FROM loan_rows",  # noqa: S608 - constants
               flag_params)
    grouped = (f"SELECT enterprise_id, COUNT(*) AS loans, {dialect.money_sum('outstanding')} "  # noqa: S608 - constants
               "AS outstanding FROM loan_rows GROUP BY enterprise_id", [])
    if as_of is None or models_changed:
        live = live_rows(Loan.objects.filter(loans_q))
        return ("", [], *live.query.sql_with_params(), *per_row, *grouped)
    tail, tail_params = tail_sql(as_of)
    where, params = _scope_sql("f", branch_ids=branch_ids, filters=filters)
    changed, changed_params = _tail_rows_sql(loans_q)
    shared = f"tail_ids (loan_id) AS ({tail}), changed_rows AS ({changed}), "
    shared_params = [*tail_params, *changed_params]
    in_tail = "f.loan_id IN (SELECT loan_id FROM tail_ids)"
    facts = ", ".join(f"f.{c}" for c in COLUMNS)
    rows = (f"SELECT {facts} FROM insight_loanfact f WHERE "  # noqa: S608 - fixed fragments, values bound
            f"{' AND '.join([f'NOT {in_tail}', *where])} UNION ALL SELECT * FROM changed_rows")
    rows_params = [*params]
    dated = filters.disbursed_from is not None or filters.disbursed_to is not None
    firms = grouped
    if borrowers_kept and not dated and (branch_ids is None or branch_ids):
        firms = _firms_sql(scope=scope, product=filters.product_id, in_tail=in_tail,
                           where=where, params=params)
    if dated or npa_dpd_gt is None or cells_floor != npa_dpd_gt:
        return shared, shared_params, rows, rows_params, *per_row, *firms
    cell_where, cell_params = _scope_sql("c", branch_ids=branch_ids, filters=filters,
                                         dates=False)
    f_keys = ", ".join(f"f.{k}" for k in CELL_KEYS)
    t_keys = ", ".join(f"t.f_{k}" for k in CELL_KEYS)  # the ORM's aliases (live_rows)
    c_keys = ", ".join(f"c.{k}" for k in CELL_KEYS)
    in_scope = " AND ".join(cell_where or ["1 = 1"])
    cells = (f"SELECT {c_keys}, c.dpd_npa, c.loans, c.outstanding "  # noqa: S608 - fixed fragments, values bound
             f"FROM insight_portfoliocell c WHERE {in_scope} "
             f"UNION ALL SELECT {f_keys}, f.dpd > %s, -1, -f.outstanding "
             f"FROM insight_loanfact f WHERE {' AND '.join([in_tail, *where])} "
             f"UNION ALL SELECT {t_keys}, t.f_dpd > %s, 1, t.f_outstanding FROM changed_rows t")
    cells_params = [*cell_params, npa_dpd_gt, *params, npa_dpd_gt]
    return shared, shared_params, rows, rows_params, cells, cells_params, *firms


# The live rows of the tail's loans in a scope, compiled: the SQL depends on the scope only
# (the tail is the statement's `tail_ids`), and the ORM takes milliseconds to build it.
_TAIL_ROWS: dict[tuple, tuple[str, tuple]] = {}


def _tail_rows_sql(loans_q) -> tuple[str, list]:
    """`live_rows` of the loans under `loans_q` whose ids are in the CTE `tail_ids`."""
    key = (connection.vendor, repr(loans_q))
    found = _TAIL_ROWS.get(key)
    if found is None:
        if len(_TAIL_ROWS) >= 64:
            _TAIL_ROWS.clear()
        sql, params = live_rows(Loan.objects.filter(loans_q).filter(
            pk__in=RawSQL("SELECT loan_id FROM tail_ids", []))).query.sql_with_params()  # noqa: S611 - fixed SQL
        found = _TAIL_ROWS[key] = (sql, tuple(params))
    return found[0], list(found[1])


def _firms_sql(*, scope, product, in_tail, where, params) -> tuple[str, list]:
    """The borrowers from the borrower totals kept for `scope`: those of the tail (the tail's
    facts taken off their stored total, its live rows added) and, of the others, those at or
    above the TOP_BORROWERS-th largest stored total (an index read: their totals are
    exact). The page's top borrowers are among them."""
    product = ALL_PRODUCTS if product is None else product
    cents = _cents("f.outstanding")
    delta = (f"SELECT f.enterprise_id, -1 AS loans, -{cents} AS cents "  # noqa: S608 - fixed fragments, values bound
             f"FROM insight_loanfact f WHERE {' AND '.join([in_tail, *where])} "
             f"UNION ALL SELECT t.f_enterprise_id, 1, {_cents('t.f_outstanding')} "
             f"FROM changed_rows t")
    delta_params = [*params]
    kept = "b.scope = %s AND b.product_id = %s"
    sql = (f"SELECT enterprise_id, SUM(loans) AS loans, "  # noqa: S608 - fixed fragments, values bound
           f"{_money_of_cents('SUM(cents)')} AS outstanding FROM ("
           f"SELECT b.enterprise_id, b.loans, b.cents FROM insight_borrowertotal b WHERE {kept} "
           "AND b.enterprise_id IN (SELECT enterprise_id FROM firm_delta) "
           "UNION ALL SELECT enterprise_id, loans, cents FROM firm_delta) x "
           "GROUP BY enterprise_id HAVING SUM(loans) <> 0 "
           f"UNION ALL SELECT b.enterprise_id, b.loans, {_money_of_cents('b.cents')} "
           f"FROM insight_borrowertotal b WHERE {kept} "
           "AND b.enterprise_id NOT IN (SELECT enterprise_id FROM firm_delta) "
           "AND b.cents >= COALESCE((SELECT b.cents FROM insight_borrowertotal b "
           f"WHERE {kept} AND b.enterprise_id NOT IN (SELECT enterprise_id FROM firm_delta) "
           f"ORDER BY b.cents DESC LIMIT 1 OFFSET {TOP_BORROWERS - 1}), 0)")
    return (f"WITH firm_delta (enterprise_id, loans, cents) AS ({delta}) {sql}",
            [*delta_params, scope, product, scope, product, scope, product])


def book_breakdowns(*, loans_q, branch_ids, filters, npa_dpd_gt: int | None,
                    state=False) -> dict:
    """Every grouping of the open book the portfolio page shows, in one statement: by
    (category, floor), product, industry, size class, grade (from the cells); by branch with
    the NPL principal (category or floor substandard or worse, or days past due beyond
    `npa_dpd_gt`; left out when that policy value is missing); and the largest borrowers
    (ties at the cut ordered by name, like the page). Each row: key, name, loans,
    outstanding, npa."""
    shared, shared_params, rows, rows_params, cells, cells_params, firms, firms_params = \
        _book_sql(loans_q=loans_q, branch_ids=branch_ids, filters=filters,
                  npa_dpd_gt=npa_dpd_gt, state=state)
    total = dialect.money_sum("outstanding")
    npa_list = ", ".join(["%s"] * len(NPA))

    def grouped(dim: str, key: str, name: str = "NULL") -> str:
        # Cells net of the tail can add up to no loan: such a group is not in the book.
        return (f"SELECT '{dim}' AS dim, {key} AS k, {name} AS name, SUM(loans) AS loans, "  # noqa: S608 - constants
                f"{total} AS outstanding, 0 AS npa, 0 AS pos FROM book GROUP BY {key}"
                + (f", {name}" if name != "NULL" else "") + " HAVING SUM(loans) <> 0")

    parts = [grouped("category", "category", "floor"),
             grouped("product", "CAST(product_id AS TEXT)"),
             grouped("industry", "industry"), grouped("size", "size_class"),
             grouped("grade", "grade")]
    parts_params: list = []
    if npa_dpd_gt is not None:
        npa = dialect.money_sum(f"CASE WHEN category IN ({npa_list}) OR floor IN ({npa_list}) "
                                "OR npa THEN outstanding ELSE 0 END")
        parts.append(f"SELECT 'branch', CAST(b.id AS TEXT), b.name, SUM(loans), {total}, {npa}, 0 "  # noqa: S608 - constants
                     "FROM book JOIN org_branch b ON b.id = book.branch_id GROUP BY b.id, b.name "
                     "HAVING SUM(loans) <> 0")
        parts_params += [*NPA, *NPA]
    # Largest borrowers: those at or above the TOP_BORROWERS-th largest exposure get their
    # names (a look-up each: only they need one), then the page's order and cut.
    parts.append(
        "SELECT * FROM (SELECT 'top', CAST(g.enterprise_id AS TEXT), g.name, g.loans, "  # noqa: S608 - constants
        "g.outstanding, 0, ROW_NUMBER() OVER (ORDER BY g.outstanding DESC, g.name) "
        "FROM (SELECT f.enterprise_id, f.loans, f.outstanding, (SELECT e.name "
        "FROM parties_enterprise e WHERE e.id = f.enterprise_id) AS name FROM firms f "
        "WHERE f.outstanding >= COALESCE((SELECT c.outstanding FROM firms c "
        f"ORDER BY c.outstanding DESC LIMIT 1 OFFSET {TOP_BORROWERS - 1}), 0)) g "
        f"ORDER BY g.outstanding DESC, g.name LIMIT {TOP_BORROWERS}) t")
    sql = (f"WITH {shared}loan_rows ({', '.join(COLUMNS)}) AS ({rows}), "  # noqa: S608 - fixed fragments, values bound
           f"book ({', '.join(CELL_COLUMNS)}) AS ({cells}), "
           f"firms AS ({firms}) " + " UNION ALL ".join(parts))
    out: dict[str, list[dict]] = {d: [] for d in ("category", "product", "industry", "size",
                                                  "grade", "branch", "top")}
    # Prepared with its values once per connection (a new text when the watermark moves):
    # planning it, not running it, was most of its time (apps/insight/compiled.py).
    for dim, key, name, loans, outstanding, npa, pos in prepared_rows(
            sql, [*shared_params, *rows_params, *cells_params, *firms_params, *parts_params]):
        out[dim].append({"key": key, "name": name, "loans": loans, "pos": pos,
                         "outstanding": dialect.money_total(outstanding),
                         "npa": dialect.money_total(npa) if npa else Decimal(0)})
    # A UNION ALL does not promise to keep a part's order: the top borrowers carry theirs.
    out["top"].sort(key=lambda r: r["pos"])
    return out
