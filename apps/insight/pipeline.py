"""The pipeline and SLA dashboard: where files wait, for how long, against the deadlines set in
policy, and how products and branches convert applications into decisions.

Deadlines are policy data (`pipeline.deadline_days.<state>`, domain reference §0.2), read as
the values in force today; a state without one is shown as "no deadline set", never measured
against a constant. Time spent in a step comes from the audit trail (each move of an
application records `from` and `to`), so it is the time the bank actually took; it is read from
the step clock summary (apps/insight/summaries.py, kept by beat from a watermark) plus the moves
since its watermark, never by a window over the whole history.

Time in each step over a period adds up the step days (the step clock by day, branch, product
and step), so it reads a few rows a day, not every move.

Open files by state, age and account manager add up the open cells (the open files summary
by branch, product, state, manager and day): a few rows a day, not every open file.

Queries, whatever the size of the pipeline: the viewer's scope (branch subtree), the deadlines,
the summary's watermark, open files by state and account manager (one read of the open cells
for both), waiting approval steps, time in each step, decisions by product and branch with
their names (one read for both charts).
"""

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from types import SimpleNamespace
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import connection
from django.db.models import (
    Count,
    DurationField,
    ExpressionWrapper,
    F,
    Min,
    OuterRef,
    Q,
    Subquery,
    Sum,
)
from django.db.models.functions import Coalesce
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from apps.accounts.selectors import visible_branch_ids
from apps.applications.models import Application
from apps.applications.states import ApplicationState as S
from apps.approvals.models import ApprovalStep
from apps.approvals.states import StepState
from apps.audit.models import AuditEvent
from apps.core.compiled import send_statements
from apps.insight.charts import COUNT, RATIO, TEXT, Chart, Column
from apps.insight.compiled import batch, compiled, read_together
from apps.insight.models import StepClock
from apps.insight.summaries import (
    MOVES,
    OPEN_CELLS,
    STEP_CLOCK,
    STEP_DAYS,
    WAITING_STATES,
    clock_rows_sql,
    open_cells_tail_sql,
    open_tail_sql,
    read_datetime,
    sql_datetime,
    step_day_zone_ok,
    values_from_rows,
    values_in_force,
    values_in_force_query,
)
from apps.org.selectors import branch_subtree_ids
from apps.products.models import CreditProduct

DEADLINE_KEY = "pipeline.deadline_days.{state}"
# WAITING_STATES (apps/insight/summaries.py): the states a file waits in, in workflow order.
REACHED_APPROVAL = (S.APPROVED, S.CONTRACTED, S.DISBURSED)
DEFAULT_PERIOD_DAYS = 90
DAY = 86400


@dataclass(frozen=True)
class PipelineFilters:
    branch_id: int | None = None
    product_id: int | None = None
    period_from: dt.date | None = None
    period_to: dt.date | None = None


_DEADLINE_KEYS = {DEADLINE_KEY.format(state=state): str(state) for state in WAITING_STATES}


def deadlines(*, on: dt.date | None = None) -> dict[str, Decimal]:
    """state → days allowed in it, from the policy values in force (absent: no deadline),
    read for the deadline keys only (`values_in_force`)."""
    found = values_in_force(_DEADLINE_KEYS, on=on)
    return {state: found[key] for key, state in _DEADLINE_KEYS.items() if key in found}


def _first_queries(viewer, branches: set[int] | None, filters: PipelineFilters, *,
                   today: dt.date, now: dt.datetime, start: dt.datetime,
                   end: dt.datetime) -> dict:
    """The page's reads that wait on nothing: the deadlines in force `today`, the approval
    steps waiting (past due at `now`), the decisions in [start, end) by product and branch,
    and the filter form's branches and products."""
    from apps.insight.selectors import _branch_choices, _products

    return {"policy": values_in_force_query(_DEADLINE_KEYS, on=today),
            "steps": _waiting_steps(branches, filters, now),
            "decided": _decided(_applications(branches, filters), start, end),
            "branches": _branch_choices(viewer),
            "products": _products().values("id", "code", "name_en", "name_zh")}


def _first_reads(viewer, branches, filters: PipelineFilters, **moments) -> dict:
    """`_first_queries`' rows, sent as one batch. Their SQL is built once per shape of viewer
    (apps/insight/compiled.py) when the page is not narrowed to a branch (the viewer's
    branches are then the scope, whose ids the kept SQL swaps in), and the summaries'
    watermarks (`_marks_sql`) go with them as "marks"; else built for this request, and
    SQLite reads them one by one."""
    if filters.branch_id is None:
        product = filters.product_id
        kept = compiled(
            "pipeline.first", viewer, lambda s: {**_first_queries(
                s.viewer, visible_branch_ids(viewer=s.viewer),
                PipelineFilters(product_id=None if product is None else s.id(0)),
                today=s.day(0), now=s.at, start=s.moment(0), end=s.moment(1)),
                "marks": _marks_sql([s.day(1), s.day(2)])},
            days=[moments["today"], *_days_of(moments["start"], moments["end"])],
            at=moments["now"], moments=(moments["start"], moments["end"]),
            ids=() if product is None else (product,), extra=(product is None,))
        if kept is not None:
            return batch(kept)
    return read_together(_first_queries(viewer, branches, filters, **moments))


