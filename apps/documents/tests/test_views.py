"""Upload page and download: field errors, htmx partials, headers, scope and audit."""

import pytest
from django.test import override_settings
from django.urls import include, path, reverse

from apps.audit.models import AuditEvent
from apps.documents import services
from apps.documents.models import Document
from apps.documents.tests import corpus
from apps.documents.tests.conftest import stored_files, upload_file
from config.urls import urlpatterns as project_urls

# The project includes these at /documents/ (config/urls.py is not this app's to edit yet).
urlpatterns = [*project_urls, path("documents/", include("apps.documents.urls"))]

pytestmark = [pytest.mark.django_db, pytest.mark.urls(__name__)]
HTMX = {"HTTP_HX_REQUEST": "true"}


def _upload_url(app):
    return reverse("documents:upload", args=[app.pk])


def _post(client, app, data, name, type_code="bank_statement", **extra):
    return client.post(_upload_url(app), {"document_type": type_code,
                                          "file": upload_file(data, name)}, **extra)


def test_upload_page_and_htmx_post(client, world, types):
    app = world.draft()
    client.force_login(world.user("am.north"))
    page = client.get(_upload_url(app))
    assert page.status_code == 200 and b'enctype="multipart/form-data"' in page.content

    response = _post(client, app, corpus.pdf(), "营业执照.pdf", **HTMX)
    assert response.status_code == 200
    html = response.content.decode()
    assert "<html" not in html and "营业执照.pdf" in html  # the partial, listing the file
    assert Document.objects.get().original_filename == "营业执照.pdf"


def test_plain_post_redirects(client, world, types):
    app = world.draft()
    client.force_login(world.user("am.north"))
    response = _post(client, app, corpus.csv_utf8(), "oct.csv")
    assert response.status_code == 302 and response.url == _upload_url(app)


def test_rejection_is_a_field_error(client, world, types):
    app = world.draft()
    client.force_login(world.user("am.north"))
    before = stored_files()
    response = _post(client, app, corpus.windows_exe(), "statement.pdf", **HTMX)
    assert response.status_code == 400
    assert 'id="document-file-error"' in response.content.decode()
    assert "Windows program" in response.content.decode()
    assert stored_files() == before and not Document.objects.exists()


def test_django_strips_paths_from_multipart_names(client, world, types):
    """The parser keeps only the last component; the service refuses raw paths itself."""
    app = world.draft()
    client.force_login(world.user("am.north"))
    _post(client, app, corpus.pdf(), "../../etc/statement.pdf")
    assert Document.objects.get().original_filename == "statement.pdf"


@override_settings(DOCUMENTS_MAX_UPLOAD_BYTES=2000)
def test_upload_handler_stops_large_bodies(client, world, types):
    app = world.draft()
    client.force_login(world.user("am.north"))
    before = stored_files()
    response = _post(client, app, b"a,b\n" * 2000, "big.csv", **HTMX)
    assert response.status_code == 400
    assert "larger than the" in response.content.decode()
    assert stored_files() == before and not Document.objects.exists()


def test_upload_scope(client, world, types):
    app = world.draft()
    client.force_login(world.user("am.south"))
    assert client.get(_upload_url(app)).status_code == 404
    assert _post(client, app, corpus.pdf(), "x.pdf").status_code == 404
    client.force_login(world.user("reviewer.north"))
    page = client.get(_upload_url(app))
    assert page.status_code == 200 and b'type="file"' not in page.content  # no form offered
    assert _post(client, app, corpus.pdf(), "x.pdf").status_code == 403
    assert not Document.objects.exists()


def test_upload_needs_csrf(world, types):
    from django.test import Client

    app = world.draft()
    client = Client(enforce_csrf_checks=True)
    client.force_login(world.user("am.north"))
    assert _post(client, app, corpus.pdf(), "x.pdf").status_code == 403
    assert not Document.objects.exists()


def _document(world, data=None, name="Statement <Oct>.html", type_code="bank_statement"):
    return services.document_upload(
        application_id=world.draft().pk, document_type_code=type_code,
        uploaded_file=upload_file(data or corpus.pdf(), name), actor=world.user("am.north"))


def test_download_headers_and_audit(client, world, types):
    document = _document(world)
    client.force_login(world.user("reviewer.north"))  # may read, though not upload
    response = client.get(reverse("documents:download", args=[document.pk]))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["X-Content-Type-Options"] == "nosniff"
    # The detected extension replaces the client's: an .html name holding a PDF is saved .pdf.
    assert response["Content-Disposition"].startswith("attachment;")
    assert 'filename="Statement _Oct_.pdf"' in response["Content-Disposition"]
    assert "sandbox" in response["Content-Security-Policy"]
    assert b"".join(response.streaming_content) == corpus.pdf()
    event = AuditEvent.objects.get(action="document.downloaded")
    assert event.subject_id == str(document.pk)
    assert event.actor_id == world.user("reviewer.north").pk


def test_download_other_branch_is_404_and_not_audited(client, world, types):
    document = _document(world)
    client.force_login(world.user("am.south"))
    assert client.get(reverse("documents:download", args=[document.pk])).status_code == 404
    assert not AuditEvent.objects.filter(action="document.downloaded").exists()


def test_quarantined_documents_are_never_served(client, world, types):
    document = _document(world, corpus.pdf_with_open_action("javascript"), "s.pdf")
    client.force_login(world.user("am.north"))
    response = client.get(reverse("documents:download", args=[document.pk]))
    assert response.status_code == 409 and b"quarantined" in response.content
    assert not AuditEvent.objects.filter(action="document.downloaded").exists()


def test_image_download_is_the_reencoded_file(client, world, types):
    document = _document(world, corpus.jpeg(gps=True) + b"PAYLOAD", "p.jpg", "site_photo")
    client.force_login(world.user("am.north"))
    response = client.get(reverse("documents:download", args=[document.pk]))
    body = b"".join(response.streaming_content)
    assert response["Content-Type"] == "image/jpeg" and b"PAYLOAD" not in body


def test_anonymous_redirected_to_login(client, world, types):
    document = _document(world)
    response = client.get(reverse("documents:download", args=[document.pk]))
    assert response.status_code == 302 and "login" in response.url
