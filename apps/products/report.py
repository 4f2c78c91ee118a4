"""The threshold report: which entry condition of a product shuts out which applicants.

For one product version, every condition is evaluated on every applicant's facts *as of
today* (a what-if on current data), and counted four ways: failed it, excluded by it alone,
excluded by it together with other conditions, and failed because the fact is unknown. The
stored eligibility record of each submitted application (the as-of-decision truth) is
counted beside it, so the product owner sees both "what the rule does now" and "what it did".

Products sit left of applications in the import layers (CONVENTIONS §1), so applications are
read through the reverse relation `Enterprise.applications`, never imported. Pure reads, no
I/O beyond a fixed number of queries however many applicants there are (CONVENTIONS §8).
"""

import datetime as dt
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Exists, OuterRef, QuerySet, TextChoices
from django.utils.translation import gettext_lazy as _

from apps.accounts.models import User
from apps.accounts.selectors import visible_branch_ids
from apps.core.compiled import querysets_together
from apps.parties.models import Enterprise
from apps.policy.versioning import version_in_force
from apps.products.conditions import ConditionOutcome, Operator, evaluate_condition
from apps.products.facts import CONTROLLER_EDGES_ATTR, FACTS, controller_edges_prefetch
from apps.products.models import CreditProduct, EntryCondition, ProductVersion
from apps.products.selectors import product_version_in_force


class Population(TextChoices):
    """Whom the conditions are tried on."""

    APPLICANTS = "applicants", _("Applicants (applied for this product)")
    CUSTOMERS = "customers", _("All customers you can see")


# ApplicationState codes, written out because apps.applications sits right of this app
# (import-linter); a test checks them against ApplicationState so a rename cannot slip by.
REACHED_APPROVAL = frozenset({"approved", "contracted", "disbursed"})
REJECTED = "rejected"

# PROXY, used only while no loan has a record: a good tax credit rating (纳税信用等级 A/B) is
# the best signal of a sound borrower we hold before any loan has been repaid.
STRONG_TAX_RATINGS = frozenset({"A", "B"})

PerformanceSource = Callable[[list[int]], dict[int, dict]]
_performance_sources: list[PerformanceSource] = []


def register_performance_source(source: PerformanceSource) -> None:
    """Called by the loan book's `AppConfig.ready()`: it sits right of products (CONVENTIONS
    §1), so it hands its figures over instead of being imported. Registering twice is a no-op.
    """
    if source not in _performance_sources:
        _performance_sources.append(source)


def performance_by_enterprise(enterprise_ids: Iterable[int]) -> dict[int, dict]:
    """Loan outcomes per enterprise, for the threshold report; {} while no loan exists.

    The registered source answers in one query for all ids with
    ``{enterprise_id: {"loans": int, "bad": int}}`` for enterprises with at least one loan,
    where ``bad`` counts loans that were ever past the non-performing days-past-due floor,
    restructured or written off (the NPL definition of the 2023 risk classification rules).
    Loans of *any* product count: that is how an applicant shut out of this product can still
    show how it repays elsewhere. `enterprise_ids`: ids, or a queryset of them (read by the
    source as a subquery: no list of every id to send).
    """
    ids = enterprise_ids if isinstance(enterprise_ids, QuerySet) else list(enterprise_ids)
    merged: dict[int, dict] = {}
    for source in _performance_sources:
        merged.update(source(ids))
    return merged


# --- results ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class StateCount:
    state: str
    label: str
    count: int


@dataclass
class OutcomeSummary:
    """How a group of enterprises fared with this product's applications so far."""

    enterprises: int = 0
    applications: int = 0
    by_state: list[StateCount] = field(default_factory=list)
    reached_approval: int = 0
    rejected: int = 0
    strong_profile: int = 0  # proxy: tax credit rating A or B
    # Filled from performance_by_enterprise(); None while there is no loan data at all.
    loans: int | None = None
    bad_loans: int | None = None

    @property
    def decided(self) -> int:
        return self.reached_approval + self.rejected

    @property
    def approval_rate(self) -> Decimal | None:
        """Approved (or further) over decided; None before any decision (not 0 %)."""
        if not self.decided:
            return None
        return (Decimal(100) * self.reached_approval / self.decided).quantize(Decimal("0.1"))

    @property
    def bad_rate(self) -> Decimal | None:
        """Non-performing loans over loans, in percent; None without loans (not 0 %)."""
        if not self.loans:
            return None
        return (Decimal(100) * (self.bad_loans or 0) / self.loans).quantize(Decimal("0.1"))


