"""Assembling an application's features from the records, the same way for training and scoring.

`application_features` reads one application's sources (see spec.py) and returns a
`FeatureRecord`: a value per declared feature, None where the source has nothing. The record
is what a score is computed from and what is stored with it (§7.1 "feature record rule"), so
its canonical form is hashed: the same inputs always give the same `input_hash`, whatever the
order in which they were read.

`records_to_columns` turns records into the typed columns the models take (float arrays with
NaN for missing numbers, lists with None for missing categories), so records assembled here
and rows of the synthetic CSV go through one conversion.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import math
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from functools import cache, lru_cache

import numpy as np
from django.db.models import CharField

from apps.scoring.features.spec import FEATURES, KINDS, SPEC_VERSION
from apps.scoring.scorecard.binning import NUMERIC

# Rounded before hashing and storing: float noise in the last digits must not make a new input.
_DIGITS = 6
_PREMISES = {"owned": "yes", "leased": "no"}


@dataclass
class FeatureRecord:
    """Feature values of one application at one moment, and the context the policy needs."""

    values: dict[str, float | str | None]
    red_flag_codes: list[str] = field(default_factory=list)
    sources: dict[str, object] = field(default_factory=dict)

    def canonical(self) -> dict:
        return {"spec": SPEC_VERSION, "values": self.values,
                "red_flag_codes": sorted(self.red_flag_codes)}

    @property
    def input_hash(self) -> str:
        text = json.dumps(self.canonical(), sort_keys=True, separators=(",", ":"),
                          ensure_ascii=False, allow_nan=False)
        return hashlib.sha256(text.encode()).hexdigest()

    @property
    def missing(self) -> list[str]:
        return [name for name, value in self.values.items() if value is None]


def _number(value) -> float | None:
    """Answers arrive as Decimal, int, float or numeric text; anything else is missing."""
    if value is None or isinstance(value, bool):
        return None
    try:
        number = float(Decimal(str(value)))
    except (InvalidOperation, ValueError):
        return None
    return number if math.isfinite(number) else None


def _clean(kind: str, value) -> float | str | None:
    if kind == NUMERIC:
        number = _number(value)
        return None if number is None else round(number, _DIGITS)
    return None if value in (None, "") else str(value)


def _ratio(a, b) -> float | None:
    a, b = _number(a), _number(b)
    return None if a is None or b is None or b <= 0 else a / b


def _max_pairwise_deviation(values) -> float | None:
    """|a − b| / max(a, b) over every pair of available sources (the D4 cross-check's metric,
    apps.investigations.expressions.fn_deviation); fewer than two sources: missing."""
    present = [v for v in (_number(x) for x in values) if v is not None]
    gaps = [0.0 if a == b else abs(a - b) / max(a, b)
            for i, a in enumerate(present) for b in present[i + 1:] if a == b or max(a, b) > 0]
    return max(gaps) if gaps else None


_TEMPLATE_CACHE: dict[tuple, dict] = {}


def _template_document(template) -> dict:
    """The template as rules read it, once per template version and change: exporting it
    costs a dozen queries and was a third of the assembly time in the worker bench."""
    from apps.investigations.services import template_export

    key = (template.pk, template.state, template.updated_at)
    document = _TEMPLATE_CACHE.get(key)
    if document is None:
        if len(_TEMPLATE_CACHE) > 32:
            _TEMPLATE_CACHE.clear()
        document = _TEMPLATE_CACHE[key] = template_export(template)
    return document


def _checklist_values(investigation, policy_changed_at=None) -> dict:
    """Answers and derived values of the investigation, by item code (N/A counts as unknown).
    `policy_changed_at`: `policy_values_changed_at()` read by the caller (the policy values
    are then read once per process and change)."""
    from apps.core.compiled import run

    return run(_checklist_values_steps(investigation, policy_changed_at))


def _checklist_values_steps(investigation, policy_changed_at=None):
    """`_checklist_values` as a step of `apps.core.compiled.run_together`."""
    if investigation is None:
        return {}
    from apps.core.compiled import compiled_query
    from apps.investigations.models import Answer

    # Plain rows, not model instances: building two instances per answer was a visible share
    # of scoring one application (bench_scoring_worker).
    # One answer per item (a unique constraint), so the model's ordering (two more joins) is
    # not needed to build the dict. Compiled once per process.
    (rows,) = yield [compiled_query(
        "checklist_answers", lambda marker: list(
            Answer.objects.filter(investigation_id=marker, not_applicable=False).order_by()
            .values_list("item__code", "value")), investigation.pk,
        output_fields=_answer_fields())]
    return _derived(investigation, dict(rows), policy_changed_at)


@cache
def _answer_fields() -> tuple:
    """The output fields of the answer reads (item code, value), made once per process."""
    from apps.investigations.models import Answer

    return CharField(), Answer._meta.get_field("value")


def _application_answers_steps(application_id: int):
    """The answers of the application's investigation (none when it has none), by item code,
    read by the application's id: so they go in the round trip that reads the application
    (`application_sources_steps`). Compiled once per process."""
    from apps.core.compiled import compiled_query
    from apps.investigations.models import Answer

    (rows,) = yield [compiled_query(
        "checklist_answers_of_application", lambda marker: list(
            Answer.objects.filter(investigation__application_id=marker, not_applicable=False)
            .order_by().values_list("item__code", "value")), application_id,
        output_fields=_answer_fields())]
    return dict(rows)


def _derived(investigation, answers: dict, policy_changed_at=None) -> dict:
    """The answers with the template's derived values (N/A counts as unknown)."""
    from apps.investigations.policy import PolicyResolver
    from apps.investigations.rules import derived_values

    try:
        return derived_values(_template_document(investigation.template), answers,
                              PolicyResolver() if policy_changed_at is None
                              else PolicyResolver(changed_at=policy_changed_at[0]))
    except Exception:  # noqa: BLE001 - a rule that cannot evaluate leaves its values unknown
        return answers


