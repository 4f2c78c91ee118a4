"""The request page: permission, consent refusal shown, a request leads to its outcome."""

import pytest
from django.urls import reverse

from apps.datahub.models import Pull
from apps.datahub.tests.conftest import consent_for

pytestmark = pytest.mark.django_db


def test_request_page_refuses_without_consent_then_requests_and_shows_the_outcome(
        client, hub, people):
    client.force_login(people.am)
    url = reverse("datahub:pull-request", args=[people.firm.pk])
    assert client.get(url).status_code == 200
    refused = client.post(url, {"source": "court", "purpose": "pre_loan"})
    assert refused.status_code == 409 and "consent" in refused.content.decode()
    assert not Pull.objects.exists()
    consent_for(people.firm, people.am)
    # The consent on file names its sources as sentences do, not by their codes.
    listed = client.get(url).content.decode()
    assert "Business registry" in listed and "Court enforcement and dishonest-debtor" in listed
    assert "registry, court" not in listed and "court, registry" not in listed
    done = client.post(url, {"source": "court", "purpose": "pre_loan"})
    pull = Pull.objects.get()
    assert done.status_code == 302 and done.url == reverse("datahub:pull", args=[pull.pk])
    page = client.get(done.url)
    assert page.status_code == 200 and 'hx-trigger="every 2s"' in page.content.decode()


def test_request_page_needs_the_permission_and_the_branch(client, hub, people):
    client.force_login(people.approver)
    assert client.get(reverse("datahub:pull-request",
                              args=[people.firm.pk])).status_code == 403
    client.force_login(people.am)
    assert client.get(reverse("datahub:pull-request",
                              args=[people.south_firm.pk])).status_code == 404
