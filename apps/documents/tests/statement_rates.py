"""Detection and false-flag rates of the statement controls on generated files (issue 19).

`measure()` runs the real bank-statement check (no column profile: every layout is inferred)
over honest statements and over each kind of fake; `markdown()` writes the table that
docs/controls/statements.md quotes. Used by the tests (which hold the rates to the targets)
and by scripts/statement_control_rates.py (which prints the table for the docs)."""

from __future__ import annotations

import tempfile
from collections import Counter
from pathlib import Path

from apps.documents.checks import records
from apps.documents.tests import statement_generator as gen
from apps.documents.tests.conftest import context

# control → (flag codes that mean it fired, the fakes it should catch)
CONTROLS = {
    "balance continuity (edited statement)": ({"balance_discontinuity"}, ["edited"]),
    "round trips: split, related company": ({"flow_round_trips"}, ["split"]),
    "round trips: lagged 4-7 days": ({"flow_round_trips"}, ["lagged"]),
    "round trips: chained through a conduit": ({"flow_round_trips"}, ["chained"]),
    "round trips: money in sent back to an affiliate": ({"flow_round_trips"}, ["inflow"]),
    "regular payments (hidden loan)": ({"flow_regular_payments"}, ["loan"]),
    "cash just under the large-cash amount": ({"flow_cash_below_reporting"}, ["cash"]),
    "cash concentration": ({"flow_cash_concentration"}, ["cash-heavy"]),
}
FAKES = ["split", "lagged", "chained", "inflow", "loan", "cash", "cash-heavy", "edited"]


def confirmed_profile(proposal: dict):
    """The profile a person makes by confirming the reader's proposal unchanged (what
    statements/profiles.py stores), kept in memory."""
    from apps.documents.models import ColumnProfile

    columns = {f: [proposal["headers"][i]] for f, i in proposal["columns"].items()}
    required = [f for f in ("date", "amount", "debit", "credit") if f in columns]
    return ColumnProfile(code="confirmed", kind="bank_statement", columns=columns,
                         required=required,
                         date_formats=[proposal["date_format"]] if proposal["date_format"]
                         else [])


def _codes(generated, directory: Path) -> set[str]:
    """Flag codes of the check with no profile; a file whose mapping needed a person is
    re-read once with the proposal confirmed, as an officer would (marked "confirmed")."""
    path = directory / f"s.{generated.fmt}"
    path.write_bytes(generated.data)
    outcome = records.check_bank_statement(context(path, generated.fmt, profiles=[]))
    extra = set()
    if outcome.findings.get("unverified_reason") == "unconfirmed_mapping":
        extra.add("unverified:unconfirmed_mapping")
        profile = confirmed_profile(outcome.findings["proposed_mapping"])
        outcome = records.check_bank_statement(context(path, generated.fmt,
                                                       profiles=[profile]))
    codes = {f["code"] for f in outcome.findings["flags"] if f.get("severity") != "info"}
    if outcome.findings.get("verified") is False:
        codes.add("unverified:" + str(outcome.findings.get("unverified_reason")))
    return codes | extra


def measure(*, honest: int = 40, per_fake: int = 10, rows: int = 300,
            seed0: int = 1000) -> dict:
    directory = Path(tempfile.mkdtemp())
    honest_codes = [_codes(gen.statement(seed0 + i, rows=rows), directory)
                    for i in range(honest)]
    fake_codes = {fake: [_codes(gen.statement(seed0 + 500 + i, fake=fake, rows=rows), directory)
                         for i in range(per_fake)] for fake in FAKES}
    result = {"honest": honest, "per_fake": per_fake, "rows": rows, "controls": {},
              "honest_unverified": Counter(c for codes in honest_codes for c in codes
                                           if c.startswith("unverified:"))}
    for name, (codes, fakes) in CONTROLS.items():
        false_flags = sum(1 for found in honest_codes if found & codes)
        caught = sum(1 for fake in fakes for found in fake_codes[fake] if found & codes)
        trials = per_fake * len(fakes)
        result["controls"][name] = {
            "false_flag_rate": false_flags / honest,
            "detection_rate": caught / trials if trials else None,
            "false_flags": false_flags, "caught": caught, "trials": trials}
    return result


def markdown(result: dict) -> str:
    lines = [f"Generated files: {result['honest']} honest and {result['per_fake']} of each "
             f"fake, {result['rows']} rows over 12 months each, in the generator's "
             f"{len(gen.layouts())} layouts, read with no column profile.", "",
             "| Control | Detection on faked files | False flags on honest files |",
             "|---|---|---|"]
    for name, row in result["controls"].items():
        detection = ("—" if row["detection_rate"] is None else
                     f"{row['detection_rate']:.0%} ({row['caught']}/{row['trials']})")
        lines.append(f"| {name} | {detection} | {row['false_flag_rate']:.1%} "
                     f"({row['false_flags']}/{result['honest']}) |")
    unverified = dict(result["honest_unverified"])
    lines += ["", f"Honest files whose figures were not verified on first reading: "
                  f"{unverified or 'none'} (`unconfirmed_mapping`: no balance column proves "
                  "the mapping, so a person confirms the proposal once; the rates above are "
                  "after that confirmation)."]
    return "\n".join(lines)