def _waiting_steps(branches: set[int] | None, filters: PipelineFilters, now: dt.datetime):
    """The approval steps waiting in scope, by label: how many, how many past due at `now`."""
    steps = ApprovalStep.objects.filter(state=StepState.WAITING).order_by()
    if branches is not None:
        steps = steps.filter(route__application__branch_id__in=branches)
    if filters.product_id is not None:
        steps = steps.filter(route__application__product_version__product_id=filters.product_id)
    return steps.values("label_en", "label_zh").annotate(
        files=Count("pk"), late=Count("pk", filter=Q(due_at__lt=now)))


def _decided(scoped, start: dt.datetime, end: dt.datetime):
    """The decisions taken in [start, end) by (product, branch), with their names: each
    chart adds up its own key's groups."""
    decided = scoped.filter(decided_at__gte=start, decided_at__lt=end,
                            state__in=[*REACHED_APPROVAL, S.REJECTED])
    turnaround = ExpressionWrapper(F("decided_at") - F("submitted_at"),
                                   output_field=DurationField())
    aggregate = {"decided": Count("pk"),
                 "approved": Count("pk", filter=Q(state__in=REACHED_APPROVAL)),
                 "turnaround": Sum(turnaround, filter=Q(submitted_at__isnull=False)),
                 "timed": Count("pk", filter=Q(submitted_at__isnull=False))}
    return decided.values(
        "branch_id", branch_name=F("branch__name"),
        product_id=F("product_version__product_id"),
        product_code=F("product_version__product__code"),
        product_en=F("product_version__product__name_en"),
        product_zh=F("product_version__product__name_zh")).annotate(**aggregate)


def _scope(viewer, filters: PipelineFilters) -> set[int] | None:
    visible = visible_branch_ids(viewer=viewer)
    if filters.branch_id is None:
        return visible
    if visible is not None and filters.branch_id not in visible:
        raise Http404("No such branch")
    subtree = branch_subtree_ids(branch_id=filters.branch_id)
    return subtree if visible is None else subtree & visible


def _scope_sql(alias: str, *, branches: set[int] | None, product_id: int | None
               ) -> tuple[list[str], list]:
    """The page's scope as SQL conditions on a summary aliased `alias` (its branch_id and
    product_id columns) with their parameters; "1 = 1" when nothing narrows it."""
    conditions, params = ["1 = 1"], []
    if branches is not None:
        conditions.append(f"{alias}.branch_id IN ({', '.join(['%s'] * len(branches))})")
        params += sorted(branches)
    if product_id is not None:
        conditions.append(f"{alias}.product_id = %s")
        params.append(product_id)
    return conditions, params


def _period(filters: PipelineFilters) -> tuple[dt.datetime, dt.datetime]:
    """[start, end) as aware datetimes; the last 90 days by default."""
    today = timezone.localdate()
    end_day = (filters.period_to or today) + dt.timedelta(days=1)
    start_day = filters.period_from or (end_day - dt.timedelta(days=DEFAULT_PERIOD_DAYS))
    zone = timezone.get_current_timezone()
    return (dt.datetime.combine(start_day, dt.time(), tzinfo=zone),
            dt.datetime.combine(end_day, dt.time(), tzinfo=zone))


def _applications(branches: set[int] | None, filters: PipelineFilters):
    found = Application.objects.order_by()
    if branches is not None:
        found = found.filter(branch_id__in=branches)
    if filters.product_id is not None:
        found = found.filter(product_version__product_id=filters.product_id)
    return found


def _days(seconds) -> Decimal | None:
    if seconds is None:
        return None
    return (Decimal(str(seconds)) / DAY).quantize(Decimal("0.1"))


