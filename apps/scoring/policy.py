"""The decision policy as data, and its evaluation: knock-outs, grade → recommendation, limit.

A policy document (stored in `DecisionPolicy.document`, versioned) holds every threshold the
recommendation uses (domain reference §0.2): the grade table, the knock-out rules, the
recommendation per grade, the suggested limit and price band per grade, and the monitoring
thresholds (PSI alert, sweeper grace period). Nothing here is a constant of the code; the
default below is the seed row, tagged [G] (design default, a bank will change it).

Knock-out rules are evaluated before the grade: one hit and the recommendation is "decline"
(or what the rule says), whatever the score (§3.2 R3: knockout or mandatory escalation).
A rule compares a feature with a value (`{"feature": "red_flags_r3", "op": ">", "value": 0}`)
or names a red-flag code stored on the investigation (`{"red_flag": "DISHONEST_DEBTOR"}`).
A feature that is missing never fires a comparison: unknown is not evidence of a breach.
"""

from __future__ import annotations

import math
from decimal import ROUND_DOWN, Decimal

import numpy as np

from apps.scoring.scorecard.model import ArtefactError, grade_for, validate_grades
from apps.scoring.states import Recommendation

OPERATORS = {">": np.greater, ">=": np.greater_equal, "<": np.less, "<=": np.less_equal,
             "==": np.equal}
RECOMMENDATIONS = set(Recommendation.values)

# Which model versions score every application in shadow beside the champion (issue #20):
# validated challengers, and those awaiting promotion [G]. Their scores never decide anything.
DEFAULT_SHADOW_STATES = ["validated", "promotion_requested"]

# Older stored policy versions predate the key; they get this bound [G].
DEFAULT_SCORE_MAX_ATTEMPTS = 5

DEFAULT_POLICY: dict = {
    "grades": [["A", 650.0], ["B", 600.0], ["C", 550.0], ["D", 500.0], ["E", None]],
    "recommendation_by_grade": {"A": "approve", "B": "approve", "C": "refer", "D": "refer",
                                "E": "decline"},
    "knockouts": [
        {"code": "R3_RED_FLAG", "feature": "red_flags_r3", "op": ">", "value": 0,
         "recommendation": "decline",
         "message": {"en": "An R3 red flag was raised by the investigation.",
                     "zh": "贷前调查存在R3级红旗。"}},
        {"code": "ENFORCEMENT_RECORD", "red_flag": "DISHONEST_DEBTOR",
         "recommendation": "decline",
         "message": {"en": "Dishonest-debtor (enforcement) record.",
                     "zh": "存在失信被执行记录。"}},
        {"code": "SITE_NOT_OPERATING", "red_flag": "NOT_OPERATING_NORMALLY",
         "recommendation": "decline",
         "message": {"en": "The business was not operating normally at the site visit.",
                     "zh": "现场经营状态异常。"}},
    ],
    # Suggested limit: the smaller of the amount requested and a share of annual revenue.
    "limits": {"A": {"revenue_share": 0.30, "price_band": "P1"},
               "B": {"revenue_share": 0.25, "price_band": "P2"},
               "C": {"revenue_share": 0.15, "price_band": "P3"},
               "D": {"revenue_share": 0.10, "price_band": "P4"},
               "E": {"revenue_share": 0.0, "price_band": ""}},
    "psi_alert": 0.25,            # §7.3: > 0.25 major shift, redevelop [V]
    "psi_window_days": 90,
    "psi_min_scores": 50,
    "sweeper_grace_minutes": 10,
    "override_rate_target": 0.10,  # §7.2 step 6: 5–10% [G]
    # What "bad" means for training from the loan book (§7.2 step 1): reached this many days
    # past due within this many months of disbursement [G]; training from the database refuses
    # fewer goods or bads than the minimums (a holdout of a handful of bads measures noise) [G].
    "default_definition": {"days_past_due": 90, "observation_months": 12,
                           "min_goods": 100, "min_bads": 100},
    "shadow_states": DEFAULT_SHADOW_STATES,
    # Failed attempts to score one application before it is listed as failed for people to
    # act on (issue #20); retries back off in between (30 s, 1 min, 2 min …) [G].
    "score_max_attempts": DEFAULT_SCORE_MAX_ATTEMPTS,
}


class PolicyError(ValueError):
    """The policy document is malformed; the message names the field."""


