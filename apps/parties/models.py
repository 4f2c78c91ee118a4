"""Borrowers and the people and firms around them: enterprises, persons, relationship edges,
and the SME size standard that classifies enterprises (policy data, domain reference §5.5).

Models only hold fields and invariants; creating and changing rows goes through
`apps.parties.services`, which validates, audits and recomputes the size class.
"""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext_lazy as _

from apps.core.models import TimeStampedModel
from apps.core.policy import Evidence
from apps.parties.industries import Industry, industry_code_problem, industry_key
from apps.parties.money import Currency, MoneyField
from apps.parties.size import Combinator, Metric, SizeClass
from apps.parties.validators import (
    mask_resident_id,
    normalise_resident_id,
    validate_phone,
    validate_resident_id,
    validate_uscc,
)


class SizeStandard(TimeStampedModel):
    """One industry line of a versioned SME size standard (《中小企业划型标准规定》 2011).

    Thresholds are policy data, not code (reference §0.2): a new standard is a new `version`
    with its own rows and `effective_from`, and old enterprises keep the version they were
    classified under. Employees are persons; revenue and total assets are in 万元.
    """

    version = models.CharField(_("version"), max_length=64, db_index=True)
    row_no = models.PositiveSmallIntegerField(_("line"))
    industry_label = models.CharField(_("industry"), max_length=100)
    # GB/T 4754-2017 prefixes: "C" (a section), "F52" (a division), "K701" (a group); "*" is
    # the catch-all "other" line. The most specific matching prefix wins.
    industry_scope = models.JSONField(
        _("industry scope"), default=list,
        help_text=_('GB/T 4754 section letters with optional code, e.g. ["B", "C", "D"] or '
                    '["F52"]; "*" for every industry not listed elsewhere.'),
    )
    metric_a = models.CharField(_("first metric"), max_length=16, choices=Metric.choices)
    metric_b = models.CharField(_("second metric"), max_length=16, choices=Metric.choices,
                                blank=True)
    ceiling_a = models.DecimalField(_("SME ceiling, first metric"), max_digits=14,
                                    decimal_places=2)
    ceiling_b = models.DecimalField(_("SME ceiling, second metric"), max_digits=14,
                                    decimal_places=2, null=True, blank=True)
    medium_min_a = models.DecimalField(_("medium minimum, first metric"), max_digits=14,
                                       decimal_places=2)
    medium_min_b = models.DecimalField(_("medium minimum, second metric"), max_digits=14,
                                       decimal_places=2, null=True, blank=True)
    small_min_a = models.DecimalField(_("small minimum, first metric"), max_digits=14,
                                      decimal_places=2)
    small_min_b = models.DecimalField(_("small minimum, second metric"), max_digits=14,
                                      decimal_places=2, null=True, blank=True)
    micro_below_a = models.DecimalField(_("micro if below, first metric"), max_digits=14,
                                        decimal_places=2)
    micro_below_b = models.DecimalField(_("micro if below, second metric"), max_digits=14,
                                        decimal_places=2, null=True, blank=True)
    ceiling_combinator = models.CharField(_("SME ceiling rule"), max_length=3,
                                          choices=Combinator.choices, default=Combinator.OR)
    band_combinator = models.CharField(_("medium/small rule"), max_length=3,
                                       choices=Combinator.choices, default=Combinator.AND)
    micro_combinator = models.CharField(_("micro rule"), max_length=3,
                                        choices=Combinator.choices, default=Combinator.OR)
    effective_from = models.DateField(_("effective from"))
    effective_to = models.DateField(_("effective to"), null=True, blank=True,
                                    help_text=_("Exclusive; empty while in force."))
    evidence = models.CharField(_("evidence"), max_length=1, choices=Evidence.choices)
    source_citation = models.TextField(_("source"))
    approved_by = models.CharField(
        _("approved by"), max_length=150, blank=True,
        help_text=_("Policy owner who signed the row off (four-eyes); empty for seeded rows "
                    "until reviewed."),
    )

    class Meta:
        ordering = ["version", "row_no"]
        verbose_name = _("SME size standard line")
        verbose_name_plural = _("SME size standard lines")
        constraints = [
            models.UniqueConstraint(fields=["version", "row_no"],
                                    name="parties_sizestandard_version_row_unique"),
            models.CheckConstraint(
                condition=Q(effective_to__isnull=True) | Q(effective_to__gt=F("effective_from")),
                name="parties_sizestandard_period_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.version} #{self.row_no} {self.industry_label}"

    def clean(self) -> None:
        b_values = [self.ceiling_b, self.medium_min_b, self.small_min_b, self.micro_below_b]
        if self.metric_b and any(v is None for v in b_values):
            raise ValidationError(_("A second metric needs all four of its thresholds."))
        if not self.metric_b and any(v is not None for v in b_values):
            raise ValidationError(_("Thresholds for a second metric need the metric."))
        if self.metric_b and self.metric_b == self.metric_a:
            raise ValidationError(_("The two metrics must differ."))
        if not isinstance(self.industry_scope, list) or not self.industry_scope:
            raise ValidationError({"industry_scope": _("List at least one industry prefix.")})


class TaxCreditRating(models.TextChoices):
    """纳税信用等级 assigned yearly by the State Taxation Administration."""

    A = "A", _("A")
    B = "B", _("B")
    M = "M", _("M (new or small taxpayer without a full year)")
    C = "C", _("C")
    D = "D", _("D (serious tax dishonesty)")


class Enterprise(TimeStampedModel):
    """A business customer (borrower, guarantor or related firm), managed by one branch.

    `size_class` is computed from the SME size standard in force (never typed), and the
    version and explanation are stored, so a past decision can be re-explained (§0.2).
    """

    name = models.CharField(_("name"), max_length=200, db_index=True)
    uscc = models.CharField(
        _("unified social credit code"), max_length=18, unique=True, validators=[validate_uscc],
        help_text=_("统一社会信用代码, 18 characters (GB 32100-2015)."),
    )
    industry = models.CharField(_("industry section"), max_length=1, choices=Industry.choices)
    industry_code = models.CharField(
        _("industry code"), max_length=4, blank=True,
        help_text=_("GB/T 4754 division, group or class (e.g. 52 retail, 701 real-estate "
                    "development); some size-standard lines need it."),
    )
    registration_date = models.DateField(_("registration date"), null=True, blank=True)
    registered_address = models.CharField(_("registered address"), max_length=300, blank=True)
    operating_address = models.CharField(_("operating address"), max_length=300, blank=True)
    # Decimal degrees: six places is about 0.1 m, finer than any site-visit GPS fix.
    operating_lat = models.DecimalField(
        _("operating latitude"), max_digits=9, decimal_places=6, null=True, blank=True,
        validators=[MinValueValidator(-90), MaxValueValidator(90)],
    )
    operating_lng = models.DecimalField(
        _("operating longitude"), max_digits=9, decimal_places=6, null=True, blank=True,
        validators=[MinValueValidator(-180), MaxValueValidator(180)],
    )
    employees = models.PositiveIntegerField(_("employees"), null=True, blank=True)
    annual_revenue = MoneyField(_("annual operating revenue"), null=True, blank=True,
                                validators=[MinValueValidator(0)])
    total_assets = MoneyField(_("total assets"), null=True, blank=True,
                              validators=[MinValueValidator(0)])
    financials_currency = models.CharField(_("currency of the figures"), max_length=3,
                                           choices=Currency.choices, default=Currency.CNY)
    tax_credit_rating = models.CharField(_("tax credit rating"), max_length=1,
                                         choices=TaxCreditRating.choices, blank=True)

    size_class = models.CharField(_("size class"), max_length=8, choices=SizeClass.choices,
                                  blank=True, editable=False)
    size_standard_version = models.CharField(_("size standard version"), max_length=64,
                                             blank=True, editable=False)
    size_explanation = models.TextField(_("size classification"), blank=True, editable=False)
    size_classified_on = models.DateField(_("size classified on"), null=True, blank=True,
                                          editable=False)

    branch = models.ForeignKey(
        "org.Branch", on_delete=models.PROTECT, related_name="enterprises",
        verbose_name=_("managing branch"),
    )

    class Meta:
        ordering = ["name", "id"]
        verbose_name = _("enterprise")
        verbose_name_plural = _("enterprises")
        constraints = [
            # Half a coordinate is a data-entry slip; keep both or neither.
            models.CheckConstraint(
                condition=Q(operating_lat__isnull=True, operating_lng__isnull=True)
                | Q(operating_lat__isnull=False, operating_lng__isnull=False),
                name="parties_enterprise_lat_lng_together",
            ),
            models.CheckConstraint(condition=Q(annual_revenue__gte=0)
                                   | Q(annual_revenue__isnull=True),
                                   name="parties_enterprise_revenue_not_negative"),
            models.CheckConstraint(condition=Q(total_assets__gte=0)
                                   | Q(total_assets__isnull=True),
                                   name="parties_enterprise_assets_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.uscc})"

    @property
    def industry_key(self) -> str:
        return industry_key(self.industry, self.industry_code)

    def clean(self) -> None:
        errors = {}
        problem = industry_code_problem(self.industry, self.industry_code)
        if problem:
            errors["industry_code"] = problem
        if (self.operating_lat is None) != (self.operating_lng is None):
            errors["operating_lng"] = _("Give both latitude and longitude, or neither.")
        if errors:
            raise ValidationError(errors)


def resident_id_hash(resident_id: str) -> str:
    """Keyed hash (HMAC-SHA256) of a resident ID, for exact-match lookup and de-duplication.

    Keyed, because the ID space is small enough (~10^11 plausible numbers) to brute-force a
    plain SHA-256. The key is PARTIES_ID_HASH_KEY if set, else SECRET_KEY: rotating the key
    means re-hashing every Person, so production should set its own stable key.
    """
    secret = getattr(settings, "PARTIES_ID_HASH_KEY", None) or settings.SECRET_KEY
    return salted_hmac("credence.parties.resident_id", normalise_resident_id(resident_id),
                       secret=secret, algorithm="sha256").hexdigest()


class Person(TimeStampedModel):
    """A natural person around a borrower: controller, legal representative, spouse, guarantor.

    The full ID number is kept (credit-bureau queries and contracts need it) but shown masked
    unless the viewer holds `parties.view_full_resident_id` (PIPL art. 28: sensitive data).
    """

    name = models.CharField(_("name"), max_length=100, db_index=True)
    resident_id = models.CharField(
        _("resident ID number"), max_length=18, validators=[validate_resident_id],
        help_text=_("公民身份号码, 18 characters (GB 11643-1999)."),
    )
    resident_id_hash = models.CharField(_("resident ID hash"), max_length=64, unique=True,
                                        editable=False)
    phone = models.CharField(_("phone"), max_length=32, blank=True, validators=[validate_phone])

    class Meta:
        ordering = ["name", "id"]
        verbose_name = _("person")
        verbose_name_plural = _("persons")
        permissions = [("view_full_resident_id", _("Can see full resident ID numbers"))]

    def __str__(self) -> str:
        return f"{self.name} ({self.masked_resident_id})"

    @property
    def masked_resident_id(self) -> str:
        return mask_resident_id(self.resident_id)

    def save(self, *args, **kwargs):
        # Derived here, not in the service, so the hash can never drift from the number.
        self.resident_id = normalise_resident_id(self.resident_id)
        self.resident_id_hash = resident_id_hash(self.resident_id)
        super().save(*args, **kwargs)


class RelationshipKind(models.TextChoices):
    ACTUAL_CONTROLLER = "actual_controller", _("Actual controller 实际控制人")
    SHAREHOLDER = "shareholder", _("Shareholder 股东")
    LEGAL_REPRESENTATIVE = "legal_representative", _("Legal representative 法定代表人")
    SPOUSE_OF = "spouse_of", _("Spouse 配偶")
    GUARANTOR = "guarantor", _("Guarantor 担保人")
    RELATED_ENTERPRISE = "related_enterprise", _("Related enterprise 关联企业")


class Relationship(TimeStampedModel):
    """A directed edge: <from> is <kind> of <to>.

    "Person P is actual controller of enterprise E", "enterprise F is shareholder (30 %) of E",
    "person S is spouse of person P". Targets are enterprises, except spouse-of, which links
    two persons. Which combinations are allowed is enforced by the database constraints below.
    """

    kind = models.CharField(_("kind"), max_length=32, choices=RelationshipKind.choices)
    from_person = models.ForeignKey(Person, null=True, blank=True, on_delete=models.PROTECT,
                                    related_name="relationships_out", verbose_name=_("person"))
    from_enterprise = models.ForeignKey(Enterprise, null=True, blank=True,
                                        on_delete=models.PROTECT,
                                        related_name="relationships_out",
                                        verbose_name=_("enterprise"))
    to_enterprise = models.ForeignKey(Enterprise, null=True, blank=True,
                                      on_delete=models.PROTECT, related_name="relationships_in",
                                      verbose_name=_("of enterprise"))
    to_person = models.ForeignKey(Person, null=True, blank=True, on_delete=models.PROTECT,
                                  related_name="relationships_in", verbose_name=_("of person"))
    stake_percent = models.DecimalField(
        _("stake (%)"), max_digits=5, decimal_places=2, null=True, blank=True,
        validators=[MinValueValidator(0), MaxValueValidator(100)],
    )
    note = models.CharField(_("note"), max_length=300, blank=True)

    class Meta:
        ordering = ["id"]
        verbose_name = _("relationship")
        verbose_name_plural = _("relationships")
        constraints = [
            models.CheckConstraint(
                condition=Q(from_person__isnull=False, from_enterprise__isnull=True)
                | Q(from_person__isnull=True, from_enterprise__isnull=False),
                name="parties_relationship_one_source"),
            models.CheckConstraint(
                condition=Q(to_person__isnull=False, to_enterprise__isnull=True)
                | Q(to_person__isnull=True, to_enterprise__isnull=False),
                name="parties_relationship_one_target"),
            # Spouse-of is the only person-to-person edge; every other kind points at a firm.
            models.CheckConstraint(
                condition=Q(kind=RelationshipKind.SPOUSE_OF, from_person__isnull=False,
                            to_person__isnull=False)
                | (~Q(kind=RelationshipKind.SPOUSE_OF) & Q(to_person__isnull=True)),
                name="parties_relationship_spouse_between_persons"),
            # A legal representative (法定代表人) is always a natural person.
            models.CheckConstraint(
                condition=~Q(kind=RelationshipKind.LEGAL_REPRESENTATIVE)
                | Q(from_person__isnull=False),
                name="parties_relationship_legal_rep_is_person"),
            models.CheckConstraint(
                condition=~Q(kind=RelationshipKind.RELATED_ENTERPRISE)
                | Q(from_enterprise__isnull=False),
                name="parties_relationship_related_is_enterprise"),
            # A stake belongs to shareholders only, and is in (0, 100].
            models.CheckConstraint(
                # isnull=False: a NULL comparison would make CHECK pass (SQL three-valued logic)
                condition=Q(kind=RelationshipKind.SHAREHOLDER, stake_percent__isnull=False,
                            stake_percent__gt=0, stake_percent__lte=100)
                | (~Q(kind=RelationshipKind.SHAREHOLDER) & Q(stake_percent__isnull=True)),
                name="parties_relationship_stake_for_shareholders"),
            models.CheckConstraint(condition=~Q(from_enterprise=F("to_enterprise")),
                                   name="parties_relationship_no_self_enterprise"),
            models.CheckConstraint(condition=~Q(from_person=F("to_person")),
                                   name="parties_relationship_no_self_person"),
            # NULLs are distinct in unique indexes, so one partial constraint per edge shape.
            models.UniqueConstraint(
                fields=["kind", "from_person", "to_enterprise"],
                condition=Q(from_person__isnull=False, to_enterprise__isnull=False),
                name="parties_relationship_person_enterprise_unique"),
            models.UniqueConstraint(
                fields=["kind", "from_enterprise", "to_enterprise"],
                condition=Q(from_enterprise__isnull=False, to_enterprise__isnull=False),
                name="parties_relationship_enterprise_enterprise_unique"),
            models.UniqueConstraint(
                fields=["kind", "from_person", "to_person"],
                condition=Q(from_person__isnull=False, to_person__isnull=False),
                name="parties_relationship_person_person_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.source} — {self.get_kind_display()} — {self.target}"

    @property
    def source(self):
        return self.from_person or self.from_enterprise

    @property
    def target(self):
        return self.to_enterprise or self.to_person

    @property
    def branch_id(self) -> int | None:
        """The managing branch of the enterprise the edge points at (for the audit trail)."""
        return self.to_enterprise.branch_id if self.to_enterprise_id else None


class AliasKind(models.TextChoices):
    NAME = "name", _("Other name (trade name, former name, short name)")
    ACCOUNT = "account", _("Bank account number")


def normalise_alias(kind: str, value: str) -> str:
    """What an alias is compared by: an account's digits and letters; a name without spaces,
    punctuation or case (the full name: place and legal form are part of a registered name)."""
    import re

    text = str(value or "").strip().lower()
    if kind == AliasKind.ACCOUNT:
        return re.sub(r"[^0-9a-z]", "", text)
    text = text.replace("（", "(").replace("）", ")")
    return re.sub(r"[\s\.,()·\-_&'\"]+", "", text)


class PartyAlias(TimeStampedModel):
    """A name or bank account a party is known by besides its registered name (issue 19):
    a trade name on invoices, a former name, a controller's personal account. The statement
    check matches counterparties to the party graph by these, not by name text alone."""

    enterprise = models.ForeignKey(Enterprise, null=True, blank=True, on_delete=models.CASCADE,
                                   related_name="aliases", verbose_name=_("enterprise"))
    person = models.ForeignKey(Person, null=True, blank=True, on_delete=models.CASCADE,
                               related_name="aliases", verbose_name=_("person"))
    kind = models.CharField(_("kind"), max_length=16, choices=AliasKind.choices)
    value = models.CharField(_("name or account"), max_length=200)
    normalised = models.CharField(_("compared as"), max_length=200, db_index=True,
                                  editable=False)
    source = models.CharField(_("where it was learned"), max_length=200, blank=True)

    class Meta:
        ordering = ["id"]
        verbose_name = _("party alias")
        verbose_name_plural = _("party aliases")
        constraints = [
            models.CheckConstraint(
                condition=Q(enterprise__isnull=False, person__isnull=True)
                | Q(enterprise__isnull=True, person__isnull=False),
                name="parties_alias_one_party"),
            models.UniqueConstraint(fields=["enterprise", "kind", "normalised"],
                                    condition=Q(enterprise__isnull=False),
                                    name="parties_alias_enterprise_unique"),
            models.UniqueConstraint(fields=["person", "kind", "normalised"],
                                    condition=Q(person__isnull=False),
                                    name="parties_alias_person_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.enterprise or self.person}: {self.value}"

    def save(self, *args, **kwargs):
        self.normalised = normalise_alias(self.kind, self.value)
        super().save(*args, **kwargs)
