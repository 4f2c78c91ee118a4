"""Money as Decimal plus a currency, never float (domain reference §0.3).

`MoneyField` is a DecimalField with the bank's precision that refuses floats: a float that
reaches a money column has already lost cents (0.1 + 0.2), so it is a bug to surface, not
round. The currency lives in a sibling field (`Currency`), CNY by default.
"""

from dataclasses import dataclass
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

# Up to 10^16 yuan with fen: more than any balance sheet the bank will see.
MONEY_MAX_DIGITS = 18
MONEY_DECIMAL_PLACES = 2
# The SME size standard (§5.5) states revenue and assets in 万元.
YUAN_PER_WAN = Decimal(10000)


class Currency(models.TextChoices):
    CNY = "CNY", _("Renminbi (CNY)")
    USD = "USD", _("US dollar (USD)")
    EUR = "EUR", _("Euro (EUR)")
    HKD = "HKD", _("Hong Kong dollar (HKD)")


class MoneyField(models.DecimalField):
    """An amount in the main unit (yuan), 2 decimal places; floats are refused."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("max_digits", MONEY_MAX_DIGITS)
        kwargs.setdefault("decimal_places", MONEY_DECIMAL_PLACES)
        super().__init__(*args, **kwargs)

    def to_python(self, value):
        if isinstance(value, float):
            raise ValidationError(_("Amounts must be exact decimals, not floating point."),
                                  code="float_amount")
        return super().to_python(value)

    def get_prep_value(self, value):
        if isinstance(value, float):
            raise TypeError("float passed to a MoneyField: use Decimal or str")
        return super().get_prep_value(value)


@dataclass(frozen=True)
class Money:
    """An amount with its currency, for code that passes amounts around."""

    amount: Decimal
    currency: str = Currency.CNY

    def __post_init__(self):
        if not isinstance(self.amount, Decimal):
            raise TypeError("Money.amount must be a Decimal")

    def in_wan(self) -> Decimal:
        """万元 (RMB 10,000), the unit of the SME size table."""
        return self.amount / YUAN_PER_WAN

    def __str__(self) -> str:
        return f"{self.currency} {self.amount:,.2f}"