def compute_values(*, enterprise: dict, terms: dict, checklist: dict, findings: dict | None,
                   figures: dict, exposure_total) -> dict[str, float | str | None]:
    """The feature values from already-read sources: pure, so it is tested without a database.

    `findings` is None when no investigation has been submitted (counts unknown, not zero).
    """
    revenue = _number(enterprise.get("annual_revenue"))
    registered, as_of = enterprise.get("registration_date"), enterprise.get("as_of")
    age = (as_of - registered).days / 365.25 if registered and as_of else None
    sales = _number(checklist.get("D2_ANNUAL_SALES"))
    cogs = _number(checklist.get("D2_ANNUAL_COGS"))
    tax_now, tax_before = checklist.get("E3_TAX_PAID_12M"), checklist.get("E3_TAX_PAID_PRIOR_12M")
    tax_trend = _ratio(_number(tax_now) - _number(tax_before), tax_before) \
        if _number(tax_now) is not None and _number(tax_before) is not None else None
    kwh_trend = _number(checklist.get("E1_KWH_TREND"))
    raw = {
        "firm_age_years": age,
        "size_class": enterprise.get("size_class"),
        "industry": enterprise.get("industry"),
        "annual_revenue_10k": revenue / 10_000 if revenue is not None else None,
        "tax_rating": checklist.get("B9_TAX_GRADE") or enterprise.get("tax_credit_rating"),
        "premises_owned": _PREMISES.get(checklist.get("C2_PREMISES")),
        "loan_to_revenue": _ratio(terms.get("amount_requested"), revenue),
        "debt_to_assets": checklist.get("D7_LEVERAGE"),
        "instalment_to_free_cf": checklist.get("D3_DEBT_SERVICE"),
        "gross_margin": (sales - cogs) / sales if sales and cogs is not None and sales > 0
        else None,
        "inventory_days": checklist.get("D6_INVENTORY_DAYS"),
        "controller_experience_years": checklist.get("A7_EXPERIENCE_YEARS"),
        "m1_count_24m": checklist.get("B2_M1_COUNT"),
        "inquiries_6m": checklist.get("B3_INQUIRIES"),
        "card_utilisation_pct": checklist.get("B5_CARD_UTILISATION"),
        "spouse_consent": checklist.get("B11_SPOUSE_CONSENT"),
        "site_status": checklist.get("C3_STATUS"),
        "top_customer_share_pct": checklist.get("C4_TOP_CUSTOMER_SHARE"),
        "utility_trend_pct": kwh_trend * 100 if kwh_trend is not None else None,
        "tax_paid_trend_pct": tax_trend * 100 if tax_trend is not None else None,
        "statement_source": checklist.get("F1_SOURCE"),
        "revenue_deviation": _max_pairwise_deviation([
            sales, checklist.get("E3_VAT_SALES_12M"), checklist.get("F2_EFFECTIVE_INFLOW"),
            figures.get("bank.inflows_12m"), figures.get("tax.revenue_12m")]),
        "bank_inflow_to_sales": _ratio(figures.get("bank.inflows_12m"), sales or revenue),
        "bank_top_counterparty_share": figures.get("bank.top_counterparty_share"),
        "bank_round_trip_share": figures.get("bank.round_trip_share"),
        "red_flags_r3": None if findings is None else findings["r3"],
        "red_flags_r2": None if findings is None else findings["r2"],
        "cross_check_breaches": None if findings is None else findings["cross_checks"],
        "group_exposure_to_revenue": _ratio(exposure_total, revenue),
    }
    return {f.name: _clean(f.kind, raw[f.name]) for f in FEATURES}


