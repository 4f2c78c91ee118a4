"""Business registry (工商登记): registration, legal representative, shareholders, changes and
pledges of equity, for one enterprise by its unified social credit code.

Documented shape, format `registry/1`:

    GET /v1/enterprises/{uscc}?request_id=<query id>
    200 {"format": "registry/1", "request_id": "...",
         "enterprise": {"uscc": "...", "name": "...", "status": "active|revoked|cancelled",
                        "registered_on": "YYYY-MM-DD", "registered_capital": "1000000.00",
                        "legal_representative": {"name": "..."},
                        "shareholders": [{"name": "...", "share": "0.60"}],
                        "changes": [{"date": "YYYY-MM-DD", "item": "...", "before": "...",
                                     "after": "..."}],
                        "pledges": [{"registered_on": "YYYY-MM-DD", "pledgee": "...",
                                     "amount": "..."}]}}
    404 {"error": "not_found"}   the code is not registered
"""

from __future__ import annotations

from decimal import Decimal
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
    optional,
)

STATUSES = {"active", "revoked", "cancelled", "dissolved"}


class RegistryConnector(Connector):
    source = "registry"
    format_version = "registry/1"

    def request(self, subject: Subject, *, query_id: str) -> dict:
        return {"method": "GET", "path": f"/v1/enterprises/{quote(subject.uscc)}",
                "params": {"request_id": query_id}}

    def parse(self, payload, *, query_id: str | None = None) -> list[NormalisedRecord]:
        need_version(payload, "format", self.format_version)
        e = need(payload, "enterprise", dict, "")
        p = "enterprise"
        status = need(e, "status", str, p)
        if status not in STATUSES:
            raise MalformedAnswer(f"{p}.status {status!r} is not a known status",
                                  field=f"{p}.status")
        uscc = need(e, "uscc", str, p)
        records = [NormalisedRecord("registration", uscc, {
            "uscc": uscc, "name": need(e, "name", str, p), "status": status,
            "registered_on": need_date(e, "registered_on", p),
            "registered_capital": need_amount(e, "registered_capital", p),
            "legal_representative": need(need(e, "legal_representative", dict, p), "name", str,
                                         f"{p}.legal_representative")})]
        total = Decimal(0)
        for i, row in enumerate(optional(e, "shareholders", list, p, [])):
            path = f"{p}.shareholders.{i}"
            share = Decimal(need_amount(row, "share", path))
            if share > 1:
                raise MalformedAnswer(f"{path}.share is above 1", field=f"{path}.share")
            total += share
            name = need(row, "name", str, path)
            records.append(NormalisedRecord("shareholder", name, {"name": name,
                                                                  "share": str(share)}))
        if total > Decimal("1.0001"):
            raise MalformedAnswer(f"{p}.shareholders add up to more than 1",
                                  field=f"{p}.shareholders")
        for i, row in enumerate(optional(e, "changes", list, p, [])):
            path = f"{p}.changes.{i}"
            date, item = need_date(row, "date", path), need(row, "item", str, path)
            records.append(NormalisedRecord("change", f"{date}/{item}/{i}", {
                "date": date, "item": item, "before": optional(row, "before", str, path, ""),
                "after": optional(row, "after", str, path, "")}))
        for i, row in enumerate(optional(e, "pledges", list, p, [])):
            path = f"{p}.pledges.{i}"
            date, pledgee = need_date(row, "registered_on", path), need(row, "pledgee", str, path)
            records.append(NormalisedRecord("pledge", f"{date}/{pledgee}", {
                "registered_on": date, "pledgee": pledgee,
                "amount": need_amount(row, "amount", path)}))
        return records
