"""The application page offers no approve / reject / return for a file in approval (its route
decides it), and points to the approval dossier instead."""

from django.urls import reverse

from apps.approvals.tests.factories import in_approval


def test_in_approval_the_application_page_links_to_the_dossier_without_buttons(world, client):
    application, _route = in_approval(world)
    client.force_login(world.user("approver.north"))
    response = client.get(reverse("applications:detail", args=[application.pk]))
    html = response.content.decode()
    assert response.context["actions"] == []
    assert {item["action"].name for item in response.context["blocked_actions"]} == {
        "approve", "reject", "return_for_rework"}
    for name in ("approve", "reject", "return_for_rework"):
        assert f"action-{name}" not in html
        assert reverse("applications:action", args=[application.pk, name]) not in html
    assert reverse("approvals:dossier", args=[application.pk]) in html
