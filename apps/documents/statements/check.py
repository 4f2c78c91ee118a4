"""The bank-statement and tax-record checks' reading step: a known profile, else a mapping
inferred from the file, used only when proven (balance continuity) and otherwise proposed to a
person, whose confirmation becomes a profile (`profiles.py`). What could not be verified is
said in the findings (`verified`, `unverified_reason`), so the investigation can say that the
officer's declared figures went unverified instead of silently skipping the cross-check."""

from __future__ import annotations

from dataclasses import dataclass, field
from types import SimpleNamespace

from apps.documents.checks import CheckContext, flag, policy_or_flag
from apps.documents.checks.records import Transaction, parse_transactions
from apps.documents.checks.tables import Mapping, TableUnreadable, match_profile, read_rows
from apps.documents.statements.infer import infer_series, infer_statement
from apps.documents.statements.read import balance_check, transactions


@dataclass
class StatementRead:
    txns: list[Transaction] | None
    findings: dict = field(default_factory=dict)
    profile: object | None = None


def _sign(columns: dict) -> str:
    if "direction" in columns:
        return "direction"
    return "signed" if "amount" in columns else "debit_credit"


def read_statement(ctx: CheckContext, flags: list[dict]) -> StatementRead:
    try:
        rows = read_rows(ctx.path, ctx.format)
    except TableUnreadable:
        flags.append(flag("table_unreadable"))
        return StatementRead(None, {"verified": False, "unverified_reason": "unreadable"})
    mapping = match_profile(rows, ctx.profiles)
    if mapping is not None:
        txns, skipped = parse_transactions(rows, mapping)
        continuity = balance_check(rows, mapping.columns, _sign(mapping.columns),
                                   mapping.header_row + 1)
        findings = {"profile": mapping.profile.code, "skipped_rows": skipped,
                    "mapping_source": "profile"}
        return _verified(ctx, flags, StatementRead(txns, findings, mapping.profile), continuity)
    proposal = infer_statement(rows)
    if proposal is None or not ({"amount", "debit", "credit"} & set(proposal.columns)):
        flags.append(flag("no_column_profile"))
        return StatementRead(None, {"verified": False, "unverified_reason": "unreadable",
                                    "proposed_mapping": proposal.as_json() if proposal else None})
    minimum = policy_or_flag(ctx, "documents.statement.infer_min_confidence", flags)
    if minimum is None or proposal.confidence < minimum:
        flags.append(flag("column_mapping_unconfirmed", confidence=proposal.confidence,
                          limit=minimum if minimum is not None else "-"))
        return StatementRead(None, {"verified": False, "unverified_reason": "unconfirmed_mapping",
                                    "proposed_mapping": proposal.as_json()})
    txns, skipped = transactions(rows, proposal)
    checked = balance_check(rows, proposal.columns, proposal.sign, proposal.data_rows[0])
    flags.append(flag("columns_inferred", confidence=proposal.confidence, severity="info"))
    findings = {"profile": "", "skipped_rows": skipped, "mapping_source": "inferred",
                "inferred_mapping": proposal.as_json()}
    return _verified(ctx, flags, StatementRead(txns, findings), checked)


def _verified(ctx, flags, read: StatementRead, checked) -> StatementRead:
    """Balance continuity is the check on any mapping: an edited or mis-read statement
    breaks the running balance. Without a balance column the figures stand on the mapping."""
    read.findings["verified"] = True
    if checked is None:
        read.findings["balance_continuity"] = None
        return read
    continuity, breaks = checked
    read.findings.update(balance_continuity=str(continuity), balance_breaks=breaks)
    limit = policy_or_flag(ctx, "documents.statement.balance_breaks_max", flags)
    if limit is not None and breaks > limit:
        flags.append(flag("balance_discontinuity", breaks=breaks, continuity=continuity,
                          limit=limit))
        read.findings.update(verified=False, unverified_reason="balance_discontinuity")
    return read


def inferred_series_mapping(ctx: CheckContext, rows: list[list], flags: list[dict],
                            kind: str = "tax_record"):
    """(Mapping or None, findings to keep) for a tax or utility record no profile matched."""
    proposal = infer_series(rows, kind, ctx.policy)
    if proposal is None:
        return None, {"proposed_mapping": None}
    minimum = policy_or_flag(ctx, "documents.statement.infer_min_confidence", flags)
    if minimum is None or proposal.confidence < minimum:
        flags.append(flag("column_mapping_unconfirmed", confidence=proposal.confidence,
                          limit=minimum if minimum is not None else "-"))
        return None, {"proposed_mapping": proposal.as_json()}
    flags[:] = [f for f in flags if f["code"] != "no_column_profile"]
    flags.append(flag("columns_inferred", confidence=proposal.confidence, severity="info"))
    header = proposal.header_row if proposal.header_row is not None else (
        proposal.data_rows[0] - 1 if proposal.data_rows else -1)
    mapping = Mapping(profile=SimpleNamespace(code="", date_formats=[]), header_row=header,
                      columns=proposal.columns)
    return mapping, {"mapping_source": "inferred", "inferred_mapping": proposal.as_json(),
                     "verified": True}
