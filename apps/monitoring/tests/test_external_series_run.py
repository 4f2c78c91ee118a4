"""W07 raised from months the data hub pulled is read again by the monthly run: the run merges
the pulled months with the documents' (the later winning a month), so the signal stays open
while the newest data still shows the drop, and is resolved once newer pulled or uploaded
months no longer do. The set-based path (PostgreSQL's) and the row path agree at each step.

The stand-in tax bureau answers 2025 at 7,500 a month; an earlier answer stored for 2024 at
20,000 makes October–December 2025 a 62.5 % drop year on year (policy: above 30 % fires)."""

import datetime as dt
import itertools

import pytest
from django.db import connection, transaction
from django.utils import timezone

from apps.datahub.models import Pull
from apps.datahub.tests.conftest import consent_for, hub, loopback  # noqa: F401 (fixtures)
from apps.monitoring.models import Signal
from apps.monitoring.services.run import classify_range
from apps.monitoring.tests.test_external_signals import (  # noqa: F401 (the loan fixture)
    _earlier_tax_answer,
    _refresh_and_run,
    loan,
)

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="the set-based path is PostgreSQL's"
    ),
]

QUARTER = ("2025-10", "2025-11", "2025-12")
_n = itertools.count(1)


def _tax_upload(loan, *, tax_paid: str, finished_at: dt.datetime):  # noqa: F811
    """A tax record uploaded for the loan's application, parsed into October–December 2025
    (and nothing of 2024: alone, it cannot say whether tax fell)."""
    from apps.documents.models import Document, DocumentCheck, DocumentType
    from apps.documents.seed import seed_documents

    seed_documents()
    n = next(_n)
    document = Document.objects.create(
        application=loan.application,
        document_type=DocumentType.objects.order_by("id").first(),
        storage_name=f"w07/{n}",
        content_type="text/csv",
        size=1,
        sha256=f"{n:064d}",
        stored_sha256=f"{n:064d}",
        uploaded_by=loan.application.account_manager,
    )
    DocumentCheck.objects.create(
        document=document,
        kind="tax_record",
        status="passed",
        finished_at=finished_at,
        findings={"monthly": {m: {"revenue": "250000.00", "tax_paid": tax_paid} for m in QUARTER}},
    )


def _w07(loan) -> tuple:  # noqa: F811
    signal = Signal.objects.get(loan=loan, code="W07")
    return signal.state, signal.level, signal.observed, signal.baseline


def _monthly_run(loan) -> tuple:  # noqa: F811
    """The run on the loan by both paths (the set-based one rolled back): W07 as each left it,
    which must be the same."""
    today = timezone.localdate()
    savepoint = transaction.savepoint()
    classify_range(first_id=loan.pk, last_id=loan.pk, as_of=today, in_sql=True)
    in_sql = _w07(loan)
    transaction.savepoint_rollback(savepoint)
    classify_range(first_id=loan.pk, last_id=loan.pk, as_of=today, in_sql=False)
    rows = _w07(loan)
    assert in_sql == rows
    return rows


def _pulled_w07(loan) -> None:  # noqa: F811
    consent_for(
        loan.enterprise, loan.application.account_manager, purpose="post_loan", sources=["tax"]
    )
    _earlier_tax_answer(loan.enterprise, "20000.00")
    [pull] = _refresh_and_run()
    assert pull.source == "tax"
    assert _w07(loan)[:2] == ("open", 2)


def test_pulled_w07_stays_open_through_the_run_until_a_newer_upload_clears_it(hub, loan):  # noqa: F811
    # An upload older than the pull, saying tax held up: the pulled months are newer and win.
    _tax_upload(loan, tax_paid="20000.00", finished_at=timezone.now() - dt.timedelta(days=1))
    _pulled_w07(loan)
    state, level, observed, baseline = _monthly_run(loan)
    assert (state, level, baseline) == ("open", 2, "60000.00")
    assert observed == "22500.00"
    # A second run the same month changes nothing.
    assert _monthly_run(loan)[:2] == ("open", 2)
    # A newer upload: tax held up in October–December 2025 after all → resolved.
    _tax_upload(loan, tax_paid="20000.00", finished_at=timezone.now())
    state, level, *_ = _monthly_run(loan)
    assert state == "closed"  # resolved: closed by the run


def test_pulled_w07_is_resolved_by_a_newer_pull_without_the_drop(hub, loan):  # noqa: F811
    _pulled_w07(loan)
    assert _monthly_run(loan)[:2] == ("open", 2)
    # The next tax refresh (a month on) answers October–December 2025 at 20,000.
    Pull.objects.update(fetched_at=timezone.now() - dt.timedelta(days=31))
    hub.tax.tax_paid = dict.fromkeys(QUARTER, "20000.00")
    [pull] = _refresh_and_run()
    assert (pull.source, Pull.objects.get(pk=pull.pk).state) == ("tax", "succeeded")
    assert _w07(loan)[0] == "open"  # the refresh raises; it does not resolve
    assert _monthly_run(loan)[0] == "closed"  # resolved


def test_a_run_raises_w08_from_pulled_water_months_alone(hub, loan):  # noqa: F811
    """W08 from the hub reads water as well as electricity: so does the run (both paths), on
    a loan with no document at all."""
    from apps.datahub.models import Record

    fetched = timezone.now()
    pull = Pull.objects.create(
        enterprise=loan.enterprise,
        branch_id=loan.branch_id,
        source="utility",
        purpose="post_loan",
        channel="file",
        state="succeeded",
        price=0,
        fetched_at=fetched,
        finished_at=fetched,
        format_version="utility/1",
    )
    months = [f"2024-{m:02d}" for m in range(10, 13)] + [f"2025-{m:02d}" for m in range(1, 13)]
    Record.objects.bulk_create(
        [
            Record(
                pull=pull,
                enterprise=loan.enterprise,
                source="utility",
                kind="month",
                key=m,
                data={
                    "month": m,
                    "kwh": "12000.0",
                    "water_m3": "100.0" if m in QUARTER else "310.0",
                },
                query_id=pull.query_id,
                fetched_at=fetched,
                format_version="utility/1",
            )
            for m in months
        ]
    )
    today = timezone.localdate()
    savepoint = transaction.savepoint()
    classify_range(first_id=loan.pk, last_id=loan.pk, as_of=today, in_sql=True)
    in_sql = list(
        Signal.objects.filter(loan=loan).values_list(
            "code", "level", "baseline", "source", "details"
        )
    )
    transaction.savepoint_rollback(savepoint)
    classify_range(first_id=loan.pk, last_id=loan.pk, as_of=today, in_sql=False)
    rows = list(
        Signal.objects.filter(loan=loan).values_list(
            "code", "level", "baseline", "source", "details"
        )
    )
    assert in_sql == rows
    [(code, level, baseline, source, details)] = rows
    assert (code, level, baseline, details["field"]) == ("W08", 2, "930.0", "water_m3")
    assert source == "utility data pulled by the data hub"
