"""Schedule arithmetic against tables computed by hand (worked in the comments), and
properties that must hold for any terms."""

import datetime as dt
from decimal import Decimal as D

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from apps.loans import schedules as s
from apps.products.models import DayCount


def rows(table):
    return [(r.number, r.due_date, r.principal, r.interest) for r in table]


def test_equal_instalment_hand_table_30_360():
    # 10,000 at 12% for 3 months, 30/360 (each period 30 days = 1/12 year, so r = 1%).
    # P = 10000 × 0.01 × 1.01³ / (1.01³ − 1) = 103.0301 / 0.030301 = 3400.2211… → 3400.22
    # 1: interest 10000 × 1% = 100.00, principal 3300.22, left 6699.78
    # 2: interest 66.9978 → 67.00, principal 3333.22, left 3366.56
    # 3: interest 33.6656 → 33.67, principal = what is left, 3366.56
    table = s.equal_instalment(amount=D("10000.00"), annual_rate_pct=D("12"), term_months=3,
                               value_date=dt.date(2026, 1, 15), day_count=DayCount.THIRTY_360)
    assert rows(table) == [
        (1, dt.date(2026, 2, 15), D("3300.22"), D("100.00")),
        (2, dt.date(2026, 3, 15), D("3333.22"), D("67.00")),
        (3, dt.date(2026, 4, 15), D("3366.56"), D("33.67")),
    ]
    assert s.equal_instalment_payment(D("10000.00"), D("12"), 3) == D("3400.22")


def test_equal_instalment_hand_table_act_360():
    # 120,000 at 3.6% for 2 months from 2026-03-10, ACT/360. r = 0.3%:
    # P = 120000 × 0.003 × 1.003² / (1.003² − 1) = 362.163240 / 0.006009 = 60270.13… → 60270.13
    # 1: 31 days: 120000 × 0.036 × 31/360 = 372.00; principal 60270.13 − 372.00 = 59898.13
    # 2: 30 days: 60101.87 × 0.036 × 30/360 = 180.3056… → 180.31; principal 60101.87
    table = s.equal_instalment(amount=D("120000.00"), annual_rate_pct=D("3.6"), term_months=2,
                               value_date=dt.date(2026, 3, 10), day_count=DayCount.ACT_360)
    assert rows(table) == [
        (1, dt.date(2026, 4, 10), D("59898.13"), D("372.00")),
        (2, dt.date(2026, 5, 10), D("60101.87"), D("180.31")),
    ]


def test_equal_principal_hand_table():
    # 10,000 at 6% for 3 months, 30/360: principal 10000/3 = 3333.33…→3333.33, last 3333.34.
    # interest 10000 × 0.5% = 50.00; 6666.67 × 0.5% = 33.33335 → 33.33; 3333.34 × 0.5% =
    # 16.6667 → 16.67.
    table = s.equal_principal(amount=D("10000.00"), annual_rate_pct=D("6"), term_months=3,
                              value_date=dt.date(2026, 1, 15), day_count=DayCount.THIRTY_360)
    assert rows(table) == [
        (1, dt.date(2026, 2, 15), D("3333.33"), D("50.00")),
        (2, dt.date(2026, 3, 15), D("3333.33"), D("33.33")),
        (3, dt.date(2026, 4, 15), D("3333.34"), D("16.67")),
    ]


def test_interest_only_bullet_hand_table_month_end_act_360():
    # 1,000,000 at 3.6% ACT/360 from Jan 31: due Feb 28, Mar 31, Apr 30 (28, 31, 30 days).
    # Interest a day = 1,000,000 × 0.036 / 360 = 100.00.
    table = s.interest_only_bullet(amount=D("1000000.00"), annual_rate_pct=D("3.6"),
                                   term_months=3, value_date=dt.date(2026, 1, 31),
                                   day_count=DayCount.ACT_360)
    assert rows(table) == [
        (1, dt.date(2026, 2, 28), D("0"), D("2800.00")),
        (2, dt.date(2026, 3, 31), D("0"), D("3100.00")),
        (3, dt.date(2026, 4, 30), D("1000000.00"), D("3000.00")),
    ]


def test_irregular_hand_table_act_365():
    # 10,000 at 7.3% ACT/365 = 2.00 a day on 10,000. Jan 10 → Mar 10: 59 days → 118.00.
    # Then 6,000 outstanding = 1.20 a day; Mar 10 → Jun 10: 92 days → 110.40.
    table = s.irregular(amount=D("10000.00"), annual_rate_pct=D("7.3"),
                        value_date=dt.date(2026, 1, 10), day_count=DayCount.ACT_365,
                        principal_rows=[(dt.date(2026, 3, 10), D("4000.00")),
                                        (dt.date(2026, 6, 10), D("6000.00"))])
    assert rows(table) == [
        (1, dt.date(2026, 3, 10), D("4000.00"), D("118.00")),
        (2, dt.date(2026, 6, 10), D("6000.00"), D("110.40")),
    ]