@dataclass
class ConditionRow:
    """One condition's effect on the population, now and as recorded at decision time."""

    condition: EntryCondition
    fact_label: str
    operator_label: str
    value_display: str
    in_force: bool
    failed: int = 0
    excluded_alone: int = 0
    excluded_with_others: int = 0
    unknown: int = 0
    excluded_alone_outcomes: OutcomeSummary = field(default_factory=OutcomeSummary)
    # From the eligibility records stored at submission, for this same version only.
    stored_checked: int = 0
    stored_failed: int = 0
    stored_unknown: int = 0
    # Passed when the application was submitted, fails on today's data (data or time moved).
    stored_passed_now_fails: int = 0


@dataclass
class ThresholdReport:
    product: CreditProduct
    version: ProductVersion
    population: str
    evaluated_on: dt.date
    enterprises: int
    conditions: list[ConditionRow]
    admitted: OutcomeSummary
    excluded: OutcomeSummary
    stored_records: int
    stored_records_other_versions: int
    performance_available: bool
    # Who, by enterprise id: what the impact preview compares between two versions.
    admitted_ids: frozenset[int] = frozenset()

    @property
    def population_label(self) -> str:
        return Population(self.population).label


# --- computation -----------------------------------------------------------------------------

def _applications_model():
    """Application, without importing it (applications sits right of products)."""
    return Enterprise._meta.get_field("applications").related_model


def _facts(enterprise: Enterprise, on: dt.date, codes: set[str]) -> dict[str, object]:
    return {code: FACTS[code].compute(enterprise, on) for code in codes}


def condition_value_display(condition: EntryCondition) -> str:
    value = condition.value
    if condition.operator == Operator.BETWEEN:
        return f"{value[0]} – {value[1]}"
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    return str(value)


def _state_labels() -> dict[str, str]:
    return dict(_applications_model()._meta.get_field("state").choices)


def _summarise(enterprise_ids: set[int], applications: dict[int, list[dict]],
               strong: set[int], performance: dict[int, dict]) -> OutcomeSummary:
    labels = _state_labels()
    states = Counter(row["state"] for eid in enterprise_ids for row in applications.get(eid, ()))
    summary = OutcomeSummary(
        enterprises=len(enterprise_ids), applications=sum(states.values()),
        # In the lifecycle's own order, so the page reads left to right like the workflow.
        by_state=[StateCount(code, labels[code], states[code]) for code in labels if states[code]],
        reached_approval=sum(states[code] for code in REACHED_APPROVAL),
        rejected=states[REJECTED], strong_profile=len(enterprise_ids & strong))
    if performance:
        known = [performance[eid] for eid in enterprise_ids if eid in performance]
        summary.loans = sum(p.get("loans", 0) for p in known)
        summary.bad_loans = sum(p.get("bad", 0) for p in known)
    return summary


def _scoped_enterprises(branch_ids: set[int] | None) -> QuerySet[Enterprise]:
    enterprises = Enterprise.objects.all()
    return enterprises if branch_ids is None else enterprises.filter(branch_id__in=branch_ids)


def _scoped_applications(branch_ids: set[int] | None, version_ids: list[int]):
    """The applications to one of `version_ids` (a product's versions) of enterprises the
    viewer may see, taken at a branch the viewer may see (the application selector's branch
    rule).

    By the product's version ids rather than a join to the versions: the planner then sees
    how many applications each version has (its statistics on the column) and reads a
    product few applied for through the index, instead of joining the branch's every
    application to its version first (issue #22: 180 ms for none at 100,000 files)."""
    applications = _applications_model()._default_manager.filter(
        product_version_id__in=list(version_ids))
    if branch_ids is not None:
        applications = applications.filter(branch_id__in=branch_ids,
                                           enterprise__branch_id__in=branch_ids)
    return applications