def pipeline_dashboard(*, viewer, filters: PipelineFilters) -> dict:
    """Every figure of the pipeline page, scoped to the viewer's branches (404 outside)."""
    branches = _scope(viewer, filters)
    today = timezone.localdate()
    now = timezone.now()
    start, end = _period(filters)
    labels = dict(S.choices)
    # The reads that wait on nothing go together (one round trip on PostgreSQL): the
    # deadlines, the approval steps waiting, the decisions of the period by product and
    # branch, and the filter form's branches and products.
    first = _first_reads(viewer, branches, filters, today=today, now=now, start=start, end=end)
    found = values_from_rows((r["key"], r["value"]) for r in first["policy"])
    limits = {state: found[key] for key, state in _DEADLINE_KEYS.items() if key in found}

    # --- open files by state and age against the deadline --------------------------------
    # The last move into the current state: past the summary's watermark if there is one
    # (an index probe), else the file's latest step clock row.
    # The watermark is read once, as a value: the planner then sees the tail past it as the
    # few rows it is (a subquery there costs a parallel plan and JIT on a big trail).
    mark, step_days, stale, cells = (_marks_of(first["marks"], limits) if "marks" in first
                                     else _marks(start=start, end=end, limits=limits))
    held = [S.SUBMITTED, S.INVESTIGATING, S.RETURNED, S.APPROVED, S.CONTRACTED]
    durations = None
    if mark and cells and step_days and (branches is None or branches) \
            and step_day_zone_ok():
        # Both summaries' reads in one round trip (apps.core.compiled.send_statements).
        found = send_statements([
            _open_by_manager_sql(branches=branches, product_id=filters.product_id,
                                 limits=limits, now=now, mark=mark),
            _step_durations_sql(branches=branches, product_id=filters.product_id,
                                start=start, end=end, limits=limits, mark=mark,
                                stale=stale)])
        by_manager, durations = _manager_rows(found[0]), _duration_rows(found[1])
        by_state = _by_state(by_manager)
        held_by = [r for r in by_manager if r["state"] in held]
    elif mark:
        # One read of the summary by state and account manager gives both the states' ages
        # and the account managers' share of the bottlenecks.
        by_manager = _open_by_manager(branches=branches, product_id=filters.product_id,
                                      limits=limits, now=now, mark=mark, cells=cells)
        by_state = _by_state(by_manager)
        held_by = [r for r in by_manager if r["state"] in held]
    else:  # never summarised: from the trail, one probe per open file
        recent = Subquery(AuditEvent.objects.filter(
            application_id=OuterRef("pk"), action__in=MOVES, seq__gt=mark).order_by("-seq")
            .values("occurred_at")[:1])
        clocked = Subquery(StepClock.objects.filter(application_id=OuterRef("pk"),
                                                    seq__lte=mark)
                           .order_by("-seq").values("left_at")[:1])
        waiting = _applications(branches, filters).filter(state__in=WAITING_STATES).annotate(
            entered=Coalesce(recent, clocked, F("updated_at")))
        late = Q(pk__in=[])
        for state, days in limits.items():
            late |= Q(state=state, entered__lt=now - dt.timedelta(days=float(days)))
        by_state = {r["state"]: r for r in waiting.values("state").annotate(
            files=Count("pk"), late=Count("pk", filter=late), oldest=Min("entered"))}
        held_by = waiting.filter(state__in=held).values(
            "state", "account_manager__username").annotate(
            files=Count("pk"), late=Count("pk", filter=late))
    state_rows = []
    for state in WAITING_STATES:
        row = by_state.get(str(state))
        if not row:
            continue
        limit = limits.get(str(state))
        state_rows.append({
            "label": str(labels[state]), "files": row["files"],
            "within": row["files"] - row["late"] if limit is not None else None,
            "late": row["late"] if limit is not None else None,
            "unmeasured": row["files"] if limit is None else None,
            "deadline": limit, "oldest": _days((now - row["oldest"]).total_seconds())})
    open_total = sum(r["files"] for r in state_rows)
    open_late = sum(r["late"] or 0 for r in state_rows)
    ages = Chart(
        key="open_by_state", title=_("Open files by state and age"), kind="bar", stacked=True,
        category="label", series=["within", "late", "unmeasured"],
        columns=[Column("label", _("State")), Column("files", _("Open files"), COUNT),
                 Column("within", _("Within the deadline"), COUNT),
                 Column("late", _("Past the deadline"), COUNT),
                 Column("unmeasured", _("No deadline set"), COUNT),
                 Column("deadline", _("Deadline (days)"), COUNT),
                 Column("oldest", _("Oldest waiting (days)"), TEXT)],
        rows=state_rows,
        summary=ngettext("%(n)s open file, %(late)s past its deadline.",
                         "%(n)s open files, %(late)s past their deadline.", open_total)
        % {"n": open_total, "late": open_late} if state_rows else "")

    # --- bottlenecks by step and person ----------------------------------------------------
    people = []
    for row in held_by:
        people.append({"label": f"{row['account_manager__username']} · {labels[row['state']]}",
                       "files": row["files"], "late": row["late"]})
    for row in first["steps"]:
        label = row["label_zh"] if _zh() and row["label_zh"] else row["label_en"]
        people.append({"label": f"{label} · {labels[S.IN_APPROVAL]}", "files": row["files"],
                       "late": row["late"]})
    people.sort(key=lambda r: (-r["late"], -r["files"], r["label"]))
    bottlenecks = Chart(
        key="bottlenecks", title=_("Bottlenecks by step and person"), kind="bar",
        stacked=False, category="label", series=["files", "late"],
        columns=[Column("label", _("Who or which step")),
                 Column("files", _("Open files"), COUNT),
                 Column("late", _("Past the deadline"), COUNT)],
        rows=people[:15],
        summary=_("Account managers hold files until review; approval steps are counted past "
                  "their own deadline from the authority matrix.") if people else "")

    # --- time in each step (completed in the period), from the audit trail -----------------
    step_rows = []
    if durations is None:
        durations = _step_durations(
            branches=branches, product_id=filters.product_id, start=start, end=end,
            limits=limits, mark=mark, step_days=step_days, stale=stale)
    for step, n, avg_seconds, max_seconds, over in durations:
        if step not in labels or step == S.DRAFT:
            continue
        limit = limits.get(step)
        step_rows.append({"label": str(labels[step]), "code": step, "moves": n,
                          "average": _days(avg_seconds), "longest": _days(max_seconds),
                          "deadline": limit,
                          "late_share": (Decimal(over) / n) if limit is not None and n
                          else None})
    order = {str(s): i for i, s in enumerate(WAITING_STATES)}
    step_rows.sort(key=lambda r: order.get(r["code"], 99))
    time_in_step = Chart(
        key="time_in_step", title=_("Time in each step against its deadline"), kind="bar",
        category="label", series=["average", "deadline"],
        columns=[Column("label", _("Step")), Column("moves", _("Files that left it"), COUNT),
                 Column("average", _("Average days"), TEXT),
                 Column("longest", _("Longest (days)"), TEXT),
                 Column("deadline", _("Deadline (days)"), COUNT),
                 Column("late_share", _("Share past the deadline"), RATIO)],
        rows=step_rows,
        summary=_("Files that left a step during the period, with the days they spent in it.")
        if step_rows else "")

    # --- approval rate and turnaround by product and branch ---------------------------------
    from apps.insight.selectors import product_name

    cells = first["decided"]
    products = {c["product_id"]: SimpleNamespace(code=c["product_code"], name_en=c["product_en"],
                                                 name_zh=c["product_zh"]) for c in cells}
    branch_names = {c["branch_id"]: c["branch_name"] for c in cells}

    def _rates(field: str, names) -> list[dict]:
        keyed: dict = {}
        for cell in cells:
            row = keyed.setdefault(cell[field], {"key": cell[field], "decided": 0,
                                                 "approved": 0, "turnaround": None,
                                                 "timed": 0})
            row["decided"] += cell["decided"]
            row["approved"] += cell["approved"]
            row["timed"] += cell["timed"]
            if cell["turnaround"] is not None:
                row["turnaround"] = cell["turnaround"] + (row["turnaround"] or dt.timedelta())
        rows = []
        for row in keyed.values():
            total = row["turnaround"]
            rows.append({"label": names(row["key"]), "decided": row["decided"],
                         "approved": row["approved"],
                         "rate": Decimal(row["approved"]) / row["decided"],
                         "turnaround": _days(total.total_seconds() / row["timed"])
                         if total is not None and row["timed"] else None})
        rows.sort(key=lambda r: (-r["decided"], r["label"]))
        return rows

    def _rate_chart(key, title, label, rows) -> Chart:
        return Chart(
            key=key, title=title, kind="bar", category="label", series=["rate"],
            columns=[Column("label", label), Column("decided", _("Decided"), COUNT),
                     Column("approved", _("Approved"), COUNT),
                     Column("rate", _("Approval rate"), RATIO),
                     Column("turnaround", _("Days from submission to decision"), TEXT)],
            rows=rows,
            summary=_("Decisions taken in the period: approved over approved and rejected.")
            if rows else "")

    by_product = _rates("product_id",
                        lambda k: product_name(products[k]) if k in products else str(k))
    by_branch = _rates("branch_id", lambda k: branch_names.get(k, str(k)))
    return {
        "facts": {"open": open_total, "late": open_late, "start": start.date(),
                  "end": (end - dt.timedelta(days=1)).date(), "deadlines": limits},
        "branches": first["branches"],
        "products": [CreditProduct(id=r["id"], code=r["code"], name_en=r["name_en"],
                                   name_zh=r["name_zh"]) for r in first["products"]],
        "charts": [ages, time_in_step, bottlenecks,
                   _rate_chart("approval_by_product", _("Approval rate and turnaround by "
                                                        "product"), _("Product"), by_product),
                   _rate_chart("approval_by_branch", _("Approval rate and turnaround by "
                                                       "branch"), _("Branch"), by_branch)],
    }


