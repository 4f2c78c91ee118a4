"""Credit bureau report (征信报告) of an enterprise or of a person around it (a guarantor, the
legal representative, the actual controller): loans with their status, overdue history,
guarantees given, and the institutions' queries.

Documented shape, format `bureau/1`:

    GET  /v1/reports/enterprise/{uscc}?request_id=<query id>
    POST /v1/reports/person   {"request_id": "<query id>",
                               "person": {"id_number": "...", "name": "..."}}
         (a person's ID number is sent in the body, never in the URL, so no access log keeps it)
    200 {"format": "bureau/1", "request_id": "...",
         "subject": {"kind": "enterprise|person", "uscc"?: "...", "name": "..."},
         "report": {"loans": [{"account": "...", "institution": "...", "opened_on": "YYYY-MM-DD",
                               "amount": "500000.00", "balance": "320000.00",
                               "status": "normal|overdue|npa|closed",
                               "overdue_amount": "0.00", "dpd": 0}],
                    "overdue_history": [{"month": "YYYY-MM", "account": "...", "dpd": 35,
                                         "amount": "12000.00"}],
                    "guarantees": [{"beneficiary": "...", "institution": "...",
                                    "amount": "...", "status": "normal|npa"}],
                    "queries": [{"date": "YYYY-MM-DD", "institution": "...",
                                 "reason": "loan_approval|guarantee_check|post_loan|other"}]}}
    404 {"error": "not_found"}   no report on file for the subject
"""

from __future__ import annotations

from urllib.parse import quote

from apps.datahub.connectors.base import (
    Connector,
    MalformedAnswer,
    NormalisedRecord,
    Subject,
    need,
    need_amount,
    need_date,
    need_version,
)
from apps.datahub.connectors.tax import need_month

LOAN_STATUSES = {"normal", "overdue", "npa", "closed"}
GUARANTEE_STATUSES = {"normal", "npa"}
QUERY_REASONS = {"loan_approval", "guarantee_check", "post_loan", "other"}


def _one_of(row, name: str, allowed: set[str], path: str) -> str:
    value = need(row, name, str, path)
    if value not in allowed:
        raise MalformedAnswer(f"{path}.{name} {value!r} is not one of {sorted(allowed)}",
                              field=f"{path}.{name}")
    return value


def _count(row, name: str, path: str) -> int:
    value = need(row, name, int, path)
    if value < 0:
        raise MalformedAnswer(f"{path}.{name} is negative", field=f"{path}.{name}")
    return value


class BureauConnector(Connector):
    source = "bureau"
    format_version = "bureau/1"
    person_subjects = True

    def request(self, subject: Subject, *, query_id: str) -> dict:
        if subject.is_person:
            return {"method": "POST", "path": "/v1/reports/person",
                    "json": {"request_id": query_id,
                             "person": {"id_number": subject.person_id_number,
                                        "name": subject.person_name}}}
        return {"method": "GET", "path": f"/v1/reports/enterprise/{quote(subject.uscc)}",
                "params": {"request_id": query_id}}

    def parse(self, payload, *, query_id: str | None = None) -> list[NormalisedRecord]:
        need_version(payload, "format", self.format_version)
        subject = need(payload, "subject", dict, "")
        kind = _one_of(subject, "kind", {"enterprise", "person"}, "subject")
        report = need(payload, "report", dict, "")
        records = [NormalisedRecord("subject", kind, {"kind": kind,
                                                      "name": need(subject, "name", str,
                                                                   "subject")})]
        for i, row in enumerate(need(report, "loans", list, "report")):
            path = f"report.loans.{i}"
            account = need(row, "account", str, path)
            records.append(NormalisedRecord("loan", account, {
                "account": account, "institution": need(row, "institution", str, path),
                "opened_on": need_date(row, "opened_on", path),
                "amount": need_amount(row, "amount", path),
                "balance": need_amount(row, "balance", path),
                "status": _one_of(row, "status", LOAN_STATUSES, path),
                "overdue_amount": need_amount(row, "overdue_amount", path),
                "dpd": _count(row, "dpd", path)}))
        for i, row in enumerate(need(report, "overdue_history", list, "report")):
            path = f"report.overdue_history.{i}"
            month, account = need_month(row, path), need(row, "account", str, path)
            records.append(NormalisedRecord("overdue", f"{month}/{account}", {
                "month": month, "account": account, "dpd": _count(row, "dpd", path),
                "amount": need_amount(row, "amount", path)}))
        for i, row in enumerate(need(report, "guarantees", list, "report")):
            path = f"report.guarantees.{i}"
            beneficiary = need(row, "beneficiary", str, path)
            institution = need(row, "institution", str, path)
            records.append(NormalisedRecord("guarantee", f"{institution}/{beneficiary}/{i}", {
                "beneficiary": beneficiary, "institution": institution,
                "amount": need_amount(row, "amount", path),
                "status": _one_of(row, "status", GUARANTEE_STATUSES, path)}))
        for i, row in enumerate(need(report, "queries", list, "report")):
            path = f"report.queries.{i}"
            date, institution = need_date(row, "date", path), need(row, "institution", str, path)
            records.append(NormalisedRecord("query", f"{date}/{institution}/{i}", {
                "date": date, "institution": institution,
                "reason": _one_of(row, "reason", QUERY_REASONS, path)}))
        return records
