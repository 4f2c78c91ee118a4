"""Issue 15's end-to-end acceptance, as the product runs it, on a 360 px phone:

a loan is disbursed (the loan book's services; the booking asks for its inspection schedule
through the outbox, which a real Celery worker runs); its first inspection is scheduled and
done on the phone, site photos included, and a team lead reviews it (the conclusion's
requested action opens); weeks later a late, partial repayment arrives in the core-banking
feed (the operations officer's file import, which recomputes days past due); the monthly
classification run (the task beat sends, chunks run by the worker) fires W01 at level 2 and
proposes 关注 (special mention) from the rule floor; a risk reviewer confirms it (a person
other than the system's proposal: four-eyes); the level-2 "special check" action has
scheduled a special inspection, which the officer sees.

Time passes by moving Django's clock (`django.utils.timezone.now`, read by every service
and by the worker thread in this process). Every wait is on state: a page element, or a
database row polled until it appears, with a ceiling.
"""

from __future__ import annotations

import datetime as dt
import re
import time
from unittest import mock

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from apps.demo.seed import DEMO_PASSWORD
from tests.e2e.layout import assert_fits

pytestmark = pytest.mark.e2e

PHONE = {"width": 360, "height": 740}
CEILING_SECONDS = 60


class Clock:
    """Django's clock moved forward by whole days; every thread of the process reads it."""

    def __init__(self):
        self.real_now = timezone.now
        self.offset = dt.timedelta(0)

    def now(self):
        return self.real_now() + self.offset

    def travel_to(self, day: dt.date) -> None:
        """Move to local noon of `day` (the clock runs on from there): no local midnight
        falls inside the rest of the test, whenever it runs."""
        noon = timezone.make_aware(dt.datetime.combine(day, dt.time(12)))
        self.offset = noon - self.real_now()


@pytest.fixture
def clock():
    clock = Clock()
    with mock.patch("django.utils.timezone.now", clock.now):
        yield clock


def eventually(read, *, what: str):
    """Poll a database read until it returns something truthy (state, never a fixed sleep)."""
    deadline = time.monotonic() + CEILING_SECONDS
    while True:
        value = read()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"still waiting for {what} after {CEILING_SECONDS} s")
        time.sleep(0.2)


@pytest.fixture
def approved_file(demo_site):
    """An approved file (conditions satisfied), the monitoring policy and the post-loan
    templates; made before the worker starts, which purges what was queued before it."""
    from django.utils import translation

    from apps.documents.seed import seed_document_types
    from apps.loans.tests.factories import LoanWorld
    from apps.monitoring.inspection_seed import seed_inspection_templates
    from apps.monitoring.seed import seed_monitoring

    with translation.override("en"):
        world = LoanWorld()
        application = world.approved()
        seed_monitoring()
        seed_inspection_templates()
        seed_document_types()  # the site-photo type the inspection form uploads as
    return world, application