_UNREAD = object()


def application_features(application_id: int, *, as_of: dt.date | None = None,
                         application=None, investigation=_UNREAD,
                         policy_changed_at=None) -> FeatureRecord:
    """Read every source of one application and assemble its feature record (`application`:
    the row with its enterprise, `investigation`: its investigation with the template, or
    None when it has none, when the caller has read them already; `policy_changed_at`:
    `(policy_values_changed_at(),)` read with them)."""
    from apps.core.compiled import run

    return run(application_features_steps(
        application_id, as_of=as_of, application=application, investigation=investigation,
        policy_changed_at=policy_changed_at))


def application_features_steps(application_id: int, *, as_of: dt.date | None = None,
                               application=None, investigation=_UNREAD,
                               policy_changed_at=None):
    """`application_features` as a step of `apps.core.compiled.run_together` (the scoring
    worker sends the sources' reads with the scoring models')."""
    from django.utils import timezone

    from apps.applications.exposure import group_exposure_total_steps
    from apps.applications.models import Application
    from apps.core.compiled import together
    from apps.investigations.evidence import figures_with_provenance_steps
    from apps.investigations.models import Investigation

    if application is None:
        application = Application.objects.select_related("enterprise").get(pk=application_id)
    enterprise = application.enterprise
    as_of = as_of or timezone.localdate()
    if investigation is _UNREAD:
        investigation = (Investigation.objects.filter(application_id=application_id)
                         .select_related("template").first())
    # The sources' reads are independent: sent together, one round trip on PostgreSQL
    # (apps.core.compiled.run_together; each was a round trip of its own, bench_scoring_worker).
    # Pulled figures (the data hub's tax and utility answers) are used when present.
    (figures, pulled), checklist, exposure_total = yield from together(
        figures_with_provenance_steps(application_id),
        _checklist_values_steps(investigation, policy_changed_at),
        group_exposure_total_steps(enterprise_id=enterprise.pk))
    return _record(application, investigation, as_of, figures, pulled, checklist,
                   exposure_total)


def application_sources_steps(application_id: int):
    """The sources of `application_features` read by the application's id alone (document and
    pulled figures, the investigation's answers, group exposure), as a step of
    `apps.core.compiled.run_together`: so the scoring worker reads them in the same round trip
    as the application itself. Finish with `features_of_sources`."""
    from apps.applications.exposure import group_exposure_total_steps
    from apps.core.compiled import together
    from apps.investigations.evidence import figures_with_provenance_steps

    return (yield from together(
        figures_with_provenance_steps(application_id), _application_answers_steps(application_id),
        group_exposure_total_steps(application_id=application_id)))


def features_of_sources(application, investigation, sources, *, as_of: dt.date | None = None,
                        policy_changed_at=None) -> FeatureRecord:
    """The feature record of `application` (its enterprise read) from what
    `application_sources_steps` read: the same record `application_features` assembles."""
    from django.utils import timezone

    (figures, pulled), answers, exposure_total = sources
    checklist = {} if investigation is None else _derived(investigation, answers,
                                                          policy_changed_at)
    return _record(application, investigation, as_of or timezone.localdate(), figures, pulled,
                   checklist, exposure_total)


