"""Credit products, their versions and the declarative entry conditions of each version.

A published version never changes: the next change is a new version. Applications keep the
version they were checked against, so every past decision can be explained under its own rules.
"""

from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from apps.core.models import PolicyVersionPart, PublishedVersion, TimeStampedModel
from apps.core.policy import Evidence
from apps.parties.money import Currency, MoneyField
from apps.products.conditions import ConditionValueError, Operator, normalise_value
from apps.products.facts import fact_choices


class RepaymentMethod(models.TextChoices):
    EQUAL_INSTALMENT = "equal_instalment", _("Equal instalments (principal and interest)")
    EQUAL_PRINCIPAL = "equal_principal", _("Equal principal")
    INTEREST_ONLY_BULLET = "interest_bullet", _("Interest monthly, principal at maturity")
    REVOLVING = "revolving", _("Revolving: draw and repay as needed")


class DayCount(models.TextChoices):
    """How interest accrues between two dates: product data (ACT/360 is the CNY default)."""

    ACT_360 = "ACT/360", _("Actual days / 360")
    ACT_365 = "ACT/365", _("Actual days / 365")
    THIRTY_360 = "30/360", _("30 days a month / 360")


class CollateralType(models.TextChoices):
    NONE = "none", _("No collateral (credit loan)")
    PROPERTY = "property", _("Property mortgage")
    GUARANTEE_PERSON = "guarantee_person", _("Personal guarantee")
    GUARANTEE_COMPANY = "guarantee_company", _("Guarantee company")
    RECEIVABLES = "receivables", _("Pledge of receivables")
    EQUIPMENT = "equipment", _("Equipment mortgage")


class CreditProduct(TimeStampedModel):
    """A lending product the bank offers (e.g. a tax-record credit loan); versions hold terms."""

    code = models.SlugField(_("code"), max_length=40, unique=True)
    name_en = models.CharField(_("name (English)"), max_length=120)
    name_zh = models.CharField(_("name (Chinese)"), max_length=120)
    description = models.TextField(_("description"), blank=True)

    class Meta:
        ordering = ["code"]
        verbose_name = _("credit product")
        verbose_name_plural = _("credit products")

    def __str__(self) -> str:
        return self.name

    @property
    def name(self) -> str:
        return self.name_zh if (get_language() or "").startswith("zh") else self.name_en


class ProductVersion(PublishedVersion):
    """The terms and entry conditions of a product from one date on. Immutable once published;
    draft → published → retired is the shared policy-version machine (`PublishedVersion`): a
    newly published version retires the product's previous one."""

    product = models.ForeignKey(CreditProduct, on_delete=models.PROTECT, related_name="versions",
                                verbose_name=_("product"))
    version = models.PositiveIntegerField(_("version"))
    currency = models.CharField(_("currency"), max_length=3, choices=Currency.choices,
                                default=Currency.CNY)
    amount_min = MoneyField(_("minimum amount"), validators=[MinValueValidator(0)])
    amount_max = MoneyField(_("maximum amount"), validators=[MinValueValidator(0)])
    term_min_months = models.PositiveSmallIntegerField(_("minimum term (months)"))
    term_max_months = models.PositiveSmallIntegerField(_("maximum term (months)"))
    rate_min = models.DecimalField(_("minimum annual rate (%)"), max_digits=6, decimal_places=3)
    rate_max = models.DecimalField(_("maximum annual rate (%)"), max_digits=6, decimal_places=3)
    repayment_methods = models.JSONField(_("repayment methods"), default=list)
    collateral_types = models.JSONField(_("collateral accepted"), default=list)
    # Interest between two due dates; copied onto each contract and loan when it is signed.
    day_count = models.CharField(_("day count"), max_length=10, choices=DayCount.choices,
                                 default=DayCount.ACT_360)

    publish_permission = "products.publish_productversion"
    audit_prefix = "product_version"
    series_fields = ("product",)

    class Meta:
        ordering = ["product__code", "-version"]
        permissions = [("publish_productversion", _("Can publish product versions"))]
        verbose_name = _("product version")
        verbose_name_plural = _("product versions")
        constraints = [
            models.UniqueConstraint(fields=["product", "version"],
                                    name="products_version_unique_per_product"),
            models.CheckConstraint(condition=models.Q(amount_min__lte=models.F("amount_max")),
                                   name="products_version_amount_range"),
            models.CheckConstraint(
                condition=models.Q(term_min_months__lte=models.F("term_max_months")),
                name="products_version_term_range"),
            models.CheckConstraint(condition=models.Q(rate_min__lte=models.F("rate_max")),
                                   name="products_version_rate_range"),
        ]

    def __str__(self) -> str:
        return f"{self.product.code} v{self.version}"

    def clean(self) -> None:
        errors = {}
        if self.amount_min is not None and self.amount_max is not None \
                and self.amount_min > self.amount_max:
            errors["amount_max"] = _("The maximum amount is below the minimum.")
        if self.term_min_months is not None and self.term_max_months is not None \
                and self.term_min_months > self.term_max_months:
            errors["term_max_months"] = _("The maximum term is below the minimum.")
        if self.rate_min is not None and self.rate_max is not None \
                and self.rate_min > self.rate_max:
            errors["rate_max"] = _("The maximum rate is below the minimum.")
        bad = set(self.repayment_methods or []) - set(RepaymentMethod.values)
        if bad or not self.repayment_methods:
            errors["repayment_methods"] = _("Choose one or more known repayment methods.")
        bad = set(self.collateral_types or []) - set(CollateralType.values)
        if bad or not self.collateral_types:
            errors["collateral_types"] = _("Choose one or more known collateral types.")
        if errors:
            raise ValidationError(errors)


class EntryCondition(PolicyVersionPart, TimeStampedModel):
    """One admission rule of a product version: <fact> <operator> <value>, with its reason.

    The reason is what the applicant and the officer read when the rule excludes someone, in
    both languages; the source and evidence tag say where the threshold came from (§0.2).
    """

    version = models.ForeignKey(ProductVersion, on_delete=models.CASCADE,
                                related_name="conditions", verbose_name=_("product version"))
    code = models.SlugField(_("code"), max_length=60)
    position = models.PositiveSmallIntegerField(_("position"), default=0)
    fact = models.CharField(_("fact"), max_length=40, choices=fact_choices)
    operator = models.CharField(_("operator"), max_length=10, choices=Operator.choices)
    value = models.JSONField(_("value"))
    reason_en = models.CharField(_("reason (English)"), max_length=300)
    reason_zh = models.CharField(_("reason (Chinese)"), max_length=300)
    source_citation = models.CharField(_("source"), max_length=300, blank=True)
    evidence = models.CharField(_("evidence"), max_length=1, choices=Evidence.choices,
                                default=Evidence.DESIGN)
    effective_from = models.DateField(_("effective from"), null=True, blank=True)

    class Meta:
        ordering = ["version", "position", "id"]
        verbose_name = _("entry condition")
        verbose_name_plural = _("entry conditions")
        constraints = [
            models.UniqueConstraint(fields=["version", "code"],
                                    name="products_condition_code_unique_per_version"),
        ]

    def __str__(self) -> str:
        return f"{self.code}: {self.fact} {self.operator} {self.value}"

    def clean(self) -> None:
        try:
            self.value = normalise_value(self.fact, self.operator, self.value)
        except ConditionValueError as exc:
            raise ValidationError({"value": str(exc)}) from exc

    @property
    def reason(self) -> str:
        return self.reason_zh if (get_language() or "").startswith("zh") else self.reason_en
