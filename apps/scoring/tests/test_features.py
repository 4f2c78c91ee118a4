import datetime as dt
import json
import math

import numpy as np

from apps.scoring.features.assemble import FeatureRecord, compute_values, records_to_columns
from apps.scoring.features.spec import FEATURE_NAMES, KINDS
from apps.scoring.services.registry import default_model_document
from apps.scoring.synthetic import COLUMNS, TARGET, generate_rows

EMPTY = {"enterprise": {}, "terms": {}, "checklist": {}, "findings": None, "figures": {},
         "exposure_total": None}


def test_nothing_known_is_missing_everywhere_never_zero():
    values = compute_values(**EMPTY)
    assert list(values) == list(FEATURE_NAMES)
    assert all(v is None for v in values.values())
    columns = records_to_columns([values])
    assert all(math.isnan(columns[n][0]) for n, k in KINDS.items() if k == "numeric")
    assert all(columns[n] == [None] for n, k in KINDS.items() if k == "categorical")


def test_a_submitted_investigation_without_flags_counts_zero_and_sources_map_by_item_code():
    values = compute_values(
        enterprise={"annual_revenue": 2_000_000, "registration_date": dt.date(2020, 1, 1),
                    "as_of": dt.date(2025, 1, 1), "size_class": "micro", "industry": "C",
                    "tax_credit_rating": "B"},
        terms={"amount_requested": 500_000},
        checklist={"C2_PREMISES": "leased", "D7_LEVERAGE": "0.55", "D2_ANNUAL_SALES": "1000000",
                   "D2_ANNUAL_COGS": "700000", "E3_VAT_SALES_12M": "800000",
                   "E1_KWH_TREND": "-0.2", "E3_TAX_PAID_12M": "90", "E3_TAX_PAID_PRIOR_12M": "100"},
        findings={"r3": 0, "r2": 2, "cross_checks": 1},
        figures={"bank.inflows_12m": 500_000, "bank.round_trip_share": None},
        exposure_total=1_000_000)
    assert values["firm_age_years"] == round(1827 / 365.25, 6)
    assert values["tax_rating"] == "B"  # no B9 answer: the enterprise record
    assert values["premises_owned"] == "no" and values["debt_to_assets"] == 0.55
    assert values["gross_margin"] == 0.3 and values["loan_to_revenue"] == 0.25
    assert values["utility_trend_pct"] == -20.0 and values["tax_paid_trend_pct"] == -10.0
    # sales 1.0m, VAT 0.8m, bank 0.5m: the largest pairwise gap is |1.0 − 0.5| / 1.0
    assert values["revenue_deviation"] == 0.5 and values["bank_inflow_to_sales"] == 0.5
    assert values["red_flags_r3"] == 0 and values["red_flags_r2"] == 2
    assert values["bank_round_trip_share"] is None  # figure not parsed: missing, not zero
    assert values["group_exposure_to_revenue"] == 0.5


def test_the_input_hash_is_canonical():
    a = FeatureRecord(values={"x": 1.0, "y": None}, red_flag_codes=["B", "A"])
    b = FeatureRecord(values={"y": None, "x": 1.0}, red_flag_codes=["A", "B"])
    c = FeatureRecord(values={"x": 1.5, "y": None}, red_flag_codes=["A", "B"])
    assert a.input_hash == b.input_hash != c.input_hash
    json.dumps(a.canonical(), allow_nan=False)  # storable as is


def test_training_data_and_the_shipped_model_use_the_pipeline_names():
    assert [*FEATURE_NAMES, TARGET] == COLUMNS
    rows = generate_rows(3000, seed=3)
    assert 0.06 < np.mean([r[TARGET] == "1" for r in rows]) < 0.18
    assert any(r["bank_round_trip_share"] == "" for r in rows)  # missing on purpose
    document = default_model_document()
    features = json.loads(document["artefact"])["features"]
    assert set(features) <= set(FEATURE_NAMES) and len(features) >= 10
    assert document["metrics"]["auc"] > 0.7
