"""The enterprise portrait (360°): everything the bank knows about one borrower on one page.

Reads only through the owning apps' scoped selectors (the enterprise, its applications, its
loans, signals and actions are each limited to what the viewer may see), a fixed number of
queries whatever the borrower's history: one per kind of record, none per row.
"""

import datetime as dt
import json
from decimal import Decimal
from types import SimpleNamespace

from django.utils import timezone
from django.utils.encoding import force_str
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from apps.accounts.selectors import visible_branch_ids
from apps.applications.models import Application
from apps.applications.selectors import application_list
from apps.applications.states import ApplicationState
from apps.core.compiled import send_statements
from apps.datahub.facts import newest_pulls, source_facts
from apps.documents.models import Document
from apps.insight.charts import COUNT, MONEY, RATIO, Chart, Column
from apps.insight.compiled import compiled
from apps.insight.portrait_extras import (
    RELATION_COLUMNS,
    SERIES_COLUMNS,
    relations_chart,
    relations_read,
    series_charts,
    series_read,
)
from apps.investigations.models import Investigation
from apps.loans.models import Loan
from apps.loans.states import OPEN_LOAN_STATES
from apps.monitoring import selectors as monitoring
from apps.monitoring.models import Action, Signal
from apps.parties.selectors import enterprise_get
from apps.scoring.features.spec import BY_NAME
from apps.scoring.selectors import decision_scores

# Exposure (§4.6 / group limits): drawn and owed, approved but not yet drawn, and still asked.
APPROVED_STATES = (ApplicationState.APPROVED, ApplicationState.CONTRACTED)
PIPELINE_STATES = (ApplicationState.SUBMITTED, ApplicationState.INVESTIGATING,
                   ApplicationState.UNDER_REVIEW, ApplicationState.IN_APPROVAL,
                   ApplicationState.RETURNED)
EXPIRING_DAYS = 30  # documents expiring within this many days are called out


def _zh() -> bool:
    return (get_language() or "").startswith("zh")


def reason_words(reason: dict) -> str:
    """A score reason code as words: the feature's description, and the attribute band."""
    feature = BY_NAME.get(reason.get("feature"))
    label = str(feature.description) if feature else str(reason.get("feature", ""))
    attribute = reason.get("attribute")
    return f"{label}: {attribute}" if attribute not in (None, "") else label


class _Row(SimpleNamespace):
    """One record as the portrait's template reads it (`a.pk`, `a.get_state_display`,
    `a.product_version.product.code`): only the columns the page shows, no model instance."""


def _display(model, field: str, value) -> str:
    """What `instance.get_<field>_display()` shows for `value`."""
    return force_str(dict(model._meta.get_field(field).flatchoices).get(value, value),
                     strings_only=True)


COLUMNS = {
    "applications": ("id", "reference", "state", "created_at", "amount_requested",
                     "amount_approved", "product_version__product__code"),
    "loans": ("id", "loan_number", "state", "outstanding_principal", "principal", "value_date",
              "dpd_principal", "dpd_interest"),
    "scores": ("created_at", "application__reference", "score", "grade", "probability",
               "reasons", "model_version__version"),
    "investigations": ("application__reference", "red_flags", "cross_check_findings"),
    "signals": ("id", "loan_id", "rule__name_en", "rule__name_zh", "level", "observed",
                "raised_at"),
    "actions": ("kind", "state", "due_date", "owner__username", "owner__first_name",
                "owner__last_name"),
    "documents": ("state", "expires_on", "application__reference", "document_type__name_en",
                  "document_type__name_zh"),
    "relations": RELATION_COLUMNS,
    "series": SERIES_COLUMNS,
    "pulled": ("source", "at"),
}
# Columns PostgreSQL hands over as JSON text (Django decodes them in JSONField.from_db_value).
JSON_COLUMNS = {"reasons", "red_flags", "cross_check_findings", "findings"}


