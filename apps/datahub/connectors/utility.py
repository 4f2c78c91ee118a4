"""Utilities (水电): monthly electricity and water consumption of the enterprise's meters.

Documented shape, format `utility/1`:

    POST /meter/consumption   {"request_id": "<query id>", "account": {"uscc": "..."}}
    200 {"format": "utility/1", "request_id": "...",
         "readings": [{"month": "YYYY-MM", "kwh": "12000.0", "water_m3": "310.0"}]}
"""

from __future__ import annotations

from apps.datahub.connectors.base import (
    Connector,
    NormalisedRecord,
    Subject,
    need,
    need_amount,
    need_version,
)
from apps.datahub.connectors.tax import need_month


class UtilityConnector(Connector):
    source = "utility"
    format_version = "utility/1"

    def request(self, subject: Subject, *, query_id: str) -> dict:
        return {"method": "POST", "path": "/meter/consumption",
                "json": {"request_id": query_id, "account": {"uscc": subject.uscc}}}

    def parse(self, payload, *, query_id: str | None = None) -> list[NormalisedRecord]:
        need_version(payload, "format", self.format_version)
        records = []
        for i, row in enumerate(need(payload, "readings", list, "")):
            path = f"readings.{i}"
            month = need_month(row, path)
            records.append(NormalisedRecord("month", month, {
                "month": month, "kwh": need_amount(row, "kwh", path),
                "water_m3": need_amount(row, "water_m3", path)}))
        return records
