"""Statement flow patterns as investigation findings (issue 19): round trips through the same,
related or chained counterparties, regular payments that look like undeclared debt service,
and cash concentration — found by the bank-statement check (documents/statements/flows.py) and
shown to the reviewer here with the transactions behind each one."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from django.utils.translation import gettext_lazy as _

from apps.core.names import core_name, full_name
from apps.investigations.controls.messages import control_finding
from apps.investigations.controls.policies import need, severity
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
# A series paid to a lender the officer declared, at another monthly amount than declared.
DIFFERS_MORE = _("Statement %(document)s: %(payments)s monthly payments of about %(monthly)s to "
                 "%(counterparty)s, the declared lender %(lender)s, whose repayment was declared "
                 "at %(declared)s a month: the debt service is understated by %(difference)s a "
                 "month.")
DIFFERS_LESS = _("Statement %(document)s: %(payments)s monthly payments of about %(monthly)s to "
                 "%(counterparty)s, the declared lender %(lender)s, whose repayment was declared "
                 "at %(declared)s a month: %(difference)s a month less than declared; check "
                 "the declared figure.")
DIFFERS_EXPLANATION = _("Found by the bank-statement check of document %(document)s. The "
                        "payments go to a lender the officer declared (matched %(lender_match)s), "
                        "so the debt is not hidden, but its amount is not the declared one "
                        "(tolerance %(tolerance)s).")
BY_IDENTITY = _("by the party's identity")
BY_NAME = _("by name")
# Round trips whose two ends were related by their names only, not by who they are.
TEXT_ONLY = _("Found by the bank-statement check of document %(document)s. "
              "%(related_by_text)s of the round trips relate their counterparties by name "
              "only (no account, USCC, registered name or recorded alias of the party graph "
              "matched): check who they are before relying on them.")
CODES = {"flow_round_trips": "FLOW_ROUND_TRIPS", "flow_regular_payments": "FLOW_REGULAR_PAYMENTS",
         "flow_cash_concentration": "FLOW_CASH_CONCENTRATION",
         "flow_cash_below_reporting": "FLOW_CASH_BELOW_REPORTING"}
DIFFERS_CODE = "FLOW_DECLARED_DEBT_DIFFERS"


# --- debts the officer declared (issue 19: only undeclared debt service is flagged) ----------

# Answers that declare debts: a table of debts (a row per lender: who, monthly repayment) or a
# single figure for the monthly repayments on all existing loans (lender unknown).
LENDER_COLUMNS = ("lender", "creditor", "counterparty", "name")
REPAYMENT_COLUMNS = ("monthly_repayment", "monthly_instalment", "instalment", "repayment",
                     "monthly")
DEBT_SERVICE_ITEMS = ("IPC_EXISTING_DEBT_SERVICE", "DECLARED_DEBT_SERVICE")

def _money(value) -> Decimal | None:
    try:
        amount = Decimal(str(value).replace(",", "").strip())
    except (InvalidOperation, ValueError):
        return None
    return amount if amount > 0 else None


@dataclass
class DeclaredDebt:
    lender: str               # "" when only the monthly total was declared
    monthly: Decimal | None   # the monthly repayment declared, if any
    item: str                 # the answer it came from

    def as_json(self) -> dict:
        return {"lender": self.lender, "monthly": None if self.monthly is None
                else str(self.monthly), "item": self.item}


def declared_debts(answers: dict) -> list[DeclaredDebt]:
    """Debts the officer declared in the answers: rows of any table answer that name a lender
    (with a monthly repayment if given), and the monthly debt-service figures."""
    debts = []
    for code, value in answers.items():
        if code in DEBT_SERVICE_ITEMS and (amount := _money(value)) is not None:
            debts.append(DeclaredDebt("", amount, code))
        if not isinstance(value, list):
            continue
        for row in value:
            if not isinstance(row, dict):
                continue
            lender = next((str(row[c]).strip() for c in LENDER_COLUMNS
                           if str(row.get(c) or "").strip()), "")
            monthly = next((m for c in REPAYMENT_COLUMNS
                            if (m := _money(row.get(c))) is not None), None)
            if lender:
                debts.append(DeclaredDebt(lender, monthly, code))
    return debts


def _named(debt: DeclaredDebt, counterparty: str) -> bool:
    a, b = core_name(debt.lender), core_name(counterparty)
    return bool(a and b) and (a == b or (min(len(a), len(b)) >= 2 and (a in b or b in a)))


def lender_match(debt: DeclaredDebt, params: dict) -> str:
    """How a declared lender names a regular-payment series' counterparty: "identity" when the
    counterparty is a party of the borrower's graph (matched by account, USCC, registered name
    or alias) and the lender is that party's registered name or a recorded alias; "text" when
    the counterparty is no identified party and the names share a core (place and legal form
    stripped); "" otherwise. A related party identified as such is never taken for a declared
    lender whose name merely resembles it (issue 19)."""
    if not debt.lender:
        return ""
    party = params.get("related_party") or {}
    if party and party.get("matched_by") != "text":
        names = {full_name(n) for n in party.get("names") or []}
        return "identity" if full_name(debt.lender) in names else ""
    return "text" if _named(debt, str(params.get("counterparty") or "")) else ""


def match_declared(items: list[dict], debts: list[DeclaredDebt], *,
                   tolerance: Decimal) -> dict[int, DeclaredDebt]:
    """index of a `flow_regular_payments` item → the declared debt it services. By lender
    first (the counterparty is the declared lender, whatever the amount), then by amount
    (a declared repayment within `tolerance` of the series' monthly amount, a debt used once;
    a declared monthly total absorbs the series it can hold)."""
    matched: dict[int, DeclaredDebt] = {}
    used: set[int] = set()
    regular = [(i, it) for i, it in enumerate(items) if it.get("code") == "flow_regular_payments"]
    for i, item in regular:
        params = item.get("params") or {}
        for k, debt in enumerate(debts):
            if lender_match(debt, params):
                matched[i] = debt
                used.add(k)
                break
    remaining = {k: d.monthly for k, d in enumerate(debts) if d.monthly is not None}
    for i, item in regular:
        if i in matched:
            continue
        monthly = _money((item.get("params") or {}).get("monthly"))
        if monthly is None:
            continue
        for k, debt in enumerate(debts):
            left = remaining.get(k)
            if k in used and debt.lender or left is None:
                continue
            if debt.lender and abs(left - monthly) <= left * tolerance:
                matched[i], remaining[k] = debt, None
                used.add(k)
                break
            if not debt.lender and monthly <= left * (1 + tolerance):
                matched[i], remaining[k] = debt, left - monthly
                break
    return matched


def declared_difference(item: dict, debt: DeclaredDebt, *,
                        tolerance: Decimal) -> Decimal | None:
    """What a series pays a month beyond (positive) or short of (negative) the repayment
    declared for the lender it was matched to by name, when that is more than `tolerance` of
    the declared repayment; None when it is within it, or nothing can be compared (no lender,
    no declared repayment, no monthly amount)."""
    monthly = _money((item.get("params") or {}).get("monthly"))
    if not debt.lender or debt.monthly is None or monthly is None:
        return None
    difference = monthly - debt.monthly
    return difference if abs(difference) > debt.monthly * tolerance else None


def _differs_finding(item: dict, debt: DeclaredDebt, difference: Decimal, *, policy,
                     tolerance: Decimal) -> Finding:
    """A series that services a declared debt at another amount than declared (issue 19): paid
    more, the declared debt service is understated (the flows' severity, as for an undeclared
    debt); paid less, a note at `control.flows.declared_debt_differs.severity`."""
    params = item.get("params") or {}
    more = difference > 0
    level = severity(policy, "control.flows.severity" if more
                     else "control.flows.declared_debt_differs.severity")
    return control_finding(
        code=DIFFERS_CODE, severity=level, message=DIFFERS_MORE if more else DIFFERS_LESS,
        explanation=DIFFERS_EXPLANATION,
        inputs={"document_id": item.get("document_id"),
                "transactions": params.get("transactions") or [], "pattern": params,
                "declared": debt.as_json(), "difference": str(difference)},
        document=item.get("document_id"), payments=params.get("payments", ""),
        monthly=params.get("monthly", ""), counterparty=params.get("counterparty", ""),
        lender=debt.lender, declared=f"{debt.monthly:,.2f}",
        difference=f"{abs(difference):,.2f}",
        lender_match=BY_IDENTITY if lender_match(debt, params) == "identity" else BY_NAME,
        tolerance=f"{tolerance:.0%}")


def flow_findings(*, source, application_id: int, policy,
                  declared: list[DeclaredDebt] | None = None) -> list[Finding]:
    """The statements' flow flags as findings; a regular-payment series that services a debt
    the officer declared (`declared`) is not flagged as undeclared — but one paid to a declared
    lender at a monthly amount other than the declared repayment (beyond the tolerance) is
    shown as `FLOW_DECLARED_DEBT_DIFFERS`, quoting both figures."""
    if not hasattr(source, "flow_findings"):
        return []
    items = source.flow_findings(application_id)
    if not items:
        return []
    level = severity(policy, "control.flows.severity")
    skip: dict[int, DeclaredDebt] = {}
    tolerance = Decimal(0)
    if declared and any(it.get("code") == "flow_regular_payments" for it in items):
        tolerance = need(policy, "control.flows.declared_debt_tolerance")
        skip = match_declared(items, declared, tolerance=tolerance)
    findings = []
    for index, item in enumerate(items):
        code = item.get("code")
        if index in skip:
            difference = declared_difference(item, skip[index], tolerance=tolerance)
            if difference is not None:
                findings.append(_differs_finding(item, skip[index], difference, policy=policy,
                                                 tolerance=tolerance))
            continue
        if code not in MESSAGES:
            continue
        params = {k: v for k, v in (item.get("params") or {}).items()
                  if isinstance(v, str | int | float | bool)}
        params.setdefault("lag_days", "")
        transactions = (item.get("params") or {}).get("transactions") or [
            t for example in (item.get("params") or {}).get("examples") or []
            for t in example.get("transactions", [])]
        explanation = _("Found by the bank-statement check of document %(document)s.")
        if code == "flow_round_trips" and params.get("related_by_text"):
            explanation = TEXT_ONLY
        findings.append(control_finding(
            code=CODES[code], severity=level, message=MESSAGES[code],
            explanation=explanation,
            inputs={"document_id": item.get("document_id"), "transactions": transactions,
                    "pattern": item.get("params")},
            document=item.get("document_id"), **params))
    return findings
