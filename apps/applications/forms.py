"""Forms of the application pages. They parse and type the input; every business rule (amount
and term ranges, methods the product offers, who may act) is the services' job, and the views
put the services' field errors back on these forms."""

from django import forms
from django.utils.translation import gettext_lazy as _

from apps.accounts.models import User
from apps.applications.states import ApplicationState
from apps.parties.money import MONEY_DECIMAL_PLACES, MONEY_MAX_DIGITS
from apps.products.models import CollateralType, ProductVersion, RepaymentMethod


class ProductChoiceForm(forms.Form):
    """Step 1 of the wizard: one of the product versions in force today."""

    product = forms.ModelChoiceField(queryset=ProductVersion.objects.none(),
                                     label=_("Product"), widget=forms.RadioSelect,
                                     error_messages={"required": _("Choose a product."),
                                                     "invalid_choice": _("Choose a product.")})

    def __init__(self, *args, versions, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["product"].queryset = versions


class ApplicationTermsForm(forms.Form):
    """What the enterprise asks for. Choices are narrowed to what the product version offers,
    so a phone user never picks a method the service would refuse."""

    amount_requested = forms.DecimalField(
        label=_("Amount requested"), max_digits=MONEY_MAX_DIGITS,
        decimal_places=MONEY_DECIMAL_PLACES, min_value=0,
        widget=forms.NumberInput(attrs={"inputmode": "decimal", "step": "0.01"}))
    term_months = forms.IntegerField(label=_("Term (months)"), min_value=1, max_value=600,
                                     widget=forms.NumberInput(attrs={"inputmode": "numeric"}))
    purpose = forms.CharField(label=_("Purpose of the loan"), max_length=2000,
                              widget=forms.Textarea(attrs={"rows": 3}))
    repayment_method = forms.ChoiceField(label=_("Repayment method"), choices=())
    collateral_type = forms.ChoiceField(label=_("Collateral"), choices=())

    def __init__(self, *args, version: ProductVersion, **kwargs):
        super().__init__(*args, **kwargs)
        offered = set(version.repayment_methods or [])
        accepted = set(version.collateral_types or [])
        blank = [("", _("Choose…"))]
        self.fields["repayment_method"].choices = blank + [
            (value, label) for value, label in RepaymentMethod.choices if value in offered]
        self.fields["collateral_type"].choices = blank + [
            (value, label) for value, label in CollateralType.choices if value in accepted]
        self.fields["amount_requested"].help_text = _(
            "%(min)s to %(max)s %(currency)s") % {
            "min": f"{version.amount_min:,.0f}", "max": f"{version.amount_max:,.0f}",
            "currency": version.currency}
        self.fields["term_months"].help_text = _("%(min)s to %(max)s months") % {
            "min": version.term_min_months, "max": version.term_max_months}


class ActionForm(forms.Form):
    """The inputs of a state move: a comment or reason, and for approval the amount and rate.
    Whether the text is required is the service's decision (it answers with a field error)."""

    comment = forms.CharField(label=_("Comment"), required=False, max_length=2000,
                              widget=forms.Textarea(attrs={"rows": 2}))
    reason = forms.CharField(label=_("Reason"), required=False, max_length=2000,
                             widget=forms.Textarea(attrs={"rows": 2}))
    amount = forms.DecimalField(label=_("Amount approved"), required=False,
                                max_digits=MONEY_MAX_DIGITS, decimal_places=MONEY_DECIMAL_PLACES,
                                widget=forms.NumberInput(attrs={"inputmode": "decimal",
                                                                "step": "0.01"}))
    rate = forms.DecimalField(label=_("Annual rate (%)"), required=False, max_digits=6,
                              decimal_places=3,
                              widget=forms.NumberInput(attrs={"inputmode": "decimal",
                                                              "step": "0.001"}))


class ReassignForm(forms.Form):
    account_manager = forms.ModelChoiceField(queryset=User.objects.none(),
                                             label=_("New account manager"))

    def __init__(self, *args, managers, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["account_manager"].queryset = managers
        self.fields["account_manager"].label_from_instance = lambda user: user.display_name


class PipelineFilterForm(forms.Form):
    """Filters of the application list; unknown values are ignored rather than refused, so a
    stale bookmark still opens the page."""

    state = forms.ChoiceField(label=_("State"), required=False,
                              choices=[("", _("All states")), *ApplicationState.choices])
    account_manager = forms.ModelChoiceField(queryset=User.objects.none(), required=False,
                                             label=_("Account manager"),
                                             empty_label=_("All account managers"))

    def __init__(self, *args, managers, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["account_manager"].queryset = managers
        self.fields["account_manager"].label_from_instance = lambda user: user.display_name

    def filters(self) -> dict:
        if not self.is_valid():
            return {}
        filters = {}
        if self.cleaned_data.get("state"):
            filters["state"] = self.cleaned_data["state"]
        if self.cleaned_data.get("account_manager"):
            filters["account_manager"] = self.cleaned_data["account_manager"]
        return filters
