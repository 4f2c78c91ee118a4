"""The credit bureau's stand-in (format bureau/1, see connectors/bureau.py): an enterprise's
report by its code, a person's by the ID number in the request body."""

from __future__ import annotations

from apps.datahub.testservers.base import TestService


class BureauService(TestService):
    def reset(self) -> None:
        super().reset()
        self.loans: dict[str, list[dict]] = {}     # uscc or ID number → extra loans
        self.unknown: set[str] = set()            # subjects answered 404
        self.person_requests: list[dict] = []     # the bodies of person queries received

    def add_loan(self, subject: str, account: str, *, institution: str = "某商业银行",
                 status: str = "normal", dpd: int = 0, balance: str = "200000.00") -> None:
        self.loans.setdefault(subject, []).append({
            "account": account, "institution": institution, "opened_on": "2024-05-10",
            "amount": "300000.00", "balance": balance, "status": status,
            "overdue_amount": "0.00" if status == "normal" else "15000.00", "dpd": dpd})

    def report(self, key: str) -> dict:
        loans = [{"account": "BASE-001", "institution": "某农商银行", "opened_on": "2023-01-05",
                  "amount": "500000.00", "balance": "120000.00", "status": "normal",
                  "overdue_amount": "0.00", "dpd": 0}] + list(self.loans.get(key, []))
        overdue = [{"month": "2025-03", "account": loan["account"], "dpd": loan["dpd"],
                    "amount": loan["overdue_amount"]} for loan in loans if loan["dpd"]]
        return {"loans": loans, "overdue_history": overdue,
                "guarantees": [{"beneficiary": "某贸易有限公司", "institution": "某城商银行",
                                "amount": "100000.00", "status": "normal"}],
                "queries": [{"date": "2025-09-01", "institution": "某城商银行",
                             "reason": "loan_approval"}]}

    def answer(self, method, path, query, body):
        if method == "GET" and path.startswith("/v1/reports/enterprise/"):
            key = path.rsplit("/", 1)[-1]
            subject = {"kind": "enterprise", "uscc": key, "name": f"企业{key[-6:]}有限公司"}
            request_id = (query.get("request_id") or [""])[0]
        elif method == "POST" and path == "/v1/reports/person":
            person = (body or {}).get("person") or {}
            if not person.get("id_number"):
                return 400, {"error": "person.id_number is required"}
            self.person_requests.append(body)
            key = person["id_number"]
            subject = {"kind": "person", "name": person.get("name") or ""}
            request_id = (body or {}).get("request_id", "")
        else:
            return 404, {"error": "no_such_endpoint"}
        if key in self.unknown:
            return 404, {"error": "not_found"}
        report = self.report(key)
        if self.mode == "malformed":
            report["loans"][0]["status"] = "late"
        return 200, {"format": "bureau/1", "request_id": request_id, "subject": subject,
                     "report": report}
