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
from typing import Any

from apps.investigations import expressions as ex
from apps.investigations.validation import item_spec

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


def _items(template: Mapping) -> dict[str, dict]:
    return {item["code"]: item for section in template["sections"] for item in section["items"]}


def _compile(text: str, specs) -> ex.CompiledRule:
    return ex.compile_rule(text, items=specs)


def derived_values(template: Mapping, answers: Mapping[str, Any],
                   policy: Callable[[str], Any]) -> dict[str, Any]:
    """Answers plus every derived item, computed in dependency order (§3.2 CALC: recomputed
    when inputs change, never typed). A typed value for a derived item is ignored."""
    items = _items(template)
    specs = {code: item_spec(item) for code, item in items.items()}
    rules = {code: _compile(item["expression"], specs) for code, item in items.items()
             if item["answer_type"] == "derived"}
    values = {code: value for code, value in answers.items() if code not in rules}
    done: set[str] = set()

    def compute(code: str) -> None:
        if code in done:
            return
        done.add(code)  # validation refuses cycles; marking first also stops a bad one here
        for ref in rules[code].references:
            if ref in rules:
                compute(ref)
        values[code] = rules[code].evaluate(ex.EvalContext(values, policy)).value

    for code in rules:
        compute(code)
    return values


def red_flags(template: Mapping, values: Mapping[str, Any],
              policy: Callable[[str], Any]) -> list[Finding]:
    """Every red-flag rule whose condition is true (unknown = not fired: missing answers are
    the submission gate's business, not a flag)."""
    items = _items(template)
    specs = {code: item_spec(item) for code, item in items.items()}
    findings = []
    for code, item in items.items():
        for rule in item.get("red_flag_rules") or []:
            result = _compile(rule["when"], specs).evaluate(ex.EvalContext(values, policy))
            if result.fired:
                findings.append(Finding(
                    kind="red_flag", code=rule["code"], item=code, severity=rule["severity"],
                    message_en=rule["message"]["en"], message_zh=rule["message"]["zh"],
                    explanation=result.explain(), inputs=result.inputs,
                    policies=result.policies))
    return findings


def cross_checks(template: Mapping, values: Mapping[str, Any],
                 policy: Callable[[str], Any]) -> list[Finding]:
    """Each cross-check's metric against its thresholds, most severe first; the first
    threshold passed gives the finding, with the explanation filled with the compared numbers."""
    specs = {code: item_spec(item) for code, item in _items(template).items()}
    findings = []
    for check in template.get("cross_checks") or []:
        result = _compile(check["expression"], specs).evaluate(ex.EvalContext(values, policy))
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
            placeholders = {code: ex.format_value(value) for code, value in values.items()}
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


def _threshold_value(threshold: Mapping, policy, code: str) -> tuple[Decimal, dict]:
    if "policy" in threshold:
        value = policy(threshold["policy"])
        if value is None:
            raise ex.RuleEvaluationError(f"{code}: policy value {threshold['policy']!r} is not "
                                         "in force")
        value = ex.to_value(value)
        return value, {threshold["policy"]: value}
    return Decimal(str(threshold["value"])), {}


def _round(value: Decimal) -> Decimal:
    return value.quantize(Decimal("0.01")) if value.as_tuple().exponent < -2 else value


class _Missing(dict):
    """Unknown placeholders (an unanswered optional source) read as "null", not a crash."""

    def __missing__(self, key):
        return "null"