def test_month_end_clamping_follows_the_anchor_day():
    assert s.monthly_due_dates(dt.date(2028, 1, 31), 4) == [
        dt.date(2028, 2, 29), dt.date(2028, 3, 31), dt.date(2028, 4, 30), dt.date(2028, 5, 31)]
    assert s.monthly_due_dates(dt.date(2026, 11, 30), 3) == [
        dt.date(2026, 12, 30), dt.date(2027, 1, 30), dt.date(2027, 2, 28)]


def test_thirty_360_counts_day_31_as_30():
    assert s.year_fraction(dt.date(2026, 1, 31), dt.date(2026, 3, 31), DayCount.THIRTY_360) \
        == D(60) / D(360)
    assert s.year_fraction(dt.date(2026, 2, 28), dt.date(2026, 3, 31), DayCount.THIRTY_360) \
        == D(33) / D(360)


def test_rounding_is_half_up_to_the_fen():
    assert s.to_fen(D("0.005")) == D("0.01")
    assert s.to_fen(D("2.345")) == D("2.35")
    assert s.to_fen(D("2.3449")) == D("2.34")


def test_bad_terms_are_refused():
    with pytest.raises(ValueError):
        s.equal_principal(amount=D("0"), annual_rate_pct=D("5"), term_months=3,
                          value_date=dt.date(2026, 1, 1), day_count=DayCount.ACT_360)
    with pytest.raises(ValueError):
        s.build_schedule(method="revolving", amount=D("1.00"), annual_rate_pct=D("5"),
                         term_months=3, value_date=dt.date(2026, 1, 1),
                         day_count=DayCount.ACT_360)


def test_irregular_upload_csv_ok():
    content = b"due_date,principal\n2026-03-10,4000\n2026-06-10,\"6,000.00\"\n"
    parsed = s.parse_irregular(name="s.csv", content=content, amount=D("10000.00"),
                               value_date=dt.date(2026, 1, 10))
    assert parsed == [(dt.date(2026, 3, 10), D("4000")), (dt.date(2026, 6, 10), D("6000.00"))]


def test_irregular_upload_errors_name_line_and_reason():
    content = (b"due_date,principal\n2026-03-10,4000\n2026-02-01,abc\nsoon,-1\n"
               b"2026-07-01,1.234\n")
    with pytest.raises(s.ScheduleUploadError) as caught:
        s.parse_irregular(name="s.csv", content=content, amount=D("10000.00"),
                          value_date=dt.date(2026, 1, 10))
    found = [(e.line, e.field) for e in caught.value.errors]
    assert found == [(3, "due_date"), (3, "principal"), (4, "due_date"), (4, "principal"),
                     (5, "principal")]


def test_irregular_upload_sum_must_equal_amount():
    content = b"due_date,principal\n2026-03-10,4000\n"
    with pytest.raises(s.ScheduleUploadError) as caught:
        s.parse_irregular(name="s.csv", content=content, amount=D("10000.00"),
                          value_date=dt.date(2026, 1, 10))
    assert caught.value.errors[0].field == "principal"
    assert "4,000.00" in caught.value.errors[0].reason


def test_irregular_upload_xlsx():
    import io

    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.append(["due_date", "principal"])
    sheet.append([dt.datetime(2026, 3, 10), 2500.5])
    sheet.append([dt.date(2026, 4, 10), "7499.50"])
    buffer = io.BytesIO()
    book.save(buffer)
    parsed = s.parse_irregular(name="plan.XLSX", content=buffer.getvalue(),
                               amount=D("10000.00"), value_date=dt.date(2026, 1, 10))
    assert [p for _d, p in parsed] == [D("2500.5"), D("7499.50")]


def test_irregular_upload_header_and_garbage():
    with pytest.raises(s.ScheduleUploadError) as caught:
        s.parse_irregular(name="s.csv", content=b"date;amount\n", amount=D("1.00"),
                          value_date=dt.date(2026, 1, 10))
    assert caught.value.errors[0].field == "header"
    with pytest.raises(s.ScheduleUploadError):
        s.parse_irregular(name="s.xlsx", content=b"not a zip", amount=D("1.00"),
                          value_date=dt.date(2026, 1, 10))


METHODS = [s.equal_instalment, s.equal_principal, s.interest_only_bullet]


@settings(max_examples=300, deadline=None)
@given(amount=st.decimals(min_value=D("0.01"), max_value=D("50000000"), places=2),
       rate=st.decimals(min_value=D("0"), max_value=D("36"), places=3),
       term=st.integers(min_value=1, max_value=120),
       value_date=st.dates(min_value=dt.date(2020, 1, 1), max_value=dt.date(2040, 12, 31)),
       day_count=st.sampled_from(list(DayCount)),
       method=st.sampled_from(METHODS))
def test_any_terms_principal_sums_exactly_and_no_row_is_negative(amount, rate, term, value_date,
                                                                 day_count, method):
    table = method(amount=amount, annual_rate_pct=rate, term_months=term,
                   value_date=value_date, day_count=day_count)
    assert len(table) == term
    assert sum(r.principal for r in table) == amount
    assert all(r.principal >= 0 and r.interest >= 0 for r in table)
    assert all(r.principal == s.to_fen(r.principal) and r.interest == s.to_fen(r.interest)
               for r in table)
    dates = [r.due_date for r in table]
    assert dates == sorted(set(dates)) and dates[0] > value_date
