"""The court enforcement / dishonest-debtor search's stand-in (format court/2)."""

from __future__ import annotations

from apps.datahub.testservers.base import TestService


class CourtService(TestService):
    def reset(self) -> None:
        super().reset()
        self.hits: dict[str, dict] = {}   # uscc → {"enforcements": [...], "dishonest": [...]}

    def add_enforcement(self, uscc: str, case_no: str, amount: str = "120000.00",
                        status: str = "open") -> None:
        self.hits.setdefault(uscc, {"enforcements": [], "dishonest": []})["enforcements"].append(
            {"case_no": case_no, "court": "杭州市西湖区人民法院", "filed_on": "2025-04-02",
             "amount": amount, "status": status})

    def add_dishonest(self, uscc: str, case_no: str) -> None:
        self.hits.setdefault(uscc, {"enforcements": [], "dishonest": []})["dishonest"].append(
            {"case_no": case_no, "court": "杭州市中级人民法院", "listed_on": "2025-08-15",
             "obligation": "支付货款及利息", "performance": "none"})

    def answer(self, method, path, query, body):
        if method != "POST" or path != "/api/v2/search":
            return 404, {"error": "no_such_endpoint"}
        subject = (body or {}).get("subject") or {}
        if not subject.get("uscc"):
            return 400, {"error": "subject.uscc is required"}
        found = self.hits.get(subject["uscc"], {"enforcements": [], "dishonest": []})
        result = {"enforcements": list(found["enforcements"]),
                  "dishonest": list(found["dishonest"])}
        if self.mode == "malformed":
            result["enforcements"] = "none"
        return 200, {"version": "court/2", "request_id": (body or {}).get("request_id", ""),
                     "result": result}
