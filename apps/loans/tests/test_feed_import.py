"""Feed import: idempotent by source record id, all-or-nothing, every refused row named."""

import datetime as dt
from decimal import Decimal
from io import BytesIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone
from openpyxl import Workbook

from apps.audit.models import AuditEvent
from apps.loans import dpd, feed
from apps.loans.dpd_store import load_history, load_instalments, load_payments
from apps.loans.feed_files import feed_file_import
from apps.loans.feed_parse import csv_text
from apps.loans.models import BalanceSnapshot, FeedImport, LoanDpd, RepaymentEvent
from apps.loans.states import LoanState
from apps.loans.tests.factories_servicing import ServicingWorld

# Dialect-neutral: PostgreSQL decides plain batches set-based (apps.loans.feed_sql, held equal
# to the reference engine by test_feed_paths.py); SQLite runs the reference engine with the
# reads of apps.loans.feed_portable. On PostgreSQL every test runs on both engines (`feed_path`).
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("feed_path")]

HEADER = ["source_record_id", "kind", "loan_number", "date", "principal", "interest",
          "reverses", "outstanding_principal", "overdue_principal", "overdue_interest"]
# read per use, not at import: a run may cross midnight (Asia/Shanghai)
today = timezone.localdate


@pytest.fixture
def world():
    return ServicingWorld()


def rep(rid, loan, day, principal, interest):
    return [rid, "repayment", loan.loan_number, day.isoformat(), principal, interest, "", "", "",
            ""]


def rev(rid, target, day, loan=None):
    return [rid, "reversal", loan.loan_number if loan else "", day.isoformat(), "", "", target,
            "", "", ""]


def bal(rid, loan, day, outstanding, overdue_p="0", overdue_i="0"):
    return [rid, "balance", loan.loan_number, day.isoformat(), "", "", "", outstanding,
            overdue_p, overdue_i]


def import_rows(tmp_path, rows, *, actor=None, name="feed.csv", header=HEADER):
    path = tmp_path / name
    path.write_bytes(csv_text(header, rows))
    return feed_file_import(path=path, filename=name, actor=actor).feed_import


def assert_dpd_matches_scratch(loan):
    """The stored history and the loan's figures equal a recomputation from scratch."""
    schedule = load_instalments([loan.pk])[loan.pk]
    payments = load_payments([loan.pk]).get(loan.pk, [])
    history, figures = dpd.loan_dpd(schedule, payments, as_of=today())
    assert load_history([loan.pk]).get(loan.pk, []) == history
    loan.refresh_from_db()
    assert (loan.dpd_principal, loan.dpd_interest, loan.dpd_as_of) == (
        figures.dpd_principal, figures.dpd_interest, today())


def test_accepted_file_writes_events_recomputes_dpd_and_is_audited(world, tmp_path):
    loan = world.loan()  # instalments due on days 30, 60, 90 after value date (100 days ago)
    v = loan.value_date
    batch = import_rows(tmp_path, [rep("R1", loan, v + dt.timedelta(days=30), "1000", "50"),
                                   rep("R2", loan, v + dt.timedelta(days=75), "500.50", "50")],
                        actor=world.user("ops.north"))
    assert batch.outcome == FeedImport.Outcome.ACCEPTED, batch.errors
    assert (batch.rows_total, batch.rows_new, batch.rows_duplicate) == (2, 2, 0)
    assert RepaymentEvent.objects.filter(loan=loan).count() == 2
    loan.refresh_from_db()
    # Second instalment (1,050.00 due day 60) part-paid on day 75: past due since day 60.
    assert loan.dpd_principal == (today() - (v + dt.timedelta(days=60))).days
    assert loan.dpd_interest == (today() - (v + dt.timedelta(days=90))).days
    assert loan.overdue_interest == Decimal("50.00")
    assert loan.outstanding_principal == Decimal("1499.50")
    assert_dpd_matches_scratch(loan)
    event = AuditEvent.objects.get(action="loan_feed.imported")
    assert event.payload["new"] == 2 and event.actor_id == world.user("ops.north").pk


def test_same_file_again_is_a_no_op_counted_as_duplicates(world, tmp_path):
    loan = world.loan()
    rows = [rep("R1", loan, loan.value_date + dt.timedelta(days=30), "1000", "50"),
            bal("B1", loan, today(), "2000", "1000", "50")]
    import_rows(tmp_path, rows)
    history = list(LoanDpd.objects.filter(loan=loan).values_list("as_of", "dpd_principal"))
    again = import_rows(tmp_path, rows)
    assert again.outcome == FeedImport.Outcome.ACCEPTED
    assert (again.rows_new, again.rows_duplicate) == (0, 2)
    assert RepaymentEvent.objects.count() == 1 and BalanceSnapshot.objects.count() == 1
    assert list(LoanDpd.objects.filter(loan=loan).values_list("as_of", "dpd_principal")) \
        == history


