"""A tax record's internal check, the part a running balance plays for a bank statement.

A tax bureau's export has no balance, but it is not free of arithmetic:

* **Rate** — tax = taxable base × rate on every row. With a rate column (税率 / 征收率) each row
  is checked against its own rate; without one, a record whose rows mostly sit on one rate
  (a small-scale taxpayer's 3% or 1% levy, a simple-method taxpayer) is held to that rate, and
  a row off it is a break: revenue inflated with the tax left alone. A general taxpayer pays
  output tax less input tax, which follows no rate, so the rate check does not apply there.
* **Totals** — a totals row (合计, Total) with figures equals the sum of the periods.
* **Periods** — each month once, none missing between the first and the last.

The share of checks that hold is the check's confidence figure, and the rows or fields that
break it are quoted in the finding. Tolerances are policy values (`policies.py`); a missing one
leaves the check not run, and the caller says so.
"""

from __future__ import annotations

import statistics
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

ZERO = Decimal("0")
QUOTED = 12

POLICY_KEYS = ("documents.tax.rate_tolerance", "documents.tax.rounding_cny",
               "documents.tax.flat_rate_share_min")


def parse_rate(value) -> Decimal | None:
    """"3%", "0.03", 0.03 or "3" (percent) → Decimal("0.03"); None for anything else."""
    if value is None or value == "":
        return None
    text = str(value).strip().replace("％", "%")
    percent = text.endswith("%")
    try:
        rate = Decimal(text.rstrip("%").strip())
    except InvalidOperation:
        return None
    if percent or rate >= 1:
        rate = rate / 100
    return rate if ZERO < rate < 1 else None


def _month_index(month: str) -> int:
    year, mon = month.split("-")
    return int(year) * 12 + int(mon) - 1


@dataclass
class TaxCheck:
    """What held and what broke; `breaks` counts rows (rate), fields (totals) and months."""

    rows: int
    rate_source: str = ""             # "column" | "steady" | "" (no rate applies)
    rate: Decimal | None = None       # the steady rate, when that is the source
    rate_checked: int = 0
    rate_breaks: list[dict] = field(default_factory=list)
    totals_checked: int = 0
    totals_breaks: list[dict] = field(default_factory=list)
    duplicate_periods: list[str] = field(default_factory=list)
    missing_periods: list[str] = field(default_factory=list)

    @property
    def breaks(self) -> int:
        return (len(self.rate_breaks) + len(self.totals_breaks) + len(self.duplicate_periods)
                + len(self.missing_periods))

    @property
    def applicable(self) -> bool:
        """Whether anything checked the amounts (periods alone do not)."""
        return bool(self.rate_source) or self.totals_checked > 0

    @property
    def share(self) -> Decimal:
        """Share of the checks that held: rows on their rate, totals that add up, months."""
        checks = self.rate_checked + self.totals_checked + self.rows
        if not checks:
            return ZERO
        return (Decimal(checks - self.breaks) / Decimal(checks)).quantize(Decimal("0.0001"))

    def as_json(self) -> dict:
        return {"rate_source": self.rate_source,
                "rate": None if self.rate is None else str(self.rate),
                "rate_checked": self.rate_checked, "rate_breaks": self.rate_breaks[:QUOTED],
                "totals_checked": self.totals_checked, "totals_breaks": self.totals_breaks,
                "duplicate_periods": self.duplicate_periods[:QUOTED],
                "missing_periods": self.missing_periods[:QUOTED], "breaks": self.breaks,
                "share": str(self.share)}


def _on_rate(revenue: Decimal, tax: Decimal, rate: Decimal, tolerance: Decimal,
             rounding: Decimal) -> bool:
    expected = revenue * rate
    return abs(tax - expected) <= max(rounding, abs(expected) * tolerance)


def check_tax(periods: Sequence[str | None], revenues: Sequence[Decimal | None],
              taxes: Sequence[Decimal | None], *, rates: Sequence[Decimal | None] | None = None,
              totals: Sequence[tuple[Decimal | None, Decimal | None]] = (),
              policy: Callable[[str], Decimal | None]) -> TaxCheck | None:
    """The record's rows (period, revenue, tax paid, the rate column's value if there is one)
    and its totals rows' (revenue, tax) figures; None when a policy value is missing."""
    values = [policy(k) for k in POLICY_KEYS]
    if any(v is None for v in values):
        return None
    tolerance, rounding, flat_share = values
    months = [p for p in periods if p]
    found = TaxCheck(rows=len(months))
    counts = Counter(months)
    found.duplicate_periods = sorted(m for m, n in counts.items() if n > 1)
    if months:
        present = {_month_index(m) for m in months}
        first, last = min(present), max(present)
        found.missing_periods = [f"{i // 12:04d}-{i % 12 + 1:02d}"
                                 for i in range(first, last + 1) if i not in present]

    rows = [(p, r, t, (rates[k] if rates is not None else None))
            for k, (p, r, t) in enumerate(zip(periods, revenues, taxes, strict=False))
            if p and r is not None and t is not None and r > 0]
    if rates is not None and any(rate is not None for *_x, rate in rows):
        found.rate_source = "column"
        for p, r, t, rate in rows:
            if rate is None:
                continue
            found.rate_checked += 1
            if not _on_rate(r, t, rate, tolerance, rounding):
                found.rate_breaks.append({"period": p, "revenue": str(r), "tax_paid": str(t),
                                          "rate": str(rate), "expected": str(
                                              (r * rate).quantize(Decimal("0.01")))})
    elif len(rows) >= 3:
        rate = Decimal(str(statistics.median(t / r for _p, r, t, _x in rows))).quantize(
            Decimal("0.0001"))
        off = [(p, r, t) for p, r, t, _x in rows
               if not _on_rate(r, t, rate, tolerance, rounding)]
        if rate > 0 and len(rows) - len(off) >= flat_share * len(rows):
            found.rate_source, found.rate, found.rate_checked = "steady", rate, len(rows)
            found.rate_breaks = [{"period": p, "revenue": str(r), "tax_paid": str(t),
                                  "rate": str(rate),
                                  "expected": str((r * rate).quantize(Decimal("0.01")))}
                                 for p, r, t in off]

    sums = {"revenue": sum((r for r in revenues if r is not None), ZERO),
            "tax_paid": sum((t for t in taxes if t is not None), ZERO)}
    for total_revenue, total_tax in totals:
        for name, shown in (("revenue", total_revenue), ("tax_paid", total_tax)):
            if shown is None:
                continue
            found.totals_checked += 1
            if abs(shown - sums[name]) > rounding:
                found.totals_breaks.append({"field": name, "shown": str(shown),
                                            "sum": str(sums[name])})
    return found
