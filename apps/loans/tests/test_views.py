"""The loan-book pages: contract from the application page, drawdowns four-eyes, the loan
list and page; errors next to the fields; other branches get 404."""

from django.test import Client
from django.utils import timezone

from apps.loans.models import Disbursement, Loan, LoanContract


def _client(world, username):
    client = Client()
    client.force_login(world.user(username))
    return client


def test_pages_contract_request_approve_and_loan(world):
    application = world.approved()
    maker, checker = _client(world, "ops.north"), _client(world, "ops2.north")
    page = maker.get(f"/applications/{application.pk}/")
    assert "Contract and disbursement" in page.content.decode()
    assert 'action="/loans/contracts/new/' in page.content.decode()
    response = maker.post(f"/loans/contracts/new/{application.pk}/",
                          {"signing_mode": "in_person", "signing_place": "Branch"})
    contract = LoanContract.objects.get()
    assert response.status_code == 302 and response.url == f"/loans/contracts/{contract.pk}/"

    url = f"/loans/contracts/{contract.pk}/disbursements/"
    body = {"amount": "100000.00", "value_date": timezone.localdate().isoformat(),
            "borrower_account": "6222020200112233", "payment_mode": "entrusted"}
    refused = maker.post(url, body)
    assert refused.status_code == 400
    assert 'class="field-error" id="id_payee_name_error"' in refused.content.decode()
    maker.post(url, {**body, "payment_mode": "independent"})
    maker.post(url, {**body, "payment_mode": "independent", "amount": "50000.00"})
    first, second = Disbursement.objects.order_by("pk")
    assert "Approve and book the loan" not in maker.get(f"/loans/contracts/{contract.pk}/")\
        .content.decode()
    assert "Approve and book the loan" in checker.get(f"/loans/contracts/{contract.pk}/")\
        .content.decode()
    for item in (first, second):
        checker.post(f"/loans/disbursements/{item.pk}/approve/", {"note": "ok"})
    assert Loan.objects.count() == 2
    loan = Loan.objects.order_by("pk").first()
    page = maker.get(f"/loans/{loan.pk}/").content.decode()
    # The servicing and monitoring sections are on the page (registered from their apps).
    assert loan.loan_number in page and 'id="loan-repayments"' in page
    assert 'id="loan-dpd"' in page and "Post-loan risk" in page
    assert page.count("<li><span class=\"due\">") == contract.term_months
    listed = maker.get("/loans/", {"state": "active"}).content.decode()
    assert listed.count('href="/loans/') >= 2
    assert _client(world, "ops.south").get(f"/loans/{loan.pk}/").status_code == 404
    assert _client(world, "ops.south").get(f"/loans/contracts/{contract.pk}/pdf/")\
        .status_code == 404
    pdf = maker.get(f"/loans/contracts/{contract.pk}/pdf/")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
