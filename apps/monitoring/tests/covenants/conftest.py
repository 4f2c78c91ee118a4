"""Loans with covenants in their signed contract, and helpers to walk a check or review.

The monitoring `world` (../conftest.py) books bare loans; here their contracts carry the
approvers' covenants as the loan book snapshots them (`conditions["covenants"]`)."""

import datetime as dt

import pytest
from django.db import transaction
from django.test import Client
from django.utils import timezone

from apps.monitoring import covenant_services as services
from apps.monitoring.covenant_models import AnnualReview, Covenant, CovenantCheck

COVENANTS = [{"text": "Keep at least 60% of sales receipts flowing through our account",
              "set_by": "approver.north", "level": 2},
             {"text": "Send the monthly VAT return within 15 days of month end",
              "set_by": "approver.north", "level": 2}]


@pytest.fixture
def covenant_loan(world):
    """A loan valued 300 days ago, two years long: covenants from its contract and one
    annual review ahead (the first anniversary is 65 days away)."""
    def make(*, branch=None, value_days_ago: int = 300, covenants=COVENANTS, **kwargs):
        with transaction.atomic():
            loan = world.loan(branch=branch, value_date=timezone.localdate()
                              - dt.timedelta(days=value_days_ago), **kwargs)
            loan.contract.conditions = {"conditions_precedent": [], "covenants": covenants}
            loan.contract.save(update_fields=["conditions"])
        return loan
    return make


@pytest.fixture
def scheduled(covenant_loan):
    """A north loan, scheduled: (loan, first covenant's open check, annual review)."""
    loan = covenant_loan()
    services.covenant_schedule_generate(loan_id=loan.pk)
    first = Covenant.objects.filter(loan=loan).order_by("id").first()
    return (loan, CovenantCheck.objects.get(covenant=first),
            AnnualReview.objects.get(loan=loan))


@pytest.fixture
def login(world):
    def client(username, language="en"):
        browser = Client(HTTP_ACCEPT_LANGUAGE=language)
        browser.force_login(world.user(username))
        return browser
    return client


def submit_check(check, officer, result="complied"):
    return services.covenant_check_submit(check_id=check.pk, actor=officer, result=result,
                                          note="Saw the bank statements for the quarter")
