"""Reads for post-loan risk pages and API, each scoped to what the viewer may see
(`visible_branch_ids`): work list, review queue, a loan's panel, NPL ratios and the
month-to-month migration matrix. Portfolio figures are aggregate queries, never loops."""

import datetime as dt
from decimal import Decimal

from django.db import connection
from django.db.models import Count, F, Q, QuerySet, Sum
from django.db.models.functions import Coalesce, ExtractQuarter, ExtractYear
from django.http import Http404

from apps.accounts.roles import Role
from apps.accounts.selectors import visible_branch_ids
from apps.loans.models import Loan
from apps.loans.states import OPEN_LOAN_STATES
from apps.monitoring import dialect
from apps.monitoring.models import (
    Action,
    Classification,
    ClassificationRun,
    LoanRiskStatus,
    Signal,
)
from apps.monitoring.policy import K, MissingPolicy, Policy, PolicyNotConfigured
from apps.monitoring.states import (
    CATEGORY_RANK,
    NPA_CATEGORIES,
    OPEN_ACTION_STATES,
    OPEN_SIGNAL_STATES,
    Category,
    ClassificationState,
)

NPA = sorted(str(c) for c in NPA_CATEGORIES)


def _scoped(queryset: QuerySet, viewer, field: str = "branch_id") -> QuerySet:
    branches = visible_branch_ids(viewer=viewer)
    return queryset if branches is None else queryset.filter(**{f"{field}__in": branches})


def loan_get(*, loan_id: int, viewer) -> Loan:
    """A loan the viewer may see (404 otherwise: existence is not revealed)."""
    loan = _scoped(Loan.objects.select_related("branch", "enterprise", "officer"), viewer
                   ).filter(pk=loan_id).first()
    if loan is None:
        raise Http404
    return loan


def signal_list(*, viewer, open_only: bool = True) -> QuerySet[Signal]:
    signals = _scoped(Signal.objects.select_related("loan", "loan__enterprise", "rule"), viewer)
    return signals.filter(state__in=OPEN_SIGNAL_STATES) if open_only else signals


def signal_get(*, signal_id: int, viewer) -> Signal:
    signal = signal_list(viewer=viewer, open_only=False).filter(pk=signal_id).first()
    if signal is None:
        raise Http404
    return signal


def action_list(*, viewer, open_only: bool = True) -> QuerySet[Action]:
    actions = _scoped(Action.objects.select_related("loan", "loan__enterprise", "owner"),
                      viewer).order_by("due_date", "id")
    return actions.filter(state__in=OPEN_ACTION_STATES) if open_only else actions


def action_get(*, action_id: int, viewer) -> Action:
    action = action_list(viewer=viewer, open_only=False).filter(pk=action_id).first()
    if action is None:
        raise Http404
    return action


def classification_list(*, viewer) -> QuerySet[Classification]:
    return _scoped(Classification.objects.select_related(
        "loan", "loan__enterprise", "proposed_by", "confirmed_by", "approved_by"), viewer)


def classification_get(*, classification_id: int, viewer) -> Classification:
    found = classification_list(viewer=viewer).filter(pk=classification_id).first()
    if found is None:
        raise Http404
    return found


def worklist(*, viewer) -> dict:
    """A post-loan officer's work: open actions by deadline and open signals, on the loans
    they answer for; team leads and reviewers see their branches' whole list."""
    actions, signals = action_list(viewer=viewer), signal_list(viewer=viewer)
    if viewer.has_role(Role.POST_LOAN_OFFICER) and not viewer.has_role(Role.TEAM_LEAD,
                                                                        Role.RISK_REVIEWER):
        actions = actions.filter(owner=viewer)
        signals = signals.filter(loan__officer=viewer)
    return {"actions": actions[:200],
            "signals": signals.order_by("-level", "raised_at")[:200]}


