"""Reads of the data hub, scoped to the branches the viewer may see."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from decimal import Decimal, InvalidOperation

from django.db.models import Count, Q, QuerySet, Sum
from django.shortcuts import get_object_or_404

from apps.accounts.selectors import visible_branch_ids
from apps.datahub.models import Consent, Pull, Record
from apps.datahub.states import Channel, PullState


def pull_list(*, viewer, enterprise_id: int | None = None) -> QuerySet[Pull]:
    pulls = Pull.objects.select_related("enterprise", "branch", "requested_by", "application",
                                        "person")
    branches = visible_branch_ids(viewer=viewer)
    if branches is not None:
        pulls = pulls.filter(branch_id__in=branches)
    if enterprise_id is not None:
        pulls = pulls.filter(enterprise_id=enterprise_id)
    return pulls.order_by("-created_at", "-id")


def pull_get(*, viewer, pull_id: int) -> Pull:
    return get_object_or_404(pull_list(viewer=viewer), pk=pull_id)


def consent_list(*, viewer, enterprise_id: int) -> QuerySet[Consent]:
    consents = Consent.objects.filter(enterprise_id=enterprise_id)
    branches = visible_branch_ids(viewer=viewer)
    if branches is not None:
        consents = consents.filter(enterprise__branch_id__in=branches)
    return consents.select_related("recorded_by", "person")


def cost_report(*, viewer, start: dt.datetime, end: dt.datetime) -> dict:
    """Spent and saved by the cache between `start` and `end`, per branch, officer and
    source: one grouped query each."""
    rows = pull_list(viewer=viewer).filter(created_at__gte=start, created_at__lt=end)
    measures = {"spent": Sum("cost"), "saved": Sum("saved"),
                "paid": Count("id", filter=Q(channel=Channel.HTTP, state=PullState.SUCCEEDED)),
                "cached": Count("id", filter=Q(channel=Channel.CACHE)),
                "failed": Count("id", filter=Q(state=PullState.FAILED))}

    def to_the_fen(row: dict) -> dict:
        # SQLite's SUM loses the column's scale (3 instead of 3.00): money is kept to the fen.
        for key in ("spent", "saved"):
            row[key] = Decimal(row[key] or 0).quantize(Decimal("0.01"))
        return row

    def grouped(*fields):
        return [to_the_fen(row) for row in
                rows.values(*fields).annotate(**measures).order_by(*fields)]

    total = to_the_fen(rows.aggregate(**measures))
    return {"total": total,
            "by_branch": grouped("branch__code", "branch__name"),
            "by_officer": grouped("requested_by__username"),
            "by_product": grouped("application__product_version__product__code"),
            "by_source": grouped("source")}


# Sources answering monthly series, and the figures each month carries (connectors/tax.py,
# connectors/utility.py).
MONTHLY_FIELDS: dict[str, tuple[str, ...]] = {"tax": ("sales", "tax_paid"),
                                              "utility": ("kwh", "water_m3")}


def monthly_records() -> QuerySet[Record]:
    """Every month pulled from a monthly source about an enterprise itself (not about one of
    its persons). A system read (no viewer): the monthly run and the signal listener."""
    return Record.objects.filter(kind="month", source__in=list(MONTHLY_FIELDS),
                                 person__isnull=True)


def pulled_months(*, enterprise_ids: Iterable[int]
                  ) -> dict[int, dict[str, dict[str, tuple[dt.datetime, Decimal]]]]:
    """{enterprise: {figure: {"YYYY-MM": (fetched at, value)}}} of every month pulled about
    these enterprises (figures as `MONTHLY_FIELDS` names them), a later answer winning its
    month; a figure a record lacks or cannot be read as a number is skipped. One query."""
    out: dict[int, dict[str, dict[str, tuple[dt.datetime, Decimal]]]] = {}
    rows = (monthly_records().filter(enterprise_id__in=list(enterprise_ids))
            .order_by("fetched_at", "id")
            .values_list("enterprise_id", "source", "key", "data", "fetched_at"))
    for enterprise_id, source, month, data, fetched_at in rows.iterator(chunk_size=2000):
        figures = out.setdefault(enterprise_id, {})
        for name in MONTHLY_FIELDS[source]:
            try:
                value = Decimal(str((data or {})[name]))
            except (KeyError, InvalidOperation, TypeError):
                continue
            figures.setdefault(name, {})[month] = (fetched_at, value)
    return out
