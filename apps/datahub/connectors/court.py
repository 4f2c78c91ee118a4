"""Court enforcement (被执行人) and dishonest-debtor (失信被执行人) lists, searched for one
enterprise by its unified social credit code and name.

Documented shape, format `court/2`:

    POST /api/v2/search   {"request_id": "<query id>", "subject": {"uscc": "...", "name": "..."}}
    200 {"version": "court/2", "request_id": "...",
         "result": {"enforcements": [{"case_no": "...", "court": "...", "filed_on": "YYYY-MM-DD",
                                      "amount": "120000.00", "status": "open|closed"}],
                    "dishonest": [{"case_no": "...", "court": "...", "listed_on": "YYYY-MM-DD",
                                   "obligation": "...", "performance": "none|partial"}]}}

Also the file-import path: the same JSON, or a CSV export with the columns of `CSV_COLUMNS`
(one row per case, `list` = enforcement | dishonest).
"""

from __future__ import annotations

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

CSV_COLUMNS = ["uscc", "list", "case_no", "court", "date", "amount", "status", "obligation"]


class CourtConnector(Connector):
    source = "court"
    format_version = "court/2"

    def request(self, subject: Subject, *, query_id: str) -> dict:
        return {"method": "POST", "path": "/api/v2/search",
                "json": {"request_id": query_id,
                         "subject": {"uscc": subject.uscc, "name": subject.name}}}

    def parse(self, payload, *, query_id: str | None = None) -> list[NormalisedRecord]:
        need_version(payload, "version", self.format_version)
        result = need(payload, "result", dict, "")
        records = []
        for i, row in enumerate(need(result, "enforcements", list, "result")):
            path = f"result.enforcements.{i}"
            status = need(row, "status", str, path)
            if status not in {"open", "closed"}:
                raise MalformedAnswer(f"{path}.status {status!r} is not open or closed",
                                      field=f"{path}.status")
            case = need(row, "case_no", str, path)
            records.append(NormalisedRecord("enforcement", case, {
                "case_no": case, "court": need(row, "court", str, path),
                "filed_on": need_date(row, "filed_on", path),
                "amount": need_amount(row, "amount", path), "status": status}))
        for i, row in enumerate(need(result, "dishonest", list, "result")):
            path = f"result.dishonest.{i}"
            case = need(row, "case_no", str, path)
            records.append(NormalisedRecord("dishonest", case, {
                "case_no": case, "court": need(row, "court", str, path),
                "listed_on": need_date(row, "listed_on", path),
                "obligation": need(row, "obligation", str, path),
                "performance": optional(row, "performance", str, path, "")}))
        return records

    def csv_payload(self, rows: list[dict], *, line_offset: int = 2) -> dict:
        """CSV rows of one subject → the JSON shape, so `parse` checks both the same way."""
        enforcements, dishonest = [], []
        for n, row in enumerate(rows, start=line_offset):
            kind = (row.get("list") or "").strip()
            if kind == "enforcement":
                enforcements.append({"case_no": row.get("case_no") or None,
                                     "court": row.get("court") or None,
                                     "filed_on": row.get("date") or None,
                                     "amount": row.get("amount") or None,
                                     "status": row.get("status") or None})
            elif kind == "dishonest":
                dishonest.append({"case_no": row.get("case_no") or None,
                                  "court": row.get("court") or None,
                                  "listed_on": row.get("date") or None,
                                  "obligation": row.get("obligation") or None,
                                  "performance": row.get("status") or None})
            else:
                raise MalformedAnswer(f"line {n}: list {kind!r} is not enforcement or dishonest",
                                      field=f"line {n}.list")
        return {"version": self.format_version,
                "result": {"enforcements": enforcements, "dishonest": dishonest}}