def test_bad_rows_each_refused_with_line_and_reason_and_nothing_written(world, tmp_path):
    loan = world.loan()
    v = loan.value_date
    import_rows(tmp_path, [rep("OLD", loan, v + dt.timedelta(days=30), "1000", "50")],
                name="first.csv")
    events_before = RepaymentEvent.objects.count()
    batch = import_rows(tmp_path, [
        rep("N1", loan, v + dt.timedelta(days=31), "10", "0"),        # line 2: fine
        rep("N2", world.loan(number="L-OTHER").__class__(loan_number="L-NOPE"), v, "1", "0"),
        rep("N3", loan, v + dt.timedelta(days=32), "-5", "0"),         # 4 negative
        rep("N4", loan, v - dt.timedelta(days=1), "5", "0"),           # 5 before value date
        rep("OLD", loan, v + dt.timedelta(days=30), "999", "50"),      # 6 different figures
        rep("N5", loan, today() + dt.timedelta(days=1), "5", "0"),       # 7 future
        rep("N6", loan, v + dt.timedelta(days=33), "1,0x", "0"),       # 8 malformed amount
        ["N7", "repayment", loan.loan_number, "2026-13-45", "5", "0", "", "", "", ""],  # 9
        rev("X1", "NOPE", v + dt.timedelta(days=40)),                  # 10 reverses unknown
        rev("X2", "OLD", v + dt.timedelta(days=40)),                   # 11 fine
        rev("X3", "OLD", v + dt.timedelta(days=41)),                   # 12 already reversed
    ], name="bad.csv")
    assert batch.outcome == FeedImport.Outcome.REFUSED
    by_line = {e["line"]: e for e in batch.errors}
    assert sorted(by_line) == [3, 4, 5, 6, 7, 8, 9, 10, 12]
    assert {line: by_line[line]["code"] for line in by_line} == {
        3: "unknown_loan", 4: "negative_amount", 5: "before_value_date",
        6: "duplicate_different", 7: "future_date", 8: "malformed_amount",
        9: "malformed_date", 10: "reversal_unknown", 12: "reversal_repeated"}
    assert "L-NOPE" in by_line[3]["reason_en"] and by_line[3]["reason_zh"]
    assert by_line[4]["field"] == "principal"
    assert RepaymentEvent.objects.count() == events_before  # nothing written, not even line 2
    assert AuditEvent.objects.filter(action="loan_feed.refused").count() == 1


def test_missing_columns_are_named(world, tmp_path):
    loan = world.loan()
    batch = import_rows(tmp_path, [["R1", "repayment", loan.loan_number, "1000"]],
                        header=["source_record_id", "kind", "loan_number", "principal"])
    assert batch.outcome == FeedImport.Outcome.REFUSED
    assert batch.errors[0]["code"] == "missing_columns"
    assert "date" in batch.errors[0]["reason_en"]
    batch = import_rows(tmp_path, [["R1", "repayment", loan.loan_number, today().isoformat()]],
                        header=["source_record_id", "kind", "loan_number", "date"])
    assert batch.errors[0]["code"] == "missing_columns"
    assert "principal, interest" in batch.errors[0]["reason_en"]


@pytest.mark.parametrize("array_threshold", [1, 1000], ids=["array-engine", "incremental"])
def test_back_dated_repayment_then_reversal_through_the_feed(world, tmp_path, settings,
                                                             array_threshold):
    settings.LOANS_FEED_ARRAY_THRESHOLD = array_threshold
    loan = world.loan()
    v = loan.value_date
    import_rows(tmp_path, [rep("R1", loan, v + dt.timedelta(days=70), "1000", "50")])
    loan.refresh_from_db()
    assert loan.dpd_principal == (today() - (v + dt.timedelta(days=60))).days
    # The core books late a payment dated on the first due date: the first instalment was
    # never late, the second now is covered too.
    import_rows(tmp_path, [rep("R0", loan, v + dt.timedelta(days=30), "1000", "50")],
                name="late.csv")
    loan.refresh_from_db()
    assert loan.dpd_principal == (today() - (v + dt.timedelta(days=90))).days
    assert_dpd_matches_scratch(loan)
    batch = import_rows(tmp_path, [rev("X0", "R0", v + dt.timedelta(days=80))],
                        name="reversal.csv")
    assert batch.outcome == FeedImport.Outcome.ACCEPTED, batch.errors
    loan.refresh_from_db()
    assert loan.dpd_principal == (today() - (v + dt.timedelta(days=60))).days
    assert_dpd_matches_scratch(loan)