def _zh() -> bool:
    from django.utils.translation import get_language

    return (get_language() or "").startswith("zh")


def _by_state(by_manager: list[dict]) -> dict[str, dict]:
    """state → open files, past the deadline, oldest `since`, from `_open_by_manager`."""
    by_state: dict[str, dict] = {}
    for row in by_manager:
        total = by_state.setdefault(row["state"], {"files": 0, "late": 0, "oldest": None})
        total["files"] += row["files"]
        total["late"] += row["late"]
        if total["oldest"] is None or row["oldest"] < total["oldest"]:
            total["oldest"] = row["oldest"]
    return by_state


def _open_by_state(*, branches, product_id, limits, now, mark: int,
                   cells: bool = True) -> dict[str, dict]:
    return _by_state(_open_by_manager(branches=branches, product_id=product_id, limits=limits,
                                      now=now, mark=mark, cells=cells))


def _open_by_manager(*, branches, product_id, limits, now, mark: int,
                     cells: bool = True) -> list[dict]:
    """Open files by state and account manager (state, account_manager__username, files,
    late: past the deadline, oldest `since`): one query adding up the open cells
    (apps/insight/summaries.py: the open files summary by branch, product, state, manager
    and the day they entered the state), reading file by file only the day each state's
    deadline falls on (the files before it are all late, after it none) and the cells of the
    files moved or reassigned past the watermark `mark`, whose own rows are replaced by the
    application now (the tail: its state and manager now, its latest move). Without the
    cells (`cells` false: not built yet), `_open_by_manager_from_files`."""
    if not cells:
        return _open_by_manager_from_files(branches=branches, product_id=product_id,
                                           limits=limits, now=now, mark=mark)
    return _manager_rows(_send_one(_open_by_manager_sql(
        branches=branches, product_id=product_id, limits=limits, now=now, mark=mark)))


