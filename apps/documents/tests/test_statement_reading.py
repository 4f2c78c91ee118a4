"""Any statement or tax-record layout is read (issue 19): columns inferred from headers and
content, balance continuity as the check, preambles and totals set aside; unsure mappings are
proposed, and a confirmed one becomes the bank's versioned, audited profile."""

from decimal import Decimal

import pytest

from apps.audit.models import AuditEvent
from apps.documents import checking
from apps.documents.checks import records
from apps.documents.checks.tables import read_rows
from apps.documents.models import ColumnProfile
from apps.documents.statements.infer import infer_series, infer_statement, infer_tax_record
from apps.documents.states import CheckKind, CheckStatus, DocumentState
from apps.documents.tests import statement_generator as gen
from apps.documents.tests.conftest import context
from apps.documents.tests.helpers import sited_draft, upload
from apps.documents.tests.statement_rates import measure_series


def _write(tmp_path, generated, name="s"):
    path = tmp_path / f"{name}.{generated.fmt}"
    path.write_bytes(generated.data)
    return path


@pytest.mark.parametrize("layout", gen.layouts(), ids=lambda layout: layout.name)
def test_every_layout_is_read_or_proposed_correctly_without_a_profile(tmp_path, layout):
    generated = gen.statement(11, layout=layout, rows=300)
    path = _write(tmp_path, generated)
    outcome = records.check_bank_statement(context(path, generated.fmt, profiles=[]))
    found = outcome.findings
    if "balance" in layout.fields:  # proven by the running balance: read without asking
        assert found["verified"] is True and found["mapping_source"] == "inferred", found
        assert Decimal(found["total_inflow"]) == generated.total_in
        assert found["transactions"] == len(generated.txns)
        assert found["balance_breaks"] == 0
    else:  # nothing checks the amounts: proposed, not used, and the figures say unverified
        assert found["verified"] is False
        assert found["unverified_reason"] == "unconfirmed_mapping"
        assert outcome.status == CheckStatus.ATTENTION
        proposal = found["proposed_mapping"]
        expected = {f: layout.fields.index(f) for f in ("date", "debit", "credit", "amount")
                    if f in layout.fields}
        assert {f: proposal["columns"][f] for f in expected} == expected


def test_preamble_and_totals_rows_are_set_aside(tmp_path):
    layout = next(x for x in gen.layouts() if x.name == "zh-newest-first")
    generated = gen.statement(3, layout=layout, rows=200)
    rows = read_rows(_write(tmp_path, generated), "csv")
    proposal = infer_statement(rows)
    assert proposal.header_row == layout.preamble
    assert proposal.reverse_order is True and proposal.sign == "debit_credit"
    assert proposal.totals_rows == [len(rows) - 1]
    assert len(proposal.data_rows) == len(generated.txns)


def test_an_edited_statement_breaks_the_balance_and_is_not_verified(tmp_path):
    layout = next(x for x in gen.layouts() if x.name == "en-signed")
    generated = gen.statement(5, fake="edited", layout=layout, rows=300)
    outcome = records.check_bank_statement(
        context(_write(tmp_path, generated), generated.fmt, profiles=[]))
    assert outcome.findings["verified"] is False
    assert outcome.findings["unverified_reason"] == "balance_discontinuity"
    assert {f["code"] for f in outcome.findings["flags"]} >= {"balance_discontinuity"}


@pytest.mark.parametrize("seed", range(5))
def test_tax_layouts_are_inferred(tmp_path, seed):
    data, header, last12 = gen.tax_record(seed)
    path = tmp_path / "tax.csv"
    path.write_bytes(data)
    proposal = infer_tax_record(read_rows(path, "csv"))
    assert proposal.header_row == 1
    assert header[proposal.columns["revenue"]] not in {"已缴税额", "缴纳税额", "VAT", "Tax paid"}
    outcome = records.check_tax_record(context(path, "csv", profiles=[]))
    if outcome.findings.get("verified"):
        assert Decimal(outcome.findings["revenue_12m"]) == last12
    else:  # content alone named a column: a person confirms
        assert outcome.findings["unverified_reason"] == "unconfirmed_mapping"


