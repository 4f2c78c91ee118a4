"""Reads for the insight dashboards, each scoped to the branches the viewer may see.

Every figure is an aggregate computed by the database (GROUP BY), never a loop over loans: the
portfolio page runs the same number of queries for ten loans or a hundred thousand; its book
breakdowns are one statement over the portfolio facts (apps/insight/portfolio_facts.py). NPL ratios
and the migration matrix are monitoring's own selectors (one definition of "non-performing"
in the bank), narrowed by the dashboard's filters.
"""

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Q, Sum
from django.db.models.functions import Coalesce
from django.http import Http404
from django.utils import timezone
from django.utils.translation import get_language, gettext_lazy, ngettext
from django.utils.translation import gettext as _

from apps.accounts.roles import Role
from apps.accounts.selectors import visible_branch_ids
from apps.insight.charts import COUNT, MONEY, RATIO, Chart, Column
from apps.insight.compiled import batch, compiled
from apps.insight.portfolio_facts import book_breakdowns, state_statement
from apps.insight.summaries import values_from_rows, values_in_force, values_in_force_query
from apps.monitoring import selectors as monitoring
from apps.monitoring.models import ClassificationSnapshot
from apps.monitoring.policy import K, MissingPolicy, PolicyNotConfigured
from apps.monitoring.states import CATEGORY_RANK, NPA_CATEGORIES, Category
from apps.org.models import Branch
from apps.org.selectors import branch_subtree_ids
from apps.parties.industries import Industry
from apps.parties.size import SizeClass
from apps.products.models import CreditProduct

# Who may open the portfolio dashboard: those who answer for a book (team leads, i.e. branch
# heads), those who judge its risk, and the bank-wide readers. Account managers see their
# own files elsewhere; the officer scorecard is a separate page.
PORTFOLIO_ROLES = (Role.TEAM_LEAD, Role.RISK_REVIEWER, Role.APPROVER, Role.AUDITOR, Role.ADMIN)

TOP_BORROWERS = 10
# The policy values the page reads (one narrow read: apps/insight/summaries.py).
POLICY_KEYS = (K.FLOOR_SUBSTANDARD_DPD_GT, K.NPL_BANK_RATIO, K.NPL_TOLERANCE_PP)
VINTAGE_RUNS = 24  # monthly runs read for the vintage curves (two years)

UNGRADED = gettext_lazy("Not scored")
UNKNOWN = gettext_lazy("Not recorded")


def may_view_portfolio(user) -> bool:
    return user.is_authenticated and (user.is_superuser or user.has_role(*PORTFOLIO_ROLES))


@dataclass(frozen=True)
class PortfolioFilters:
    """What the reader narrowed the dashboard to. Branch means that branch and everything
    below it; the disbursement period selects loans by value date (a cohort)."""

    branch_id: int | None = None
    product_id: int | None = None
    disbursed_from: dt.date | None = None
    disbursed_to: dt.date | None = None
    run_from: dt.date | None = None
    run_to: dt.date | None = None


@dataclass(frozen=True)
class Scope:
    branch_ids: set[int] | None  # None: every branch
    loans: Q  # the loan filter for the book figures


def portfolio_scope(*, viewer, filters: PortfolioFilters) -> Scope:
    """The viewer's branches narrowed by the filters. A branch outside the viewer's subtree
    is a 404, as for any object the viewer may not see (its existence is not revealed)."""
    visible = visible_branch_ids(viewer=viewer)
    branches = visible
    if filters.branch_id is not None:
        if visible is not None and filters.branch_id not in visible:
            raise Http404("No such branch")
        subtree = branch_subtree_ids(branch_id=filters.branch_id)
        branches = subtree if visible is None else subtree & visible
    loans = Q()
    if branches is not None:
        loans &= Q(branch_id__in=branches)
    if filters.product_id is not None:
        loans &= Q(product_version__product_id=filters.product_id)
    if filters.disbursed_from is not None:
        loans &= Q(value_date__gte=filters.disbursed_from)
    if filters.disbursed_to is not None:
        loans &= Q(value_date__lte=filters.disbursed_to)
    return Scope(branch_ids=branches, loans=loans)


def _branch_choices(viewer):
    visible = visible_branch_ids(viewer=viewer)
    branches = Branch.objects.order_by("name")
    if visible is not None:
        branches = branches.filter(pk__in=visible)
    return branches.values("id", "name")


