"""The checklist section on the application page: statuses, polling while checks run, the
re-run and waiver buttons (htmx), and server-side permission on each."""

import pytest
from django.urls import reverse

from apps.documents import checking, samples
from apps.documents.models import Document
from apps.documents.states import DocumentState
from apps.documents.tests.helpers import sited_draft, upload, upload_statement

pytestmark = pytest.mark.django_db
HTMX = {"HTTP_HX_REQUEST": "true"}


def test_section_shows_statuses_and_polls_while_checking(client, docs):
    app = sited_draft(docs)
    statement = upload_statement(docs, app)
    client.force_login(docs.user("am.north"))
    page = client.get(reverse("applications:detail", args=[app.pk])).content.decode()
    assert 'id="documents-checklist"' in page and "流水.csv" in page
    assert 'hx-trigger="every 2s"' in page  # checks pending: the section refreshes itself
    assert "Missing" in page and "required documents are not ready" in page

    checking.document_check(document_id=statement.pk)
    partial = client.get(reverse("documents:checklist", args=[app.pk]), **HTMX)
    html = partial.content.decode()
    assert partial.status_code == 200 and "<html" not in html
    assert "every 2s" not in html  # done: polling stops
    assert "Bank-statement analysis" in html and "records-1" in html
    assert "transactions: 124" in html and "layout: cn-debit-credit" in html
    assert "Re-run checks" in html


def test_recheck_and_waive_from_the_page(client, docs):
    app = sited_draft(docs)
    empty = upload(docs, app, samples.statement_cn_csv([]), type_code="bank_statement",
                   name="empty.csv")
    checking.document_check(document_id=empty.pk)

    client.force_login(docs.user("approver.north"))  # sees the file, may not act on it
    response = client.post(reverse("documents:recheck", args=[empty.pk]), **HTMX)
    assert response.status_code == 403

    client.force_login(docs.user("am.north"))
    page = client.get(reverse("documents:checklist", args=[app.pk]), **HTMX).content.decode()
    assert "No transactions were found" in page
    assert "Waive: reason" not in page  # the account manager never sees a waiver button
    response = client.post(reverse("documents:recheck", args=[empty.pk]), **HTMX)
    assert response.status_code == 200 and "every 2s" in response.content.decode()
    assert Document.objects.get(pk=empty.pk).state == DocumentState.CHECKING
    checking.document_check(document_id=empty.pk)

    client.force_login(docs.user("lead.north"))
    response = client.post(reverse("documents:waive", args=[empty.pk]),
                           {"reason": "short"}, **HTMX)
    assert response.status_code == 400 and "at least 10 characters" in response.content.decode()
    response = client.post(reverse("documents:waive", args=[empty.pk]),
                           {"reason": "Paper statement checked at the counter."}, **HTMX)
    assert response.status_code == 200
    assert Document.objects.get(pk=empty.pk).state == DocumentState.WAIVED
    assert "Paper statement checked at the counter." in response.content.decode()


def test_other_branch_cannot_see_or_act(client, docs):
    app = sited_draft(docs)
    statement = upload_statement(docs, app)
    client.force_login(docs.user("lead.south"))
    assert client.get(reverse("documents:checklist", args=[app.pk])).status_code == 404
    assert client.post(reverse("documents:waive", args=[statement.pk]),
                       {"reason": "Not my branch at all, sorry."}).status_code == 404
