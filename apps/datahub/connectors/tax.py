"""Tax bureau (税务): the taxpayer's credit rating and monthly sales and tax paid.

Documented shape, format `tax/1`:

    GET /v1/taxpayers/{uscc}/profile?months=12&request_id=<query id>
    200 {"format": "tax/1", "request_id": "...",
         "taxpayer": {"uscc": "...", "credit_rating": "A|B|M|C|D",
                      "months": [{"month": "YYYY-MM", "sales": "123000.00",
                                  "tax_paid": "4100.00"}]}}
"""

from __future__ import annotations

import re
from urllib.parse import quote

from apps.datahub.connectors.base import (
    Connector,
    MalformedAnswer,
    NormalisedRecord,
    Subject,
    need,
    need_amount,
    need_version,
)

RATINGS = {"A", "B", "M", "C", "D"}
_MONTH = re.compile(r"\d{4}-(0[1-9]|1[0-2])")


def need_month(row, path: str) -> str:
    month = need(row, "month", str, path)
    if not _MONTH.fullmatch(month):
        raise MalformedAnswer(f"{path}.month is not YYYY-MM", field=f"{path}.month")
    return month


class TaxConnector(Connector):
    source = "tax"
    format_version = "tax/1"

    def request(self, subject: Subject, *, query_id: str) -> dict:
        return {"method": "GET", "path": f"/v1/taxpayers/{quote(subject.uscc)}/profile",
                "params": {"months": 12, "request_id": query_id}}

    def parse(self, payload, *, query_id: str | None = None) -> list[NormalisedRecord]:
        need_version(payload, "format", self.format_version)
        taxpayer = need(payload, "taxpayer", dict, "")
        rating = need(taxpayer, "credit_rating", str, "taxpayer")
        if rating not in RATINGS:
            raise MalformedAnswer(f"taxpayer.credit_rating {rating!r} is not a rating",
                                  field="taxpayer.credit_rating")
        records = [NormalisedRecord("rating", need(taxpayer, "uscc", str, "taxpayer"),
                                    {"credit_rating": rating})]
        for i, row in enumerate(need(taxpayer, "months", list, "taxpayer")):
            path = f"taxpayer.months.{i}"
            month = need_month(row, path)
            records.append(NormalisedRecord("month", month, {
                "month": month, "sales": need_amount(row, "sales", path),
                "tax_paid": need_amount(row, "tax_paid", path)}))
        return records
