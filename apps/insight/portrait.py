"""The enterprise portrait (360°): everything the bank knows about one borrower on one page.

Reads only through the owning apps' scoped selectors (the enterprise, its applications, its
loans, signals and actions are each limited to what the viewer may see), a fixed number of
queries whatever the borrower's history: one per kind of record, none per row.
"""

import datetime as dt
from decimal import Decimal

from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from apps.accounts.selectors import visible_branch_ids
from apps.applications.selectors import application_list
from apps.applications.states import ApplicationState
from apps.datahub.facts import source_facts
from apps.documents.models import Document
from apps.insight.charts import COUNT, MONEY, RATIO, Chart, Column
from apps.investigations.models import Investigation
from apps.loans.models import Loan
from apps.loans.states import OPEN_LOAN_STATES
from apps.monitoring import selectors as monitoring
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


def enterprise_portrait(*, viewer, enterprise_id: int) -> dict:
    """The portrait of one enterprise the viewer may see (Http404 otherwise)."""
    enterprise = enterprise_get(viewer=viewer, enterprise_id=enterprise_id)
    today = timezone.localdate()
    applications = list(application_list(viewer=viewer, filters={"enterprise": enterprise})
                        .order_by("-created_at", "-id"))
    application_ids = [a.pk for a in applications]
    by_application = {a.pk: a for a in applications}

    loans = Loan.objects.filter(enterprise=enterprise)
    branches = visible_branch_ids(viewer=viewer)
    if branches is not None:  # a borrower may hold loans booked at another branch
        loans = loans.filter(branch_id__in=branches)
    loans = list(loans.select_related("product_version__product", "risk_status")
                 .order_by("-value_date", "-id"))

    scores = list(decision_scores().filter(application_id__in=application_ids)
                  .select_related("model_version").order_by("created_at", "id"))
    score_rows = [{
        "label": timezone.localtime(s.created_at).date().isoformat(),
        "when": s.created_at, "application": by_application[s.application_id].reference,
        "score": round(s.score), "grade": s.grade,
        "probability": Decimal(str(round(s.probability, 4))),
        "reasons": "; ".join(reason_words(r) for r in (s.reasons or [])[:3]),
        "model": s.model_version.version} for s in scores]
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

    zh = _zh()
    red_flags = []
    for investigation in Investigation.objects.filter(application_id__in=application_ids) \
            .order_by("-id"):
        reference = by_application[investigation.application_id].reference
        for finding in [*(investigation.red_flags or []),
                        *(investigation.cross_check_findings or [])]:
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

    signals = list(monitoring.signal_list(viewer=viewer).filter(loan__enterprise=enterprise)
                   .order_by("-level", "raised_at"))
    actions = list(monitoring.action_list(viewer=viewer).filter(loan__enterprise=enterprise))

    documents = list(Document.objects.filter(application_id__in=application_ids)
                     .select_related("document_type").order_by("expires_on", "-uploaded_at"))
    for document in documents:
        document.expiry = _expiry(document.expires_on, today)
        document.reference = by_application[document.application_id].reference

    # What the outside sources said (registry, court, tax, utility, credit bureau), newest
    # answer per source with its provenance; for viewers who may see the hub's pulls.
    external = source_facts(enterprise.pk,
                            may_see=lambda: viewer.has_perm("datahub.view_pull"))

    return {
        "external": external,
        "enterprise": enterprise, "applications": applications, "loans": loans,
        "charts": [exposure_chart, score_chart], "red_flags": red_flags,
        "signals": signals, "actions": actions, "documents": documents, "today": today,
        "exposure": {"outstanding": outstanding, "approved": approved, "pipeline": pipeline},
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