def _reads(viewer, enterprise_id: int) -> dict:
    """The portrait's reads through the owning apps' scoped selectors, each naming only the
    columns the page shows (`COLUMNS`): the files the viewer may see, and through them (a
    subquery, not a list of ids) their scores, investigations, documents and parsed series;
    the loans at the viewer's branches; open signals and actions; the relations."""
    files = application_list(viewer=viewer, filters={"enterprise_id": enterprise_id})
    visible_files = files.values("id")
    loans = Loan.objects.filter(enterprise_id=enterprise_id)
    branches = visible_branch_ids(viewer=viewer)
    if branches is not None:  # a borrower may hold loans booked at another branch
        loans = loans.filter(branch_id__in=branches)
    reads = {
        "applications": files.order_by("-created_at", "-id"),
        "loans": loans.order_by("-value_date", "-id"),
        "scores": decision_scores().filter(application_id__in=visible_files)
        .order_by("created_at", "id"),
        "investigations": Investigation.objects.filter(application_id__in=visible_files)
        .order_by("-id"),
        "signals": monitoring.signal_list(viewer=viewer)
        .filter(loan__enterprise_id=enterprise_id).order_by("-level", "raised_at"),
        "actions": monitoring.action_list(viewer=viewer)
        .filter(loan__enterprise_id=enterprise_id),
        "documents": Document.objects.filter(application_id__in=visible_files)
        .order_by("expires_on", "-uploaded_at"),
    }
    return {**{part: query.values_list(*COLUMNS[part]) for part, query in reads.items()},
            "relations": relations_read(enterprise_id=enterprise_id),
            "series": series_read(application_ids=visible_files),
            # the data hub's newest paid answer per source (apps/datahub/facts.py)
            "pulled": newest_pulls(enterprise_id)}


def _rows(viewer, enterprise_id: int) -> dict[str, list[dict]]:
    """`_reads`' rows as dicts by column. On PostgreSQL the SQL is built once per shape of
    viewer (`apps.insight.compiled`: building nine querysets cost more than running them)
    and sent in one round trip; elsewhere the querysets run one by one."""
    kept = compiled("portrait", viewer, lambda stand_in: _reads(stand_in.viewer,
                                                                stand_in.id(0)),
                    days=[], ids=(enterprise_id,))
    if kept is None:
        return {part: [dict(zip(COLUMNS[part], row, strict=True)) for row in query]
                for part, query in _reads(viewer, enterprise_id).items()}
    parts = [part for part, statement in kept.items() if statement is not None]
    sent = dict(zip(parts, send_statements([kept[part] for part in parts]), strict=True))
    return {part: [_decoded(dict(zip(COLUMNS[part], row, strict=True)))
                   for row in sent.get(part, [])] for part in kept}


def _decoded(row: dict) -> dict:
    for column in JSON_COLUMNS & row.keys():
        if isinstance(row[column], str):
            row[column] = json.loads(row[column])
    return row


