from django import forms
from django.utils.translation import gettext_lazy as _

from apps.scoring.states import ModelKind


class TrainingForm(forms.Form):
    csv_file = forms.FileField(label=_("CSV of historical loans"))
    target = forms.CharField(label=_("Outcome column"), max_length=200,
                             help_text=_("Two values: default (1, bad, yes…) and performing."))
    kind = forms.ChoiceField(label=_("Kind"), choices=ModelKind.choices)
    seed = forms.IntegerField(label=_("Seed"), min_value=0, initial=0)
