"""The rest of the officer scorecard (§4.5): quality beside volume, per investigating officer.

- Loans investigated, now non-performing: loans whose pre-loan investigation the officer led;
  those whose category or rule floor is substandard or worse (loans, risk status).
- Expected PD: the mean probability of default of those files' decision scores; "defaults
  against expected" is the non-performing share over it (1.0: as the model foresaw).
- Early detection: files with an R2/R3 flag caught before lending, over those plus loans of
  the officer's files that later raised a level 2-3 signal with no such flag before.
- Photo and location compliance: submitted investigations with no photo, geofence or
  check-in finding (the investigation controls' findings).
- Copied narratives: submitted investigations flagged for a narrative copied from another
  report (the similarity control's finding).
- Re-verification mismatches: completed random re-verifications that found discrepancies,
  over those completed (counted for both officers of the investigation).
- Exemption outcomes: the officer's decided exemption tiers, after appeal where there was
  one: full / reduced / none.

Each column group is one grouped query, all sent as one statement (findings are matched as
their code in the stored JSON text, which reads the same on PostgreSQL and SQLite); one
query whatever the number of officers or loans. Team leads and the bank-wide roles see every
officer of their branches; anyone else sees only their own row (the same rule as the first
part of the scorecard).
"""

from decimal import Decimal

from django.core.exceptions import EmptyResultSet
from django.db.models import (
    Avg,
    Count,
    Exists,
    F,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    TextField,
    Value,
)
from django.db.models.functions import Cast, Coalesce, NullIf
from django.utils.translation import gettext as _

from apps.accounts.selectors import visible_branch_ids
from apps.insight.charts import COUNT, RATIO, Chart, Column
from apps.insight.compiled import compiled, prepared_planned
from apps.investigations.models import Investigation, ReVerification
from apps.investigations.states import ReVerificationOutcome
from apps.loans.models import Loan
from apps.monitoring.models import Signal
from apps.monitoring.states import NPA_CATEGORIES
from apps.oversight.exemption_models import ExemptionPerson
from apps.oversight.exemption_states import Tier
from apps.scoring.selectors import decision_scores

PHOTO_GEO_CODES = ("PHOTO_NOT_ON_FILE", "PHOTO_NO_SITE_REFERENCE", "PHOTO_NOT_CHECKED",
                   "PHOTO_METADATA_MISSING", "PHOTO_OUTSIDE_WINDOW", "PHOTO_OFF_SITE",
                   "PHOTO_DEVICE_MISMATCH", "PHOTO_REUSED", "PHOTO_DUPLICATED",
                   "SITE_CHECK_IN_OFF_SITE", "SITE_NO_CHECK_OUT")
COPIED_CODES = ("NARRATIVE_COPIED",)
SERIOUS = ("R2", "R3")
SERIOUS_SIGNAL_LEVEL = 2


def _mentions(field: str, codes) -> Q:
    """The stored findings (JSON text) name one of `codes` as a code or severity value."""
    found = Q(pk__in=[])
    for code in codes:
        found |= Q(**{f"{field}__contains": f'"{code}"'})
    return found


def _ratio(part, whole) -> Decimal | None:
    return (Decimal(part) / Decimal(whole)) if whole else None


_COUNTS = ("n1", "n2", "n3", "n4")
_TAGS = ("loans", "files", "later", "lead_officer", "assisting_officer", "exemptions")


def _union(parts: dict[str, QuerySet]) -> tuple[str, list]:
    """Every grouped query as one statement (a UNION ALL, each part tagged), so the page pays
    one round trip rather than one per column group (issue #22). Each part selects `name` and
    some of n1..n4 (counts) and `mean`; the rest read as NULL. A part that can match no row
    (a viewer who sees no branch) is left out."""
    selects, params = [], []
    for tag, queryset in parts.items():
        try:
            sql, part_params = queryset.query.sql_with_params()
        except EmptyResultSet:
            continue
        names = set(queryset.query.annotation_select) | set(queryset.query.values_select)
        columns = [f"t.{c}" if c in names else "NULL" for c in (*_COUNTS, "mean")]
        selects.append(f"SELECT %s, t.name, {', '.join(columns)} FROM ({sql}) t")  # noqa: S608 - ORM SQL, values bound
        params += [tag, *part_params]
    return " UNION ALL ".join(selects), params


