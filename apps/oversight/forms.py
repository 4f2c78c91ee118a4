"""The auditors' event filter: what can be asked, validated field by field."""

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from apps.accounts.models import User
from apps.applications.models import Application
from apps.audit.registry import registered_actions
from apps.core.pagination import is_whole_number
from apps.org.models import Branch
from apps.parties.models import Enterprise


def _action_choices():
    actions = registered_actions()
    return [("", _("Any action"))] + [(code, f"{code} · {label}")
                                      for code, label in sorted(actions.items())]


class EventFilterForm(forms.Form):
    """Every field optional; each names the record by what an auditor has in hand (an
    application reference, a USCC, a username) and is resolved to an indexed id."""

    application = forms.CharField(label=_("Application (reference or id)"), required=False,
                                  max_length=40)
    enterprise = forms.CharField(label=_("Enterprise (USCC or id)"), required=False,
                                 max_length=40)
    user = forms.CharField(label=_("User (username)"), required=False, max_length=150)
    branch = forms.ModelChoiceField(label=_("Branch"), required=False,
                                    queryset=Branch.objects.order_by("code"),
                                    empty_label=_("Any branch"))
    action = forms.ChoiceField(label=_("Action"), required=False, choices=())
    date_from = forms.DateField(label=_("From (date)"), required=False,
                                widget=forms.DateInput(attrs={"type": "date"}))
    date_to = forms.DateField(label=_("To (date)"), required=False,
                              widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["action"].choices = _action_choices()

    def clean_application(self) -> int | None:
        text = (self.cleaned_data.get("application") or "").strip()
        if not text:
            return None
        query = Application.objects.filter(reference=text.upper())
        if is_whole_number(text):
            query = Application.objects.filter(pk=int(text)) | query
        found = query.values_list("pk", flat=True).first()
        if found is None:
            raise ValidationError(_("No application has this reference or id."))
        return found

    def clean_enterprise(self) -> int | None:
        text = (self.cleaned_data.get("enterprise") or "").strip()
        if not text:
            return None
        query = Enterprise.objects.filter(uscc=text.upper())
        if is_whole_number(text):
            query = Enterprise.objects.filter(pk=int(text)) | query
        found = query.values_list("pk", flat=True).first()
        if found is None:
            raise ValidationError(_("No enterprise has this USCC or id."))
        return found

    def clean_user(self) -> int | None:
        text = (self.cleaned_data.get("user") or "").strip()
        if not text:
            return None
        found = User.objects.filter(username=text).values_list("pk", flat=True).first()
        if found is None:
            raise ValidationError(_("No user has this username."))
        return found

    def clean(self):
        data = super().clean()
        start, end = data.get("date_from"), data.get("date_to")
        if start and end and start > end:
            self.add_error("date_to", _("The end date is before the start date."))
        return data

    def as_filters(self) -> dict:
        """The cleaned filters as plain JSON values (stored with background export jobs)."""
        data = self.cleaned_data
        filters = {
            "application_id": data.get("application"),
            "enterprise_id": data.get("enterprise"),
            "actor_id": data.get("user"),
            "branch_id": data["branch"].pk if data.get("branch") else None,
            "action": data.get("action") or None,
            "date_from": data["date_from"].isoformat() if data.get("date_from") else None,
            "date_to": data["date_to"].isoformat() if data.get("date_to") else None,
        }
        return {key: value for key, value in filters.items() if value is not None}
