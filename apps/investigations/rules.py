"""Running a template's rules over a set of answers: derived values, red flags, cross-checks.

Pure functions over a template document (`template_export` output) and an answers dict, so the
same code serves the form (recompute on autosave), the reviewer page and tests. Red flags are
raised by rules, never by the officer (§3.5); each finding carries the numbers that fired it
and the policy values used (§8.3). Persisting findings belongs to the investigation workflow.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from functools import lru_cache
from typing import Any

from django.utils.translation import gettext as _

from apps.investigations import expressions as ex
from apps.investigations.evidence import FIGURE_KEYS, evidence_placeholder

_SEVERITY_RANK = {"R1": 1, "R2": 2, "R3": 3}


@dataclass
class Finding:
    """A red flag or cross-check result that fired, explained in both languages."""

    kind: str                 # "red_flag" | "cross_check"
    code: str
    item: str | None
    severity: str
    message_en: str
    message_zh: str
    explanation: str          # the compared values, e.g. "D7_LEVERAGE = 0.82 > policy(...) = 0.70"
    inputs: dict[str, Any] = field(default_factory=dict)
    policies: dict[str, Any] = field(default_factory=dict)
    # The explanation in Chinese where it is a sentence (controls); a rule's explanation is a
    # formula and reads the same in both languages.
    explanation_zh: str = ""


Resolver = Callable[[str], Any]


def _no_evidence(key: str) -> None:
    return None


def _context(values, policy, evidence) -> ex.EvalContext:
    return ex.EvalContext(values, policy, evidence or _no_evidence)


_NUMERIC = {"number", "money", "percent"}


def _cell(kind: str | None, value: Any) -> Any:
    if isinstance(value, str) and kind in _NUMERIC:
        try:
            return Decimal(value)
        except ArithmeticError:
            return value
    return value


def _typed(item: Mapping | None, value: Any) -> Any:
    """Stored answers keep numbers as decimal text (no float on the way from the phone); the
    rules need them as numbers, or "50000" <= "100000" would compare as text."""
    if item is None or value is None:
        return value
    kind = item.get("answer_type")
    if kind == "table" and isinstance(value, list):
        columns = {c.get("code"): c.get("type")
                   for c in (item.get("columns") or {}).get("columns", [])}
        return [{k: _cell(columns.get(k), v) for k, v in row.items()}
                if isinstance(row, dict) else row for row in value]
    return _cell(kind, value)


def _items(template: Mapping) -> dict[str, dict]:
    return {item["code"]: item for section in template["sections"] for item in section["items"]}


@lru_cache(maxsize=4096)
def _compile(text: str) -> ex.CompiledRule:
    """Rules are checked against the template's items and policy keys when the template is
    saved and published (`validate_template_data`); here they are only parsed, once per text:
    a compiled rule is immutable and its evaluation does not depend on the item types, so
    every autosave and submission reuses it (bench/bench_rules.py)."""
    return ex.compile_rule(text)


def derived_values(template: Mapping, answers: Mapping[str, Any],
                   policy: Resolver, evidence: Resolver | None = None) -> dict[str, Any]:
    """Answers plus every derived item, computed in dependency order (§3.2 CALC: recomputed
    when inputs change, never typed). A typed value for a derived item is ignored."""
    items = _items(template)
    rules = {code: _compile(item["expression"]) for code, item in items.items()
             if item["answer_type"] == "derived"}
    values = {code: _typed(items.get(code), value) for code, value in answers.items()
              if code not in rules}
    done: set[str] = set()
    # One context for every rule: it reads `values` as they fill, and converts each table
    # once for all of them (`EvalContext.memo`), not on every read of one of its cells.
    context = ex.EvalContext(values, policy, evidence or _no_evidence, memo={})

    def compute(code: str) -> None:
        if code in done:
            return
        done.add(code)  # validation refuses cycles; marking first also stops a bad one here
        for ref in rules[code].references:
            if ref in rules:
                compute(ref)
        values[code] = rules[code].evaluate(context).value

    for code in rules:
        compute(code)
    return values


def red_flags(template: Mapping, values: Mapping[str, Any],
              policy: Resolver, evidence: Resolver | None = None) -> list[Finding]:
    """Every red-flag rule whose condition is true (unknown = not fired: missing answers are
    the submission gate's business, not a flag)."""
    items = _items(template)
    findings = []
    for code, item in items.items():
        for rule in item.get("red_flag_rules") or []:
            result = _compile(rule["when"]).evaluate(_context(values, policy, evidence))
            if result.fired:
                findings.append(Finding(
                    kind="red_flag", code=rule["code"], item=code, severity=rule["severity"],
                    message_en=rule["message"]["en"], message_zh=rule["message"]["zh"],
                    explanation=result.explain(), inputs=result.inputs,
                    policies=result.policies))
    return findings


def cross_checks(template: Mapping, values: Mapping[str, Any],
                 policy: Resolver, evidence: Resolver | None = None) -> list[Finding]:
    """Each cross-check's metric against its thresholds, most severe first; the first
    threshold passed gives the finding, with the explanation filled with the compared numbers."""
    findings = []
    for check in template.get("cross_checks") or []:
        result = _compile(check["expression"]).evaluate(
            _context(values, policy, evidence))
        metric = ex.as_number(result.value, check["code"])
        if metric is None:
            continue
        ordered = sorted(check["thresholds"], key=lambda t: -_SEVERITY_RANK[t["severity"]])
        for threshold in ordered:
            limit, policies = _threshold_value(threshold, policy, check["code"])
            operator = threshold.get("operator", ">")
            passed = {">": metric > limit, ">=": metric >= limit, "<": metric < limit,
                      "<=": metric <= limit}[operator]
            if not passed:
                continue
            placeholders = {code: _display(value) for code, value in values.items()}
            for key in FIGURE_KEYS:
                figure = ex.evidence_number((evidence or _no_evidence)(key))
                placeholders[evidence_placeholder(key)] = ex.format_value(figure)
            placeholders.update(metric=ex.format_value(_round(metric)),
                                threshold=ex.format_value(limit))
            findings.append(Finding(
                kind="cross_check", code=check["code"], item=None,
                severity=threshold["severity"],
                message_en=check["explanation"]["en"].format_map(_Missing(placeholders)),
                message_zh=check["explanation"]["zh"].format_map(_Missing(placeholders)),
                explanation=f"{check['expression']} = {ex.format_value(_round(metric))} "
                            f"{operator} {ex.format_value(limit)}",
                inputs=result.inputs, policies={**result.policies, **policies}))
            break
    return findings


@dataclass(frozen=True)
class ValidationFailure:
    """A validation rule of an answered item that is false: the answer is not acceptable."""

    item: str
    code: str
    message_en: str
    message_zh: str


def validation_failures(template: Mapping, values: Mapping[str, Any], policy: Resolver,
                        evidence: Resolver | None = None) -> list[ValidationFailure]:
    """Each validation rule that is false for an answered item (§3.5 gating). A rule that
    cannot be decided (null: it reads an unanswered item) does not fail here; the missing
    answer is reported by the gate itself."""
    items = _items(template)
    failures = []
    for code, item in items.items():
        if values.get(code) is None:
            continue
        for rule in item.get("validation_rules") or []:
            result = _compile(rule["expression"]).evaluate(
                _context(values, policy, evidence))
            if result.value is False:
                failures.append(ValidationFailure(code, rule["code"], rule["message"]["en"],
                                                  rule["message"]["zh"]))
    return failures


def _threshold_value(threshold: Mapping, policy, code: str) -> tuple[Decimal, dict]:
    if "policy" in threshold:
        value = policy(threshold["policy"])
        if value is None:
            raise ex.RuleEvaluationError(_("%(code)s: policy value %(key)s is not in force")
                                         % {"code": code, "key": repr(threshold["policy"])})
        value = ex.to_value(value)
        return value, {threshold["policy"]: value}
    return Decimal(str(threshold["value"])), {}


def _display(value: Any) -> str:
    """An answer as a reader expects it in a sentence: money stored as decimal text reads
    500000, not '500000'; other text as itself."""
    if isinstance(value, str):
        try:
            return ex.format_value(_round(Decimal(value)))
        except ArithmeticError:
            return value
    return ex.format_value(value)


def _round(value: Decimal) -> Decimal:
    return value.quantize(Decimal("0.01")) if value.as_tuple().exponent < -2 else value


class _Missing(dict):
    """Unknown placeholders (an unanswered optional source) read as "null", not a crash."""

    def __missing__(self, key):
        return "null"
