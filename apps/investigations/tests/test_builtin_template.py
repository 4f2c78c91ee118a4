import datetime as dt
from decimal import Decimal

import pytest

from apps.investigations.models import ChecklistTemplate, PolicyValue
from apps.investigations.policy import PolicyResolver
from apps.investigations.rules import cross_checks, derived_values, red_flags
from apps.investigations.seed import (
    builtin_template_files,
    load_template_file,
    seed_builtin_templates,
)
from apps.investigations.services import template_export, template_validate
from apps.investigations.states import ChecklistTemplateState

pytestmark = pytest.mark.django_db


def honest_answers() -> dict:
    """A consistent small manufacturer: every source of sales agrees within a few percent."""
    return {
        "A4_AMOUNT": Decimal("500000"), "A4_MATURITY": dt.date(2027, 6, 30),
        "A4_PURPOSE": "working_capital",
        "B1_OVERDUE": False, "B2_OVERDUE": False, "B2_M1_COUNT": 0, "B3_INQUIRIES": 3,
        "B3_APPROVALS": 2, "B5_CARD_UTILISATION": Decimal("35"), "B6_ONLINE_LOANS": 0,
        "B7_DISHONEST": False, "B9_TAX_GRADE": "B",
        "B10_REPUTATION": "Two suppliers and the market committee say payments are on time.",
        "B11_SPOUSE_CONSENT": "consents",
        "C2_PREMISES": "leased", "C2_LEASE_END": dt.date(2029, 1, 1), "C3_STATUS": "normal",
        "C4_TOP_CUSTOMER_SHARE": Decimal("22"),
        "C6_HEAD_OBSERVED": 20, "C6_HEAD_SOCIAL": 19, "C6_HEAD_DECLARED": 21,
        "D1_BALANCE": [
            {"row": "cash", "amount": "200000"}, {"row": "receivables", "amount": "600000"},
            {"row": "inventory", "amount": "500000"}, {"row": "fixed_assets", "amount": "1700000"},
            {"row": "payables", "amount": "300000"}, {"row": "bank_loans", "amount": "600000"},
            {"row": "private_loans", "amount": "0"},
        ],
        "D2_ANNUAL_SALES": Decimal("6000000"), "D2_ANNUAL_COGS": Decimal("4500000"),
        "D2_MONTHLY_FREE_CF": Decimal("80000"), "D3_INSTALMENT": Decimal("30000"),
        "D4_LOGISTICS_SALES": None,
        "D5_OPENING_EQUITY": Decimal("1000000"), "D5_RETAINED_PROFIT": Decimal("1300000"),
        "D5_INJECTIONS": Decimal("0"), "D5_DRAWINGS": Decimal("200000"),
        "E1_KWH_12M": Decimal("232000"), "E1_KWH_PRIOR_12M": Decimal("220000"),
        "E3_VAT_SALES_12M": Decimal("5800000"), "E3_TAX_PAID_12M": Decimal("170000"),
        "E3_TAX_PAID_PRIOR_12M": Decimal("160000"),
        "F1_SOURCE": "in_house", "F2_TOTAL_INFLOW_12M": Decimal("7000000"),
        "F2_EXCLUDED_12M": Decimal("1300000"), "F5_AVG_BALANCE": Decimal("120000"),
        "F6_UNDISCLOSED_REPAYMENTS": False,
        "H1_TYPE": "property", "H1_ENCUMBERED": False, "H2_VALUE": Decimal("1000000"),
    }


SANPIN = "three-products-three-tables"


def _file(code: str):
    return next(p for p in builtin_template_files() if load_template_file(p)["code"] == code)


@pytest.fixture
def seeded():
    templates = seed_builtin_templates()
    sanpin = next(t for t in templates if t.code == SANPIN)
    return templates, template_export(sanpin), PolicyResolver()