def review_queue(*, viewer) -> QuerySet[Classification]:
    """Proposals the viewer may decide now: reviewers confirm proposals they did not make,
    approvers approve confirmed upgrades they neither proposed nor confirmed."""
    wanted = Q(pk__in=[])
    if viewer.has_role(Role.RISK_REVIEWER):
        wanted |= Q(state=ClassificationState.PROPOSED) & ~Q(proposed_by=viewer)
    if viewer.has_role(Role.APPROVER):
        wanted |= (Q(state=ClassificationState.CONFIRMED) & ~Q(proposed_by=viewer)
                   & ~Q(confirmed_by=viewer))
    return classification_list(viewer=viewer).filter(wanted).order_by("created_at", "id")


def loan_panel_context(*, loan: Loan, viewer) -> dict:
    """What `monitoring/partials/loan_panel.html` needs; the loan page includes it.
    The caller has already checked the viewer may see the loan."""
    from apps.monitoring.hooks import loan_panel_blocks

    status = LoanRiskStatus.objects.filter(loan=loan).first()
    return {
        "loan": loan,
        "risk_status": status,
        "classifications": loan.classifications.select_related(
            "proposed_by", "confirmed_by", "approved_by").order_by("-created_at", "-id")[:50],
        "signals": loan.signals.select_related("rule").order_by("-raised_at", "-id")[:50],
        "actions": loan.actions.select_related("owner").order_by("due_date", "id")[:50],
        "blocks": loan_panel_blocks(loan, viewer),
        "categories": Category.choices,
    }


# --- Portfolio figures -------------------------------------------------------------------

DIMENSIONS = {"branch": "branch__name", "product": "product_version__product__code",
              "officer": "officer__username", "vintage": None}


def npl_ratios(*, viewer, by: str, within: Q | None = None) -> list[dict]:
    """NPL ratio (次级+可疑+损失 outstanding / total outstanding) of the open book by branch,
    product, officer or vintage (disbursement quarter). A loan counts as NPA when its
    category in force or its rule floor is (the floor always wins), or when today's days
    past due already pass the 次级 floor. `within` narrows the loans further (dashboard
    filters); it never widens the viewer's scope."""
    if by not in DIMENSIONS:
        raise ValueError(by)
    loans = _scoped(Loan.objects.filter(state__in=OPEN_LOAN_STATES), viewer)
    if within is not None:
        loans = loans.filter(within)
    # Today's DPD floor counts too, so the figure is current between monthly runs.
    try:
        substandard_gt = Policy().integer(K.FLOOR_SUBSTANDARD_DPD_GT)
    except MissingPolicy as gap:
        raise PolicyNotConfigured(str(gap)) from gap
    npa = (Q(risk_status__category__in=NPA) | Q(risk_status__floor__in=NPA)
           | Q(dpd_principal__gt=substandard_gt) | Q(dpd_interest__gt=substandard_gt))
    if by == "vintage":
        loans = loans.annotate(year=ExtractYear("value_date"), quarter=ExtractQuarter(
            "value_date")).values("year", "quarter")
    else:
        loans = loans.values(key=F(DIMENSIONS[by]))
    rows = loans.annotate(
        loans=Count("pk"), total=Coalesce(Sum("outstanding_principal"), Decimal(0)),
        npa=Coalesce(Sum("outstanding_principal", filter=npa), Decimal(0)))
    out = []
    for row in rows:
        key = (f"{row['year']}Q{row['quarter']}" if by == "vintage" else row["key"])
        ratio = row["npa"] / row["total"] if row["total"] else Decimal(0)
        out.append({"key": key, "loans": row["loans"], "total": row["total"],
                    "npa": row["npa"], "ratio": ratio})
    return sorted(out, key=lambda r: str(r["key"]))


def npl_tolerance(*, on: dt.date | None = None) -> Decimal | None:
    """The NPL tolerance: the bank's NPL ratio + the policy's margin (§4.6, + 3 pp)."""
    policy = Policy(on=on)
    try:
        return policy.value(K.NPL_BANK_RATIO) + policy.value(K.NPL_TOLERANCE_PP)
    except MissingPolicy:
        return None


