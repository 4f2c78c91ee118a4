"""SME size classification as a pure function.

Standard: 《中小企业划型标准规定》 (工信部联企业〔2011〕300号).

The thresholds are policy data (SizeStandard rows, seeded from domain reference §5.5), never
constants here. This module only knows how to read a row:

- "X 以下" is strictly below X; "X 及以上" is X or more (reference §0.3).
- SME ceiling: below *either* threshold (或) → inside the SME range, otherwise large.
- Medium / small: *both* minima met (且). Micro: below *either* micro threshold (或).
- Order [G, §5.5]: large → medium → small → micro. With the 2011 figures micro is exactly
  "not small" inside the SME range; a row whose bands leave a gap yields no class, so a bad
  policy row shows up as "unclassified" instead of a guess.

`classify_size` takes any objects with SizeStandard's attribute names (model rows or `SizeRule`
dataclasses), so it is testable without a database.
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import models
from django.utils.translation import gettext_lazy as _


class SizeClass(models.TextChoices):
    MICRO = "micro", _("Micro 微型")
    SMALL = "small", _("Small 小型")
    MEDIUM = "medium", _("Medium 中型")
    LARGE = "large", _("Large 大型")


class Metric(models.TextChoices):
    EMPLOYEES = "employees", _("Employees 从业人员 (persons)")
    REVENUE = "revenue", _("Operating revenue 营业收入 (万元)")
    ASSETS = "assets", _("Total assets 资产总额 (万元)")


class Combinator(models.TextChoices):
    OR = "or", _("either (或)")
    AND = "and", _("both (且)")


# Matches every industry: the "other, not listed" line of the standard.
ANY_INDUSTRY = "*"


class SizeStandardError(ValueError):
    """The policy rows cannot be applied as given (two versions, overlapping scopes)."""


@dataclass(frozen=True)
class SizeRule:
    """One line of a size standard; SizeStandard model rows have the same attributes."""

    version: str
    row_no: int
    industry_label: str
    industry_scope: Sequence[str]
    metric_a: str
    ceiling_a: Decimal
    medium_min_a: Decimal
    small_min_a: Decimal
    micro_below_a: Decimal
    metric_b: str = ""
    ceiling_b: Decimal | None = None
    medium_min_b: Decimal | None = None
    small_min_b: Decimal | None = None
    micro_below_b: Decimal | None = None
    ceiling_combinator: str = Combinator.OR
    band_combinator: str = Combinator.AND
    micro_combinator: str = Combinator.OR


@dataclass(frozen=True)
class SizeFigures:
    """What the standard measures: head count, and revenue / assets already in 万元."""

    industry_key: str  # section letter plus optional GB/T 4754 code: "C", "F52", "K701"
    employees: int | None = None
    revenue_wan: Decimal | None = None
    assets_wan: Decimal | None = None

    def value(self, metric: str):
        return {Metric.EMPLOYEES: self.employees, Metric.REVENUE: self.revenue_wan,
                Metric.ASSETS: self.assets_wan}[metric]


@dataclass(frozen=True)
class SizeResult:
    size_class: str  # a SizeClass value, or "" when the figures cannot be classified
    version: str
    explanation: str
    row_no: int | None = None
    missing: tuple[str, ...] = field(default=())

    @property
    def classified(self) -> bool:
        return bool(self.size_class)


def _fmt(value) -> str:
    if isinstance(value, Decimal):
        text = format(value.normalize(), "f")
        return text
    return str(value)


def _scope_match(scope: Iterable[str], key: str) -> int | None:
    """Specificity of the best scope entry matching `key` (longest prefix), or None."""
    best = None
    for entry in scope:
        if entry == ANY_INDUSTRY:
            best = max(best or 0, 0)
        elif key.startswith(entry):
            best = max(best or 0, len(entry))
    return best


def select_rule(rules: Sequence, industry_key: str):
    """The row whose industry scope fits `industry_key` most specifically.

    Returns (rule, None) or (None, reason). A key coarser than some scope ("F" when the rows
    split wholesale F51 from retail F52) cannot be placed, so it gets a reason, not a guess.
    """
    finer = sorted({entry for rule in rules for entry in rule.industry_scope
                    if entry != ANY_INDUSTRY and entry.startswith(industry_key)
                    and len(entry) > len(industry_key)})
    if finer:
        return None, (f"industry {industry_key} is too coarse for this standard: it splits "
                      f"into {', '.join(finer)}; record the GB/T 4754 division or group code")
    scored = [(_scope_match(rule.industry_scope, industry_key), rule) for rule in rules]
    scored = [(score, rule) for score, rule in scored if score is not None]
    if not scored:
        return None, f"no line of the standard covers industry {industry_key}"
    top = max(score for score, _rule in scored)
    winners = [rule for score, rule in scored if score == top]
    if len(winners) > 1:
        raise SizeStandardError(
            f"industry {industry_key} matches rows {[r.row_no for r in winners]} equally")
    return winners[0], None


def _combine(results: list[bool], combinator: str) -> bool:
    return any(results) if combinator == Combinator.OR else all(results)


def _metric_pairs(rule, prefix: str) -> list[tuple[str, Decimal]]:
    """(metric, threshold) for the row's one or two metrics at a band: ceiling, medium_min…"""
    pairs = [(rule.metric_a, getattr(rule, f"{prefix}_a"))]
    if rule.metric_b:
        pairs.append((rule.metric_b, getattr(rule, f"{prefix}_b")))
    return pairs


