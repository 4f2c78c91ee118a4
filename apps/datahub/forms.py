"""The officer's request for a pull: which source, for what purpose, and for the sources that
know persons, optionally about one person around the enterprise (its guarantors, legal
representative …). Consent, budget and scope are the service's to check."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from apps.datahub.connectors import PERSON_SOURCES
from apps.datahub.services import PERSON_KINDS
from apps.datahub.states import Purpose, Source
from apps.parties.models import Person


class PullRequestForm(forms.Form):
    source = forms.ChoiceField(label=_("Source"), choices=Source.choices)
    purpose = forms.ChoiceField(label=_("Purpose"), choices=Purpose.choices,
                                initial=Purpose.PRE_LOAN)
    person = forms.ModelChoiceField(
        label=_("About"), queryset=Person.objects.none(), required=False,
        empty_label=_("The enterprise itself"),
        help_text=_("Only the credit bureau answers about a person, with that person's own "
                    "consent."))

    def __init__(self, *args, enterprise, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["person"].queryset = (Person.objects.filter(
            relationships_out__to_enterprise=enterprise,
            relationships_out__kind__in=PERSON_KINDS).distinct().order_by("name"))

    def clean(self):
        data = super().clean()
        if data.get("person") is not None and data.get("source") not in PERSON_SOURCES:
            self.add_error("person", _("This source does not answer about persons."))
        return data
