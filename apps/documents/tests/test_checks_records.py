"""Bank-statement, tax and utility parsing on realistic files in both seeded layouts."""

import datetime as dt
from decimal import Decimal

from apps.documents import samples
from apps.documents.checks import records
from apps.documents.checks.tables import match_profile, parse_amount, parse_period, read_rows
from apps.documents.states import CheckStatus
from apps.documents.tests.conftest import FIXTURES, context, seeded_profiles

CN = FIXTURES / "statement_cn_debit_credit.csv"
EN = FIXTURES / "statement_en_signed.xlsx"


def codes(outcome):
    return {f["code"] for f in outcome.findings["flags"]}


def test_chinese_layout_with_debit_and_credit_columns():
    outcome = records.check_bank_statement(context(CN, "csv", profiles_kind="bank_statement"))
    f = outcome.findings
    assert f["profile"] == "cn-debit-credit"
    assert f["transactions"] == 124 and f["skipped_rows"] == 1  # the 合计 footer
    assert (f["first_date"], f["last_date"]) == ("2025-11-04", "2026-10-27")
    assert f["months_covered"] == 12
    # The September round trip: 300,000 in from 速汇, 298,500 back two days later.
    assert f["round_trip_inflow"] == "300000.00"
    # Cash of 50,000 or more: the deposit and the ATM withdrawal, nothing else.
    assert f["large_cash_count"] == 2
    assert {c["amount"] for c in f["large_cash"]} == {"80000.00", "-60000.00"}
    total_in = sum(Decimal(m["in"]) for m in f["monthly"].values())
    assert str(total_in) == f["total_inflow"]
    assert Decimal(f["figures"]["bank.inflows_12m"]) == total_in
    # 1 large trip out of ~5M inflow is under the 20% limit; two cash rows = the limit of 2.
    assert outcome.status == CheckStatus.PASSED, f["flags"]


def test_english_layout_with_signed_amounts_in_xlsx():
    outcome = records.check_bank_statement(context(EN, "xlsx", profiles_kind="bank_statement"))
    f = outcome.findings
    assert f["profile"] == "en-signed"
    assert f["transactions"] == 90 and f["months_covered"] == 9
    assert f["top_counterparty"] in {"Acme Trading Ltd", "Blue River Foods", "Harbour Logistics"}
    # Three customers share the inflows: the largest holds roughly a third.
    assert Decimal("0.25") < Decimal(f["top_counterparty_share"]) < Decimal("0.5")
    outflow = sum(Decimal(m["out"]) for m in f["monthly"].values())
    assert Decimal(f["figures"]["bank.outflows_12m"]) == outflow > 0
    assert outcome.status == CheckStatus.PASSED, f["flags"]


def test_red_flag_patterns_raise_attention(tmp_path):
    end = dt.date(2026, 10, 31)
    txns = [samples.Txn(end - dt.timedelta(days=i * 10), "货款", "唯一客户有限公司",
                        Decimal("100000.00")) for i in range(12)]
    txns += [samples.Txn(t.date + dt.timedelta(days=1), "退回", t.counterparty,
                         -t.amount) for t in txns[:6]]
    txns += [samples.Txn(end, "现金存入", "", Decimal("90000.00"))] * 3
    path = tmp_path / "s.csv"
    path.write_bytes(samples.statement_cn_csv(sorted(txns, key=lambda t: t.date)))
    outcome = records.check_bank_statement(context(path, "csv", profiles_kind="bank_statement"))
    assert outcome.status == CheckStatus.ATTENTION
    assert codes(outcome) >= {"statement_too_short", "counterparty_concentration",
                              "round_tripping", "large_cash", "round_numbers"}


def test_unknown_layout_needs_a_person_and_empty_statement_fails(tmp_path):
    unknown = tmp_path / "u.csv"
    unknown.write_text("when,what,how much\n2026-01-01,x,5\n")
    outcome = records.check_bank_statement(context(unknown, "csv",
                                                   profiles_kind="bank_statement"))
    assert outcome.status == CheckStatus.ATTENTION and codes(outcome) == {"no_column_profile"}

    empty = tmp_path / "e.csv"
    empty.write_bytes(samples.statement_cn_csv([]))
    outcome = records.check_bank_statement(context(empty, "csv",
                                                   profiles_kind="bank_statement"))
    assert outcome.status == CheckStatus.FAILED and "no_transactions" in codes(outcome)


def test_missing_policy_is_a_finding_not_a_pass():
    outcome = records.check_bank_statement(context(CN, "csv", profiles_kind="bank_statement",
                                                   policy=lambda key: None))
    assert outcome.status == CheckStatus.ATTENTION
    assert "policy_missing" in codes(outcome)


def test_tax_series_and_decline(tmp_path):
    steady = tmp_path / "t.csv"
    steady.write_bytes(samples.tax_csv(seed=3, end=dt.date(2026, 10, 31)))
    outcome = records.check_tax_record(context(steady, "csv", profiles_kind="tax_record"))
    assert outcome.status == CheckStatus.PASSED, outcome.findings["flags"]
    assert outcome.findings["months"] == 24
    revenue = sum(Decimal(v["revenue"]) for m, v in outcome.findings["monthly"].items()
                  if m >= "2025-11")
    assert Decimal(outcome.findings["figures"]["tax.revenue_12m"]) == revenue

    falling = tmp_path / "f.csv"
    falling.write_bytes(samples.tax_csv(seed=3, end=dt.date(2026, 10, 31), trend=-0.4))
    outcome = records.check_tax_record(context(falling, "csv", profiles_kind="tax_record"))
    assert outcome.status == CheckStatus.ATTENTION and codes(outcome) >= {"series_decline"}


def test_electricity_series(tmp_path):
    path = tmp_path / "u.csv"
    path.write_bytes(samples.electricity_csv(seed=5, months=14, end=dt.date(2026, 10, 31)))
    outcome = records.check_utility_bill(context(path, "csv", profiles_kind="utility_bill"))
    assert outcome.status == CheckStatus.PASSED
    kwh = sum(Decimal(v["kwh"]) for m, v in outcome.findings["monthly"].items()
              if m >= "2025-11")
    assert Decimal(outcome.findings["figures"]["utility.kwh_12m"]) == kwh


def test_value_parsers():
    assert parse_amount("1,234.50") == Decimal("1234.50")
    assert parse_amount("(1,000)") == Decimal("-1000.00")
    assert parse_amount("¥ 88") == Decimal("88.00")
    assert parse_amount("--") is None and parse_amount("abc") is None
    assert parse_period("2026年3月") == "2026-03" and parse_period("202611") == "2026-11"
    assert parse_period(dt.date(2026, 1, 5)) == "2026-01" and parse_period("2026-13") is None


def test_header_found_below_a_preamble():
    rows = read_rows(CN, "csv")
    mapping = match_profile(rows, seeded_profiles("bank_statement"))
    assert mapping.header_row == 4
    assert {"date", "debit", "credit", "counterparty"} <= set(mapping.columns)
