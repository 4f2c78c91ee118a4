"""The tax bureau's and the utility's stand-ins (formats tax/1 and utility/1)."""

from __future__ import annotations

from decimal import Decimal

from apps.datahub.testservers.base import TestService


def _months(n: int = 12) -> list[str]:
    return [f"2025-{m:02d}" for m in range(1, n + 1)]


class TaxService(TestService):
    def reset(self) -> None:
        super().reset()
        self.rating = "A"
        # Months answering another tax paid than the usual 7,500 ({"YYYY-MM": "20000.00"}).
        self.tax_paid: dict[str, str] = {}
        # What the bureau knows of particular taxpayers, by USCC ({"credit_rating": "C",
        # "monthly_sales": "812345.00"}): the demo's firms as seeded (`load_taxpayers`), so a
        # firm graded C on record is answered C, at its own sales. Others get the defaults.
        self.taxpayers: dict[str, dict] = {}

    def load_taxpayers(self, path: str) -> int:
        """Read the taxpayers file `manage.py seed_demo --datahub-facts` wrote."""
        import json

        with open(path, encoding="utf-8") as handle:
            self.taxpayers = json.load(handle)
        return len(self.taxpayers)

    def answer(self, method, path, query, body):
        if method != "GET" or not (path.startswith("/v1/taxpayers/")
                                   and path.endswith("/profile")):
            return 404, {"error": "no_such_endpoint"}
        uscc = path.split("/")[3]
        known = self.taxpayers.get(uscc, {})
        sales = known.get("monthly_sales", "250000.00")
        # The 3% levy of a small-scale taxpayer, as the demo's tax returns.
        levy = str((Decimal(sales) * Decimal("0.03")).quantize(Decimal("0.01"))) if known \
            else "7500.00"
        months = [{"month": m, "sales": sales, "tax_paid": self.tax_paid.get(m, levy)}
                  for m in _months()]
        if self.mode == "malformed":
            months[3]["tax_paid"] = "n/a"
        return 200, {"format": "tax/1", "request_id": (query.get("request_id") or [""])[0],
                     "taxpayer": {"uscc": uscc,
                                  "credit_rating": known.get("credit_rating", self.rating),
                                  "months": months}}


class UtilityService(TestService):
    def answer(self, method, path, query, body):
        if method != "POST" or path != "/meter/consumption":
            return 404, {"error": "no_such_endpoint"}
        readings = [{"month": m, "kwh": "12000.0", "water_m3": "310.0"} for m in _months()]
        if self.mode == "malformed":
            readings[0]["month"] = "January"
        return 200, {"format": "utility/1", "request_id": (body or {}).get("request_id", ""),
                     "readings": readings}