def _products():
    return CreditProduct.objects.order_by("code")


def filter_choices(*, viewer, products: list | None = None,
                   branches: list[dict] | None = None) -> dict:
    """Branches and products for the filter form: only branches the viewer may see.
    `products`: the products in code order, `branches` the branches' rows, when the page has
    read them already."""
    if branches is None:
        branches = list(_branch_choices(viewer))
    if products is None:
        products = _products()
    return {"branches": branches,
            "products": [{"id": p.pk, "name": product_name(p)} for p in products]}


def _first_queries(viewer, today: dt.date) -> dict:
    """The querysets of `_first_reads` (the policy values in force `today`)."""
    return {"policy": values_in_force_query(POLICY_KEYS, on=today),
            "products": _products().values("id", "code", "name_en", "name_zh"),
            "runs": monitoring.run_dates_query(limit=VINTAGE_RUNS),
            "branches": _branch_choices(viewer)}


def _first_reads(*, viewer, scope: "Scope") -> dict | None:
    """The page's reads that wait on nothing (policy values, products, run dates, the filter
    form's branches, the portfolio facts' watermark), sent as one batch: SQL built once per
    shape of viewer (apps/insight/compiled.py). None off PostgreSQL: each is read on its own."""
    today = timezone.localdate()
    kept = compiled("portfolio.first", viewer,
                    lambda stand_in: _first_queries(stand_in.viewer, stand_in.day(0)),
                    days=[today])
    if kept is None:
        return None
    found = batch({**kept, "state": state_statement(scope.branch_ids)})
    return {"policy": values_from_rows((r["key"], r["value"]) for r in found["policy"]),
            "products": [CreditProduct(id=r["id"], code=r["code"], name_en=r["name_en"],
                                       name_zh=r["name_zh"]) for r in found["products"]],
            "runs": [r["as_of"] for r in found["runs"]], "branches": found["branches"],
            "state": tuple(found["state"][0][c] for c in ("as_of", "models_at", "npa_dpd_gt",
                                                          "kept")) if found["state"] else None}


def product_name(product) -> str:
    zh = (get_language() or "").startswith("zh")
    return (product.name_zh if zh else product.name_en) or product.code


def _share(part: Decimal, whole: Decimal) -> Decimal:
    return (part / whole) if whole else Decimal(0)


def _effective(category: str | None, floor: str | None) -> str:
    """The worse of the category in force and the rule floor (the floor always wins); a loan
    not yet classified is normal."""
    ranked = [c for c in (category, floor) if c]
    return max(ranked, key=lambda c: CATEGORY_RANK.get(c, 0)) if ranked else Category.NORMAL


def _outstanding_chart(key: str, title, label_column, rows, total: Decimal) -> Chart:
    for row in rows:
        row["share"] = _share(row["outstanding"], total)
    rows.sort(key=lambda r: (-r["outstanding"], str(r["label"])))
    return Chart(
        key=key, title=title, kind="bar", category="label", series=["outstanding"],
        columns=[Column("label", label_column), Column("loans", _("Loans"), COUNT),
                 Column("outstanding", _("Outstanding principal"), MONEY),
                 Column("share", _("Share of the book"), RATIO)],
        rows=rows)


