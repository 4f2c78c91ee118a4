import pytest
from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from django_fsm import TransitionNotAllowed
from rest_framework import serializers
from rest_framework.test import APIRequestFactory

from apps.audit.models import AuditEvent
from apps.core.exceptions import DomainError, TransitionConflict, api_exception_handler


def _handle(exc, user=None):
    request = APIRequestFactory().get("/api/v1/x/")
    if user is not None:
        request.user = user
    return api_exception_handler(exc, {"request": request})


class _Amount(serializers.Serializer):
    amount = serializers.DecimalField(max_digits=12, decimal_places=2)


def test_validation_errors_list_fields():
    serializer = _Amount(data={"amount": "lots"})
    with pytest.raises(serializers.ValidationError) as caught:
        serializer.is_valid(raise_exception=True)
    response = _handle(caught.value)
    assert response.status_code == 400
    assert response.data["code"] == "invalid"
    assert list(response.data["fields"]) == ["amount"]


def test_django_validation_error_is_400_with_fields():
    response = _handle(DjangoValidationError({"term": ["Too long."]}))
    assert (response.status_code, response.data["fields"]) == (400, {"term": ["Too long."]})


def test_transition_errors_are_409():
    assert _handle(TransitionConflict(detail="Not now.")).status_code == 409
    assert _handle(TransitionNotAllowed("x")).status_code == 409


def test_domain_error_keeps_its_code():
    class Overdue(DomainError):
        code = "overdue_exists"

    response = _handle(Overdue("The enterprise has an overdue loan."))
    assert response.data == {"code": "overdue_exists",
                             "detail": "The enterprise has an overdue loan.", "fields": {}}


def test_http404_is_not_found():
    response = _handle(Http404())
    assert (response.status_code, response.data["code"]) == (404, "not_found")


@pytest.mark.django_db
def test_permission_refusal_is_403_and_audited(django_user_model):
    user = django_user_model.objects.create_user("nosy", password="x" * 12)
    response = _handle(PermissionDenied("Not your branch."), user=user)
    assert response.status_code == 403
    event = AuditEvent.objects.get(action="auth.permission_refused")
    assert event.actor_id == user.pk
    assert event.payload["reason"] == "Not your branch."
