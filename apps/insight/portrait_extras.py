"""Two parts of the enterprise portrait kept apart from `portrait.py` (other sections are added
there): the relations graph and the parsed tax, bank and utility series as small charts.

- Relations: every recorded relationship into or out of the enterprise (controller,
  shareholders, legal representative, guarantors, related enterprises), drawn as a graph whose
  legend names the kinds, with the same edges as a table. One query.
- Series: the monthly figures the document checks parsed from the enterprise's bank
  statements, tax records and utility bills (the latest finished check of each kind across the
  applications the viewer may see), one small line chart per kind. One query.

The portrait sends both reads with its own in one round trip (`apps.insight.portrait`).
"""

from decimal import Decimal, InvalidOperation

from django.db.models import Q
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from apps.documents.models import DocumentCheck
from apps.documents.states import CheckKind, CheckStatus
from apps.insight.charts import COUNT, MONEY, TEXT, Chart, Column
from apps.parties.models import Relationship, RelationshipKind

# The series each check parses (documents/checks/records.py), with their labels.
SERIES = {
    CheckKind.BANK_STATEMENT: (("in", gettext_lazy("Inflows")),
                               ("out", gettext_lazy("Outflows"))),
    CheckKind.TAX_RECORD: (("revenue", gettext_lazy("Declared revenue")),
                           ("tax_paid", gettext_lazy("Tax paid"))),
    CheckKind.UTILITY_BILL: (("kwh", gettext_lazy("Electricity (kWh)")),
                             ("cost", gettext_lazy("Utility cost"))),
}
FINISHED = (CheckStatus.PASSED, CheckStatus.ATTENTION, CheckStatus.FAILED)
MONTHS_SHOWN = 24


class GraphChart(Chart):
    """A network: rows are edges (from, kind, to); the payload gives nodes and links."""

    def payload(self) -> dict:
        names: dict[str, int] = {}
        kinds = []
        nodes, links = [], []
        for row in self.rows:
            if row["kind"] not in kinds:
                kinds.append(row["kind"])
            for end, category in ((row["from"], row["kind"]), (row["to"], None)):
                if end not in names:
                    names[end] = len(nodes)
                    nodes.append({"name": end, "category": kinds.index(category)
                                  if category is not None else None,
                                  "centre": end == self.summary_subject})
        for row in self.rows:
            links.append({"source": row["from"], "target": row["to"], "label": row["kind"]})
        return {"kind": "graph", "title": str(self.title), "categories": kinds,
                "nodes": nodes, "links": links, "series": [], "reference": None,
                "stacked": False}

    summary_subject: str = ""


RELATION_COLUMNS = ("kind", "stake_percent", "from_person_id", "from_person__name",
                    "from_enterprise__name", "to_enterprise_id", "to_enterprise__name",
                    "to_person__name")
SERIES_COLUMNS = ("kind", "findings")


def relations_read(*, enterprise_id: int):
    """Every recorded relationship into or out of the enterprise, as `RELATION_COLUMNS`."""
    touching = Q(to_enterprise_id=enterprise_id) | Q(from_enterprise_id=enterprise_id)
    return (Relationship.objects.filter(touching).order_by("kind", "id")
            .values_list(*RELATION_COLUMNS))


def relations_chart(*, enterprise, edges: list[dict]) -> GraphChart:
    labels = dict(RelationshipKind.choices)
    rows = []
    for edge in edges:
        source = edge["from_person__name"] if edge["from_person_id"] \
            else edge["from_enterprise__name"]
        target = edge["to_enterprise__name"] if edge["to_enterprise_id"] \
            else edge["to_person__name"]
        stake = edge["stake_percent"]
        rows.append({"from": source, "kind": str(labels.get(edge["kind"], edge["kind"])),
                     "to": target, "stake": f"{stake}%" if stake is not None else ""})
    chart = GraphChart(
        key="relations", title=_("Relations"), kind="graph", category="from", series=[],
        columns=[Column("from", _("Who")), Column("kind", _("Is")),
                 Column("to", _("Of")), Column("stake", _("Stake"))],
        rows=rows,
        summary=_("Controllers, shareholders, guarantors and related enterprises on record.")
        if rows else "")
    chart.summary_subject = enterprise.name
    chart.empty_text = _("No relationships recorded for this enterprise.")
    return chart


def _amount(value) -> Decimal | None:
    try:
        return Decimal(str(value))
    except (InvalidOperation, TypeError, ValueError):
        return None


def series_read(*, application_ids):
    """The finished series checks of the files, as `SERIES_COLUMNS`; `application_ids`: a
    list, or a subquery of the files the viewer may see."""
    return (DocumentCheck.objects.filter(document__application_id__in=application_ids,
                                         kind__in=list(SERIES), status__in=FINISHED)
            .order_by("kind", "finished_at", "id").values_list(*SERIES_COLUMNS))


def series_charts(*, checks: list[dict]) -> list[Chart]:
    """One small chart per parsed series kind the enterprise's documents have."""
    monthly: dict[str, dict[str, dict]] = {}
    for check in checks:  # later checks overwrite the months they cover
        months = (check["findings"] or {}).get("monthly") or {}
        monthly.setdefault(check["kind"], {}).update(months)
    titles = {CheckKind.BANK_STATEMENT: _("Bank statement: monthly flows"),
              CheckKind.TAX_RECORD: _("Tax records: monthly revenue and tax"),
              CheckKind.UTILITY_BILL: _("Utility bills: monthly use")}
    charts = []
    for kind, fields in SERIES.items():
        months = sorted(monthly.get(kind, {}))[-MONTHS_SHOWN:]
        rows = [{"label": month, **{f: _amount(monthly[kind][month].get(f))
                                    for f, _label in fields}} for month in months]
        charts.append(Chart(
            key=f"series_{kind}", title=titles[kind], kind="line", category="label",
            series=[f for f, _label in fields],
            columns=[Column("label", _("Month"), TEXT),
                     *[Column(f, label, COUNT if f == "kwh" else MONEY)
                       for f, label in fields]],
            rows=rows,
            summary=_("Parsed from the documents on file, the latest %(n)s months.") % {
                "n": len(rows)} if rows else ""))
    return charts


def portrait_extras(*, enterprise, application_ids) -> dict:
    """What `insight/partials/portrait_extras.html` shows, read on their own (the portrait
    reads them with its other reads, `apps.insight.portrait`)."""
    edges = [dict(zip(RELATION_COLUMNS, row, strict=True))
             for row in relations_read(enterprise_id=enterprise.pk)]
    checks = [dict(zip(SERIES_COLUMNS, row, strict=True))
              for row in series_read(application_ids=application_ids)]
    return {"relations": relations_chart(enterprise=enterprise, edges=edges),
            "series": series_charts(checks=checks)}
