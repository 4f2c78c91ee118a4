"""The product-threshold dashboard: the products app's threshold report as charts, so the
policy team sees at a glance whether an entry condition is too high.

Two charts per product version: whom each condition excludes (alone, i.e. lifting it would
admit them today; together with others; or because the fact is unknown), and how the people
each condition shuts out alone fared against those admitted (approval rate, and the share of
their loans that went bad when the loan book has data). The figures are
`apps.products.report.threshold_report`'s own: one definition of "excluded" in the bank, the
same numbers as the report page and its CSV, scoped to the viewer's branches.
"""

import datetime as dt
from collections import defaultdict
from decimal import Decimal

from django.db.models import Subquery
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.accounts.selectors import visible_branch_ids
from apps.insight.charts import COUNT, RATIO, Chart, Column
from apps.insight.compiled import Converted, batch, compiled
from apps.products.models import CreditProduct
from apps.products.report import (
    Population,
    default_report_version,
    population_queries,
    report_conditions_query,
    report_versions,
    report_versions_query,
    threshold_report,
)


def _ratio(percent: Decimal | None) -> Decimal | None:
    """The report's percentages (one decimal) as ratios, like every other insight column."""
    return None if percent is None else percent / 100


def _first_queries(product_id: int | None, on: dt.date) -> dict:
    """`_first_reads`' querysets: the product `product_id`, or the first by code."""
    product = product_id if product_id is not None else Subquery(
        CreditProduct.objects.order_by("code").values("pk")[:1])
    return {"products": CreditProduct.objects.order_by("code"),
            "versions": report_versions_query(product_id=product, on=on),
            "conditions": report_conditions_query(product_id=product)}


def _population_queries(branch_ids, version_ids: list[int], population: str) -> dict:
    """`_population`'s querysets (the report's own, `population_queries`)."""
    enterprises, applications = population_queries(
        branch_ids=branch_ids, version_ids=version_ids, population=population)
    return {"enterprises": enterprises.order_by("id"), "applications": Converted(applications)}


def _first_reads(viewer, product_id: int | None, on: dt.date) -> dict | None:
    """The products, and the chosen product's versions (each with `in_force` on `on`) and
    all their conditions, in one round trip, their SQL built once per shape of viewer
    (apps/insight/compiled.py): the product is the one asked for, or the first by code as a
    subquery, so nothing waits for the product list. None off PostgreSQL: the caller reads
    them one by one."""

    def build(stand_in) -> dict:
        return _first_queries(None if product_id is None else stand_in.id(0), stand_in.day(0))

    kept = compiled("thresholds.first", viewer, build, days=[on],
                    ids=() if product_id is None else (product_id,),
                    extra=(product_id is None,))
    return None if kept is None else batch(kept)


def _population(viewer, version_ids: list[int], population: str) -> tuple | None:
    """The report's population and its applications (`population_queries`), in one round
    trip, their SQL built once per shape of viewer and count of versions (the version ids
    swapped in like the viewer's branches: as values, so the planner sees which versions;
    a subquery of the product's versions joined the branch's every application). None off
    PostgreSQL: the report reads them itself."""

    def build(stand_in) -> dict:
        return _population_queries(visible_branch_ids(viewer=stand_in.viewer),
                                   [stand_in.id(i) for i in range(len(version_ids))],
                                   population)

    kept = compiled("thresholds.population", viewer, build, days=[], ids=tuple(version_ids),
                    extra=(len(version_ids), population))
    if kept is None:
        return None
    found = batch(kept)
    return found["enterprises"], found["applications"]