def population_queries(*, branch_ids: set[int] | None, version_ids: list[int],
                       population: str) -> tuple[QuerySet[Enterprise], QuerySet]:
    """Whom the report tries the conditions on (enterprises the viewer may see; applicants:
    those with an application to one of `version_ids`, the product's versions), and those
    applications as rows of enterprise, version, state and stored eligibility record."""
    applications = _scoped_applications(branch_ids, version_ids)
    enterprises = _scoped_enterprises(branch_ids)
    if population == Population.APPLICANTS:
        enterprises = enterprises.filter(pk__in=applications.values("enterprise_id"))
    return enterprises, applications.order_by().values(
        "enterprise_id", "product_version_id", "state", "eligibility")


def _attach_controller_edges(enterprises: list[Enterprise],
                             population: QuerySet[Enterprise]) -> None:
    """What `controller_edges_prefetch()` leaves on each enterprise, read with the
    population's own query as a subquery rather than a prefetch's IN list of every id (at
    20,000 applicants the prefetch took ~13 s, most of it building and sending that list)."""
    prefetch = controller_edges_prefetch()
    edges: dict[int, list] = defaultdict(list)
    for edge in prefetch.queryset.filter(to_enterprise__in=population.order_by().values("pk")):
        edges[edge.to_enterprise_id].append(edge)
    for enterprise in enterprises:
        setattr(enterprise, CONTROLLER_EDGES_ATTR, edges.get(enterprise.pk, []))


def report_versions(*, product: CreditProduct, on: dt.date | None = None) -> list[ProductVersion]:
    """Every version of the product, newest first, for the version select. With `on`, each
    carries `in_force` (in force on that day), so the default needs no second read."""
    return list(report_versions_query(product_id=product.pk, on=on))


def report_versions_query(*, product_id, on: dt.date | None = None) -> QuerySet[ProductVersion]:
    """`report_versions`' query; `product_id` an id or an expression (a subquery)."""
    versions = ProductVersion.objects.filter(product_id=product_id).order_by("-version")
    if on is not None:
        versions = versions.annotate(in_force=Exists(version_in_force(
            ProductVersion.objects.filter(pk=OuterRef("pk")), on=on)))
    return versions


def report_conditions_query(*, product_id) -> QuerySet[EntryCondition]:
    """The entry conditions of every version of the product (`product_id` an id or an
    expression), in each version's order: read with its versions, before one is chosen."""
    return EntryCondition.objects.filter(version__product_id=product_id).order_by(
        "version_id", "position", "id")


def default_report_version(*, product: CreditProduct, on: dt.date,
                           versions: list[ProductVersion] | None = None
                           ) -> ProductVersion | None:
    """The version in force on `on`; else the newest one (a product not yet published).
    `versions`: the product's, from `report_versions(on=on)` (no query then)."""
    if versions is not None:
        in_force = sorted((v for v in versions if v.in_force), key=lambda v: v.pk)
        return in_force[0] if in_force else (versions[0] if versions else None)
    return (product_version_in_force(product_id=product.pk, on=on)
            or product.versions.order_by("-version").first())