SERIES_FIELDS = {"period", "revenue", "tax_paid", "rate", "kwh", "cost", "reading_start",
                 "reading_end"}


@pytest.mark.parametrize("layout", gen.SERIES_LAYOUTS, ids=lambda layout: layout.name)
def test_every_tax_and_utility_layout_is_read_or_proposed_correctly(tmp_path, layout):
    generated = gen.series_record(31, layout)
    path = tmp_path / f"r.{generated.fmt}"
    path.write_bytes(generated.data)
    rows = read_rows(path, generated.fmt)
    proposal = infer_series(rows, layout.kind)
    expected = {f: i for i, (f, _h) in enumerate(layout.columns) if f in SERIES_FIELDS}
    assert proposal.columns == expected, proposal.reasons
    assert proposal.header_row == layout.preamble
    assert proposal.totals_rows == ([len(rows) - 1] if layout.totals else [])
    assert len(proposal.data_rows) == len(generated.monthly)
    check = (records.check_tax_record if layout.kind == "tax_record"
             else records.check_utility_bill)
    found = check(context(path, generated.fmt, profiles=[])).findings
    field = "revenue" if layout.kind == "tax_record" else "kwh"
    if layout.named or layout.kind == "tax_record":
        # every column named and the content agrees, or (tax) a column found by content and
        # proven by the record's arithmetic (tax = base × rate on every month): read
        assert found.get("verified") is True, found
        assert Decimal(found[f"{field}_12m"]) == generated.last_12(field)
        if not layout.named:
            assert "proven_by_tax_check" in found["inferred_mapping"]["reasons"]
    else:  # a column named by content only: proposed, and the figures say unverified
        assert found["verified"] is False
        assert found["unverified_reason"] == "unconfirmed_mapping"
        assert f"{field}_12m" not in found


def test_utility_meter_readings_are_the_check_on_an_edited_record(tmp_path):
    layout = next(x for x in gen.SERIES_LAYOUTS if x.name == "utility-zh-meter")
    generated = gen.series_record(8, layout, edit=True)
    path = tmp_path / "u.csv"
    path.write_bytes(generated.data)
    outcome = records.check_utility_bill(context(path, "csv", profiles=[]))
    assert outcome.findings["verified"] is False
    assert outcome.findings["unverified_reason"] == "meter_discontinuity"
    assert outcome.findings["meter_breaks"] >= 3
    assert "meter_discontinuity" in {f["code"] for f in outcome.findings["flags"]}


def test_tax_and_utility_reading_rates():
    """Every layout's figures right in the end, none wrong yet verified; meter edits caught,
    honest meters never flagged (the table in docs/controls/statements.md)."""
    result = measure_series(per_layout=4)
    for name, row in result["layouts"].items():
        assert row["wrong_but_verified"] == 0, name
        assert row["right"] == row["files"], (name, row)
        assert row["proposal_right"] == row["asked"], (name, row)
    meter = result["meter"]
    assert meter["false_flags"] <= 0.05 * meter["honest"]
    assert meter["caught"] >= 0.9 * meter["edited"]


def test_a_utility_mapping_is_confirmed_once_through_the_api(docs, api_as):
    layout = next(x for x in gen.SERIES_LAYOUTS if x.name == "utility-zh-unnamed")
    generated = gen.series_record(4, layout)
    application = sited_draft(docs)
    document = upload(docs, application, generated.data, type_code="utility_bill",
                      name="power.csv")
    checking.document_check(document_id=document.pk)
    check = document.checks.get(kind=CheckKind.UTILITY_BILL)
    assert check.findings["unverified_reason"] == "unconfirmed_mapping"
    am = api_as("am.north")
    url = f"/api/v1/documents/{document.pk}/column-mapping/"
    proposal = am.get(url).json()
    assert proposal["kind"] == "utility_bill"
    assert am.post(url, {"bank": "Grid", "columns": {"period": 0}},
                   format="json").status_code == 400
    confirmed = am.post(url, {"bank": "South Grid", "columns": proposal["columns"]},
                        format="json")
    assert confirmed.status_code == 201, confirmed.json()
    checking.document_check(document_id=document.pk)
    check.refresh_from_db()
    assert check.findings.get("verified") is not False
    assert check.findings["profile"] == confirmed.json()["code"]
    assert Decimal(check.findings["kwh_12m"]) == generated.last_12("kwh")


