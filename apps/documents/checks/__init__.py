"""The document checks: pure functions from a stored file and its context to an outcome.

Each check reads only the file and the `CheckContext` the service builds (policy values, column
profiles, the site's position); database writes, locking and audit stay in `services_checks`.
A check reports what it found as flags with stable codes and parameters (`messages.py` turns
them into words at display time, in the reader's language) and a status:
  passed    nothing wrong;
  failed    the document is wrong for its purpose (expired, no usable records);
  attention a person must look (red-flag pattern, photo far from the site, policy missing).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from apps.documents.states import CheckKind, CheckStatus

PASSED, FAILED, ATTENTION = CheckStatus.PASSED, CheckStatus.FAILED, CheckStatus.ATTENTION


class TransientCheckError(Exception):
    """Worth retrying (the file store or a service was briefly unavailable)."""


@dataclass
class CheckContext:
    """What a check may know besides the file. `policy(key)` returns a Decimal or None."""

    path: Path
    format: str
    document_type: str
    metadata: dict
    uploaded_at: dt.datetime
    policy: Callable[[str], Decimal | None]
    valid_until: dt.date | None = None
    validity_days: int | None = None
    site: tuple[float, float] | None = None  # the enterprise's operating position
    profiles: list = field(default_factory=list)  # ColumnProfile rows of the record kind
    today: dt.date | None = None
    # Names the party graph relates to the borrower (apps.parties.selectors), for round trips.
    related_parties: frozenset = frozenset()
    # The same parties by identity (apps.core.names.PartyIdentity: registered name, USCC,
    # aliases, accounts): matched before any name text.
    related_identities: tuple = ()


@dataclass
class CheckOutcome:
    status: str
    findings: dict

    @classmethod
    def of(cls, findings: dict, flags: list[dict], *, fail: bool = False) -> CheckOutcome:
        """Status from the flags: any flag is attention unless the check says it failed."""
        findings = {**findings, "flags": flags}
        if fail:
            return cls(FAILED, findings)
        raised = [f for f in flags if f.get("severity") != "info"]
        return cls(ATTENTION if raised else PASSED, findings)


def flag(code: str, *, severity: str = "flag", **params) -> dict:
    """A finding: a stable code and the figures behind it (JSON-safe: Decimals as strings).
    `severity="info"` records it without asking anyone to look (a scanned PDF, say)."""
    return {"code": code, "severity": severity,
            "params": {k: (str(v) if isinstance(v, Decimal | dt.date) else v)
                       for k, v in params.items()}}


def policy_or_flag(ctx: CheckContext, key: str, flags: list[dict]) -> Decimal | None:
    """A missing policy value is itself a finding, never a silent pass (§0.2)."""
    value = ctx.policy(key)
    if value is None:
        flags.append(flag("policy_missing", key=key))
    return value


# kind -> (version, function); versions are recorded with each result so a changed checker
# can be told apart from a changed document.
def _registry() -> dict[str, tuple[str, Callable[[CheckContext], CheckOutcome]]]:
    from apps.documents.checks import expiry, pdf, photo, records

    return {
        CheckKind.PHOTO: (photo.VERSION, photo.check_photo),
        CheckKind.PDF: (pdf.VERSION, pdf.check_pdf),
        CheckKind.BANK_STATEMENT: (records.VERSION, records.check_bank_statement),
        CheckKind.TAX_RECORD: (records.VERSION, records.check_tax_record),
        CheckKind.UTILITY_BILL: (records.VERSION, records.check_utility_bill),
        CheckKind.EXPIRY: (expiry.VERSION, expiry.check_expiry),
    }


def checker(kind: str) -> tuple[str, Callable[[CheckContext], CheckOutcome]]:
    return _registry()[kind]
