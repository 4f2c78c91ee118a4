"""The dashboard filters. A value that does not parse is ignored (the whole book is shown);
a branch the viewer may not see is refused by the selector (404)."""

from django import forms
from django.utils.translation import gettext_lazy as _

from apps.insight.selectors import PortfolioFilters


class PortfolioFilterForm(forms.Form):
    branch = forms.IntegerField(label=_("Branch"), required=False, min_value=1)
    product = forms.IntegerField(label=_("Product"), required=False, min_value=1)
    disbursed_from = forms.DateField(label=_("Disbursed from"), required=False,
                                     widget=forms.DateInput(attrs={"type": "date"}))
    disbursed_to = forms.DateField(label=_("Disbursed until"), required=False,
                                   widget=forms.DateInput(attrs={"type": "date"}))
    run_from = forms.DateField(label=_("Migration from run"), required=False)
    run_to = forms.DateField(label=_("Migration to run"), required=False)

    def filters(self) -> PortfolioFilters:
        self.is_valid()  # cleaned_data then holds the fields that parsed, and only those
        data = self.cleaned_data
        return PortfolioFilters(
            branch_id=data.get("branch"), product_id=data.get("product"),
            disbursed_from=data.get("disbursed_from"), disbursed_to=data.get("disbursed_to"),
            run_from=data.get("run_from"), run_to=data.get("run_to"))


class PipelineFilterForm(forms.Form):
    """Branch, product and the period in which files moved or were decided."""

    branch = forms.IntegerField(label=_("Branch"), required=False, min_value=1)
    product = forms.IntegerField(label=_("Product"), required=False, min_value=1)
    period_from = forms.DateField(label=_("From"), required=False)
    period_to = forms.DateField(label=_("Until"), required=False)

    def filters(self):
        from apps.insight.pipeline import PipelineFilters

        self.is_valid()
        data = self.cleaned_data
        return PipelineFilters(branch_id=data.get("branch"), product_id=data.get("product"),
                               period_from=data.get("period_from"),
                               period_to=data.get("period_to"))
