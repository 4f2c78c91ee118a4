"""What changed between two answers of a source about one enterprise, as signal inputs
(domain reference §4.3): W10 a new court enforcement case or dishonest-debtor listing, W11 a
new pledge of equity, W12 a new legal representative or a change of shareholders, W02 a new
overdue or non-performing loan at another bank in the credit report.

Tax and utility answers are monthly series: an answer bringing a month the previous one did
not have (or the first answer) is one change, W07 `tax_series` or W08 `utility_series`,
naming its newest month; whether the series is a sharp drop is monitoring's rule, read on
every month pulled so far (apps/monitoring/external_signals.py).

Facts only: each change is a signal `code`, a `kind`, a `key` and what was `observed` (and
the `baseline` it replaced, where there is one). How severe each kind is, is monitoring's
policy (apps/monitoring/external_signals.py), never decided here.

A court or credit-bureau answer with no earlier one counts every open case (every overdue or
non-performing loan) as new (what the approval knew of was in the earlier answer); a first
registry answer is only a baseline. W02 is about other banks, but the credit report lists
the bank's own loans too and this comparison does not tell them apart (that needs the
bureau's code for the bank): the bank's own arrears can show as W02 as well as W01.
"""

from __future__ import annotations

from collections.abc import Iterable

# Sources answering monthly series → (signal code, kind of change).
SERIES_SOURCES = {"tax": ("W07", "tax_series"), "utility": ("W08", "utility_series")}


def _by_kind(records: Iterable) -> dict[str, dict[str, dict]]:
    out: dict[str, dict[str, dict]] = {}
    for record in records:
        out.setdefault(record.kind, {})[record.key] = record.data
    return out


def _bureau_changes(old: dict, new: dict, subject: str) -> list[dict]:
    """W02: a loan newly overdue, or newly non-performing, in the credit report (of the
    enterprise, or of the person named `subject`: a guarantor, the legal representative)."""
    whose = f"{subject}: " if subject else ""
    changes = []
    for key, data in sorted(new.get("loan", {}).items()):
        was = (old.get("loan", {}).get(key) or {}).get("status")
        status = data["status"]
        if status == "npa" and was != "npa":
            changes.append({"code": "W02", "kind": "npa", "key": key, "baseline": was or "",
                            "observed": f"{whose}non-performing loan {key} at "
                                        f"{data['institution']} ({data['balance']} CNY)"})
        elif status == "overdue" and was not in ("overdue", "npa"):
            changes.append({"code": "W02", "kind": "overdue", "key": key, "baseline": was or "",
                            "observed": f"{whose}loan {key} at {data['institution']} "
                                        f"{data['dpd']} days overdue"})
    return changes


def changes_between(source: str, before: Iterable | None, after: Iterable, *,
                    subject: str = "") -> list[dict]:
    old, new = _by_kind(before or []), _by_kind(after)
    changes: list[dict] = []
    if source == "bureau":
        return _bureau_changes(old, new, subject)
    if source in SERIES_SOURCES:
        code, kind = SERIES_SOURCES[source]
        came = sorted(set(new.get("month", {})) - set(old.get("month", {})))
        if not came:
            return []
        return [{"code": code, "kind": kind, "key": came[-1],
                 "observed": f"{source} months to {max(new['month'])} ({len(came)} new)"}]
    if source == "court":
        for key, data in sorted(new.get("dishonest", {}).items()):
            if key not in old.get("dishonest", {}):
                changes.append({"code": "W10", "kind": "dishonest", "key": key,
                                "observed": f"dishonest-debtor listing {key} ({data['court']}, "
                                            f"{data['listed_on']})"})
        for key, data in sorted(new.get("enforcement", {}).items()):
            was = old.get("enforcement", {}).get(key)
            if data["status"] == "open" and (was is None or was.get("status") != "open"):
                changes.append({"code": "W10", "kind": "enforcement", "key": key,
                                "observed": f"enforcement case {key} ({data['court']}) for "
                                            f"{data['amount']} CNY"})
        return changes
    if before is None:
        return changes
    old_reg = next(iter(old.get("registration", {}).values()), {})
    new_reg = next(iter(new.get("registration", {}).values()), {})
    if old_reg and new_reg and old_reg.get("legal_representative") != \
            new_reg.get("legal_representative"):
        changes.append({"code": "W12", "kind": "legal_representative", "key": "",
                        "baseline": old_reg["legal_representative"],
                        "observed": f"legal representative {old_reg['legal_representative']} "
                                    f"→ {new_reg['legal_representative']}"})
    old_holders = {k: v["share"] for k, v in old.get("shareholder", {}).items()}
    new_holders = {k: v["share"] for k, v in new.get("shareholder", {}).items()}
    if old_holders != new_holders:
        gone = sorted(set(old_holders) - set(new_holders))
        came = sorted(set(new_holders) - set(old_holders))
        changes.append({"code": "W12", "kind": "shareholders", "key": "",
                        "observed": "shareholders changed"
                                    + (f"; left: {', '.join(gone)}" if gone else "")
                                    + (f"; joined: {', '.join(came)}" if came else "")})
    for key, data in sorted(new.get("pledge", {}).items()):
        if key not in old.get("pledge", {}):
            changes.append({"code": "W11", "kind": "pledge", "key": key,
                            "observed": f"equity pledged to {data['pledgee']} on "
                                        f"{data['registered_on']}"})
    return changes