def validate_policy(document) -> dict:
    """Refuse a document the evaluation could misread; returns it unchanged when valid."""
    if not isinstance(document, dict):
        raise PolicyError("the policy must be a JSON object")
    try:
        grades = validate_grades(document.get("grades"))
    except ArtefactError as exc:
        raise PolicyError(f"grades: {exc}") from None
    names = [g for g, _ in grades]
    by_grade = document.get("recommendation_by_grade")
    if not isinstance(by_grade, dict) or set(by_grade) != set(names) \
            or not set(by_grade.values()) <= RECOMMENDATIONS:
        raise PolicyError("recommendation_by_grade needs approve/refer/decline for every grade")
    limits = document.get("limits")
    if not isinstance(limits, dict) or set(limits) != set(names):
        raise PolicyError("limits needs a row for every grade")
    for grade, row in limits.items():
        share = row.get("revenue_share") if isinstance(row, dict) else None
        if not isinstance(share, (int, float)) or isinstance(share, bool) or share < 0:
            raise PolicyError(f"limits.{grade}.revenue_share must be a number ≥ 0")
        if not isinstance(row.get("price_band", ""), str):
            raise PolicyError(f"limits.{grade}.price_band must be text")
    for i, rule in enumerate(document.get("knockouts") or []):
        if not isinstance(rule, dict) or not rule.get("code"):
            raise PolicyError(f"knockouts[{i}] needs a code")
        if rule.get("recommendation", "decline") not in RECOMMENDATIONS:
            raise PolicyError(f"knockouts[{i}].recommendation must be approve/refer/decline")
        if "red_flag" in rule:
            continue
        if rule.get("op") not in OPERATORS or not isinstance(rule.get("feature"), str) \
                or not isinstance(rule.get("value"), (int, float)):
            raise PolicyError(f"knockouts[{i}] needs feature, op ({', '.join(OPERATORS)}) "
                              "and a numeric value, or a red_flag code")
    for key in ("psi_alert", "psi_window_days", "psi_min_scores", "sweeper_grace_minutes",
                "override_rate_target"):
        value = document.get(key)
        if not isinstance(value, (int, float)) or isinstance(value, bool) or value < 0:
            raise PolicyError(f"{key} must be a number ≥ 0")
    if "shadow_states" in document:  # older stored versions predate it
        states = document["shadow_states"]
        allowed = {"draft", "validated", "promotion_requested"}
        if not isinstance(states, list) or not set(states) <= allowed:
            raise PolicyError("shadow_states must list model states among "
                              + ", ".join(sorted(allowed)))
    if "score_max_attempts" in document:  # older stored versions predate it
        value = document["score_max_attempts"]
        if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= 100:
            raise PolicyError("score_max_attempts must be a whole number from 1 to 100")
    if "default_definition" in document:  # older stored versions predate it
        definition = document["default_definition"]
        for key in ("days_past_due", "observation_months", "min_goods", "min_bads"):
            value = definition.get(key) if isinstance(definition, dict) else None
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise PolicyError(f"default_definition.{key} must be a whole number ≥ 1")
    return document


def score_max_attempts(document: dict) -> int:
    """Failed attempts allowed before a score is listed as failed (the policy's bound)."""
    return document.get("score_max_attempts", DEFAULT_SCORE_MAX_ATTEMPTS)


_STRICTNESS = {Recommendation.APPROVE: 0, Recommendation.REFER: 1, Recommendation.DECLINE: 2}


def knockouts_hit(document: dict, values: dict, red_flag_codes) -> list[dict]:
    """The knock-out rules one application hits, each with its code, value and message."""
    hits = []
    codes = set(red_flag_codes or ())
    for rule in document.get("knockouts") or []:
        if "red_flag" in rule:
            fired, shown = rule["red_flag"] in codes, rule["red_flag"]
        else:
            value = values.get(rule["feature"])
            fired = value is not None and bool(OPERATORS[rule["op"]](value, rule["value"]))
            shown = value
        if fired:
            hits.append({"code": rule["code"], "value": shown,
                         "recommendation": rule.get("recommendation", "decline"),
                         "message": rule.get("message", {})})
    return hits


def recommend(document: dict, *, score: float, values: dict, red_flag_codes=(),
              amount_requested=None, annual_revenue=None) -> dict:
    """Grade, recommendation, knock-outs hit, suggested limit and price band for one score."""
    grade = grade_for(score, document["grades"])
    recommendation = document["recommendation_by_grade"][grade]
    hits = knockouts_hit(document, values, red_flag_codes)
    for hit in hits:  # a knock-out can only make the advice stricter
        if _STRICTNESS[hit["recommendation"]] > _STRICTNESS[recommendation]:
            recommendation = hit["recommendation"]
    row = document["limits"][grade]
    limit = suggested_limit(
        None if amount_requested is None else Decimal(str(amount_requested)),
        None if annual_revenue is None else Decimal(str(annual_revenue)),
        Decimal(str(row["revenue_share"])), decline=recommendation == Recommendation.DECLINE)
    return {"grade": grade, "recommendation": recommendation, "knockouts": hits,
            "suggested_limit": limit, "price_band": row.get("price_band", "")}


def suggested_limit(amount: Decimal | None, revenue: Decimal | None, share: Decimal, *,
                    decline: bool) -> Decimal | None:
    """The smaller of the amount requested and the grade's share of annual revenue, cut to
    cents; zero when declined; None without a revenue (the one rule for a single score and
    both re-score paths)."""
    if revenue is None:
        return None
    if decline:
        return Decimal("0.00")
    cap = revenue * share
    return (cap if amount is None else min(cap, amount)).quantize(Decimal("0.01"),
                                                                  rounding=ROUND_DOWN)


def grade_codes(document: dict, scores: np.ndarray) -> np.ndarray:
    """Grade index per score, vectorised (bulk re-scoring): 0 = the first, best grade."""
    minimums = [m for _, m in document["grades"][:-1]]
    out = np.full(len(scores), len(minimums), dtype=np.int64)
    for i in range(len(minimums) - 1, -1, -1):
        out[scores >= minimums[i]] = i
    return out


def knockout_matrix(document: dict, columns: dict, red_flag_codes: list) -> np.ndarray:
    """Rows × rules, True where a knock-out fires: the vectorised `knockouts_hit`."""
    rules = document.get("knockouts") or []
    n = len(red_flag_codes)
    out = np.zeros((n, len(rules)), dtype=bool)
    for j, rule in enumerate(rules):
        if "red_flag" in rule:
            out[:, j] = [rule["red_flag"] in codes for codes in red_flag_codes]
        elif rule["feature"] in columns:
            values = np.asarray(columns[rule["feature"]], dtype=float)
            with np.errstate(invalid="ignore"):
                out[:, j] = ~np.isnan(values) & OPERATORS[rule["op"]](values, rule["value"])
    return out


def is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