def _send_one(statement: tuple[str, list] | None) -> list[tuple]:
    """The rows of one (sql, params), none for None (a statement that can match no row)."""
    if statement is None:
        return []
    with connection.cursor() as cursor:
        cursor.execute(*statement)
        return cursor.fetchall()


def _manager_rows(found: list[tuple]) -> list[dict]:
    return [{"state": r[0], "account_manager__username": r[1], "files": r[2],
             "late": int(r[3] or 0), "oldest": read_datetime(r[4])} for r in found]


def _open_by_manager_sql(*, branches, product_id, limits, now, mark: int
                         ) -> tuple[str, list] | None:
    """The statement of `_open_by_manager` from the open cells (None: no branch in scope)."""
    if branches is not None and not branches:
        return None
    zone = ZoneInfo(settings.TIME_ZONE)  # the zone the open files' days are dated in
    tail, tail_params = open_cells_tail_sql(mark=mark)
    waiting = ", ".join(["%s"] * len(WAITING_STATES))
    scope, scope_params = _scope_sql("f", branches=branches, product_id=product_id)
    where = "f.state IN (" + waiting + ") AND " + " AND ".join(scope)
    scope_params = [str(s) for s in WAITING_STATES] + scope_params
    # Per state with a deadline: the moment a file entered before is late, and its local day.
    cutoffs = [(state, now - dt.timedelta(days=float(days))) for state, days in limits.items()]
    bounds = [(state, connection.ops.adapt_datefield_value(cut.astimezone(zone).date()))
              for state, cut in cutoffs]

    def boundary(alias):  # the rows of a state's deadline day
        if not bounds:
            return "1 = 0", []
        sql = " OR ".join(f"({alias}.state = %s AND {alias}.day = %s)" for _ in bounds)
        return "(" + sql + ")", [v for pair in bounds for v in pair]

    def row_late(alias):  # one file past its state's deadline
        if not cutoffs:
            return "0", []
        sql = "CASE " + " ".join(f"WHEN {alias}.state = %s AND {alias}.since < %s THEN 1"
                                 for _ in cutoffs) + " ELSE 0 END"
        return sql, [v for state, cut in cutoffs for v in (state, sql_datetime(cut))]

    cell_late, cell_late_params = "0", []
    if bounds:  # a cell before its state's deadline day: all late (its day: file by file)
        cell_late = "CASE " + " ".join("WHEN c.state = %s AND c.day < %s THEN c.files"
                                       for _ in bounds) + " ELSE 0 END"
        cell_late_params = [v for pair in bounds for v in pair]
    c_bound, c_bound_params = boundary("c")
    o_bound, o_bound_params = boundary("o")
    o_late, o_late_params = row_late("o")
    x_late, x_late_params = row_late("x")
    same = ("{k}.branch_id = {o}.branch_id AND {k}.product_id = {o}.product_id AND "
            "{k}.state = {o}.state AND {k}.manager_id = {o}.manager_id AND {k}.day = {o}.day")
    not_tail = "NOT EXISTS (SELECT 1 FROM t WHERE t.application_id = o.application_id)"
    sql = (
        "WITH t AS (" + tail + "), "  # noqa: S608 - fixed fragments
        # the cells of the files moved or reassigned past the watermark
        "k AS (SELECT DISTINCT o.branch_id, o.product_id, o.state, o.manager_id, o.day "
        "FROM insight_openfile o JOIN t ON t.application_id = o.application_id) "
        "SELECT g.state, u.username, g.files, g.late, g.oldest FROM ("
        "SELECT f.state, f.manager, SUM(f.files) AS files, SUM(f.late) AS late, "
        "MIN(f.oldest) AS oldest FROM ("
        "SELECT c.state, c.manager_id AS manager, c.files, " + cell_late + " AS late, "
        "c.oldest, c.branch_id, c.product_id FROM insight_opencell c "
        "WHERE NOT " + c_bound + " AND NOT EXISTS (SELECT 1 FROM k WHERE "
        + same.format(k="k", o="c") + ") "
        "UNION ALL SELECT o.state, o.manager_id, 1, " + o_late + ", o.since, o.branch_id, "
        "o.product_id FROM insight_openfile o WHERE " + o_bound + " AND " + not_tail + " "
        "UNION ALL SELECT o.state, o.manager_id, 1, " + o_late + ", o.since, o.branch_id, "
        "o.product_id FROM k JOIN insight_openfile o ON " + same.format(k="k", o="o") + " "
        "WHERE NOT " + o_bound + " AND " + not_tail + " "
        "UNION ALL SELECT x.state, x.manager_id, 1, " + x_late + ", x.since, x.branch_id, "
        "x.product_id FROM (SELECT a.state, a.account_manager_id AS manager_id, "
        "COALESCE(t.since, o.since, a.updated_at) AS since, a.branch_id, v.product_id "
        "FROM t JOIN applications_application a ON a.id = t.application_id "
        "JOIN products_productversion v ON v.id = a.product_version_id "
        "LEFT JOIN insight_openfile o ON o.application_id = t.application_id) x"
        ") f WHERE " + where + " GROUP BY f.state, f.manager) g "
        "LEFT JOIN accounts_user u ON u.id = g.manager")
    params = [*tail_params, *cell_late_params, *c_bound_params, *o_late_params,
              *o_bound_params, *o_late_params, *o_bound_params, *x_late_params, *scope_params]
    return sql, params


