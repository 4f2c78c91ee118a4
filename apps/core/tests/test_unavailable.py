"""A view that loses its database answers 503 JSON with Retry-After, not an HTML 500."""

import json

from django.db import OperationalError
from django.http import HttpResponse
from django.test import RequestFactory

from apps.core.unavailable import DatabaseUnavailableMiddleware


def _middleware():
    return DatabaseUnavailableMiddleware(lambda request: HttpResponse("ok"))


def test_an_api_view_without_its_database_answers_503_json():
    request = RequestFactory().post("/api/v1/applications/1/documents/")
    response = _middleware().process_exception(
        request, OperationalError("server closed the connection unexpectedly"))
    assert response.status_code == 503 and response["Retry-After"] == "5"
    assert response["Content-Type"] == "application/json"
    body = json.loads(response.content)
    assert body["code"] == "service_unavailable" and body["fields"] == {}


def test_pages_get_a_sentence_and_other_errors_pass_through():
    middleware = _middleware()
    page = middleware.process_exception(RequestFactory().get("/applications/"),
                                        OperationalError("gone"))
    assert page.status_code == 503 and b"retry" in page.content
    assert middleware.process_exception(RequestFactory().get("/api/v1/x/"),
                                        ValueError("a bug")) is None
