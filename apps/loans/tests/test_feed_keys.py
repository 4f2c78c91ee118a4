"""No repayment event or balance snapshot names a loan (or a reversal a repayment) that does not
exist, without a per-row foreign-key check (migration 0006_feed_set_based_keys).

The feed refuses such a row with its line and reason before writing anything; under it, on
PostgreSQL, statement-level triggers refuse any write that would break the reference, and any
delete of what is referenced, whoever runs it.
"""

import datetime as dt
from decimal import Decimal

import pytest
from django.db import IntegrityError, connection, transaction
from django.db.models import ProtectedError
from django.utils import timezone

from apps.loans.models import BalanceSnapshot, FeedImport, Loan, RepaymentEvent
from apps.loans.tests.factories_servicing import ServicingWorld
from apps.loans.tests.test_feed_import import bal, import_rows, rep

pytestmark = pytest.mark.django_db
# read per use, not at import: a run may cross midnight (Asia/Shanghai)
today = timezone.localdate


@pytest.fixture
def world():
    return ServicingWorld()


def _missing_loan_id() -> int:
    return (Loan.objects.order_by("-id").values_list("id", flat=True).first() or 0) + 1000


def test_feed_refuses_a_row_naming_no_loan_with_line_and_reason(world, tmp_path):
    """A batch otherwise plain (the set-based path would take it) with one row naming a loan
    that does not exist: refused whole, that row named, nothing written."""
    loan = world.loan()
    v = loan.value_date
    ghost = Loan(loan_number="L-GHOST")
    rows = [rep(f"R{k}", loan, v + dt.timedelta(days=k), "10", "1") for k in range(1, 6)]
    rows.insert(3, rep("RX", ghost, v + dt.timedelta(days=3), "10", "1"))
    rows.append(bal("BX", ghost, today(), "100"))
    batch = import_rows(tmp_path, rows)
    assert batch.outcome == FeedImport.Outcome.REFUSED
    assert [(e["line"], e["field"], e["code"]) for e in batch.errors] == [
        (5, "loan_number", "unknown_loan"), (8, "loan_number", "unknown_loan")]
    assert "L-GHOST" in batch.errors[0]["reason_en"] and batch.errors[0]["reason_zh"]
    assert not RepaymentEvent.objects.exists() and not BalanceSnapshot.objects.exists()


def test_orm_delete_of_a_loan_with_events_is_protected(world):
    loan = world.loan()
    batch = FeedImport.objects.create(source="api", outcome="accepted")
    RepaymentEvent.objects.create(loan=loan, source_record_id="R1", kind="repayment",
                                  value_date=loan.value_date, principal=Decimal("1"),
                                  feed_import=batch)
    with pytest.raises(ProtectedError):
        loan.delete()


needs_postgresql = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="the statement-level key triggers are PostgreSQL's; SQLite relies on the feed's "
           "validation and the ORM's PROTECT (tested above)")


@needs_postgresql
def test_an_event_or_snapshot_naming_no_loan_is_refused_by_the_database(world):
    loan = world.loan()
    batch = FeedImport.objects.create(source="api", outcome="accepted")
    missing = _missing_loan_id()
    with pytest.raises(IntegrityError, match="names a loan that does not exist"), \
            transaction.atomic():
        RepaymentEvent.objects.create(loan_id=missing, source_record_id="R1", kind="repayment",
                                      value_date=today(), principal=Decimal("1"),
                                      feed_import=batch)
    with pytest.raises(IntegrityError, match="names a loan that does not exist"), \
            transaction.atomic():
        BalanceSnapshot.objects.create(loan_id=missing, source_record_id="B1", as_of=today(),
                                       outstanding_principal=Decimal("1"), feed_import=batch)
    # One statement, many rows: one bad loan among good ones refuses them all.
    with pytest.raises(IntegrityError), transaction.atomic():
        RepaymentEvent.objects.bulk_create([
            RepaymentEvent(loan_id=pk, source_record_id=f"M{k}", kind="repayment",
                           value_date=today(), principal=Decimal("1"), feed_import=batch)
            for k, pk in enumerate([loan.pk, missing, loan.pk])])
    # Moving a stored event to a loan that does not exist is refused too.
    event = RepaymentEvent.objects.create(loan=loan, source_record_id="R2", kind="repayment",
                                          value_date=today(), principal=Decimal("1"),
                                          feed_import=batch)
    with pytest.raises(IntegrityError), transaction.atomic():
        RepaymentEvent.objects.filter(pk=event.pk).update(loan_id=missing)
    assert list(RepaymentEvent.objects.values_list("source_record_id", flat=True)) == ["R2"]
    assert not BalanceSnapshot.objects.exists()


@needs_postgresql
def test_a_reversal_of_no_event_is_refused_by_the_database(world):
    loan = world.loan()
    batch = FeedImport.objects.create(source="api", outcome="accepted")
    with pytest.raises(IntegrityError, match="reverses an event that does not exist"), \
            transaction.atomic():
        RepaymentEvent.objects.create(loan=loan, source_record_id="X1", kind="reversal",
                                      value_date=today(), reverses_id=10**12, feed_import=batch)
    # A repayment and its reversal in one statement: the reversal finds it.
    repaid = RepaymentEvent.objects.create(loan=loan, source_record_id="R1", kind="repayment",
                                           value_date=today(), principal=Decimal("1"),
                                           feed_import=batch)
    RepaymentEvent.objects.create(loan=loan, source_record_id="X2", kind="reversal",
                                  value_date=today(), reverses=repaid, feed_import=batch)
    # Reversed at most once (the partial unique index).
    with pytest.raises(IntegrityError), transaction.atomic():
        RepaymentEvent.objects.create(loan=loan, source_record_id="X3", kind="reversal",
                                      value_date=today(), reverses=repaid, feed_import=batch)


@needs_postgresql
def test_deleting_what_events_name_is_refused_by_the_database(world):
    """Raw SQL, past the ORM's PROTECT: the triggers refuse it; a loan nothing names goes."""
    named, bare = world.loan(), world.loan()
    batch = FeedImport.objects.create(source="api", outcome="accepted")
    repaid = RepaymentEvent.objects.create(loan=named, source_record_id="R1", kind="repayment",
                                           value_date=today(), principal=Decimal("1"),
                                           feed_import=batch)
    RepaymentEvent.objects.create(loan=named, source_record_id="X1", kind="reversal",
                                  value_date=today(), reverses=repaid, feed_import=batch)
    snapped = world.loan()
    BalanceSnapshot.objects.create(loan=snapped, source_record_id="B1", as_of=today(),
                                   outstanding_principal=Decimal("1"), feed_import=batch)
    with connection.cursor() as cursor:
        for pk in (named.pk, snapped.pk):
            with pytest.raises(IntegrityError, match="removes a loan"), transaction.atomic():
                cursor.execute("DELETE FROM loans_loan WHERE id = %s", [pk])
        with pytest.raises(IntegrityError, match="removes a repayment a reversal names"), \
                transaction.atomic():
            cursor.execute("DELETE FROM loans_repaymentevent WHERE id = %s", [repaid.pk])
        with transaction.atomic():  # the control: nothing names this one (other keys defer)
            cursor.execute("DELETE FROM loans_loan WHERE id = %s", [bare.pk])
            assert cursor.rowcount == 1
            transaction.set_rollback(True)
    assert Loan.objects.filter(pk__in=[named.pk, snapped.pk]).count() == 2