def test_xlsx_file(world, tmp_path):
    loan = world.loan()
    book = Workbook()
    sheet = book.active
    sheet.append(HEADER)
    sheet.append(["R1", "repayment", loan.loan_number, loan.value_date + dt.timedelta(days=30),
                  1000, 50.5, None, None, None, None])
    sheet.append([1002, "balance", loan.loan_number, today(), None, None, None, 2000, 0, None])
    buffer = BytesIO()
    book.save(buffer)
    path = tmp_path / "feed.xlsx"
    path.write_bytes(buffer.getvalue())
    batch = feed_file_import(path=path, filename="feed.xlsx").feed_import
    assert batch.outcome == FeedImport.Outcome.ACCEPTED, batch.errors
    event = RepaymentEvent.objects.get(source_record_id="R1")
    assert (event.principal, event.interest) == (Decimal("1000"), Decimal("50.50"))
    loan.refresh_from_db()
    assert (loan.outstanding_principal, loan.balance_as_of) == (Decimal("2000"), today())


def test_zip_bomb_workbook_refused(world, tmp_path):
    path = tmp_path / "bomb.xlsx"
    path.write_bytes(b"PK\x03\x04" + b"\x00" * 100)
    batch = feed_file_import(path=path, filename="bomb.xlsx").feed_import
    assert batch.outcome == FeedImport.Outcome.REFUSED
    assert batch.errors[0]["code"] == "unreadable"


def test_who_may_import(world, tmp_path):
    loan = world.loan(branch=world.south)
    with pytest.raises(feed.FeedPermissionDenied):
        import_rows(tmp_path, [rep("R1", loan, today(), "1", "0")], actor=world.user("am.north"))
    # An officer of another branch does not see the loan: it is an unknown loan to them.
    batch = import_rows(tmp_path, [rep("R1", loan, today(), "1", "0")],
                        actor=world.user("ops.north"))
    assert batch.errors[0]["code"] == "unknown_loan"
    batch = import_rows(tmp_path, [rep("R1", loan, today(), "1", "0")],
                        actor=world.user("admin.north"))
    assert batch.outcome == FeedImport.Outcome.ACCEPTED


def test_paid_off_balance_calls_the_settle_hook_for_active_loans_only(world, tmp_path,
                                                                      monkeypatch):
    calls = []
    monkeypatch.setattr(feed, "on_loan_paid_off",
                        lambda *, loan_id, actor: calls.append(loan_id))
    active, pending = world.loan(), world.loan(state=LoanState.PENDING)
    import_rows(tmp_path, [bal("B1", active, today(), "0"), bal("B2", pending, today(), "0")])
    assert calls == [active.pk]
    active.refresh_from_db()
    assert active.state == LoanState.ACTIVE  # settling is the origination side's transition
    assert active.outstanding_principal == 0


def test_command_reports_refused_rows(world, tmp_path, capsys):
    loan = world.loan()
    path = tmp_path / "bad.csv"
    path.write_bytes(csv_text(HEADER, [rep("R1", loan, today(), "-1", "0")]))
    with pytest.raises(CommandError):
        call_command("import_core_feed", str(path))
    assert "line 2" in capsys.readouterr().err
    path.write_bytes(csv_text(HEADER, [rep("R1", loan, today(), "1", "0")]))
    call_command("import_core_feed", str(path), "--user", "ops.north")
    assert "1 new" in capsys.readouterr().out


def test_a_loan_the_core_reports_paid_off_is_settled_through_its_transition(world, tmp_path):
    from apps.audit.models import AuditEvent

    loan = world.loan()
    import_rows(tmp_path, [bal("B1", loan, today(), "0")], actor=world.user("ops.north"))
    loan.refresh_from_db()
    assert loan.state == LoanState.SETTLED and loan.closed_at == today()
    event = AuditEvent.objects.get(action="loan.settled", subject_id=str(loan.pk))
    assert event.actor.username == "ops.north" and event.branch_id == loan.branch_id


def test_resent_amounts_with_cents_are_duplicates_whatever_the_database(world, tmp_path):
    # SQLite keeps decimals as floats: a stored 0.10 read back raw would be 0.1000000000000000055
    # and the re-sent row "different figures"; the import reads stored figures typed.
    loan = world.loan()
    rows = [rep("C1", loan, loan.value_date + dt.timedelta(days=30), "1000.10", "0.30"),
            bal("C2", loan, today(), "8999.90", "0.10", "0.70")]
    assert import_rows(tmp_path, rows).outcome == FeedImport.Outcome.ACCEPTED
    again = import_rows(tmp_path, rows, name="again.csv")
    assert again.outcome == FeedImport.Outcome.ACCEPTED, again.errors
    assert (again.rows_new, again.rows_duplicate) == (0, 2)
    changed = import_rows(tmp_path, [bal("C2", loan, today(), "8999.90", "0.10", "0.71")],
                          name="changed.csv")
    assert [(e["line"], e["code"]) for e in changed.errors] == [(2, "duplicate_different")]
