import copy
from decimal import Decimal

import numpy as np
import pytest

from apps.scoring.policy import (
    DEFAULT_POLICY,
    PolicyError,
    grade_codes,
    knockout_matrix,
    recommend,
    validate_policy,
)
from apps.scoring.scorecard.model import grade_for


def test_grade_cut_offs_map_to_recommendations_and_limits():
    advice = recommend(DEFAULT_POLICY, score=660, values={}, amount_requested=Decimal("500000"),
                       annual_revenue=Decimal("1000000"))
    assert advice["grade"] == "A" and advice["recommendation"] == "approve"
    assert advice["suggested_limit"] == Decimal("300000.00")  # 30% of revenue < requested
    assert advice["price_band"] == "P1" and advice["knockouts"] == []
    assert recommend(DEFAULT_POLICY, score=560, values={})["recommendation"] == "refer"
    low = recommend(DEFAULT_POLICY, score=420, values={}, amount_requested=Decimal("5"),
                    annual_revenue=Decimal("10"))
    assert low["grade"] == "E" and low["recommendation"] == "decline"
    assert low["suggested_limit"] == Decimal("0.00")


def test_a_knock_out_declines_whatever_the_score_but_unknown_never_fires():
    r3 = recommend(DEFAULT_POLICY, score=700, values={"red_flags_r3": 1.0})
    assert r3["grade"] == "A" and r3["recommendation"] == "decline"
    assert [k["code"] for k in r3["knockouts"]] == ["R3_RED_FLAG"]
    enforcement = recommend(DEFAULT_POLICY, score=700, values={},
                            red_flag_codes=["DISHONEST_DEBTOR"])
    assert enforcement["knockouts"][0]["code"] == "ENFORCEMENT_RECORD"
    assert recommend(DEFAULT_POLICY, score=700,
                     values={"red_flags_r3": None})["recommendation"] == "approve"


def test_a_knock_out_only_makes_the_advice_stricter():
    policy = copy.deepcopy(DEFAULT_POLICY)
    policy["knockouts"] = [{"code": "SOFT", "feature": "inquiries_6m", "op": ">=", "value": 10,
                            "recommendation": "refer"}]
    assert recommend(policy, score=700, values={"inquiries_6m": 12})["recommendation"] == "refer"
    assert recommend(policy, score=400, values={"inquiries_6m": 12})["recommendation"] == \
        "decline"


@pytest.mark.parametrize("mutate, field", [
    (lambda p: p["grades"].pop(), "grades"),
    (lambda p: p["recommendation_by_grade"].update(A="maybe"), "recommendation_by_grade"),
    (lambda p: p["limits"].pop("C"), "limits"),
    (lambda p: p["knockouts"].append({"code": "X", "feature": "f", "op": "~", "value": 1}),
     "knockouts[3]"),
    (lambda p: p.update(psi_alert="high"), "psi_alert"),
])
def test_a_malformed_policy_is_refused_naming_the_field(mutate, field):
    policy = copy.deepcopy(DEFAULT_POLICY)
    mutate(policy)
    with pytest.raises(PolicyError, match=field.replace("[", r"\[").replace("]", r"\]")):
        validate_policy(policy)


def test_the_vectorised_policy_agrees_with_the_scalar_one():
    rng = np.random.default_rng(0)
    scores = rng.uniform(400, 750, 500)
    r3 = np.where(rng.random(500) < 0.2, np.nan, rng.poisson(0.3, 500))
    codes = [["DISHONEST_DEBTOR"] if rng.random() < 0.05 else [] for _ in range(500)]
    names = [g for g, _ in DEFAULT_POLICY["grades"]]
    grades = grade_codes(DEFAULT_POLICY, scores)
    hits = knockout_matrix(DEFAULT_POLICY, {"red_flags_r3": r3}, codes)
    for i in range(500):
        value = None if np.isnan(r3[i]) else float(r3[i])
        advice = recommend(DEFAULT_POLICY, score=float(scores[i]),
                           values={"red_flags_r3": value}, red_flag_codes=codes[i])
        assert names[grades[i]] == advice["grade"] == grade_for(scores[i],
                                                                DEFAULT_POLICY["grades"])
        assert {k["code"] for k in advice["knockouts"]} == {
            DEFAULT_POLICY["knockouts"][j]["code"] for j in np.flatnonzero(hits[i])}