def portfolio_dashboard(*, viewer, filters: PortfolioFilters) -> dict:
    """Every figure of the portfolio page: headline facts and the charts, in page order.

    Queries, whatever the size of the book: the viewer's scope, the NPL floor's policy, one
    for every breakdown (category, product, industry, size class, grade, NPL by branch, top
    borrowers) after one for the summary's watermark, product names, the tolerance, the run
    dates, the migration matrix and the vintage snapshots."""
    scope = portfolio_scope(viewer=viewer, filters=filters)
    first = _first_reads(viewer=viewer, scope=scope)
    policy = values_in_force(POLICY_KEYS) if first is None else first["policy"]
    npa_dpd_gt, gap = _npa_dpd_floor(policy)
    # Every breakdown of the book in one statement, from the portfolio facts where built
    # (apps/insight/portfolio_facts.py), the same figures as the loans give live.
    grouped = book_breakdowns(loans_q=scope.loans, branch_ids=scope.branch_ids,
                              filters=filters, npa_dpd_gt=npa_dpd_gt,
                              state=False if first is None else first["state"])

    # Five categories: grouped by (category in force, floor); at most 25 rows to combine.
    by_category: dict[str, dict] = {c: {"loans": 0, "outstanding": Decimal(0)}
                                    for c in Category.values}
    for row in grouped["category"]:
        cell = by_category[_effective(row["key"], row["name"])]
        cell["loans"] += row["loans"]
        cell["outstanding"] += row["outstanding"]
    total = sum((c["outstanding"] for c in by_category.values()), Decimal(0))
    loans = sum(c["loans"] for c in by_category.values())
    labels = dict(Category.choices)
    category_rows = [{"label": str(labels[c]), "code": c, **by_category[c],
                      "share": _share(by_category[c]["outstanding"], total)}
                     for c in Category.values]
    npa = sum((by_category[c]["outstanding"] for c in NPA_CATEGORIES), Decimal(0))
    categories = Chart(
        key="categories", title=_("Five-category distribution"), kind="pie", category="label",
        series=["outstanding"],
        columns=[Column("label", _("Category")), Column("loans", _("Loans"), COUNT),
                 Column("outstanding", _("Outstanding principal"), MONEY),
                 Column("share", _("Share of the book"), RATIO)],
        rows=category_rows if loans else [],
        summary=_("%(share)s of the outstanding principal is classified substandard, doubtful "
                  "or loss.") % {"share": _percent(_share(npa, total))} if loans else "")

    def rows_of(dim: str, key=lambda k: k) -> list[dict]:
        return [{"key": key(r["key"]), "loans": r["loans"], "outstanding": r["outstanding"]}
                for r in grouped[dim]]

    # In code order, for the filter form too (filter_choices): one read of the products.
    product_list = list(_products()) if first is None else first["products"]
    products = {p.pk: p for p in product_list}
    product_rows = [{**r, "label": product_name(products[r["key"]]) if r["key"] in products
                     else str(UNKNOWN)}
                    for r in rows_of("product", key=lambda k: int(k) if k is not None else k)]
    industry_labels = dict(Industry.choices)
    industry_rows = [{**r, "label": str(industry_labels.get(r["key"], UNKNOWN))}
                     for r in rows_of("industry")]
    size_labels = dict(SizeClass.choices)
    size_rows = [{**r, "label": str(size_labels.get(r["key"], UNKNOWN))}
                 for r in rows_of("size")]
    grade_rows = [{**r, "label": r["key"] or str(UNGRADED)} for r in rows_of("grade")]

    top = [{"enterprise_id": int(r["key"]), "enterprise__name": r["name"], "loans": r["loans"],
            "outstanding": r["outstanding"]} for r in grouped["top"]]
    for row in top:
        row["label"], row["share"] = row["enterprise__name"], _share(row["outstanding"], total)
    top_share = _share(sum((r["outstanding"] for r in top), Decimal(0)), total)
    concentration = Chart(
        key="top_borrowers", title=_("Largest borrowers"), kind="bar", category="label",
        series=["outstanding"],
        columns=[Column("label", _("Borrower")), Column("loans", _("Loans"), COUNT),
                 Column("outstanding", _("Outstanding principal"), MONEY),
                 Column("share", _("Share of the book"), RATIO)],
        rows=top,
        summary=(ngettext("The largest borrower holds %(share)s of the outstanding principal.",
                          "The %(n)s largest borrowers hold %(share)s of the outstanding "
                          "principal.", len(top))
                 % {"n": len(top), "share": _percent(top_share)}) if top else "")

    npl = _npl(rows=grouped["branch"], gap=gap, tolerance=_tolerance(policy))
    runs = monitoring.run_dates(limit=VINTAGE_RUNS) if first is None else first["runs"]
    migration = _migration(viewer=viewer, scope=scope, filters=filters, runs=runs)
    vintages = _vintage_curves(scope=scope, filters=filters, runs=runs)

    return {
        "facts": {"loans": loans, "outstanding": total, "npa": npa,
                  "npl_ratio": npl["ratio"], "tolerance": npl["tolerance"]},
        "charts": [
            _outstanding_chart("by_product", _("Outstanding by product"), _("Product"),
                               product_rows, total),
            _outstanding_chart("by_industry", _("Outstanding by industry"), _("Industry"),
                               industry_rows, total),
            _outstanding_chart("by_size", _("Outstanding by size class"), _("Size class"),
                               size_rows, total),
            _outstanding_chart("by_grade", _("Outstanding by risk grade"),
                               _("Grade at approval"), grade_rows, total),
            categories, npl["chart"], migration["chart"], vintages, concentration],
        "npl": npl, "migration": migration, "runs": runs, "products": product_list,
        "branches": None if first is None else first["branches"],
    }