def _open_by_manager_from_files(*, branches, product_id, limits, now, mark: int) -> list[dict]:
    """As `_open_by_manager`, file by file from the open files summary (before the open
    cells: a database not yet summarised with them, and the reference in tests): the files
    not moved past the watermark `mark`, plus those that did (the tail: the application's
    state now and its latest move). The account manager is the application's now."""
    if branches is not None and not branches:
        return []
    tail, moves = open_tail_sql()
    waiting = ", ".join(["%s"] * len(WAITING_STATES))
    scope, scope_params = _scope_sql("f", branches=branches, product_id=product_id)
    where = "f.state IN (" + waiting + ") AND " + " AND ".join(scope)
    scope_params = [str(s) for s in WAITING_STATES] + scope_params
    late_case, late_params = "0", []
    if limits:
        late_case = "CASE " + " ".join(
            "WHEN f.state = %s AND f.since < %s THEN 1" for _ in limits) + " ELSE 0 END"
        for state, days in limits.items():
            late_params += [state, sql_datetime(now - dt.timedelta(days=float(days)))]
    sql = (
        "WITH t AS (" + tail + ") "  # noqa: S608 - fixed fragments
        "SELECT g.state, u.username, g.files, g.late, g.oldest FROM ("
        "SELECT f.state, f.manager, COUNT(*) AS files, SUM(" + late_case + ") AS late, "
        "MIN(f.since) AS oldest FROM ("
        "SELECT o.state, o.since, o.branch_id, o.product_id, a.account_manager_id AS manager "
        "FROM insight_openfile o JOIN applications_application a ON a.id = o.application_id "
        "WHERE NOT EXISTS (SELECT 1 FROM t WHERE t.application_id = o.application_id) "
        "UNION ALL SELECT a.state, t.since, a.branch_id, v.product_id, a.account_manager_id "
        "FROM t JOIN applications_application a ON a.id = t.application_id "
        "JOIN products_productversion v ON v.id = a.product_version_id"
        ") f WHERE " + where + " GROUP BY f.state, f.manager) g "
        "LEFT JOIN accounts_user u ON u.id = g.manager")
    with connection.cursor() as cursor:
        cursor.execute(sql, [mark, *moves, *late_params, *scope_params])
        return [{"state": r[0], "account_manager__username": r[1], "files": r[2],
                 "late": int(r[3] or 0), "oldest": read_datetime(r[4])}
                for r in cursor.fetchall()]