def enterprise_portrait(*, viewer, enterprise_id: int) -> dict:
    """The portrait of one enterprise the viewer may see (Http404 otherwise).

    After the enterprise (the 404 check), the page's nine reads (`_reads`) go to the database
    in one round trip."""
    enterprise = enterprise_get(viewer=viewer, enterprise_id=enterprise_id)
    today = timezone.localdate()
    found = _rows(viewer, enterprise.pk)
    application_rows, loan_rows, score_values, investigation_rows, signal_rows, action_rows, \
        document_rows = (found[part] for part in (
            "applications", "loans", "scores", "investigations", "signals", "actions",
            "documents"))

    zh = _zh()
    applications = [_Row(
        pk=r["id"], reference=r["reference"], state=r["state"],
        get_state_display=_display(Application, "state", r["state"]),
        created_at=r["created_at"], amount_requested=r["amount_requested"],
        amount_approved=r["amount_approved"],
        product_version=_Row(product=_Row(code=r["product_version__product__code"])))
        for r in application_rows]
    loans = [_Row(
        pk=r["id"], loan_number=r["loan_number"], state=r["state"],
        get_state_display=_display(Loan, "state", r["state"]),
        outstanding_principal=r["outstanding_principal"], principal=r["principal"],
        value_date=r["value_date"], dpd=max(r["dpd_principal"], r["dpd_interest"]))
        for r in loan_rows]

    score_rows = [{
        "label": timezone.localtime(s["created_at"]).date().isoformat(),
        "when": s["created_at"], "application": s["application__reference"],
        "score": round(s["score"]), "grade": s["grade"],
        "probability": Decimal(str(round(s["probability"], 4))),
        "reasons": "; ".join(reason_words(r) for r in (s["reasons"] or [])[:3]),
        "model": s["model_version__version"]} for s in score_values]
    score_chart = Chart(
        key="scores", title=_("Scores over time"), kind="line", category="label",
        series=["score"],
        columns=[Column("label", _("Scored on")), Column("application", _("Application")),
                 Column("score", _("Score"), COUNT), Column("grade", _("Grade")),
                 Column("probability", _("Probability of default"), RATIO),
                 Column("reasons", _("Main reasons"))],
        rows=score_rows,
        summary=(_("Latest grade %(grade)s, score %(score)s, from %(model)s.") % {
            "grade": score_rows[-1]["grade"], "score": score_rows[-1]["score"],
            "model": score_rows[-1]["model"]}) if score_rows else "")

    red_flags = []
    for investigation in investigation_rows:
        reference = investigation["application__reference"]
        for finding in [*(investigation["red_flags"] or []),
                        *(investigation["cross_check_findings"] or [])]:
            red_flags.append({
                "application": reference, "severity": finding.get("severity", ""),
                "kind": finding.get("kind", ""),
                "message": finding.get("message_zh" if zh else "message_en")
                or finding.get("message_en", "")})

    outstanding = sum((loan.outstanding_principal for loan in loans
                       if loan.state in OPEN_LOAN_STATES), Decimal(0))
    approved = sum((a.amount_approved or Decimal(0) for a in applications
                    if a.state in APPROVED_STATES), Decimal(0))
    pipeline = sum((a.amount_requested or Decimal(0) for a in applications
                    if a.state in PIPELINE_STATES), Decimal(0))
    exposure_rows = [
        {"label": _("Outstanding"), "amount": outstanding,
         "files": sum(1 for loan in loans if loan.state in OPEN_LOAN_STATES)},
        {"label": _("Approved, not yet drawn"), "amount": approved,
         "files": sum(1 for a in applications if a.state in APPROVED_STATES)},
        {"label": _("In the pipeline"), "amount": pipeline,
         "files": sum(1 for a in applications if a.state in PIPELINE_STATES)}]
    exposure_chart = Chart(
        key="exposure", title=_("Exposure"), kind="bar", category="label", series=["amount"],
        columns=[Column("label", _("Exposure")), Column("files", _("Loans or files"), COUNT),
                 Column("amount", _("Amount"), MONEY)],
        rows=exposure_rows if any(r["amount"] or r["files"] for r in exposure_rows) else [],
        summary=_("Total exposure, counting approved amounts not yet drawn and amounts still "
                  "asked for: %(total)s.") % {"total": _money(outstanding + approved + pipeline)})

    signals = [_Row(pk=r["id"], loan_id=r["loan_id"],
                    rule=_Row(name=r["rule__name_zh"] if zh else r["rule__name_en"]),
                    level=r["level"], get_level_display=_display(Signal, "level", r["level"]),
                    observed=r["observed"], raised_at=r["raised_at"]) for r in signal_rows]
    actions = [_Row(get_kind_display=_display(Action, "kind", r["kind"]),
                    get_state_display=_display(Action, "state", r["state"]),
                    due_date=r["due_date"],
                    owner=_Row(display_name=" ".join(
                        n for n in (r["owner__first_name"], r["owner__last_name"]) if n)
                        or r["owner__username"])) for r in action_rows]
    documents = [_Row(
        document_type=_Row(name=r["document_type__name_zh"] if zh
                           else r["document_type__name_en"]),
        get_state_display=_display(Document, "state", r["state"]),
        expires_on=r["expires_on"], expiry=_expiry(r["expires_on"], today),
        reference=r["application__reference"]) for r in document_rows]

    # What the outside sources said (registry, court, tax, utility, credit bureau), newest
    # answer per source with its provenance; for viewers who may see the hub's pulls.
    external = source_facts(enterprise.pk,
                            may_see=lambda: viewer.has_perm("datahub.view_pull"),
                            newest=[(r["source"], r["at"]) for r in found["pulled"]])

    return {
        "external": external,
        "enterprise": enterprise, "applications": applications, "loans": loans,
        "charts": [exposure_chart, score_chart], "red_flags": red_flags,
        "signals": signals, "actions": actions, "documents": documents, "today": today,
        "exposure": {"outstanding": outstanding, "approved": approved, "pipeline": pipeline},
        "relations": relations_chart(enterprise=enterprise, edges=found["relations"]),
        "series": series_charts(checks=found["series"]),
    }


def _money(value: Decimal) -> str:
    from django.utils import formats

    return formats.number_format(value, 2, use_l10n=True, force_grouping=True)


def _expiry(expires_on: dt.date | None, today: dt.date) -> str:
    """"expired", "expiring" (within EXPIRING_DAYS) or "" for a document's validity."""
    if expires_on is None:
        return ""
    if expires_on < today:
        return "expired"
    if expires_on <= today + dt.timedelta(days=EXPIRING_DAYS):
        return "expiring"
    return "valid"