def threshold_dashboard(*, viewer, product_id: int | None, version: int | None,
                        population: str = Population.APPLICANTS,
                        on: dt.date | None = None) -> dict:
    """The charts for one product version (the version in force by default); 404 for an
    unknown product or version. The first product by code when none is chosen."""
    on = on or timezone.localdate()
    first = _first_reads(viewer, product_id, on)
    products = list(CreditProduct.objects.order_by("code")) if first is None \
        else first["products"]
    if not products:
        return {"products": [], "product": None, "versions": [], "report": None, "charts": []}
    if product_id is None:
        product = products[0]
    else:
        product = next((p for p in products if p.pk == product_id), None)
        if product is None:
            raise Http404("No such product")
    conditions = None
    if first is None:
        versions = report_versions(product=product, on=on)
    else:
        versions = first["versions"]
        for v in versions:
            v.product = product  # the product read above: no query for `version.product`
        conditions = defaultdict(list)
        for condition in first["conditions"]:
            conditions[condition.version_id].append(condition)
    if version is None:
        chosen = default_report_version(product=product, on=on, versions=versions)
    else:
        chosen = next((v for v in versions if v.version == version), None)
        if chosen is None:
            raise Http404("No such version")
    if chosen is None:
        return {"products": products, "product": product, "versions": versions,
                "report": None, "charts": []}
    if population not in Population.values:
        population = Population.APPLICANTS
    version_ids = [v.pk for v in versions]
    report = threshold_report(viewer=viewer, version=chosen, on=on, population=population,
                              version_ids=version_ids,
                              conditions=None if conditions is None else conditions[chosen.pk],
                              population_rows=_population(viewer, version_ids, population))

    exclusion_rows = [{
        # Named by the fact it tests, in the reader's language (a bare code says nothing).
        "label": str(row.fact_label), "code": row.condition.code,
        "condition": f"{row.fact_label} {row.operator_label} {row.value_display}",
        "failed": row.failed, "alone": row.excluded_alone,
        "with_others": row.excluded_with_others, "unknown": row.unknown,
        "share": (Decimal(row.failed) / report.enterprises) if report.enterprises else None,
    } for row in report.conditions]
    excluded = Chart(
        key="excluded_by_rule", title=_("Whom each condition excludes"), kind="bar",
        stacked=True, category="label", series=["alone", "with_others"],
        columns=[Column("label", _("Condition")), Column("condition", _("Rule")),
                 Column("failed", _("Fail it"), COUNT),
                 Column("alone", _("Excluded by it alone"), COUNT),
                 Column("with_others", _("Excluded with other conditions"), COUNT),
                 Column("unknown", _("Fact not known"), COUNT),
                 Column("share", _("Share of the population"), RATIO)],
        rows=exclusion_rows if report.enterprises else [],
        summary=_("%(admitted)s of %(total)s enterprises pass every condition in force. "
                  "“Alone” means lifting that one condition would admit them today.") % {
            "admitted": report.admitted.enterprises, "total": report.enterprises}
        if report.enterprises else "")

    def _outcome(label, summary, code="") -> dict:
        return {"label": label, "code": code, "enterprises": summary.enterprises,
                "applications": summary.applications,
                "approval_rate": _ratio(summary.approval_rate),
                "loans": summary.loans, "bad_rate": _ratio(summary.bad_rate)}

    outcome_rows = [_outcome(str(_("Admitted")), report.admitted)]
    outcome_rows += [_outcome(str(row.fact_label), row.excluded_alone_outcomes,
                              row.condition.code)
                     for row in report.conditions if row.excluded_alone]
    performance = Chart(
        key="performance_by_rule",
        title=_("How the admitted fared against those each condition shuts out"), kind="bar",
        category="label", series=["approval_rate", "bad_rate"],
        columns=[Column("label", _("Group")), Column("enterprises", _("Enterprises"), COUNT),
                 Column("applications", _("Applications"), COUNT),
                 Column("approval_rate", _("Approval rate"), RATIO),
                 Column("loans", _("Loans"), COUNT),
                 Column("bad_rate", _("Share of loans non-performing"), RATIO)],
        rows=outcome_rows if report.enterprises else [],
        summary=(_("If those a condition alone shuts out were approved and repaid as well as "
                   "the admitted, the condition may be set too high.")
                 if report.performance_available else
                 _("No loan has a repayment record yet: only approval rates are shown."))
        if report.enterprises else "")
    return {"products": products, "product": product, "versions": versions,
            "version": chosen, "report": report, "population": population,
            "populations": Population.choices, "charts": [excluded, performance]}
