"""Forms of the investigation pages. They parse the input; the workflow services decide who may
do what, and the views put the services' field errors back on these forms."""

from django import forms
from django.utils.translation import gettext_lazy as _

from apps.accounts.models import User
from apps.investigations.states import ReVerificationMethod, ReVerificationOutcome


class AssignForm(forms.Form):
    """A team lead (or the file's manager) names the two officers (双人调查)."""

    lead_officer = forms.ModelChoiceField(queryset=User.objects.none(), label=_("Lead officer"))
    assisting_officer = forms.ModelChoiceField(queryset=User.objects.none(),
                                               label=_("Assisting officer"))

    def __init__(self, *args, officers, **kwargs):
        super().__init__(*args, **kwargs)
        for name in ("lead_officer", "assisting_officer"):
            self.fields[name].queryset = officers
            self.fields[name].label_from_instance = lambda user: user.display_name


class CheckInForm(forms.Form):
    """The phone's position, filled by "use my position" (navigator.geolocation)."""

    lat = forms.DecimalField(label=_("Latitude"), max_digits=9, decimal_places=6,
                             min_value=-90, max_value=90)
    lng = forms.DecimalField(label=_("Longitude"), max_digits=9, decimal_places=6,
                             min_value=-180, max_value=180)
    accuracy_m = forms.DecimalField(label=_("Accuracy (m)"), max_digits=8, decimal_places=1,
                                    min_value=0, required=False)


class AcceptForm(forms.Form):
    comment = forms.CharField(label=_("Comment"), required=False, max_length=4000,
                              widget=forms.Textarea(attrs={"rows": 2}))


def return_comments(data, item_codes) -> dict[str, str]:
    """The reviewer's per-item comments from the review page (`comment-<CODE>` fields)."""
    return {code: data.get(f"comment-{code}", "").strip() for code in item_codes
            if data.get(f"comment-{code}", "").strip()}


class ReVerificationForm(forms.Form):
    """The team lead's finding after the re-visit or call-back; the service requires notes
    when something did not match (the form cannot know which outcome needs them)."""

    method = forms.ChoiceField(label=_("How did you re-verify?"), widget=forms.RadioSelect,
                               choices=ReVerificationMethod.choices)
    outcome = forms.ChoiceField(label=_("Outcome"), widget=forms.RadioSelect,
                                choices=ReVerificationOutcome.choices)
    notes = forms.CharField(label=_("Notes"), required=False, max_length=4000,
                            widget=forms.Textarea(attrs={"rows": 4}),
                            help_text=_("Required when discrepancies were found: say what did "
                                        "not match."))


class ReVerificationRequestForm(forms.Form):
    """A team lead asks for an accepted file to be re-verified; the reason is required by the
    service (the form's own check only saves a round trip)."""

    reason = forms.CharField(label=_("Why should this file be re-verified?"), max_length=4000,
                             widget=forms.Textarea(attrs={"rows": 2}))
