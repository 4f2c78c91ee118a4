from django import forms
from django.utils.translation import gettext_lazy as _

from apps.scoring.states import ModelKind, TrainingSource


class TrainingForm(forms.Form):
    source = forms.ChoiceField(label=_("Training data"), choices=TrainingSource.choices,
                               initial=TrainingSource.CSV, required=False,
                               help_text=_("Disbursed loans are labelled by the decision "
                                           "policy's default definition."))
    csv_file = forms.FileField(label=_("CSV of historical loans"), required=False)
    target = forms.CharField(label=_("Outcome column"), max_length=200, required=False,
                             help_text=_("Two values: default (1, bad, yes…) and performing."))
    kind = forms.ChoiceField(label=_("Kind"), choices=ModelKind.choices)
    seed = forms.IntegerField(label=_("Seed"), min_value=0, initial=0)

    def clean(self):
        data = super().clean()
        data["source"] = data.get("source") or TrainingSource.CSV  # the form before the choice
        if data["source"] == TrainingSource.CSV:
            if not data.get("csv_file"):
                self.add_error("csv_file", _("Upload the CSV of historical loans."))
            if not (data.get("target") or "").strip():
                self.add_error("target", _("Name the outcome column."))
        return data
