"""Answer validation per answer type (§3.2), on unsaved items: no database needed."""

import pytest
from django.core.exceptions import ValidationError

from apps.investigations.answers import answer_clean, evidence_clean, evidence_shortfall
from apps.investigations.models import Item

CHOICES = [{"code": "owned", "en": "Owned", "zh": "自有"},
           {"code": "leased", "en": "Leased", "zh": "租赁"}]
TABLE = {"columns": [{"code": "amount", "type": "money", "en": "A", "zh": "金额"},
                     {"code": "basis", "type": "text", "en": "B", "zh": "依据"}],
         "rows": [{"code": "cash", "en": "Cash", "zh": "现金"},
                  {"code": "loans", "en": "Loans", "zh": "借款"}]}


def item(answer_type, **kw):
    return Item(code="X1", answer_type=answer_type, **kw)


@pytest.mark.parametrize(("answer_type", "kw", "value", "expected"), [
    ("yes_no", {}, True, True),
    ("number", {"unit": "kWh"}, "12,000", "12000"),
    ("number", {}, 7, "7"),
    ("money", {}, "1250.50", "1250.50"),
    ("money", {}, "0", "0"),
    ("percent", {}, "35.5", "35.5"),
    ("date", {}, "2026-12-31", "2026-12-31"),
    ("text", {"min_length": 5}, "  hello world ", "hello world"),
    ("single_choice", {"choices": CHOICES}, "leased", "leased"),
    ("multi_choice", {"choices": CHOICES}, ["leased", "owned"], ["owned", "leased"]),
    ("photo", {}, [11, 12], [11, 12]),
    ("document", {}, ["doc-1"], ["doc-1"]),
    ("location", {}, {"lat": "31.2", "lng": 121}, {"lat": "31.2", "lng": "121"}),
])
def test_valid_answers(answer_type, kw, value, expected):
    assert answer_clean(item(answer_type, **kw), value) == expected


@pytest.mark.parametrize(("answer_type", "kw", "value"), [
    ("yes_no", {}, "yes"),
    ("number", {}, 1.5),
    ("number", {}, "abc"),
    ("number", {}, "NaN"),
    ("money", {}, "-1"),
    ("percent", {}, "101"),
    ("date", {}, "31/12/2026"),
    ("text", {"min_length": 50}, "ok"),
    ("text", {}, "   "),
    ("single_choice", {"choices": CHOICES}, "rented"),
    ("multi_choice", {"choices": CHOICES}, ["owned", "owned"]),
    ("multi_choice", {"choices": CHOICES}, "owned"),
    ("photo", {}, "photo.jpg"),
    ("photo", {}, [1, 1]),
    ("document", {}, [True]),
    ("location", {}, {"lat": "91", "lng": "0"}),
    ("location", {}, {"lat": "1"}),
    ("derived", {"expression": "1"}, "5"),
    ("yes_no", {}, None),
    ("table", {"columns": TABLE}, "a table"),
])
def test_invalid_answers_name_the_field(answer_type, kw, value):
    with pytest.raises(ValidationError) as exc:
        answer_clean(item(answer_type, **kw), value)
    assert any(key.startswith("X1") for key in exc.value.message_dict)


def test_table_rows_against_columns():
    rows = answer_clean(item("table", columns=TABLE), [
        {"row": "loans", "amount": "200", "basis": "contract"},
        {"row": "cash", "amount": "50", "basis": "counted"}])
    assert [r["row"] for r in rows] == ["cash", "loans"]
    with pytest.raises(ValidationError) as exc:
        answer_clean(item("table", columns=TABLE), [
            {"row": "cash", "amount": "-5", "basis": "x", "extra": 1},
            {"row": "stock", "amount": "1"}])
    errors = exc.value.message_dict
    assert {"X1.cash.amount", "X1.cash.extra", "X1.stock", "X1.loans"} <= set(errors)


def test_free_row_table():
    spec = {"columns": TABLE["columns"]}
    assert answer_clean(item("table", columns=spec), [{"amount": "1", "basis": "b"}]) == [
        {"amount": "1", "basis": "b"}]


def test_evidence_shape_and_shortfall():
    lease = item("single_choice", choices=CHOICES,
                 evidence={"document_types": ["lease"], "photo_count": 2})
    with pytest.raises(ValidationError):
        evidence_clean(lease, {"documents": {"passport": [1]}})
    clean = evidence_clean(lease, {"documents": {"lease": [1]}, "photos": [5]})
    assert evidence_shortfall(lease, "owned", clean) == ["1 of 2 photos"]
    assert len(evidence_shortfall(lease, "owned", {})) == 2
    photos = item("photo", evidence={"photo_count": 2})
    assert evidence_shortfall(photos, [1, 2], {}) == []