def _percent(ratio: Decimal) -> str:
    from django.utils import formats

    return formats.number_format(ratio * 100, 2, use_l10n=True) + "%"


def _npa_dpd_floor(policy: dict[str, Decimal]) -> tuple[int | None, str | None]:
    """Days past due beyond which a loan is non-performing today (the 次级 floor in
    policy, from the values in force `policy`), or why it cannot be read."""
    if K.FLOOR_SUBSTANDARD_DPD_GT not in policy:
        missing = MissingPolicy(K.FLOOR_SUBSTANDARD_DPD_GT)
        return None, str(PolicyNotConfigured(str(missing)).detail)
    return int(policy[K.FLOOR_SUBSTANDARD_DPD_GT]), None


def _tolerance(policy: dict[str, Decimal]) -> Decimal | None:
    """The NPL tolerance as `monitoring.selectors.npl_tolerance` gives it (the bank's NPL
    ratio + the policy's margin), from the values in force `policy`."""
    if K.NPL_BANK_RATIO not in policy or K.NPL_TOLERANCE_PP not in policy:
        return None
    return policy[K.NPL_BANK_RATIO] + policy[K.NPL_TOLERANCE_PP]


def _npl(*, rows: list[dict], gap: str | None, tolerance: Decimal | None) -> dict:
    """NPL ratio by branch against the tolerance (bank NPL + policy margin, §4.6), by
    monitoring's definition (category, floor or today's DPD past the 次级 floor; as
    `monitoring.selectors.npl_ratios`), from the book's branch breakdown (by name)."""
    by_name: dict[str, dict] = {}
    for found in rows:
        row = by_name.setdefault(found["name"], {"key": found["name"], "loans": 0,
                                                 "total": Decimal(0), "npa": Decimal(0)})
        row["loans"] += found["loans"]
        row["total"] += found["outstanding"]
        row["npa"] += found["npa"]
    rows = sorted(by_name.values(), key=lambda r: str(r["key"]))
    for row in rows:
        row["ratio"] = row["npa"] / row["total"] if row["total"] else Decimal(0)
    total = sum((r["total"] for r in rows), Decimal(0))
    npa = sum((r["npa"] for r in rows), Decimal(0))
    ratio = _share(npa, total) if rows else None
    for row in rows:
        row["label"] = row["key"]
    if ratio is None:
        summary = ""
    elif tolerance is None:
        summary = _("The NPL ratio is %(ratio)s; no tolerance is set in policy.") % {
            "ratio": _percent(ratio)}
    elif ratio > tolerance:
        summary = _("The NPL ratio is %(ratio)s, above the tolerance of %(tolerance)s.") % {
            "ratio": _percent(ratio), "tolerance": _percent(tolerance)}
    else:
        summary = _("The NPL ratio is %(ratio)s, within the tolerance of %(tolerance)s.") % {
            "ratio": _percent(ratio), "tolerance": _percent(tolerance)}
    chart = Chart(
        key="npl_by_branch", title=_("NPL ratio by branch against tolerance"), kind="bar",
        category="label", series=["ratio"],
        columns=[Column("label", _("Branch")), Column("loans", _("Loans"), COUNT),
                 Column("npa", _("Non-performing principal"), MONEY),
                 Column("total", _("Outstanding principal"), MONEY),
                 Column("ratio", _("NPL ratio"), RATIO)],
        rows=rows, summary=summary,
        reference=(_("Tolerance"), tolerance) if tolerance is not None else None)
    if gap:
        chart.empty_text = _("The NPL ratio cannot be computed: %(reason)s Ask the "
                             "credit-policy team to publish it.") % {"reason": gap}
    return {"ratio": ratio, "tolerance": tolerance, "chart": chart}


MATRIX_LABELS = {"new": gettext_lazy("New to the book"), "off": gettext_lazy("Left the book")}