def _record(application, investigation, as_of, figures, pulled, checklist,
            exposure_total) -> FeatureRecord:
    enterprise = application.enterprise
    findings, flag_codes = None, []
    if investigation is not None and investigation.submission_count:
        codes, r3, r2, cross_checks = _findings_summary(investigation)
        flag_codes = list(codes)
        findings = {"r3": r3, "r2": r2, "cross_checks": cross_checks}
    values = compute_values(
        enterprise={"annual_revenue": enterprise.annual_revenue,
                    "registration_date": enterprise.registration_date, "as_of": as_of,
                    "size_class": enterprise.size_class, "industry": enterprise.industry,
                    "tax_credit_rating": enterprise.tax_credit_rating},
        terms={"amount_requested": application.amount_requested},
        checklist=checklist, findings=findings, figures=figures,
        exposure_total=exposure_total)
    sources = {"as_of": as_of.isoformat(),
               "investigation_id": investigation.pk if investigation else None,
               "investigation_state": investigation.state if investigation else None,
               "submission": investigation.submission_count if investigation else None,
               "figures_present": sorted(k for k, v in figures.items() if v is not None),
               "figures_pulled": pulled}
    return FeatureRecord(values=values, red_flag_codes=flag_codes, sources=sources)


# The names under which a caller reads the investigation's findings as their JSON text, its
# `red_flags` and `cross_check_findings` deferred (the scoring worker: `findings_as_text`).
FINDINGS_TEXT = ("red_flags_text", "cross_check_findings_text")


def findings_as_text(queryset):
    """An investigations `queryset` that reads the findings as text (`FINDINGS_TEXT`) instead
    of decoding them into the instances: a score needs only their codes and counts
    (`_findings_summary`), and decoding a submitted investigation's findings (~12 kB of
    JSON) was the largest single share of the worker's read after the round trip."""
    from django.db.models import TextField
    from django.db.models.functions import Cast

    return queryset.defer("red_flags", "cross_check_findings").annotate(**{
        name: Cast(field, TextField())
        for name, field in zip(FINDINGS_TEXT, ("red_flags", "cross_check_findings"),
                               strict=True)})


def _findings_summary(investigation) -> tuple[tuple[str, ...], int, int, int]:
    """(red-flag codes sorted, R3 flags, R2 flags, cross-check findings) of a submitted
    investigation, from its fields or, when it was read with `findings_as_text`, from the
    texts (summarised once per process and text: the same text decodes to the same)."""
    texts = [investigation.__dict__.get(name, _UNREAD) for name in FINDINGS_TEXT]
    if any(text is _UNREAD for text in texts):
        return _summary(investigation.red_flags, investigation.cross_check_findings)
    return _summary_of_texts(*texts)


@lru_cache(maxsize=64)
def _summary_of_texts(red_flags: str | None, cross_checks: str | None):
    # json.loads as JSONField.from_db_value decodes the column (None stays None)
    return _summary(None if red_flags is None else json.loads(red_flags),
                    None if cross_checks is None else json.loads(cross_checks))


def _summary(red_flags, cross_checks) -> tuple[tuple[str, ...], int, int, int]:
    flags = red_flags or []
    return (tuple(sorted({f.get("code", "") for f in flags if f.get("code")})),
            sum(f.get("severity") == "R3" for f in flags),
            sum(f.get("severity") == "R2" for f in flags), len(cross_checks or []))


def records_to_columns(rows: list[dict], kinds: dict[str, str] | None = None) -> dict:
    """Feature dicts → model columns: float arrays (NaN = missing) and lists (None = missing)."""
    kinds = kinds or KINDS
    columns = {}
    for name, kind in kinds.items():
        cells = [row.get(name) for row in rows]
        if kind == NUMERIC:
            columns[name] = np.array([np.nan if v is None else v for v in cells], dtype=float)
        else:
            columns[name] = [None if v in (None, "") else str(v) for v in cells]
    return columns
