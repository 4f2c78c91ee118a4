"""Forms of the loan-book pages: shapes and labels only; the services decide the rules."""

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from apps.loans.models import LoanChange, PaymentMode, ScheduleMethod, SigningMode


class ContractForm(forms.Form):
    signing_mode = forms.ChoiceField(label=_("Signing mode"), choices=SigningMode.choices,
                                     initial=SigningMode.IN_PERSON)
    signing_place = forms.CharField(label=_("Signing place"), max_length=200, required=False)
    signing_witness = forms.ModelChoiceField(label=_("Second bank officer present"),
                                             queryset=None, required=False)
    comment = forms.CharField(label=_("Comment"), max_length=2000, required=False,
                              widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, witnesses=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["signing_witness"].queryset = witnesses


class DisbursementForm(forms.Form):
    amount = forms.DecimalField(label=_("Amount (yuan)"), max_digits=18, decimal_places=2,
                                min_value=0)
    value_date = forms.DateField(label=_("Value date"),
                                 widget=forms.DateInput(attrs={"type": "date"}))
    borrower_account = forms.CharField(label=_("Borrower's account"), max_length=40)
    payment_mode = forms.ChoiceField(label=_("Payment mode"), choices=PaymentMode.choices,
                                     widget=forms.RadioSelect)
    payee_name = forms.CharField(label=_("Payee (entrusted payment)"), max_length=200,
                                 required=False)
    payee_account = forms.CharField(label=_("Payee's account (entrusted payment)"),
                                    max_length=40, required=False)
    invoice_document_id = forms.TypedChoiceField(
        label=_("Invoice or underlying contract (entrusted payment)"), coerce=int,
        required=False, empty_value=None)
    schedule_file = forms.FileField(
        label=_("Irregular schedule (optional CSV or XLSX: due_date,principal)"),
        required=False)

    def __init__(self, *args, documents=(), **kwargs):
        kwargs.setdefault("initial", {"value_date": timezone.localdate(),
                                      "payment_mode": PaymentMode.INDEPENDENT})
        super().__init__(*args, **kwargs)
        self.fields["invoice_document_id"].choices = [("", "—")] + [
            (d.pk, str(d)) for d in documents]


class NoteForm(forms.Form):
    note = forms.CharField(label=_("Note"), max_length=2000, required=False,
                           widget=forms.Textarea(attrs={"rows": 2}))


class LoanFilterForm(forms.Form):
    state = forms.ChoiceField(label=_("State"), required=False)
    branch = forms.TypedChoiceField(label=_("Branch"), coerce=int, required=False,
                                    empty_value=None)
    officer = forms.TypedChoiceField(label=_("Responsible officer"), coerce=int,
                                     required=False, empty_value=None)
    enterprise = forms.CharField(label=_("Borrower name contains"), required=False,
                                 max_length=100)
    dpd_min = forms.IntegerField(label=_("Days past due, from"), min_value=0, required=False)
    dpd_max = forms.IntegerField(label=_("Days past due, to"), min_value=0, required=False)

    def __init__(self, *args, branches=(), officers=(), **kwargs):
        from apps.loans.states import LoanState

        super().__init__(*args, **kwargs)
        self.fields["state"].choices = [("", _("All"))] + list(LoanState.choices)
        self.fields["branch"].choices = [("", _("All"))] + [(b.pk, b.name) for b in branches]
        self.fields["officer"].choices = [("", _("All"))] + [
            (u.pk, u.get_full_name() or u.username) for u in officers]


class LoanChangeForm(forms.Form):
    kind = forms.ChoiceField(label=_("Change"), choices=LoanChange.Kind.choices)
    reason = forms.CharField(label=_("Reason"), max_length=2000,
                             widget=forms.Textarea(attrs={"rows": 2}))
    annual_rate = forms.DecimalField(label=_("New annual rate (%), restructuring"),
                                     max_digits=6, decimal_places=3, required=False)
    term_months = forms.IntegerField(label=_("New term from today (months), restructuring"),
                                     min_value=1, max_value=360, required=False)
    method = forms.ChoiceField(label=_("New repayment method, restructuring"), required=False,
                               choices=[("", "—")] + [
                                   c for c in ScheduleMethod.choices if c[0] != "irregular"])
