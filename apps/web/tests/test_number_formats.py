"""Issue #18: amounts keep their thousands separators in Chinese as in English."""

from decimal import Decimal

from django.template import Context, Template
from django.utils import translation
from django.utils.formats import date_format, number_format


def test_chinese_amounts_are_grouped_by_thousands():
    with translation.override("zh-hans"):
        assert number_format(Decimal("1234567.5"), 2, force_grouping=True) == "1,234,567.50"
        shown = Template('{{ amount|floatformat:"2g" }}').render(
            Context({"amount": Decimal("450000")}))
        assert shown == "450,000.00"
        # Dates stay Django's Chinese format.
        import datetime as dt
        assert date_format(dt.date(2026, 9, 5), "SHORT_DATE_FORMAT") == "2026年9月5日"
    with translation.override("en"):
        assert number_format(Decimal("1234567.5"), 2, force_grouping=True) == "1,234,567.50"
