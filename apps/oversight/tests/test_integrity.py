"""Tampering (changed payload, deleted row, reordered rows) is detected and located by the
command and the integrity page; the periodic check raises an alert auditors see."""

import logging

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.urls import reverse

from apps.audit import tasks as audit_tasks
from apps.audit.models import AuditEvent
from apps.audit.services import audit_record_now

# (statements, the bad event as an offset into the five events, words of the problem);
# {0}..{4} are the five events' seqs.
TAMPERING = {
    "changed_payload": (["UPDATE audit_auditevent SET payload = '{{\"n\": 30}}' WHERE seq = {2}"],
                        2, "altered"),
    "deleted_row": (["DELETE FROM audit_auditevent WHERE seq = {1}"], 1, "missing"),
    "reordered_rows": (["UPDATE audit_auditevent SET seq = -4 WHERE seq = {3}",
                        "UPDATE audit_auditevent SET seq = {3} WHERE seq = {1}",
                        "UPDATE audit_auditevent SET seq = {1} WHERE seq = -4"], 1, "link"),
}


def _tamper(statements, seqs) -> None:
    """As someone past the application (a DBA): on PostgreSQL the append-only triggers are
    disabled for the statements first, as a superuser could."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("ALTER TABLE audit_auditevent DISABLE TRIGGER USER")
        for sql in statements:
            cursor.execute(sql.format(*seqs))
        if connection.vendor == "postgresql":
            cursor.execute("ALTER TABLE audit_auditevent ENABLE TRIGGER USER")


@pytest.fixture
def chain(world):
    """Five events after the world's own (seed) events; returns their seqs."""
    return [audit_record_now(action="branch.updated", actor=None,
                             subject=("org.branch", str(n)), payload={"n": n}).seq
            for n in range(1, 6)]


def _check_detected(client_as, seqs, statements, offset, words):
    client = client_as("auditor.north")
    bad_seq, last = seqs[offset], seqs[-1]
    ok = client.post(reverse("oversight:integrity"), {"from_seq": "", "to_seq": str(last)})
    assert ok.context["report"].ok and ok.context["report"].checked == last
    _tamper(statements, seqs)
    with pytest.raises(CommandError, match=f"BROKEN at event {bad_seq}"):
        call_command("verify_audit_chain", "--to-seq", str(last))
    page = client.post(reverse("oversight:integrity"), {"to_seq": str(last)})
    report = page.context["report"]
    assert (report.ok, report.bad_seq) == (False, bad_seq)
    assert words in report.problem
    assert f"BROKEN at event {bad_seq}" in page.content.decode().replace("Chain BROKEN",
                                                                         "BROKEN")
    assert AuditEvent.objects.filter(action="audit_chain.checked").count() == 2


@pytest.mark.django_db
@pytest.mark.parametrize("kind", TAMPERING)
def test_tampering_is_located_by_command_and_page(chain, client_as, kind):
    _check_detected(client_as, chain, *TAMPERING[kind])


@pytest.mark.integration
@pytest.mark.django_db
@pytest.mark.parametrize("kind", TAMPERING)
def test_tampering_is_located_on_postgresql(on_postgresql, chain, client_as, kind):
    _check_detected(client_as, chain, *TAMPERING[kind])


@pytest.mark.django_db
def test_bad_range_input_is_refused_with_the_field(chain, client_as):
    page = client_as("auditor.north").post(reverse("oversight:integrity"),
                                           {"from_seq": "x", "to_seq": "0"})
    assert page.status_code == 400
    assert set(page.context["errors"]) == {"from_seq", "to_seq"}
    assert not AuditEvent.objects.filter(action="audit_chain.checked").exists()
    assert chain


@pytest.mark.django_db
def test_periodic_check_raises_the_alert_and_the_banner(chain, client_as, caplog):
    home = reverse("oversight:events")
    assert audit_tasks.audit_chain_verify()["ok"]
    assert "integrity check" not in client_as("auditor.north").get(home).content.decode()
    _tamper(TAMPERING["changed_payload"][0], chain)
    with caplog.at_level(logging.ERROR, logger="apps.audit.tasks"):
        outcome = audit_tasks.audit_chain_verify()
    bad = chain[2]
    assert (outcome["ok"], outcome["bad_seq"]) == (False, bad)
    assert f"Audit chain broken at event {bad}" in caplog.text
    alert = AuditEvent.objects.get(action="audit.chain_alert")
    assert alert.payload["bad_seq"] == bad
    banner = f"The audit trail failed its integrity check at event {bad}."
    assert banner in client_as("auditor.north").get(home).content.decode()
    assert banner in client_as("admin.north").get(reverse("web:home")).content.decode()
    assert banner not in client_as("am.north").get(reverse("web:home")).content.decode()
