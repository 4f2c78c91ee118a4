"""Forms of the policy workbench (issue 17): the terms of a draft product version and one entry
condition. They only shape input; the services check everything again and write."""

from django import forms
from django.utils.translation import gettext_lazy as _

from apps.core.policy import Evidence
from apps.products.conditions import Operator
from apps.products.facts import fact_choices
from apps.products.models import CollateralType, DayCount, RepaymentMethod
from apps.products.services import VERSION_TERMS


class VersionTermsForm(forms.Form):
    """The terms of a draft; the service's model validation adds the cross-field checks."""

    amount_min = forms.DecimalField(label=_("minimum amount"), min_value=0, decimal_places=2)
    amount_max = forms.DecimalField(label=_("maximum amount"), min_value=0, decimal_places=2)
    term_min_months = forms.IntegerField(label=_("minimum term (months)"), min_value=1)
    term_max_months = forms.IntegerField(label=_("maximum term (months)"), min_value=1)
    rate_min = forms.DecimalField(label=_("minimum annual rate (%)"), max_digits=6,
                                  decimal_places=3)
    rate_max = forms.DecimalField(label=_("maximum annual rate (%)"), max_digits=6,
                                  decimal_places=3)
    repayment_methods = forms.MultipleChoiceField(
        label=_("repayment methods"), choices=RepaymentMethod.choices,
        widget=forms.CheckboxSelectMultiple)
    collateral_types = forms.MultipleChoiceField(
        label=_("collateral accepted"), choices=CollateralType.choices,
        widget=forms.CheckboxSelectMultiple)
    day_count = forms.ChoiceField(label=_("day count"), choices=DayCount.choices)
    source_citation = forms.CharField(label=_("source"), max_length=300, required=False)

    @classmethod
    def for_version(cls, version, data=None):
        initial = {name: getattr(version, name) for name in VERSION_TERMS if name != "currency"}
        return cls(data=data, initial=initial)


class ConditionForm(forms.Form):
    """One entry condition. A list value (one of / none of / between) is written with commas:
    "A, B" or "1, 5"."""

    code = forms.SlugField(label=_("code"), max_length=60)
    fact = forms.ChoiceField(label=_("fact"), choices=fact_choices)
    operator = forms.ChoiceField(label=_("operator"), choices=Operator.choices)
    value = forms.CharField(label=_("value"), max_length=300,
                            help_text=_("Several values: separate them with commas."))
    reason_en = forms.CharField(label=_("reason (English)"), max_length=300)
    reason_zh = forms.CharField(label=_("reason (Chinese)"), max_length=300)
    source_citation = forms.CharField(label=_("source"), max_length=300, required=False)
    evidence = forms.ChoiceField(label=_("evidence"), choices=Evidence.choices,
                                 initial=Evidence.DESIGN)
    effective_from = forms.DateField(label=_("effective from"), required=False,
                                     widget=forms.DateInput(attrs={"type": "date"}))

    def clean(self):
        data = super().clean()
        raw = data.get("value")
        if raw is not None and data.get("operator") in (Operator.IN, Operator.NOT_IN,
                                                        Operator.BETWEEN):
            data["value"] = [part.strip() for part in raw.split(",") if part.strip()]
        return data

    @classmethod
    def for_condition(cls, condition, data=None):
        value = condition.value
        shown = ", ".join(str(v) for v in value) if isinstance(value, list) else value
        return cls(data=data, initial={
            "code": condition.code, "fact": condition.fact, "operator": condition.operator,
            "value": shown, "reason_en": condition.reason_en, "reason_zh": condition.reason_zh,
            "source_citation": condition.source_citation, "evidence": condition.evidence,
            "effective_from": condition.effective_from})
