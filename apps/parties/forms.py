"""Forms of the customer pages. They parse and type what the user typed; every business rule
is the services' job, and the views put the services' field errors back on these forms."""

from django import forms
from django.utils.translation import gettext_lazy as _

from apps.parties.industries import Industry
from apps.parties.models import AliasKind, RelationshipKind, TaxCreditRating
from apps.parties.money import MONEY_DECIMAL_PLACES, MONEY_MAX_DIGITS, Currency


class EnterpriseSearchForm(forms.Form):
    """The customer search box: a name fragment or the start of a credit code."""

    q = forms.CharField(label=_("Name or unified social credit code"), required=False,
                        max_length=100)


class EnterpriseForm(forms.Form):
    """A new customer, or changes to one. The form only parses and types the input: the check
    character of the credit code, uniqueness, industry codes and the size class are the
    service's business (enterprise_create / enterprise_update), whose field errors the view puts
    back here. No size class and no branch: the first is computed, the second is the user's."""

    name = forms.CharField(label=_("Name"), max_length=200)
    uscc = forms.CharField(
        label=_("Unified social credit code"), max_length=24,
        help_text=_("统一社会信用代码: 18 characters, the last one a check character."),
        widget=forms.TextInput(attrs={"autocapitalize": "characters", "autocomplete": "off",
                                      "spellcheck": "false"}))
    industry = forms.ChoiceField(label=_("Industry section"),
                                 choices=[("", _("Choose…")), *Industry.choices])
    industry_code = forms.CharField(
        label=_("Industry code"), max_length=4, required=False,
        help_text=_("GB/T 4754 division, group or class, e.g. 52 for retail; some size "
                    "standard lines need it."),
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}))
    registration_date = forms.DateField(label=_("Registration date"), required=False,
                                        widget=forms.DateInput(attrs={"type": "date"}))
    registered_address = forms.CharField(label=_("Registered address"), max_length=300,
                                         required=False)
    operating_address = forms.CharField(label=_("Operating address"), max_length=300,
                                        required=False)
    operating_lat = forms.DecimalField(
        label=_("Latitude"), required=False, max_digits=9, decimal_places=6,
        help_text=_("Optional: decimal degrees of the operating site; give both or neither."),
        widget=forms.NumberInput(attrs={"inputmode": "decimal", "step": "0.000001"}))
    operating_lng = forms.DecimalField(
        label=_("Longitude"), required=False, max_digits=9, decimal_places=6,
        widget=forms.NumberInput(attrs={"inputmode": "decimal", "step": "0.000001"}))
    employees = forms.IntegerField(label=_("Employees"), required=False, min_value=0,
                                   widget=forms.NumberInput(attrs={"inputmode": "numeric"}))
    annual_revenue = forms.DecimalField(
        label=_("Annual operating revenue"), required=False, min_value=0,
        max_digits=MONEY_MAX_DIGITS, decimal_places=MONEY_DECIMAL_PLACES,
        help_text=_("In the currency below, in full units (not 万元)."),
        widget=forms.NumberInput(attrs={"inputmode": "decimal", "step": "0.01"}))
    total_assets = forms.DecimalField(
        label=_("Total assets"), required=False, min_value=0,
        max_digits=MONEY_MAX_DIGITS, decimal_places=MONEY_DECIMAL_PLACES,
        widget=forms.NumberInput(attrs={"inputmode": "decimal", "step": "0.01"}))
    financials_currency = forms.ChoiceField(label=_("Currency of the figures"),
                                            choices=Currency.choices, initial=Currency.CNY)
    tax_credit_rating = forms.ChoiceField(
        label=_("Tax credit rating"), required=False,
        choices=[("", _("Not known")), *TaxCreditRating.choices])

    @staticmethod
    def initial_for(enterprise) -> dict:
        return {name: getattr(enterprise, name) for name in EnterpriseForm.base_fields}


# Edges the enterprise page adds: "<person> is <kind> of this enterprise". Related enterprises
# (firm to firm) and spouses (person to person) go through the API.
PERSON_TO_ENTERPRISE_KINDS = (
    RelationshipKind.ACTUAL_CONTROLLER,
    RelationshipKind.SHAREHOLDER,
    RelationshipKind.LEGAL_REPRESENTATIVE,
    RelationshipKind.GUARANTOR,
)


class PersonRelationshipForm(forms.Form):
    """A person around the enterprise: found by ID number, or recorded with it if new."""

    kind = forms.ChoiceField(label=_("Role"), widget=forms.RadioSelect,
                             choices=[(kind.value, kind.label)
                                      for kind in PERSON_TO_ENTERPRISE_KINDS])
    resident_id = forms.CharField(
        label=_("Resident ID number"), max_length=24,
        help_text=_("公民身份号码, 18 characters. A person already recorded is found by it."),
        widget=forms.TextInput(attrs={"autocapitalize": "characters", "autocomplete": "off",
                                      "spellcheck": "false"}))
    name = forms.CharField(label=_("Name"), max_length=100, required=False,
                           help_text=_("Needed only for a person not yet recorded."))
    phone = forms.CharField(label=_("Phone"), max_length=32, required=False,
                            widget=forms.TextInput(attrs={"type": "tel", "inputmode": "tel",
                                                          "autocomplete": "off"}))
    stake_percent = forms.DecimalField(
        label=_("Stake (%)"), required=False, min_value=0, max_value=100, max_digits=5,
        decimal_places=2, help_text=_("Shareholders only."),
        widget=forms.NumberInput(attrs={"inputmode": "decimal", "step": "0.01"}))
    note = forms.CharField(label=_("Note"), max_length=300, required=False)

    def clean(self):
        data = super().clean()
        stake = data.get("stake_percent")
        if data.get("kind") == RelationshipKind.SHAREHOLDER and stake is None \
                and "stake_percent" not in self.errors:
            self.add_error("stake_percent", _("Give the shareholder’s stake."))
        elif data.get("kind") not in (None, RelationshipKind.SHAREHOLDER) and stake is not None:
            self.add_error("stake_percent", _("Only shareholders have a stake."))
        return data


class PartyAliasForm(forms.Form):
    """Another name or a bank account of the enterprise or of a person around it (issue 19):
    the statement check matches counterparties by them. `parties` are the choices, as
    ("enterprise:<id>" | "person:<id>", label)."""

    party = forms.ChoiceField(label=_("Whose"))
    kind = forms.ChoiceField(label=_("Alias type"), widget=forms.RadioSelect,
                             choices=AliasKind.choices)
    value = forms.CharField(label=_("Name or account number"), max_length=200,
                            widget=forms.TextInput(attrs={"autocomplete": "off",
                                                          "spellcheck": "false"}))
    source = forms.CharField(
        label=_("Where it was learned"), max_length=200, required=False,
        help_text=_("For example: the invoice header, the bank's account enquiry, the "
                    "statement of document 123."))

    def __init__(self, *args, parties: list[tuple[str, str]], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["party"].choices = parties
