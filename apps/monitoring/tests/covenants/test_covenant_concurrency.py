"""Approving a covenant change while the daily covenant sweep works the same loan (real
PostgreSQL, two connections): both lock the loan first (loan → covenant → checks → audit),
so one waits for the other, neither deadlocks, and the result is what either order gives:
the covenant waived, the check of the waived period cancelled, nothing owed inside it."""

import datetime as dt
import threading

import pytest
from django.db import connection
from django.utils import timezone

from apps.monitoring import covenant_change_services as changes
from apps.monitoring import covenant_services as services
from apps.monitoring.covenant_models import Covenant, CovenantChange, CovenantCheck

pytestmark = pytest.mark.skipif(connection.vendor != "postgresql",
                                reason="row locks need PostgreSQL (SQLite locks the file)")


def _race(calls):
    barrier, outcomes = threading.Barrier(len(calls)), []

    def run(name, call):
        try:
            barrier.wait()
            outcomes.append((name, "ok", call()))
        except Exception as exc:  # noqa: BLE001 - any failure (a deadlock too) is reported
            outcomes.append((name, "failed", exc))
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=item) for item in calls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads), "a thread is stuck on a lock"
    return outcomes


@pytest.mark.django_db(transaction=True)
def test_approving_a_waiver_while_the_sweep_works_the_loan(world, scheduled):
    loan, check, _review = scheduled
    officer, lead = world.user("postloan.north"), world.user("lead.north")
    today = timezone.localdate()
    until = check.due_date + dt.timedelta(days=10)
    change = changes.covenant_change_propose(
        covenant_id=check.covenant_id, actor=officer, kind="waive", effective_from=today,
        waived_until=until, reason="Seasonal dip agreed")
    loan_ids = [loan.pk]
    outcomes = _race([
        ("approve", lambda: changes.covenant_change_approve(change_id=change.pk, actor=lead)),
        ("sweep", lambda: services.covenant_sweep_chunk(loan_ids=loan_ids, today=today))])
    assert {name: result for name, result, _value in outcomes} == {
        "approve": "ok", "sweep": "ok"}, outcomes
    change = CovenantChange.objects.get(pk=change.pk)
    covenant = Covenant.objects.get(pk=check.covenant_id)
    assert change.state == "in_effect"
    assert covenant.state == "waived" and covenant.waived_until == until
    assert CovenantCheck.objects.get(pk=check.pk).state == "cancelled"
    owed = CovenantCheck.objects.filter(covenant=covenant, due_date__lte=until).exclude(
        state="cancelled")
    assert not owed.exists(), list(owed.values("due_date", "state"))
    # The other covenant of the loan is untouched by the waiver and still scheduled once.
    other = Covenant.objects.filter(loan=loan).exclude(pk=covenant.pk).get()
    assert other.state == "active"
    assert CovenantCheck.objects.filter(covenant=other).exclude(
        state="cancelled").count() == 1
