"""A tax record's arithmetic as its internal check (issue 19): tax = base × rate on every
month, totals = the sum of the months, each month once — in the confidence of an inferred
mapping and, under any mapping, a finding that leaves the figures unverified."""

from decimal import Decimal

import pytest

from apps.documents.checks import records
from apps.documents.checks.messages import flag_text
from apps.documents.checks.tables import read_rows
from apps.documents.statements.infer import infer_series
from apps.documents.statements.policies import statement_policy_values
from apps.documents.statements.taxcheck import check_tax, parse_rate
from apps.documents.tests import statement_generator as gen
from apps.documents.tests.conftest import context
from apps.documents.tests.statement_rates import _series_profile, measure_tax_checks

POLICY = statement_policy_values().get
TAX = [x for x in gen.SERIES_LAYOUTS if x.kind == "tax_record"]


def _read(tmp_path, generated):
    path = tmp_path / f"t.{generated.fmt}"
    path.write_bytes(generated.data)
    return path, records.check_tax_record(context(path, generated.fmt, profiles=[])).findings


def _read_confirmed(tmp_path, generated):
    """Read; a mapping a person must confirm is confirmed as proposed and read again."""
    path, found = _read(tmp_path, generated)
    if found.get("unverified_reason") == "unconfirmed_mapping":
        profile = _series_profile(found["proposed_mapping"], "tax_record")
        found = records.check_tax_record(context(path, generated.fmt,
                                                 profiles=[profile])).findings
    return found


@pytest.mark.parametrize("layout", TAX, ids=lambda layout: layout.name)
def test_an_honest_record_passes_its_own_arithmetic(tmp_path, layout):
    for regime in ("small", "general"):
        _path, found = _read(tmp_path, gen.series_record(41, layout, regime=regime))
        assert found.get("verified") is not False or (
            regime == "general" and not layout.named
            and found["unverified_reason"] == "unconfirmed_mapping"), (regime, found)
        if found.get("verified") is not False:
            assert found["tax_check"]["breaks"] == 0, found["tax_check"]
            assert "tax_inconsistent" not in {f["code"] for f in found["flags"]}
        if regime == "small":
            expected = "column" if "rate" in {f for f, _h in layout.columns} else "steady"
            assert found["tax_check"]["rate_source"] == expected


@pytest.mark.parametrize("layout", TAX, ids=lambda layout: layout.name)
def test_revenue_inflated_with_the_tax_left_alone_is_caught(tmp_path, layout):
    generated = gen.series_record(42, layout, edit=True)
    if not layout.named:  # the breaks also keep a column found by content from being proven
        assert _read(tmp_path, generated)[1]["unverified_reason"] == "unconfirmed_mapping"
    found = _read_confirmed(tmp_path, generated)
    assert found["verified"] is False
    assert found["unverified_reason"] == "tax_inconsistent", found
    flag = next(f for f in found["flags"] if f["code"] == "tax_inconsistent")
    assert flag["params"]["rate_breaks"] == 3
    # the finding quotes the months: revenue, tax paid and what base × rate would give
    quoted = flag["params"]["rows"]
    assert len(quoted) == 3 and all(Decimal(r["expected"]) > Decimal(r["tax_paid"])
                                    for r in quoted)
    assert "3 months whose tax is not their taxable base times the rate" in flag_text(flag)


@pytest.mark.parametrize("layout", [x for x in TAX if x.totals], ids=lambda x: x.name)
def test_revenue_and_tax_inflated_together_break_the_totals_row(tmp_path, layout):
    generated = gen.series_record(43, layout, edit="revenue_and_tax")
    _path, found = _read(tmp_path, generated)
    assert found["unverified_reason"] == "tax_inconsistent", found
    assert {b["field"] for b in found["tax_check"]["totals_breaks"]} == {"revenue", "tax_paid"}
    assert found["tax_check"]["rate_breaks"] == []


def test_the_check_is_in_the_confidence_of_a_mapping_found_by_content(tmp_path):
    """tax-en-newest names no revenue column: the steady rate proves the larger money column
    is the base (confidence 1); with three months off the rate the proof falls below the
    auto-accept value and a person confirms."""
    layout = next(x for x in TAX if x.name == "tax-en-newest")
    minimum = POLICY("documents.statement.infer_min_confidence")
    for edit, proven in ((False, True), (True, False)):
        generated = gen.series_record(44, layout, edit=edit)
        path, _found = _read(tmp_path, generated)
        proposal = infer_series(read_rows(path, generated.fmt), "tax_record", POLICY)
        assert (proposal.confidence >= minimum) is proven, proposal
        without_policy = infer_series(read_rows(path, generated.fmt), "tax_record")
        assert without_policy.confidence < minimum
        assert "tax_check_not_run" in without_policy.reasons
    general = gen.series_record(44, layout, regime="general")
    path, found = _read(tmp_path, general)
    assert found["unverified_reason"] == "unconfirmed_mapping"
    assert "no_tax_check" in found["proposed_mapping"]["reasons"]


def test_periods_listed_twice_or_missing_and_the_rate_column():
    periods = ["2026-01", "2026-02", "2026-02", "2026-04"]
    found = check_tax(periods, [Decimal(100000)] * 4, [Decimal(3000)] * 4, policy=POLICY)
    assert found.duplicate_periods == ["2026-02"] and found.missing_periods == ["2026-03"]
    assert found.rate_source == "steady" and found.rate == Decimal("0.03")
    rates = [parse_rate(v) for v in ("3%", "0.03", "3", "1%")]
    assert rates == [Decimal("0.03")] * 3 + [Decimal("0.01")]
    by_column = check_tax(["2026-01", "2026-02", "2026-03", "2026-04"],
                          [Decimal(100000)] * 4, [Decimal(3000)] * 4, rates=rates,
                          policy=POLICY)
    assert by_column.rate_source == "column" and len(by_column.rate_breaks) == 1
    # rounding: a fen per invoice is not a break; the policy's yuan is the floor
    assert check_tax(["2026-01", "2026-02", "2026-03"], [Decimal("333.33")] * 3,
                     [Decimal("10.50")] * 3, policy=POLICY).breaks == 0
    assert check_tax(["2026-01"], [Decimal(1)], [Decimal(1)],
                     policy=lambda key: None) is None


def test_tax_check_rates():
    """Detection and false flags over every tax layout (docs/controls/statements.md)."""
    result = measure_tax_checks(per_layout=3)
    for regime, row in result["honest"].items():
        assert row["false_flags"] <= 0.05 * row["files"], (regime, row)
    assert result["faked"]["revenue"]["caught"] == result["faked"]["revenue"]["files"]
    totals = result["faked"]["revenue_and_tax"]
    assert totals["caught_with_totals"] == totals["files_with_totals"]
