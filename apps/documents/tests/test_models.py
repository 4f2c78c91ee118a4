"""Document transitions (state × transition against an explicit table) and type rules."""

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django_fsm import can_proceed, has_transition_perm

from apps.documents.models import Document, DocumentType
from apps.documents.states import CheckStatus as _C
from apps.documents.states import DocumentState as S

TRANSITIONS = ["check_start", "check_pass", "check_fail", "check_flag", "check_restart",
               "recheck", "waive"]
ALLOWED = {
    (S.UPLOADED, "check_start"), (S.CHECKING, "check_pass"), (S.CHECKING, "check_fail"),
    (S.CHECKING, "check_flag"), (S.NEEDS_ATTENTION, "check_restart"),
    (S.FAILED, "check_restart"), (S.NEEDS_ATTENTION, "recheck"), (S.FAILED, "recheck"),
    (S.PASSED, "recheck"), (S.UPLOADED, "waive"), (S.FAILED, "waive"),
    (S.NEEDS_ATTENTION, "waive"), (S.PASSED, "waive"),
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


CHECK_TRANSITIONS = ["start", "record_pass", "record_fail", "record_attention", "record_error",
                     "requeue", "reset"]
CHECK_ALLOWED = {
    (_C.PENDING, "start"), (_C.RUNNING, "record_pass"), (_C.RUNNING, "record_fail"),
    (_C.RUNNING, "record_attention"), (_C.PENDING, "record_error"),
    (_C.RUNNING, "record_error"), (_C.RUNNING, "requeue"),
    *((done, "reset") for done in (_C.PASSED, _C.FAILED, _C.ATTENTION, _C.ERROR)),
}


@pytest.mark.parametrize("state", list(_C))
@pytest.mark.parametrize("name", CHECK_TRANSITIONS)
def test_check_transition_table(state, name):
    from apps.documents.models import DocumentCheck

    check = DocumentCheck()
    DocumentCheck._meta.get_field("status").set_state(check, state)
    assert can_proceed(getattr(check, name), check_conditions=False) == (
        (state, name) in CHECK_ALLOWED)


def test_check_results_are_recorded_by_the_system_only():
    from apps.documents.models import DocumentCheck

    class Person:
        is_authenticated = True

    check = DocumentCheck()
    assert has_transition_perm(check.start, None)
    assert not has_transition_perm(check.start, Person())