def _split(parts: dict[str, QuerySet]) -> dict[str, tuple[str, list]]:
    """The parts as two UNION ALLs: the loans part, which the planner orders best itself (from
    the investigations, not the branch's loans: run in its written order it took 5 ms, not
    0.05), and the others, planned in the order they are written (`compiled.FIXED_ORDER`:
    1.34 -> 0.94 ms to plan at 100,000 loans, issue #22)."""
    rest = dict(parts)
    loans = {"loans": rest.pop("loans")} if "loans" in rest else {}
    return {"free": _union(loans), "fixed": _union(rest)}


def _grouped(tags, statements: dict[str, tuple[str, list] | None]) -> dict[str, list[dict]]:
    """Run the UNION ALLs of the parts (`_union`; prepared once per connection on
    PostgreSQL, else "fixed": planned in their written order): per tag, rows of `name`,
    n1..n4 (0 when NULL), `mean`."""
    out: dict[str, list[dict]] = {tag: [] for tag in tags}
    # Prepared once per connection (the text repeats per viewer: no day in it).
    sent = prepared_planned([(statement, kind == "fixed") for kind, statement in statements.items()
                             if statement is not None and statement[0]])
    for tag, name, *values in (row for rows in sent for row in rows):
        counts = {c: int(v) if v is not None else 0
                  for c, v in zip(_COUNTS, values[:-1], strict=True)}
        out[tag].append({"name": name, **counts, "mean": values[-1]})
    return out


def _parts(viewer, everyone: bool) -> dict[str, QuerySet]:
    """The column groups' grouped queries, scoped to what `viewer` may see."""
    branches = visible_branch_ids(viewer=viewer)

    def scoped(queryset, field="branch_id", person=None):
        if branches is not None:
            queryset = queryset.filter(**{f"{field}__in": branches})
        if not everyone and person:
            queryset = queryset.filter(**{person: viewer.pk})
        return queryset.order_by()

    # Vintage default against expected PD: loans of the files the officer investigated.
    latest_pd = Subquery(decision_scores().filter(application_id=OuterRef("application_id"))
                         .order_by("-created_at", "-id").values("probability")[:1])
    npa = [str(c) for c in NPA_CATEGORIES]
    loans = scoped(Loan.objects.filter(application__investigation__isnull=False),
                   person="application__investigation__lead_officer_id").annotate(pd=latest_pd)
    parts = {"loans": loans.values(name=F("application__investigation__lead_officer__username"))
             .annotate(n1=Count("pk"),
                       n2=Count("pk", filter=Q(risk_status__category__in=npa)
                                | Q(risk_status__floor__in=npa)),
                       mean=Avg("pd"))}

    # Early detection: serious flags caught before lending, against serious signals later
    # on loans of files that had none.
    investigations = scoped(Investigation.objects.filter(submitted_at__isnull=False),
                            field="application__branch_id", person="lead_officer_id").annotate(
        findings=Cast("red_flags", TextField()), checks=Cast("cross_check_findings",
                                                             TextField()))
    serious = _mentions("findings", SERIOUS) | _mentions("checks", SERIOUS)
    parts["files"] = investigations.values(name=F("lead_officer__username")).annotate(
        n1=Count("pk"), n2=Count("pk", filter=serious),
        n3=Count("pk", filter=_mentions("findings", PHOTO_GEO_CODES)),
        n4=Count("pk", filter=_mentions("findings", COPIED_CODES)))
    unflagged = Investigation.objects.filter(application_id=OuterRef("loan__application_id")) \
        .annotate(findings=Cast("red_flags", TextField()),
                  checks=Cast("cross_check_findings", TextField())).filter(serious)
    missed = scoped(Signal.objects.filter(level__gte=SERIOUS_SIGNAL_LEVEL,
                                          loan__application__investigation__isnull=False),
                    person="loan__application__investigation__lead_officer_id")
    parts["later"] = missed.exclude(Exists(unflagged)).values(
        name=F("loan__application__investigation__lead_officer__username")).annotate(
        n1=Count("loan_id", distinct=True))

    # Random re-verification (§3.4): counts for both officers of the investigation. Only the
    # random draws: a team lead asks for one where something already looked wrong, so the
    # requested ones would make a mismatch rate of the files chosen for suspicion.
    done = ReVerification.objects.filter(outcome__in=ReVerificationOutcome.values,
                                         requested_by__isnull=True)
    for person in ("lead_officer", "assisting_officer"):
        found = scoped(done, field="investigation__application__branch_id",
                       person=f"investigation__{person}_id")
        parts[person] = found.values(name=F(f"investigation__{person}__username")).annotate(
            n1=Count("pk"),
            n2=Count("pk", filter=Q(outcome=ReVerificationOutcome.DISCREPANCIES)))

    # Exemption outcomes: the tier that stands (after appeal when there was one).
    people = scoped(ExemptionPerson.objects.exclude(tier=""), field="case__branch_id",
                    person="user_id").annotate(final=Coalesce(
        NullIf("appeal_outcome", Value("")), "tier"))
    parts["exemptions"] = people.values(name=F("user__username")).annotate(
        n1=Count("pk", filter=Q(final=Tier.FULL)),
        n2=Count("pk", filter=Q(final=Tier.REDUCED)),
        n3=Count("pk", filter=Q(final=Tier.NONE)))

    return parts