def threshold_report(*, viewer: User, version: ProductVersion, on: dt.date,
                     population: str = Population.APPLICANTS,
                     version_ids: list[int] | None = None,
                     conditions: list[EntryCondition] | None = None,
                     population_rows: tuple[list[Enterprise], list[dict]] | None = None
                     ) -> ThresholdReport:
    """Count, per condition of `version`, whom it excludes in the viewer's population.

    Applicants: enterprises with at least one application to any version of the product.
    Customers: every enterprise the viewer may see. Facts are computed once per enterprise
    and conditions evaluated in Python: the query count does not grow with the population.
    A condition announced for later (effective_from after `on`) is counted as a what-if but
    does not decide who is admitted today, just as the eligibility engine skips it.
    `version_ids`: every version of the product, when the caller has them (`report_versions`);
    `conditions`: the version's, in order, when the caller has read them
    (`report_conditions_query`); `population_rows`: what `population_queries` give (the
    enterprises by id, the applications' rows), when the caller has read them.
    """
    product = version.product
    if conditions is None:
        conditions = list(version.conditions.order_by("position", "id"))
    codes = {condition.fact for condition in conditions}

    branch_ids = visible_branch_ids(viewer=viewer)  # ASVS 8.2.2: counts leak no branch
    if version_ids is None:
        version_ids = list(ProductVersion.objects.filter(product_id=product.pk)
                           .values_list("pk", flat=True))

    def population_qs() -> tuple[QuerySet[Enterprise], QuerySet]:
        # Built only when read from: building querysets costs a dashboard's milliseconds.
        return population_queries(branch_ids=branch_ids, version_ids=version_ids,
                                  population=population)

    if population_rows is None:
        enterprises_qs, applications_qs = population_qs()
        # The population and its applications in one round trip (`apps.core.compiled`).
        population_rows = querysets_together(enterprises_qs.order_by("id"), applications_qs)
    enterprises, application_rows = population_rows
    enterprise_ids = {e.pk for e in enterprises}
    if "controller_age" in codes:
        _attach_controller_edges(enterprises, population_qs()[0])

    applications: dict[int, list[dict]] = defaultdict(list)
    # Every scoped application's enterprise is a scoped enterprise (same branch rule), so the
    # enterprises already read are the filter: no second run of their query inside this one.
    for row in application_rows:
        if row["enterprise_id"] in enterprise_ids:
            applications[row["enterprise_id"]].append(row)

    rows = [ConditionRow(
        condition=condition, fact_label=str(FACTS[condition.fact].label),
        operator_label=str(Operator(condition.operator).label),
        value_display=condition_value_display(condition),
        in_force=not (condition.effective_from and condition.effective_from > on),
    ) for condition in conditions]

    strong = {e.pk for e in enterprises if e.tax_credit_rating in STRONG_TAX_RATINGS}
    admitted: set[int] = set()
    alone: dict[str, set[int]] = defaultdict(set)
    fails_now: dict[int, set[str]] = {}
    for enterprise in enterprises:
        facts = _facts(enterprise, on, codes)
        outcomes: list[ConditionOutcome] = [evaluate_condition(
            code=c.code, fact=c.fact, operator=c.operator, value=c.value,
            actual=facts.get(c.fact), reason_en=c.reason_en, reason_zh=c.reason_zh,
        ) for c in conditions]
        failed = {i for i, outcome in enumerate(outcomes) if not outcome.passed}
        failed_in_force = {i for i in failed if rows[i].in_force}
        fails_now[enterprise.pk] = {conditions[i].code for i in failed}
        if not failed_in_force:
            admitted.add(enterprise.pk)
        for i in failed:
            row = rows[i]
            row.failed += 1
            row.unknown += outcomes[i].missing
            # "Alone" means lifting this one condition would admit the enterprise today.
            if failed_in_force - {i}:
                row.excluded_with_others += 1
            else:
                row.excluded_alone += 1
                alone[row.condition.code].add(enterprise.pk)

    stored_records = stored_other = 0
    by_code = {row.condition.code: row for row in rows}
    for eid, rows_of_enterprise in applications.items():
        for application in rows_of_enterprise:
            record = application["eligibility"] or {}
            if not record.get("conditions"):
                continue  # a draft, or refused at submission: nothing was stored
            if record.get("version_id") != version.pk:
                stored_other += 1
                continue
            stored_records += 1
            for outcome in record["conditions"]:
                row = by_code.get(outcome.get("code"))
                if row is None:
                    continue
                row.stored_checked += 1
                row.stored_failed += not outcome.get("passed")
                row.stored_unknown += bool(outcome.get("missing"))
                if outcome.get("passed") and row.condition.code in fails_now.get(eid, ()):
                    row.stored_passed_now_fails += 1

    # The population as a subquery, not a list of every id: at 20,000 applicants the IN
    # lists of enterprises and their loans cost seconds to send (issue #22).
    performance = performance_by_enterprise(
        population_qs()[0].order_by().values_list("pk", flat=True)) \
        if enterprise_ids else {}
    for row in rows:
        row.excluded_alone_outcomes = _summarise(alone[row.condition.code], applications,
                                                 strong, performance)
    return ThresholdReport(
        product=product, version=version, population=population, evaluated_on=on,
        enterprises=len(enterprises), conditions=rows,
        admitted=_summarise(admitted, applications, strong, performance),
        excluded=_summarise(enterprise_ids - admitted, applications, strong, performance),
        stored_records=stored_records, stored_records_other_versions=stored_other,
        performance_available=bool(performance), admitted_ids=frozenset(admitted))
