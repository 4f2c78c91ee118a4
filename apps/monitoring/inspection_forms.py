"""Forms of the inspection pages: the conclusion (officer), the review and the return."""

from django import forms
from django.utils.translation import gettext_lazy as _

from apps.monitoring.inspection_states import ProposedClass, RequestedAction


class ConclusionForm(forms.Form):
    """The structured conclusion (§4.2): classification proposal, actions, next date."""

    proposed_class = forms.ChoiceField(label=_("Proposed classification"),
                                       choices=ProposedClass.choices, widget=forms.RadioSelect)
    class_reason = forms.CharField(label=_("Why this classification"), max_length=4000,
                                   widget=forms.Textarea(attrs={"rows": 3}))
    actions = forms.MultipleChoiceField(label=_("Actions requested"), required=False,
                                        choices=RequestedAction.choices,
                                        widget=forms.CheckboxSelectMultiple)
    next_inspection_date = forms.DateField(
        label=_("Next inspection by"), required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=_("Leave empty to follow the policy schedule; an earlier date wins."))


class ReviewForm(ConclusionForm):
    note = forms.CharField(label=_("Review note"), required=False, max_length=4000,
                           widget=forms.Textarea(attrs={"rows": 2}))


class ReturnForm(forms.Form):
    note = forms.CharField(label=_("What must be corrected"), max_length=4000,
                           widget=forms.Textarea(attrs={"rows": 2}))