@pytest.fixture
def unknown_layout_statement(docs):
    # Headers no seeded profile knows (交易日期 / 对方户名 / 交易金额) and no balance column.
    layout = gen.Layout("zh-signed-no-balance", ["date", "counterparty", "amount"],
                        sign="signed")
    generated = gen.statement(21, layout=layout, rows=120)
    application = sited_draft(docs)
    document = upload(docs, application, generated.data, type_code="bank_statement",
                      name="export.csv")
    checking.document_check(document_id=document.pk)
    document.refresh_from_db()
    return document, generated


def test_confirming_a_mapping_makes_a_versioned_audited_profile_and_rereads(
        docs, api_as, unknown_layout_statement):
    document, generated = unknown_layout_statement
    check = document.checks.get(kind=CheckKind.BANK_STATEMENT)
    assert check.findings["unverified_reason"] == "unconfirmed_mapping"
    am = api_as("am.north")
    url = f"/api/v1/documents/{document.pk}/column-mapping/"
    proposal = am.get(url).json()
    assert proposal["kind"] == "bank_statement" and proposal["headers"][0] == "交易日期"

    bad = am.post(url, {"bank": "Harbour Bank", "columns": {"date": 0}}, format="json")
    assert bad.status_code == 400 and bad.json()["fields"]["columns"]

    confirmed = am.post(url, {"bank": "Harbour Bank", "columns": proposal["columns"]},
                        format="json")
    assert confirmed.status_code == 201, confirmed.json()
    body = confirmed.json()
    assert (body["family"], body["version"]) == ("harbour-bank", 1)
    assert AuditEvent.objects.filter(action="column_profile.confirmed",
                                     application_id=document.application_id).exists()
    document.refresh_from_db()
    assert document.state == DocumentState.CHECKING
    # Still checking: a second confirmation is refused as "not now" (409).
    assert am.post(url, {"bank": "Harbour Bank", "columns": proposal["columns"]},
                   format="json").status_code == 409
    checking.document_check(document_id=document.pk)
    check.refresh_from_db()
    assert check.findings["verified"] is True and check.findings["profile"] == body["code"]
    assert Decimal(check.findings["total_inflow"]) == generated.total_in

    again = am.post(url, {"bank": "Harbour Bank", "columns": proposal["columns"]},
                    format="json")
    assert again.status_code == 201 and again.json()["version"] == 2
    versions = ColumnProfile.objects.filter(family="harbour-bank").order_by("version")
    assert [p.is_active for p in versions] == [False, True]


def test_a_user_who_may_not_recheck_is_refused_before_state(docs, api_as,
                                                            unknown_layout_statement):
    document, _generated = unknown_layout_statement
    approver = api_as("approver.north")
    response = approver.post(f"/api/v1/documents/{document.pk}/column-mapping/",
                             {"bank": "X", "columns": {"date": 0, "amount": 2}},
                             format="json")
    assert response.status_code in {403, 404}
    assert response.json()["code"]


def test_the_confirmation_page_shows_the_proposal_in_both_languages(docs, client,
                                                                   unknown_layout_statement):
    document, _generated = unknown_layout_statement
    client.force_login(docs.user("am.north"))
    page = client.get(f"/documents/{document.pk}/columns/")
    assert page.status_code == 200 and "交易日期" in page.content.decode()
    page_zh = client.get(f"/documents/{document.pk}/columns/", HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert page_zh.status_code == 200
    posted = client.post(f"/documents/{document.pk}/columns/",
                         {"bank": "Harbour Bank", "col-0": "date", "col-1": "counterparty",
                          "col-2": "amount"})
    assert posted.status_code == 302
    assert ColumnProfile.objects.filter(family="harbour-bank", version=1).exists()