def _test(rule, figures: SizeFigures, prefix: str, combinator: str, *, below: bool):
    """Apply one band of the row; returns (passed, "employees 50 < 1000 or revenue …")."""
    results, parts = [], []
    for metric, threshold in _metric_pairs(rule, prefix):
        value = figures.value(metric)
        # "以下" is strictly below; "及以上" is at least (reference §0.3).
        ok = value < threshold if below else value >= threshold
        results.append(ok)
        parts.append(f"{metric} {_fmt(value)} {'<' if below else '>='} {_fmt(threshold)}")
    joiner = " or " if combinator == Combinator.OR else " and "
    passed = _combine(results, combinator)
    return passed, f"{joiner.join(parts)}: {'yes' if passed else 'no'}"


def classify_size(rules: Sequence, figures: SizeFigures) -> SizeResult:
    """Size class of an enterprise under one version of the SME size standard.

    `rules` are the rows of the version in force (one version only); `figures` the enterprise's
    industry, head count, and revenue and total assets in 万元. Returns the class, the version
    used and a one-paragraph explanation of each comparison, stored with the enterprise so the
    decision can be re-explained later (policy-data rule, reference §0.2).
    """
    rules = list(rules)
    versions = {rule.version for rule in rules}
    if not rules:
        return SizeResult("", "", "no SME size standard is in force for this date")
    if len(versions) > 1:
        raise SizeStandardError(f"rows of several versions given: {sorted(versions)}")
    version = versions.pop()

    rule, reason = select_rule(rules, figures.industry_key)
    if rule is None:
        return SizeResult("", version, f"{version}: {reason}")
    head = f"{version} row {rule.row_no} {rule.industry_label}"

    needed = [rule.metric_a] + ([rule.metric_b] if rule.metric_b else [])
    missing = tuple(m for m in needed if figures.value(m) is None)
    if missing:
        return SizeResult("", version, f"{head}: needs {', '.join(missing)} to classify",
                          rule.row_no, missing)

    steps = []
    sme, text = _test(rule, figures, "ceiling", rule.ceiling_combinator, below=True)
    steps.append(f"SME ceiling ({text})")
    if not sme:
        size = SizeClass.LARGE
    else:
        medium, text = _test(rule, figures, "medium_min", rule.band_combinator, below=False)
        steps.append(f"medium ({text})")
        if medium:
            size = SizeClass.MEDIUM
        else:
            small, text = _test(rule, figures, "small_min", rule.band_combinator, below=False)
            steps.append(f"small ({text})")
            if small:
                size = SizeClass.SMALL
            else:
                micro, text = _test(rule, figures, "micro_below", rule.micro_combinator,
                                    below=True)
                steps.append(f"micro ({text})")
                # A row whose micro band does not meet its small band leaves a gap: say so.
                size = SizeClass.MICRO if micro else ""
    outcome = size.value if size else "unclassified (the row's bands leave a gap)"
    return SizeResult(size, version, f"{head}: {'; '.join(steps)} → {outcome}", rule.row_no)