def _split(start, end) -> tuple[tuple[dt.date, dt.date] | None, list[tuple]]:
    """[start, end) as the whole local days in it, [first, last) (None if there are none),
    and the parts before and after them (the page's periods are whole days: none)."""
    zone = timezone.get_current_timezone()

    def midnight(day):
        return dt.datetime.combine(day, dt.time(), tzinfo=zone)

    first, last = start.astimezone(zone).date(), end.astimezone(zone).date()
    if midnight(first) < start:
        first += dt.timedelta(days=1)
    if first >= last:
        return None, [(start, end)] if start < end else []
    edges = [(start, midnight(first)), (midnight(last), end)]
    return (first, last), [(lo, hi) for lo, hi in edges if lo < hi]


def _days_of(start, end) -> list:
    full, _edges = _split(start, end)
    days = full or (dt.date.min, dt.date.min)
    return [connection.ops.adapt_datefield_value(d) for d in days]


def _marks(*, start, end, limits) -> tuple[int, bool, list[str], bool]:
    """(the step clock's watermark, whether the step days are built, the steps whose step
    days in [start, end) were counted against another deadline than today's, whether the
    open cells are built) in one query."""
    with connection.cursor() as cursor:
        cursor.execute(*_marks_sql(_days_of(start, end)))
        return _marks_of(cursor.fetchall(), limits)


def _marks_sql(days: list) -> tuple[str, list]:
    """The summaries' watermarks, and the (step, deadline) pairs the step days of the period's
    whole days `days` = [first, last) were counted against (a few rows): a read that waits on
    nothing, so it goes with the page's first batch; `_marks_of` finds the stale steps."""
    return ("SELECT w.name AS name, w.seq AS seq, NULL AS step, NULL AS deadline "
            "FROM insight_summarywatermark w WHERE w.name IN (%s, %s, %s) "
            "UNION ALL SELECT DISTINCT 'day', 0, s.step, s.deadline FROM insight_stepday s "
            "WHERE s.day >= %s AND s.day < %s", [STEP_CLOCK, STEP_DAYS, OPEN_CELLS, *days])


def _marks_of(found, limits) -> tuple[int, bool, list[str], bool]:
    """`_marks` from `_marks_sql`'s rows (tuples, or dicts by column): a step is stale when one
    of its days was counted against another deadline than `limits` gives it today (or
    against one, when it has none today)."""
    rows = [(r["name"], r["seq"], r["step"], r["deadline"]) if isinstance(r, dict) else r
            for r in found]
    marks = {name: seq for name, seq, _step, _deadline in rows if name != "day"}
    stale = sorted({step for name, _seq, step, deadline in rows if name == "day" and not (
        deadline is not None and deadline == limits[step] if step in limits
        else deadline is None)})
    return marks.get(STEP_CLOCK, 0), STEP_DAYS in marks, stale, OPEN_CELLS in marks


def _step_durations(*, branches, product_id, start, end, limits, mark: int,
                    step_days: bool = True, stale: list[str] | None = None) -> list[tuple]:
    """(step, files that left it in [start, end), average seconds, longest, past deadline).

    One query over the step days (apps/insight/summaries.py: the step clock added up by day,
    branch, product and step; a few rows a day), plus the moves past the summary's watermark
    computed from the trail (a few, as beat keeps the summary a minute behind), so the
    figures are never stale. The steps in `stale` (their days in the period were counted
    against another deadline than today's, `_marks`) are read move by move from the step
    clock instead. The watermark bounding the parts is read in the same statement (one
    snapshot), so a refresh committing meanwhile neither doubles nor drops a move; `mark`
    (read before, no later) only tells the planner the tail is short."""
    if branches is not None and not branches:
        return []
    if not step_days or not step_day_zone_ok():
        return _step_durations_from_clock(branches=branches, product_id=product_id,
                                          start=start, end=end, limits=limits, mark=mark)
    if stale is None:
        stale = _marks(start=start, end=end, limits=limits)[2]
    return _duration_rows(_send_one(_step_durations_sql(
        branches=branches, product_id=product_id, start=start, end=end, limits=limits,
        mark=mark, stale=stale)))


def _duration_rows(found: list[tuple]) -> list[tuple]:
    return [(r[0], r[1], Decimal(str(r[2])) / r[1], r[3], int(r[4] or 0)) for r in found
            if r[1]]


