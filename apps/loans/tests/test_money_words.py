from decimal import Decimal as D

import pytest

from apps.loans.money_words import amount_in_capitals


@pytest.mark.parametrize(("amount", "words"), [
    ("0", "零元整"),
    ("0.35", "叁角伍分"),
    ("0.05", "伍分"),
    ("1.05", "壹元零伍分"),
    ("10", "壹拾元整"),
    ("15.50", "壹拾伍元伍角"),
    ("1680.32", "壹仟陆佰捌拾元叁角贰分"),
    ("10005.07", "壹万零伍元零柒分"),
    ("105000", "壹拾万伍仟元整"),
    ("1050000.50", "壹佰零伍万元伍角"),
    ("100010000", "壹亿零壹万元整"),
    ("100000000", "壹亿元整"),
    ("500000.00", "伍拾万元整"),
    ("1234567890.12", "壹拾贰亿叁仟肆佰伍拾陆万柒仟捌佰玖拾元壹角贰分"),
    ("20000001", "贰仟万零壹元整"),
])
def test_capitals(amount, words):
    assert amount_in_capitals(D(amount)) == words
