"""Forms of the approval pages: they parse and type input; the services hold every rule."""

from django import forms
from django.utils.translation import gettext_lazy as _

from apps.approvals.models import Decision, StepKind, VoteChoice
from apps.parties.money import MONEY_DECIMAL_PLACES, MONEY_MAX_DIGITS

MONEY = {"max_digits": MONEY_MAX_DIGITS,
         "decimal_places": MONEY_DECIMAL_PLACES}


def _lines(text: str) -> list[str]:
    return [line.strip() for line in (text or "").splitlines() if line.strip()]


class ReviewForm(forms.Form):
    risks = forms.CharField(label=_("Risks found"), max_length=4000,
                            widget=forms.Textarea(attrs={"rows": 3}))
    mitigations = forms.CharField(label=_("Mitigations"), max_length=4000, required=False,
                                  widget=forms.Textarea(attrs={"rows": 2}))
    proposed_amount = forms.DecimalField(label=_("Proposed amount"), required=False,
                                         min_value=0, **MONEY)
    proposed_term_months = forms.IntegerField(label=_("Proposed term (months)"),
                                              required=False, min_value=1, max_value=600)
    proposed_rate = forms.DecimalField(label=_("Proposed annual rate (%)"), required=False,
                                       max_digits=6, decimal_places=3)
    collateral = forms.CharField(label=_("Collateral"), max_length=2000, required=False)
    conditions = forms.CharField(
        label=_("Conditions precedent (one per line)"), required=False, max_length=8000,
        widget=forms.Textarea(attrs={"rows": 3}))
    comment = forms.CharField(label=_("Comment"), max_length=2000, required=False,
                              widget=forms.Textarea(attrs={"rows": 2}))

    def clean_conditions(self):
        return _lines(self.cleaned_data.get("conditions"))


class ReturnForm(forms.Form):
    comment = forms.CharField(label=_("What must be reworked"), max_length=2000,
                              widget=forms.Textarea(attrs={"rows": 3}))


class ExceptionForm(forms.Form):
    rule = forms.CharField(label=_("Rule departed from"), max_length=200)
    actual_value = forms.CharField(label=_("Actual value"), max_length=200, required=False)
    reason = forms.CharField(label=_("Justification"), max_length=2000,
                             widget=forms.Textarea(attrs={"rows": 2}))


class SignForm(forms.Form):
    decision = forms.ChoiceField(label=_("Decision"), choices=Decision.choices,
                                 widget=forms.RadioSelect)
    amount = forms.DecimalField(label=_("Amount approved (leave empty to keep)"),
                                required=False, min_value=0, **MONEY)
    rate = forms.DecimalField(label=_("Annual rate (%)"), required=False, max_digits=6,
                              decimal_places=3)
    conditions = forms.CharField(label=_("Extra conditions (one per line)"), required=False,
                                 max_length=8000, widget=forms.Textarea(attrs={"rows": 2}))
    reason = forms.CharField(label=_("Reasons"), max_length=4000,
                             widget=forms.Textarea(attrs={"rows": 3}))
    password = forms.CharField(label=_("Your password (to sign)"), strip=False,
                               widget=forms.PasswordInput(attrs={"autocomplete":
                                                                 "current-password"}))

    def clean_conditions(self):
        return _lines(self.cleaned_data.get("conditions"))


class VoteForm(forms.Form):
    choice = forms.ChoiceField(label=_("Your vote"), choices=VoteChoice.choices,
                               widget=forms.RadioSelect)
    opinion = forms.CharField(label=_("Opinion (required for a vote against)"),
                              max_length=4000, required=False,
                              widget=forms.Textarea(attrs={"rows": 2}))
    password = forms.CharField(label=_("Your password (to sign)"), strip=False,
                               widget=forms.PasswordInput(attrs={"autocomplete":
                                                                 "current-password"}))


class ConditionForm(forms.Form):
    note = forms.CharField(label=_("Evidence"), max_length=2000,
                           widget=forms.Textarea(attrs={"rows": 2}))
    document_id = forms.IntegerField(label=_("Document number (optional)"), required=False,
                                     min_value=1)


class InboxFilterForm(forms.Form):
    SORTS = [("waiting", _("Waiting longest")), ("-waiting", _("Newest")),
             ("due", _("Due soonest")), ("-amount", _("Largest amount")),
             ("amount", _("Smallest amount")), ("grade", _("Best grade")),
             ("-grade", _("Worst grade"))]

    product = forms.CharField(label=_("Product code"), required=False, max_length=50)
    grade = forms.CharField(label=_("Risk grade"), required=False, max_length=20)
    kind = forms.ChoiceField(label=_("Kind"), required=False,
                             choices=[("", _("Any")), *StepKind.choices])
    sort = forms.ChoiceField(label=_("Sort by"), required=False, choices=SORTS)


class CommitteeSessionForm(forms.Form):
    """Scheduling a session: only the member's committees and the items waiting for them can
    be chosen, so a tampered or malformed post is a field error, never a server error."""

    committee = forms.TypedChoiceField(label=_("Committee"), coerce=int)
    scheduled_for = forms.DateTimeField(label=_("Date and time"))
    steps = forms.TypedMultipleChoiceField(
        label=_("Agenda: items waiting for the committee"), coerce=int,
        error_messages={"required": _("Choose at least one item.")})

    def __init__(self, *args, committees, waiting, **kwargs):
        super().__init__(*args, **kwargs)
        self.committees = {committee.pk: committee for committee in committees}
        self.fields["committee"].choices = [(pk, c.name) for pk, c in self.committees.items()]
        self.fields["steps"].choices = [(step.pk, str(step.pk)) for step in waiting]

    def clean_committee(self):
        return self.committees[self.cleaned_data["committee"]]