def _step_durations_sql(*, branches, product_id, start, end, limits, mark: int,
                        stale: list[str]) -> tuple[str, list]:
    """The statement of `_step_durations` from the step days (a scope of some branches)."""
    scope, scope_params = _scope_sql("m", branches=branches, product_id=product_id)
    now_mark = "COALESCE((SELECT w.seq FROM insight_summarywatermark w WHERE w.name = %s), 0)"
    tail, moves = clock_rows_sql(lower="%s AND e.seq > " + now_mark, upper=False)
    late_case, late_params = _late_case("x", limits)
    full, edges = _split(start, end)
    period = [sql_datetime(start), sql_datetime(end)]
    clock = ("SELECT x.step, 1, x.seconds, x.seconds, " + late_case + ", x.branch_id, "  # noqa: S608 - fixed fragments
             "x.product_id FROM insight_stepclock x WHERE x.seq <= " + now_mark + " "
             "AND x.left_at >= %s AND x.left_at < %s AND x.seconds IS NOT NULL")
    parts, params = [], []
    if full:
        days = _days_of(start, end)
        listed = ", ".join(["%s"] * len(stale))
        parts.append("SELECT r.step, r.moves AS n, r.seconds AS total, r.longest, r.late, "  # noqa: S608 - fixed fragments
                     "r.branch_id, r.product_id FROM insight_stepday r "
                     "WHERE r.day >= %s AND r.day < %s"
                     + (f" AND r.step NOT IN ({listed})" if stale else ""))
        params += [*days, *stale]
        if stale:  # whole days of a step counted against another deadline: from the clock
            parts.append(clock + f" AND x.step IN ({listed})")
            zone = timezone.get_current_timezone()
            params += [*late_params, STEP_CLOCK,
                       *[sql_datetime(dt.datetime.combine(d, dt.time(), tzinfo=zone))
                         for d in full], *stale]
    for lo, hi in edges:  # part of a day: from the clock
        parts.append(clock)
        params += [*late_params, STEP_CLOCK, sql_datetime(lo), sql_datetime(hi)]
    parts.append(
        "SELECT x.step, 1, x.seconds, x.seconds, " + late_case + ", x.branch_id, "  # noqa: S608 - fixed fragments
        "x.product_id FROM (" + tail + ") x "
        "WHERE x.left_at >= %s AND x.left_at < %s AND x.seconds IS NOT NULL")
    params += [*late_params, mark, STEP_CLOCK, *moves, *period]
    sql = (
        "SELECT m.step, SUM(m.n), SUM(m.total), MAX(m.longest), SUM(m.late) FROM ("  # noqa: S608 - fixed fragments
        + " UNION ALL ".join(parts) + ") m WHERE " + " AND ".join(scope) + " GROUP BY m.step")
    return sql, [*params, *scope_params]


def _late_case(alias: str, limits) -> tuple[str, list]:
    if not limits:
        return "0", []
    sql = "CASE " + " ".join(f"WHEN {alias}.step = %s AND {alias}.seconds > %s THEN 1"
                             for _ in limits) + " ELSE 0 END"
    params: list = []
    for state, days in limits.items():
        params += [state, float(days) * DAY]
    return sql, params


def _step_durations_from_clock(*, branches, product_id, start, end, limits,
                               mark: int) -> list[tuple]:
    """As `_step_durations`, move by move from the step clock (before the step days; kept
    for a page in another time zone than the step days' and as the reference in tests)."""
    if branches is not None and not branches:
        return []
    filters = ["m.left_at >= %s", "m.left_at < %s", "m.seconds IS NOT NULL"]
    params: list = [sql_datetime(start), sql_datetime(end)]
    if branches is not None:
        filters.append("m.branch_id IN ({})".format(", ".join(["%s"] * len(branches))))
        params += sorted(branches)
    if product_id is not None:
        filters.append("m.product_id = %s")
        params.append(product_id)
    where = " AND ".join(filters)
    tail, moves = clock_rows_sql(upper=False)
    late_case = "0"
    late_params: list = []
    if limits:
        late_case = "CASE " + " ".join(
            "WHEN m.step = %s AND m.seconds > %s THEN 1" for _ in limits) + " ELSE 0 END"
        for state, days in limits.items():
            late_params += [state, float(days) * DAY]
    sql = (
        "SELECT m.step, COUNT(*), AVG(m.seconds), MAX(m.seconds), "  # noqa: S608 - fixed fragments
        "SUM(" + late_case + ") FROM ("
        "SELECT c.step, c.seconds, c.left_at, c.branch_id, c.product_id "
        "FROM insight_stepclock c WHERE c.seq <= %s UNION ALL "
        "SELECT t.step, t.seconds, t.left_at, t.branch_id, t.product_id FROM (" + tail + ") t"
        ") m WHERE " + where + " GROUP BY m.step")
    with connection.cursor() as cursor:
        cursor.execute(sql, [*late_params, mark, mark, *moves, *params])
        return [(r[0], r[1], r[2], r[3], int(r[4] or 0)) for r in cursor.fetchall()]
