"""Statement flow patterns as investigation findings (issue 19): round trips through the same,
related or chained counterparties, regular payments that look like undeclared debt service,
and cash concentration — found by the bank-statement check (documents/statements/flows.py) and
shown to the reviewer here with the transactions behind each one."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from apps.investigations.controls.messages import control_finding
from apps.investigations.controls.policies import severity
from apps.investigations.rules import Finding

MESSAGES = {
    "flow_round_trips": _("Statement %(document)s: %(cycles)s round trips, %(amount)s sent out "
                          "and returned within %(lag_days)s days through the same, related or "
                          "chained counterparties."),
    "flow_regular_payments": _("Statement %(document)s: %(payments)s monthly payments of about "
                               "%(monthly)s to %(counterparty)s look like debt service; check "
                               "that this debt was declared."),
    "flow_cash_concentration": _("Statement %(document)s: cash brings %(share)s of money in "
                                 "(limit %(limit)s)."),
    "flow_cash_below_reporting": _("Statement %(document)s: %(count)s cash deposits just under "
                                   "the large-cash amount of %(reporting_amount)s."),
}
CODES = {"flow_round_trips": "FLOW_ROUND_TRIPS", "flow_regular_payments": "FLOW_REGULAR_PAYMENTS",
         "flow_cash_concentration": "FLOW_CASH_CONCENTRATION",
         "flow_cash_below_reporting": "FLOW_CASH_BELOW_REPORTING"}


def flow_findings(*, source, application_id: int, policy) -> list[Finding]:
    if not hasattr(source, "flow_findings"):
        return []
    items = source.flow_findings(application_id)
    if not items:
        return []
    level = severity(policy, "control.flows.severity")
    findings = []
    for item in items:
        code = item.get("code")
        if code not in MESSAGES:
            continue
        params = {k: v for k, v in (item.get("params") or {}).items()
                  if isinstance(v, str | int | float | bool)}
        params.setdefault("lag_days", "")
        transactions = (item.get("params") or {}).get("transactions") or [
            t for example in (item.get("params") or {}).get("examples") or []
            for t in example.get("transactions", [])]
        findings.append(control_finding(
            code=CODES[code], severity=level, message=MESSAGES[code],
            explanation=_("Found by the bank-statement check of document %(document)s."),
            inputs={"document_id": item.get("document_id"), "transactions": transactions,
                    "pattern": item.get("params")},
            document=item.get("document_id"), **params))
    return findings
