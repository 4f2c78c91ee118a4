"""Document transitions (state × transition against an explicit table) and type rules."""

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django_fsm import can_proceed, has_transition_perm

from apps.documents.models import Document, DocumentType
from apps.documents.states import DocumentState as S

TRANSITIONS = ["check_start", "check_pass", "check_fail", "check_flag", "check_restart", "waive"]
ALLOWED = {
    (S.UPLOADED, "check_start"), (S.CHECKING, "check_pass"), (S.CHECKING, "check_fail"),
    (S.CHECKING, "check_flag"), (S.NEEDS_ATTENTION, "check_restart"),
    (S.FAILED, "check_restart"), (S.UPLOADED, "waive"), (S.FAILED, "waive"),
    (S.NEEDS_ATTENTION, "waive"),
}


@pytest.mark.parametrize("state", list(S))
@pytest.mark.parametrize("name", TRANSITIONS)
def test_transition_table(state, name):
    document = Document()
    Document._meta.get_field("state").set_state(document, state)  # test-only: bypass protection
    allowed = can_proceed(getattr(document, name), check_conditions=False)
    assert allowed == ((state, name) in ALLOWED)


def test_check_results_are_system_only():
    document = Document()
    assert has_transition_perm(document.check_start, None)

    class Person:
        is_authenticated = True

    assert not has_transition_perm(document.check_start, Person())


def test_state_is_protected():
    with pytest.raises(AttributeError):
        Document().state = S.PASSED


def test_allowed_formats_validated():
    doc_type = DocumentType(code="x", name_en="X", name_zh="X", allowed_formats=["pdf", "exe"])
    with pytest.raises(ValidationError):
        doc_type.clean()
    DocumentType(code="x", name_en="X", name_zh="X", allowed_formats=["pdf"]).clean()


@pytest.mark.django_db
def test_expiring_type_needs_a_validity_period():
    with pytest.raises(IntegrityError), transaction.atomic():
        DocumentType.objects.create(code="x", name_en="X", name_zh="X", expires=True)
    DocumentType.objects.create(code="y", name_en="Y", name_zh="Y", expires=True,
                                validity_days=90)
