"""Serializer fields shared by the API modules: money travels as decimal strings."""

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from apps.parties.money import MONEY_DECIMAL_PLACES, MONEY_MAX_DIGITS


class MoneyField(serializers.DecimalField):
    """An amount as a decimal string ("500000.00"); a JSON float is refused, because it has
    already lost cents on the client's side (domain reference §0.3). Integers are exact."""

    default_error_messages = {
        "float": _("Send amounts as decimal strings, e.g. \"500000.00\", not as JSON numbers "
                   "with a fraction."),
    }

    def __init__(self, **kwargs):
        kwargs.setdefault("max_digits", MONEY_MAX_DIGITS)
        kwargs.setdefault("decimal_places", MONEY_DECIMAL_PLACES)
        kwargs.setdefault("coerce_to_string", True)
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        if isinstance(data, float):
            self.fail("float")
        return super().to_internal_value(data)
