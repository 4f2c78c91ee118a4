"""The business registry's stand-in (format registry/1, see connectors/registry.py)."""

from __future__ import annotations

from apps.datahub.testservers.base import TestService


class RegistryService(TestService):
    def reset(self) -> None:
        super().reset()
        self.enterprises: dict[str, dict] = {}   # uscc → overrides of the default answer
        self.unknown: set[str] = set()           # codes answered 404

    def record(self, uscc: str) -> dict:
        base = {"uscc": uscc, "name": f"企业{uscc[-6:]}有限公司", "status": "active",
                "registered_on": "2019-03-01", "registered_capital": "1000000.00",
                "legal_representative": {"name": "王立"},
                "shareholders": [{"name": "王立", "share": "0.60"},
                                 {"name": "李敏", "share": "0.40"}],
                "changes": [{"date": "2023-06-01", "item": "registered_capital",
                             "before": "500000.00", "after": "1000000.00"}],
                "pledges": []}
        base.update(self.enterprises.get(uscc, {}))
        return base

    def answer(self, method, path, query, body):
        prefix = "/v1/enterprises/"
        if method != "GET" or not path.startswith(prefix):
            return 404, {"error": "no_such_endpoint"}
        uscc = path[len(prefix):]
        if uscc in self.unknown:
            return 404, {"error": "not_found"}
        enterprise = self.record(uscc)
        if self.mode == "malformed":
            enterprise.pop("legal_representative")
        return 200, {"format": "registry/1", "request_id": (query.get("request_id") or [""])[0],
                     "enterprise": enterprise}
