"""The officer scorecard (§4.5), first slice: volume next to quality, so a branch head rewards
good lending rather than volume alone. Per responsible officer: open loans and outstanding
principal (volume), the NPL ratio of their book (monitoring's definition) and the share of
their post-loan inspections due so far that were submitted by the due date.

Grouped in the database: a fixed number of queries whatever the number of officers or loans.
Team leads and the bank-wide roles see every officer in their branches; anyone else sees
only their own row. Vintage default against expected PD, early detection, photo/geo
compliance, re-verification mismatches and exemption outcomes are not in this slice.
"""

from decimal import Decimal

from django.db.models import Count, F, Q, QuerySet, Sum
from django.db.models.functions import Coalesce, TruncDate
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.accounts.roles import Role
from apps.accounts.selectors import visible_branch_ids
from apps.insight.charts import COUNT, MONEY, RATIO, Chart, Column
from apps.insight.compiled import batch, compiled
from apps.insight.officer_facts import MARKS_SQL, npa_ratio, officer_volume
from apps.investigations.models import PolicyValue
from apps.loans.models import Loan
from apps.loans.states import OPEN_LOAN_STATES
from apps.monitoring import selectors as monitoring
from apps.monitoring.inspection_models import Inspection
from apps.monitoring.policy import K, PolicyNotConfigured

# Who sees every officer of their branches (a branch head sets bonuses; reviewers and the
# bank-wide roles read); everyone else sees their own scorecard only.
ALL_OFFICER_ROLES = (Role.TEAM_LEAD, Role.RISK_REVIEWER, Role.APPROVER, Role.AUDITOR,
                     Role.ADMIN)


def officer_scorecard(*, viewer) -> Chart:
    """One row per officer answerable for open loans the viewer may see."""
    branches = visible_branch_ids(viewer=viewer)
    everyone = viewer.is_superuser or viewer.has_role(*ALL_OFFICER_ROLES)
    within = Q() if everyone else Q(officer_id=viewer.pk)
    today = timezone.localdate()
    # Built once per shape of viewer (apps/insight/compiled.py); off PostgreSQL, each view.
    kept = compiled("officers", viewer, lambda stand_in: _reads(
        stand_in.viewer, today=stand_in.day(0), everyone=everyone), days=[today],
        extra=(everyone,))
    if kept is None:
        found = {part: list(query) for part, query in _reads(
            viewer, today=today, everyone=everyone).items()}
        found["marks"] = None  # officer_volume reads them
    else:  # with the cells' watermarks, in one round trip
        found = batch({**kept, "marks": MARKS_SQL})
    # The NPL floor (Policy's rule, read for this one key); without it the NPL column stays
    # empty and the portfolio page says why.
    npa_dpd_gt = int(found["floor"][0]["value"]) if found["floor"] else None
    # From the officer cells plus the loans changed since (apps/insight/officer_facts.py).
    cells = officer_volume(branch_ids=branches, officer_id=None if everyone else viewer.pk,
                           npa_dpd_gt=npa_dpd_gt, viewer=viewer, marks=found["marks"])
    if cells is not None:
        rows = {r["officer__username"]: {
            "officer_id": r["officer_id"], "officer__username": r["officer__username"],
            "label": r["officer__username"], "loans": r["loans"],
            "outstanding": r["outstanding"],
            **({"npl_ratio": npa_ratio(r)} if npa_dpd_gt is not None else {})}
            for r in cells}
    else:
        rows = _volume_from_loans(viewer=viewer, branches=branches, within=within)

    rows = _with_inspections(rows, found["inspections"])
    ordered = sorted(rows.values(), key=lambda r: (-r["outstanding"], r["label"]))
    return _chart(ordered)


def _volume_from_loans(*, viewer, branches, within: Q) -> dict[str, dict]:
    """The volume and NPL columns grouped from the loans (before the cells are built)."""
    loans = Loan.objects.filter(within, state__in=OPEN_LOAN_STATES).order_by()
    if branches is not None:
        loans = loans.filter(branch_id__in=branches)
    rows = {r["officer__username"]: {**r, "label": r["officer__username"]}
            for r in loans.values("officer_id", "officer__username").annotate(
                loans=Count("pk"),
                outstanding=Coalesce(Sum("outstanding_principal"), Decimal(0)))}
    try:
        for npl in monitoring.npl_ratios(viewer=viewer, by="officer", within=within):
            if npl["key"] in rows:
                rows[npl["key"]]["npl_ratio"] = npl["ratio"]
    except PolicyNotConfigured:
        pass  # the column stays empty; the portfolio page says why
    return rows


def _reads(viewer, *, today, everyone: bool) -> dict[str, QuerySet]:
    """The NPL floor in force `today` (the highest version of the one key, the rule of
    `policy_values_in_force`), and the inspections due before `today` grouped by officer:
    due so far, and submitted by the due date."""
    floor = (PolicyValue.objects.filter(key=K.FLOOR_SUBSTANDARD_DPD_GT, effective_from__lte=today)
             .filter(Q(effective_to__isnull=True) | Q(effective_to__gt=today))
             .order_by("-version").values("value")[:1])
    inspections = Inspection.objects.filter(due_date__lt=today).order_by()
    branches = visible_branch_ids(viewer=viewer)
    if branches is not None:
        inspections = inspections.filter(branch_id__in=branches)
    if not everyone:
        inspections = inspections.filter(officer_id=viewer.pk)
    on_time = Q(submitted_at__isnull=False) & Q(submitted_day__lte=F("due_date"))
    return {"floor": floor, "inspections": inspections.annotate(
        submitted_day=TruncDate("submitted_at")).values("officer__username").annotate(
        due=Count("pk"), on_time=Count("pk", filter=on_time))}


def _with_inspections(rows: dict[str, dict], inspections: list[dict]) -> dict[str, dict]:
    """The inspections columns: due so far, and the share submitted by the due date."""
    for row in inspections:
        if row["officer__username"] in rows:
            target = rows[row["officer__username"]]
            target["inspections_due"] = row["due"]
            target["inspections_on_time"] = (Decimal(row["on_time"]) / row["due"]
                                             if row["due"] else None)
    return rows


def _chart(ordered: list[dict]) -> Chart:
    return Chart(
        key="officers", title=_("Officer scorecard"), kind="bar", category="label",
        series=["outstanding"],
        columns=[Column("label", _("Officer")), Column("loans", _("Open loans"), COUNT),
                 Column("outstanding", _("Outstanding principal"), MONEY),
                 Column("npl_ratio", _("NPL ratio"), RATIO),
                 Column("inspections_due", _("Inspections due so far"), COUNT),
                 Column("inspections_on_time", _("Submitted on time"), RATIO)],
        rows=ordered,
        summary=_("Volume next to quality: the NPL ratio of each officer's book and how many "
                  "of their inspections were submitted by the due date.") if ordered else "")
