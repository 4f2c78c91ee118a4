import pytest
from django.core.exceptions import PermissionDenied
from django.db import transaction

from apps.audit.models import AuditEvent
from apps.audit.services import audit_record
from apps.core.exceptions import TransitionConflict
from apps.core.fsm import transition_check
from tests.testapp.models import Document

pytestmark = pytest.mark.django_db


class _User:
    def __init__(self, username):
        self.username, self.pk, self.is_authenticated = username, None, True


def test_state_field_cannot_be_assigned_directly():
    document = Document.objects.create(title="t")
    with pytest.raises(AttributeError):
        document.state = "published"


def test_failed_refresh_keeps_state_protected():
    """django-fsm-2 4.2.4 leaves `protected` off when refresh_from_db raises."""
    document = Document.objects.create(title="t")
    Document.objects.filter(pk=document.pk).delete()
    with pytest.raises(Document.DoesNotExist):
        document.refresh_from_db()
    other = Document(title="x")
    with pytest.raises(AttributeError):
        other.state = "published"


def test_transition_check_allows_permitted_actor():
    document = Document.objects.create(title="t")
    transition_check(document.publish, actor=_User("editor-1"))


def test_transition_check_refuses_wrong_actor_with_403():
    document = Document.objects.create(title="t")
    with pytest.raises(PermissionDenied):
        transition_check(document.publish, actor=_User("reader"))


def test_transition_check_refuses_wrong_state_with_409():
    document = Document.objects.create(title="t")
    document.publish()
    with pytest.raises(TransitionConflict) as caught:
        transition_check(document.publish, actor=_User("editor-1"))
    assert "published" in caught.value.detail


def test_transition_check_refuses_wrong_actor_in_wrong_state_with_403_not_409():
    """Permission before state: the wrong actor learns "not you", not the record's state."""
    document = Document.objects.create(title="t")
    document.publish()
    with pytest.raises(PermissionDenied):
        transition_check(document.publish, actor=_User("reader"))


def test_service_pattern_rolls_back_event_with_failed_change():
    document = Document.objects.create(title="t")
    with pytest.raises(RuntimeError), transaction.atomic():
        document.publish()
        document.save()
        audit_record(action="testapp.document_published", actor=None, subject=document)
        raise RuntimeError("the save lost a race")
    assert not AuditEvent.objects.filter(action="testapp.document_published").exists()
    document.refresh_from_db()
    assert document.state == "draft"


def test_full_clean_skips_the_protected_state_field():
    document = Document.objects.create(title="t")
    document.full_clean()
    assert document.state == "draft"