def _migration(*, viewer, scope: Scope, filters: PortfolioFilters, runs: list[dt.date]) -> dict:
    """Month-to-month migration between two classification runs (the latest two unless the
    reader chose): monitoring's matrix, narrowed to the filtered branches and product. The
    disbursement period does not apply: a run's snapshot is of the whole book."""
    to_date = filters.run_to or (runs[0] if runs else None)
    from_date = filters.run_from or next((d for d in runs if to_date and d < to_date), None)
    labels = {**dict(Category.choices), **MATRIX_LABELS}
    columns = [*Category.values, "off"]
    rows: list[dict] = []
    moved_down = 0
    if from_date and to_date:
        matrix = monitoring.migration_matrix(
            viewer=viewer, from_date=from_date, to_date=to_date, branch_ids=scope.branch_ids,
            product_id=filters.product_id)
        for origin in [*Category.values, "new"]:
            row = {"label": str(labels[origin])}
            for target in columns:
                row[target] = matrix["cells"].get((origin, target), {}).get("count", 0)
                if CATEGORY_RANK.get(target, 0) > CATEGORY_RANK.get(origin, 9):
                    moved_down += row[target]  # "new" and "off" are not downgrades
            if any(row[target] for target in columns):
                rows.append(row)
    summary = ""
    if from_date and to_date:
        summary = ngettext(
            "Between %(start)s and %(end)s, %(n)s loan moved to a worse category.",
            "Between %(start)s and %(end)s, %(n)s loans moved to a worse category.",
            moved_down) % {"start": _date(from_date), "end": _date(to_date), "n": moved_down}
    chart = Chart(
        key="migration", title=_("Migration between monthly runs"), kind="bar", stacked=True,
        category="label", series=columns,
        columns=[Column("label", _("From category")),
                 *[Column(c, _("To %(category)s") % {"category": labels[c]}, COUNT)
                   for c in columns]],
        rows=rows, summary=summary)
    if not (from_date and to_date):
        chart.empty_text = _("Two monthly runs are needed to show a migration.")
    return {"from": from_date, "to": to_date, "chart": chart}


def _date(day: dt.date) -> str:
    from django.utils import formats

    return formats.date_format(day, "SHORT_DATE_FORMAT")


def _vintage_rows(*, scope: Scope, filters: PortfolioFilters, runs: list[dt.date]):
    """The runs' snapshots by vintage and run: outstanding, and of it non-performing."""
    snapshots = ClassificationSnapshot.objects.filter(as_of__in=runs)
    if scope.branch_ids is not None:
        snapshots = snapshots.filter(branch_id__in=scope.branch_ids)
    if filters.product_id is not None:
        snapshots = snapshots.filter(product_id=filters.product_id)
    npa = [str(c) for c in NPA_CATEGORIES]
    return (snapshots.order_by().values("vintage", "as_of").annotate(
        total=Coalesce(Sum("outstanding"), Decimal(0)),
        npa=Coalesce(Sum("outstanding", filter=Q(category__in=npa) | Q(floor__in=npa)),
                     Decimal(0))))


def _vintage_curves(*, scope: Scope, filters: PortfolioFilters, runs: list[dt.date]) -> Chart:
    """Vintage curves: for each disbursement quarter, the share of its outstanding principal
    that is non-performing at each run, by months on book. Read from the runs' snapshots (one
    grouped query); the latest runs only."""
    curves: dict[str, dict[int, Decimal]] = {}
    # No run, no curve: the grouped read is not even built (building it, to find it can
    # match nothing, was ~1-2 ms of the page's Python; issue #22).
    grouped = _vintage_rows(scope=scope, filters=filters, runs=runs) if runs else []
    for row in grouped:
        year, quarter = row["vintage"].split("Q") if "Q" in row["vintage"] else (None, None)
        if year is None:
            continue
        start_month = int(year) * 12 + (int(quarter) - 1) * 3
        on_book = row["as_of"].year * 12 + row["as_of"].month - 1 - start_month
        curves.setdefault(row["vintage"], {})[on_book] = _share(row["npa"], row["total"])
    vintages = sorted(curves)[-6:]  # the latest six quarters keep the chart readable
    months = sorted({m for v in vintages for m in curves[v]})
    rows = [{"label": str(m), **{v: curves[v].get(m) for v in vintages}} for m in months]
    return Chart(
        key="vintages", title=_("Vintage curves"), kind="line", category="label",
        series=vintages,
        columns=[Column("label", _("Months on book")),
                 *[Column(v, _("Disbursed %(quarter)s") % {"quarter": v}, RATIO)
                   for v in vintages]],
        rows=rows,
        summary=_("Each line is one disbursement quarter: the share of its outstanding "
                  "principal that is non-performing, by months since disbursement.")
        if rows else "")