def _login(context, base, username):
    page = context.new_page()
    page.goto(f"{base}/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name=re.compile("Welcome"))).to_be_visible()
    return page


def _saved(page, code):
    expect(page.locator(f"#item-{code} [data-role=status]")).to_have_text("Saved")


def _text(page, code, value):
    page.locator(f"#item-{code} textarea[data-role=value]").fill(value)
    _saved(page, code)


def _radio(page, code, value):
    page.locator(f"#item-{code} input[data-role=value][value='{value}']").check()
    _saved(page, code)


def _not_applicable(page, code, reason):
    page.locator(f"#item-{code} [data-role=na]").check()
    page.locator(f"#item-{code} [data-role=na-reason]").fill(reason)
    page.locator(f"#item-{code} [data-role=na-reason]").blur()
    _saved(page, code)


def _photos(page, code, count):
    from apps.documents.tests import corpus

    for n in range(count):
        page.locator(f"#f-{code}").set_input_files(
            {"name": f"site-{n}.jpg", "mimeType": "image/jpeg", "buffer": corpus.jpeg()})
        expect(page.locator(f"#item-{code} [data-role=files] li")).to_have_count(n + 1)
        _saved(page, code)


def _do_first_inspection(browser, base, loan, inspection):
    """The loan's officer on a phone at the borrower's site: starts, answers section by
    section (site photos taken, not waived), concludes and submits."""
    enterprise = loan.enterprise
    where = ({"latitude": float(enterprise.operating_lat),
              "longitude": float(enterprise.operating_lng)}
             if enterprise.operating_lat is not None else {"latitude": 31.23,
                                                           "longitude": 121.47})
    context = browser.new_context(viewport=PHONE, geolocation=where,
                                  permissions=["geolocation"])
    errors = []
    try:
        page = _login(context, base, loan.officer.username)
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.goto(f"{base}/monitoring/inspections/")
        assert_fits(page)
        page.locator(f"a[data-inspection='{inspection.pk}']").click()
        page.locator("[data-role=start]").click()
        expect(page.locator(".inv-status [data-state]")).to_have_attribute("data-state",
                                                                            "in_progress")
        assert_fits(page)
        _text(page, "PLACE", "Workshop at 12 Harbour Road")
        _text(page, "RECEIVED_BY", "Ms Li, finance manager")
        _radio(page, "COOPERATION", "cooperative")
        _radio(page, "PREMISES_CHANGED", "false")
        page.get_by_role("link", name=re.compile("Next section")).click()

        _text(page, "FUNDS_EXPLANATION", "Paid the steel supplier on the value date; the goods "
                                         "are in the warehouse.")
        box = page.locator("#item-FUNDS_SOURCES input[value=payment_voucher]")
        box.focus()  # see test_inspection_flow: a pointer click left it unchecked headless
        page.keyboard.press("Space")
        expect(box).to_be_checked()
        _saved(page, "FUNDS_SOURCES")
        _radio(page, "FUNDS_AS_AGREED", "true")
        _radio(page, "PAYEE_MATCHES", "true")
        _not_applicable(page, "PAYMENT_EVIDENCE", "Vouchers kept in the core imaging system")
        page.get_by_role("link", name=re.compile("Next section")).click()

        _photos(page, "SITE_PHOTOS", 2)  # the disbursed file takes the photos
        assert_fits(page)
        page.get_by_role("link", name=re.compile("Finish")).last.click()
        expect(page.get_by_text("Nothing is missing")).to_be_visible()
        page.get_by_label("Normal (正常)").check()
        page.get_by_label("Why this classification").fill("Funds used as agreed; sales steady.")
        page.get_by_label("Contact the client").check()
        assert_fits(page)
        page.locator("[data-role=submit]").click()
        expect(page.locator(".inv-status [data-state]")).to_have_attribute("data-state",
                                                                            "submitted")
        assert errors == []
    finally:
        context.close()


def _review_first_inspection(browser, base, inspection):
    context = browser.new_context(viewport=PHONE)
    try:
        page = _login(context, base, "lead.north")
        page.goto(f"{base}/monitoring/inspections/")
        page.locator(f"a[data-review='{inspection.pk}']").click()
        expect(page.get_by_label("Review note")).to_be_visible()
        assert_fits(page)
        page.get_by_label("Review note").fill("Seen on the file; photos match the site.")
        page.locator("[data-role=review]").click()
        expect(page.locator("dl.facts [data-state]")).to_have_attribute("data-state",
                                                                         "reviewed")
    finally:
        context.close()


def _first_of_month_past_due(first_due: dt.date, days: int) -> dt.date:
    """The first day of a month on which the first instalment is at least `days` past due
    (the monthly run starts on the 1st, for the month that just ended)."""
    day = (first_due + dt.timedelta(days=days)).replace(day=1)
    while (day - first_due).days < days:
        day = (day + dt.timedelta(days=32)).replace(day=1)
    return day


def _import_feed(browser, base, csv_text: str):
    context = browser.new_context(viewport=PHONE)
    try:
        page = _login(context, base, "ops.north")
        page.goto(f"{base}/loans/feed/")
        assert_fits(page)
        page.get_by_label(re.compile("file", re.I)).first.set_input_files(
            {"name": "core-feed.csv", "mimeType": "text/csv", "buffer": csv_text.encode()})
        page.get_by_role("button", name="Import").click()
        expect(page.locator("table").get_by_text("Accepted").first).to_be_visible()
        assert_fits(page)
    finally:
        context.close()


def test_disbursed_loan_inspected_then_late_repayment_makes_it_special_mention(
        demo_site, approved_file, clock, request, browser):
    from apps.audit.models import AuditEvent
    from apps.core.task_names import TaskName
    from apps.loans.models import Loan
    from apps.monitoring.inspection_models import Inspection
    from apps.monitoring.models import (
        Action,
        Classification,
        ClassificationRun,
        Signal,
    )
    from apps.monitoring.services.classification import category_in_force
    from config.celery import app

    world, application = approved_file
    request.getfixturevalue("live_worker")  # from here, the outbox's messages are worked

    # 1. Disbursed through the loan book (maker and checker); booking asks for the schedule.
    booked = world.loan(_contract(world, application), amount="300000.00")
    loan = Loan.objects.select_related("enterprise", "officer").get(pk=booked.pk)
    first = eventually(lambda: Inspection.objects.filter(loan=loan, kind="m1").first(),
                       what="the first inspection scheduled by the worker")
    assert first.due_date > loan.value_date and first.officer_id == loan.officer_id

    # 2. Done on a phone, then reviewed by a second person: the requested contact opens.
    _do_first_inspection(browser, demo_site, loan, first)
    _review_first_inspection(browser, demo_site, first)
    first.refresh_from_db()
    assert first.state == "reviewed" and first.done_on_time
    contact = Action.objects.get(loan=loan, kind="contact")
    assert contact.owner_id == loan.officer_id and contact.signal_id is None

    # 3. Weeks later, a late and partial repayment arrives in the core-banking feed: the
    # first instalment's interest only, ten days after it was due.
    instalment = loan.instalments.filter(version=loan.schedule_version).order_by(
        "due_date").first()
    today = _first_of_month_past_due(instalment.due_date, 30)
    clock.travel_to(today)
    paid_on = instalment.due_date + dt.timedelta(days=10)
    _import_feed(browser, demo_site, (
        "source_record_id,kind,loan_number,date,principal,interest\n"
        f"CORE-{loan.pk}-1,repayment,{loan.loan_number},{paid_on.isoformat()},0.00,"
        f"{instalment.interest:.2f}\n"))
    loan.refresh_from_db()
    past_due = (today - instalment.due_date).days
    assert loan.dpd_principal == past_due and 30 <= past_due < 90

    # 4. The monthly run, as beat sends it; its chunks run on the worker.
    app.send_task(str(TaskName.MONITORING_CLASSIFICATION_SWEEP))
    run = eventually(lambda: ClassificationRun.objects.filter(state="done").first(),
                     what="the monthly classification run")
    assert run.as_of == today - dt.timedelta(days=1)
    w01 = Signal.objects.get(loan=loan, rule__code="W01")
    assert w01.level == 2 and w01.observed == str(past_due)
    proposal = Classification.objects.get(loan=loan, state="proposed")
    assert proposal.category == "special_mention" and proposal.source == "system"

    # 5. A risk reviewer confirms 关注 on the phone (a second person to the proposal).
    context = browser.new_context(viewport=PHONE)
    try:
        page = _login(context, demo_site, "reviewer.north")
        page.goto(f"{demo_site}/monitoring/review/")
        assert_fits(page)
        card = page.locator("li.card", has_text=loan.loan_number)
        card.get_by_label("Note").fill("Forty days late on principal: special mention.")
        card.get_by_role("button", name="Confirm").click()
        expect(page.get_by_text("Nothing waits for your review.")).to_be_visible()
    finally:
        context.close()
    assert category_in_force(loan.pk) == "special_mention"

    # 6. The level-2 warning's special check is scheduled; the officer sees it and the
    # category on the loan's monitoring page.
    special = Inspection.objects.get(loan=loan, kind="special")
    assert special.state == "scheduled" and special.due_date >= run.as_of
    check = Action.objects.get(loan=loan, kind="special_check")
    assert check.signal_id == w01.pk and special.due_date <= check.due_date
    context = browser.new_context(viewport=PHONE)
    try:
        page = _login(context, demo_site, loan.officer.username)
        page.goto(f"{demo_site}/monitoring/loans/{loan.pk}/")
        expect(page.get_by_text(re.compile("Category in force: Special mention"))).to_be_visible()
        panel = page.locator("#inspection-panel")
        expect(panel.get_by_role("link", name=re.compile("Special check"))).to_be_visible()
        assert_fits(page)
    finally:
        context.close()
    assert AuditEvent.objects.filter(action="monitoring_action.opened",
                                     branch_id=loan.branch_id).exists()


def _contract(world, application):
    from apps.loans.services.contracts import contract_create

    return contract_create(application_id=application.pk, actor=world.maker,
                           signing_mode="in_person", signing_place="North branch")
