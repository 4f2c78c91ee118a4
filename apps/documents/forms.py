"""The upload form: a document type and one file. Everything about the file itself is decided
by the safety pipeline from its content, not here."""

from django import forms
from django.utils.translation import gettext_lazy as _

from apps.documents.selectors import document_type_list


class DocumentTypeChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj) -> str:
        return obj.name


class DocumentUploadForm(forms.Form):
    document_type = DocumentTypeChoiceField(queryset=document_type_list(), to_field_name="code",
                                            label=_("Document type"))
    file = forms.FileField(label=_("File"))
    valid_until = forms.DateField(label=_("Valid until (if printed on the document)"),
                                  required=False, widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["document_type"].queryset = document_type_list()