def run_dates(*, limit: int = 24) -> list[dt.date]:
    return [row["as_of"] for row in run_dates_query(limit=limit)]


def run_dates_query(*, limit: int = 24):
    """The read behind `run_dates` (rows of as_of, latest first), for a page to batch."""
    return ClassificationRun.objects.order_by("-as_of").values("as_of")[:limit]


_RANK_SQL = "CASE {col} " + " ".join(
    f"WHEN '{c}' THEN {r}" for c, r in CATEGORY_RANK.items()) + " ELSE 1 END"
_EFFECTIVE_SQL = (f"(CASE WHEN {_RANK_SQL.format(col='{t}.floor')} > "
                  f"{_RANK_SQL.format(col='{t}.category')} THEN {{t}}.floor "
                  f"ELSE {{t}}.category END)")


def migration_matrix(*, viewer, from_date: dt.date, to_date: dt.date,
                     branch_ids=None, product_id: int | None = None) -> dict:
    """Month-to-month migration of the snapshots of two runs: counts and balances (at the
    later date) from each category to each category, plus loans that left the book ("off")
    and loans new to it ("new"). Categories are the worse of category in force and floor.

    A left join plus the later run's new loans instead of a FULL OUTER JOIN: the same SQL on
    PostgreSQL and on SQLite older than 3.39 (`make run`, embedded local runs).
    `branch_ids` and `product_id` (a credit product) narrow it within the viewer's scope."""
    branches = visible_branch_ids(viewer=viewer)
    if branch_ids is not None:
        branches = set(branch_ids) if branches is None else branches & set(branch_ids)
    params = {"f": from_date, "t": to_date}
    scope = ""
    if branches is not None:
        params["branches"] = dialect.id_list(sorted(branches))
        scope = "AND " + dialect.in_ids("branch_id", "branches")
    if product_id is not None:
        params["product"] = product_id
        scope += " AND product_id = %(product)s"
    effective = _EFFECTIVE_SQL.format(t="s")
    # Only code constants and dialect fragments are formatted in; values are bound.
    sql = f"""
    WITH before_run AS (SELECT s.loan_id, {effective} AS category, s.outstanding
                        FROM monitoring_classificationsnapshot s
                        WHERE s.as_of = %(f)s {scope}),
         after_run AS (SELECT s.loan_id, {effective} AS category, s.outstanding
                       FROM monitoring_classificationsnapshot s
                       WHERE s.as_of = %(t)s {scope})
    SELECT m.from_category, m.to_category, COUNT(*), {dialect.money_sum("m.balance")},
           {dialect.money_sum("m.balance_before")}
    FROM (SELECT b.category AS from_category, COALESCE(a.category, 'off') AS to_category,
                 COALESCE(a.outstanding, 0) AS balance, b.outstanding AS balance_before
          FROM before_run b LEFT JOIN after_run a ON a.loan_id = b.loan_id
          UNION ALL
          SELECT 'new', a.category, a.outstanding, 0
          FROM after_run a
          WHERE NOT EXISTS (SELECT 1 FROM before_run b WHERE b.loan_id = a.loan_id)) m
    GROUP BY m.from_category, m.to_category
    """  # noqa: S608
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        cells = {(r[0], r[1]): {"count": r[2], "balance": dialect.money_total(r[3]),
                                "balance_before": dialect.money_total(r[4])}
                 for r in cursor.fetchall()}
    rows = [*Category.values, "new"]
    columns = [*Category.values, "off"]
    return {"from": from_date, "to": to_date, "rows": rows, "columns": columns,
            "cells": cells}


def signals_by_level(*, viewer) -> dict[int, int]:
    return dict(signal_list(viewer=viewer).values("level").annotate(n=Count("pk"))
                .values_list("level", "n"))