def test_builtin_files_load_and_validate(seeded):
    templates, data, _ = seeded
    assert len(templates) == len(builtin_template_files()) == 3
    assert {t.code for t in templates} == {SANPIN, "ipc-onsite-reconstruction", "five-c"}
    for template in templates:
        assert template.state == ChecklistTemplateState.PUBLISHED
        assert template_validate(template) == []
        # both languages everywhere
        exported = template_export(template)
        for section in exported["sections"]:
            for item in section["items"]:
                assert item["label"]["en"] and item["label"]["zh"], item["code"]
        for check in exported["cross_checks"]:
            assert check["explanation"]["en"] and check["explanation"]["zh"], check["code"]
            assert all("policy" in t for t in check["thresholds"])
    # exactly one default template: the 三品三表 one
    assert [t.code for t in templates if t.is_default] == [SANPIN]
    assert [s["code"] for s in data["sections"]] == ["A", "B", "C", "D", "E", "F", "H"]
    for section in data["sections"]:
        assert section["title"]["en"] and section["title"]["zh"]
        for item in section["items"]:
            assert item["label"]["en"] and item["label"]["zh"], item["code"]
    assert {c["code"] for c in data["cross_checks"]} >= {"SALES_XCHECK", "EQUITY_CHECK"}
    # Thresholds are policy rows with evidence tags, never literals in shipped templates.
    assert all("policy" in t for c in data["cross_checks"] for t in c["thresholds"])
    assert PolicyValue.objects.get(key="xcheck.sales.r3_deviation").evidence == "G"


def test_seeding_is_idempotent(seeded):
    seed_builtin_templates()
    assert ChecklistTemplate.objects.count() == 3


def test_file_and_export_agree(seeded):
    _, data, _ = seeded
    source = load_template_file(_file(SANPIN))
    assert data["sections"] == [
        {**s, "items": [template_export_item(i) for i in s["items"]]} for s in source["sections"]
    ]
    assert data["cross_checks"] == source["cross_checks"]


def template_export_item(item):  # defaults the export fills in
    return {"help": {"en": "", "zh": ""}, "required": True, "na_allowed": False, "unit": "",
            "min_length": None, "choices": [], "columns": {}, "expression": "", "evidence": {},
            "validation_rules": [], "red_flag_rules": [], **item}


def test_an_honest_investigation_raises_no_flag(seeded):
    _, data, policy = seeded
    values = derived_values(data, honest_answers(), policy)
    assert values["D7_LEVERAGE"] == Decimal("0.3")
    assert red_flags(data, values, policy) == []
    assert cross_checks(data, values, policy) == []


def test_window_dressed_sales_and_hidden_debt_are_explained(seeded):
    _, data, policy = seeded
    answers = honest_answers()
    answers["D2_ANNUAL_SALES"] = Decimal("12000000")   # declared 2x the bank inflows
    answers["D5_RETAINED_PROFIT"] = Decimal("3000000")  # profits that are not in net assets
    values = derived_values(data, answers, policy)
    findings = {f.code: f for f in cross_checks(data, values, policy)}
    sales = findings["SALES_XCHECK"]
    assert sales.severity == "R3"
    assert sales.policies["xcheck.sales.r3_deviation"] == Decimal("0.50")
    assert "Declared sales 12000000" in sales.message_en
    assert "effective bank inflows 5700000" in sales.message_en
    assert "above 0.50" in sales.message_en and "超过 0.50" in sales.message_zh
    assert findings["EQUITY_CHECK"].severity == "R2"
    assert "possible hidden debt" in findings["EQUITY_CHECK"].message_en.lower()
    flags = {f.code: f for f in red_flags(data, values, policy)}
    assert set(flags) == {"INFLOW_BELOW_DECLARED"}
    assert "policy(\"ratio.effective_inflow_to_sales.r2_min\") = 0.50" in (
        flags["INFLOW_BELOW_DECLARED"].explanation)


def test_red_flags_fire_with_their_numbers(seeded):
    _, data, policy = seeded
    answers = honest_answers()
    answers.update(B7_DISHONEST=True, C2_LEASE_END=dt.date(2026, 1, 1),
                   A4_PURPOSE="securities", B9_TAX_GRADE="D")
    answers["D1_BALANCE"][5] = {"row": "bank_loans", "amount": "2500000"}
    flags = {f.code: f for f in red_flags(data, derived_values(data, answers, policy), policy)}
    assert {"DISHONEST_DEBTOR", "LEASE_ENDS_BEFORE_LOAN", "PROHIBITED_PURPOSE", "TAX_GRADE_LOW",
            "LEVERAGE_HIGH"} <= set(flags)
    assert flags["LEVERAGE_HIGH"].severity == "R2"
    assert flags["LEVERAGE_HIGH"].explanation.startswith("D7_LEVERAGE = 0.9333 > ")
    assert flags["DISHONEST_DEBTOR"].severity == "R3"