def officer_quality(*, viewer, everyone: bool) -> Chart:
    """One row per officer with investigations, loans or exemption decisions in scope."""
    rows: dict[str, dict] = {}

    def row(name: str) -> dict:
        return rows.setdefault(name, {"label": name})

    # The statement is built once per shape of viewer (apps/insight/compiled.py); off
    # PostgreSQL, for each view.
    kept = compiled("officer_quality", viewer,
                    lambda stand_in: _split(_parts(stand_in.viewer, everyone)),
                    days=[], extra=(everyone,))
    found = _grouped(_TAGS, kept if kept is not None
                     else {"all": _union(_parts(viewer, everyone))})
    for r in found["loans"]:
        target = row(r["name"])
        target.update(loans=r["n1"], defaulted=r["n2"])
        target["default_rate"] = _ratio(r["n2"], r["n1"])
        if r["mean"] is not None:
            target["expected_pd"] = Decimal(str(round(r["mean"], 4)))
            target["vs_expected"] = (target["default_rate"] / target["expected_pd"]).quantize(
                Decimal("0.01")) if target["expected_pd"] else None
    for r in found["files"]:
        target = row(r["name"])
        target.update(files=r["n1"], caught=r["n2"])
        target["photo_geo_ok"] = _ratio(r["n1"] - r["n3"], r["n1"])
        target["copied"] = _ratio(r["n4"], r["n1"])
    for r in found["later"]:
        row(r["name"])["later"] = r["n1"]
    for target in rows.values():
        if "caught" in target or "later" in target:
            caught, later = target.get("caught", 0), target.get("later", 0)
            target["early_detection"] = _ratio(caught, caught + later)
    for person in ("lead_officer", "assisting_officer"):
        for r in found[person]:
            target = row(r["name"])
            target["reverified"] = target.get("reverified", 0) + r["n1"]
            target["_mismatched"] = target.get("_mismatched", 0) + r["n2"]
    for target in rows.values():
        if target.get("reverified"):
            target["mismatch_rate"] = _ratio(target.pop("_mismatched"), target["reverified"])
    for r in found["exemptions"]:
        row(r["name"])["exemptions"] = f"{r['n1']} / {r['n2']} / {r['n3']}"

    ordered = sorted(rows.values(), key=lambda r: r["label"])
    return Chart(
        key="officer_quality", title=_("Quality of lending by officer"), kind="bar",
        category="label", series=["default_rate", "expected_pd"],
        columns=[Column("label", _("Officer")),
                 Column("loans", _("Loans investigated"), COUNT),
                 Column("default_rate", _("Now non-performing"), RATIO),
                 Column("expected_pd", _("Expected PD at approval"), RATIO),
                 Column("vs_expected", _("Defaults against expected")),
                 Column("early_detection", _("Serious issues caught before lending"), RATIO),
                 Column("photo_geo_ok", _("Files with no photo or location finding"), RATIO),
                 Column("copied", _("Files with a copied narrative"), RATIO),
                 Column("reverified", _("Files re-verified"), COUNT),
                 Column("mismatch_rate", _("Re-verifications with discrepancies"), RATIO),
                 Column("exemptions", _("Exemption tiers: full / reduced / none"))],
        rows=ordered,
        summary=_("Default rate of the loans each officer investigated next to the PD the "
                  "model expected, early detection, evidence quality, re-verification and "
                  "exemption outcomes.") if ordered else "")
