from django import forms
from django.utils.translation import gettext_lazy as _


class EnterpriseSearchForm(forms.Form):
    """The customer search box: a name fragment or the start of a credit code."""

    q = forms.CharField(label=_("Name or unified social credit code"), required=False,
                        max_length=100)
