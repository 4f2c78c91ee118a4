"""Detection and false-flag rates of the statement controls on generated files (issue 19).

`measure()` runs the real bank-statement check (no column profile: every layout is inferred)
over honest statements and over each kind of fake; `markdown()` writes the table that
docs/controls/statements.md quotes. Used by the tests (which hold the rates to the targets)
and by scripts/statement_control_rates.py (which prints the table for the docs)."""

from __future__ import annotations

import tempfile
from collections import Counter
from decimal import Decimal
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
    "round trips: through parties related in the party graph": ({"flow_round_trips"},
                                                                ["graph"]),
    "regular payments (hidden loan)": ({"flow_regular_payments"}, ["loan"]),
    "cash just under the large-cash amount": ({"flow_cash_below_reporting"}, ["cash"]),
    "cash concentration": ({"flow_cash_concentration"}, ["cash-heavy"]),
}
FAKES = ["split", "lagged", "chained", "inflow", "graph", "loan", "cash", "cash-heavy",
         "edited"]


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


def _codes(generated, directory: Path, *, graph: bool = True) -> set[str]:
    """Flag codes of the check with no profile; a file whose mapping needed a person is
    re-read once with the proposal confirmed, as an officer would (marked "confirmed").
    `graph`: the party graph's related names are known to the check (as in production)."""
    path = directory / f"s.{generated.fmt}"
    path.write_bytes(generated.data)
    related = frozenset(generated.related if graph else ())
    outcome = records.check_bank_statement(context(path, generated.fmt, profiles=[],
                                                   related_parties=related))
    extra = set()
    if outcome.findings.get("unverified_reason") == "unconfirmed_mapping":
        extra.add("unverified:unconfirmed_mapping")
        profile = confirmed_profile(outcome.findings["proposed_mapping"])
        outcome = records.check_bank_statement(context(path, generated.fmt,
                                                       profiles=[profile],
                                                       related_parties=related))
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


# --- tax and utility records (issue 19: any layout read as statements are) ---------------------

def _series_profile(proposal: dict, kind: str):
    from apps.documents.models import ColumnProfile

    columns = {f: [proposal["headers"][i]] for f, i in proposal["columns"].items()}
    required = [f for f in ("period", "revenue", "kwh") if f in columns]
    return ColumnProfile(code="confirmed", kind=kind, columns=columns, required=required)


def read_series(generated, directory: Path) -> dict:
    """The real tax or utility check with no profile; a file whose mapping needed a person is
    re-read with the proposal confirmed unchanged. What happened, and whether the figures that
    were read are the true ones."""
    path = directory / f"r.{generated.fmt}"
    path.write_bytes(generated.data)
    kind = generated.layout.kind
    check = records.check_tax_record if kind == "tax_record" else records.check_utility_bill
    field = "revenue" if kind == "tax_record" else "kwh"
    found = check(context(path, generated.fmt, profiles=[])).findings
    first = ("verified" if found.get("verified") is not False
             else str(found.get("unverified_reason")))
    confirmed = False
    if found.get("unverified_reason") == "unconfirmed_mapping" and found.get("proposed_mapping"):
        proposal = found["proposed_mapping"]
        expected = {f: i for i, (f, _h) in enumerate(generated.layout.columns)
                    if f in proposal["columns"]}
        confirmed = proposal["columns"] == expected
        found = check(context(path, generated.fmt,
                              profiles=[_series_profile(proposal, kind)])).findings
    value = found.get(f"{field}_12m")
    verified = found.get("verified") is not False and value is not None
    return {"first": first, "proposal_right": confirmed, "verified": verified,
            "right": verified and Decimal(value) == generated.last_12(field),
            "codes": {f["code"] for f in found.get("flags", []) if f.get("severity") != "info"},
            "reason": found.get("unverified_reason")}


def measure_series(*, per_layout: int = 5, seed0: int = 3000) -> dict:
    """Per layout: read without asking, proposal right when asked, figures right in the end,
    figures wrong yet verified (must be none); meter edits caught on utility layouts with
    readings, and meter breaks on honest ones."""
    directory = Path(tempfile.mkdtemp())
    layouts, meter = {}, {"honest": 0, "false_flags": 0, "edited": 0, "caught": 0}
    for layout in gen.SERIES_LAYOUTS:
        results = [read_series(gen.series_record(seed0 + i, layout), directory)
                   for i in range(per_layout)]
        layouts[layout.name] = {
            "kind": layout.kind, "files": per_layout,
            "read_without_asking": sum(r["first"] == "verified" for r in results),
            "asked": sum(r["first"] == "unconfirmed_mapping" for r in results),
            "proposal_right": sum(r["proposal_right"] for r in results),
            "right": sum(r["right"] for r in results),
            "wrong_but_verified": sum(r["verified"] and not r["right"] for r in results)}
        if {"reading_start", "reading_end"} <= {f for f, _h in layout.columns}:
            meter["honest"] += per_layout
            meter["false_flags"] += sum("meter_discontinuity" in r["codes"] for r in results)
            for i in range(per_layout):
                r = read_series(gen.series_record(seed0 + 700 + i, layout, edit=True), directory)
                meter["edited"] += 1
                meter["caught"] += r["reason"] == "meter_discontinuity"
    return {"layouts": layouts, "meter": meter}


def series_markdown(result: dict) -> str:
    lines = ["| Layout | Kind | Read without asking | Asked; proposal right | Figures right "
             "(after confirmation) | Wrong but verified |", "|---|---|---|---|---|---|"]
    for name, row in result["layouts"].items():
        n = row["files"]
        lines.append(f"| {name} | {row['kind']} | {row['read_without_asking']}/{n} | "
                     f"{row['asked']}/{n}; {row['proposal_right']}/{row['asked'] or 0} | "
                     f"{row['right']}/{n} | {row['wrong_but_verified']}/{n} |")
    m = result["meter"]
    lines += ["", f"Meter readings (utility layouts with readings): edited usage caught "
                  f"{m['caught']}/{m['edited']}, false flags on honest files "
                  f"{m['false_flags']}/{m['honest']}."]
    return "\n".join(lines)


def measure_tax_checks(*, per_layout: int = 10, seed0: int = 4000) -> dict:
    """The tax record's arithmetic (taxcheck.py) over every tax layout: false flags on honest
    small-scale (one levy rate) and general-taxpayer (output less input tax) records; revenue
    inflated on three months with the tax left alone; revenue and tax inflated together at the
    rate with the totals row left as exported (caught only where a totals row has figures)."""
    directory = Path(tempfile.mkdtemp())
    honest = {r: {"files": 0, "false_flags": 0} for r in ("small", "general")}
    faked = {"revenue": {"files": 0, "caught": 0},
             "revenue_and_tax": {"files": 0, "caught": 0, "files_with_totals": 0,
                                 "caught_with_totals": 0}}
    for layout in gen.TAX_SERIES_LAYOUTS:
        for i in range(per_layout):
            seed = seed0 + i
            for regime, row in honest.items():
                r = read_series(gen.series_record(seed, layout, regime=regime), directory)
                row["files"] += 1
                row["false_flags"] += "tax_inconsistent" in r["codes"]
            for edit, row in faked.items():
                r = read_series(gen.series_record(seed + 500, layout, edit=edit), directory)
                caught = r["reason"] == "tax_inconsistent"
                row["files"] += 1
                row["caught"] += caught
                if "files_with_totals" in row and layout.totals:
                    row["files_with_totals"] += 1
                    row["caught_with_totals"] += caught
    return {"honest": honest, "faked": faked}


def tax_check_markdown(result: dict) -> str:
    h, f = result["honest"], result["faked"]

    def pct(a, b):
        return f"{100 * a / b:.0f}% ({a}/{b})" if b else "-"

    both = f["revenue_and_tax"]
    small = pct(h["small"]["false_flags"], h["small"]["files"])
    general = pct(h["general"]["false_flags"], h["general"]["files"])
    revenue = pct(f["revenue"]["caught"], f["revenue"]["files"])
    together = pct(both["caught"], both["files"])
    with_totals = pct(both["caught_with_totals"], both["files_with_totals"])
    return "\n".join([
        "| Tax records | Flagged `tax_inconsistent` |", "|---|---|",
        f"| honest, small-scale (one levy rate) | {small} (false flags) |",
        f"| honest, general taxpayer (output less input tax) | {general} (false flags) |",
        f"| revenue inflated on 3 months, tax left alone | {revenue} (detection) |",
        f"| revenue and tax inflated together, totals row left | {together} (detection); "
        f"layouts with a totals row {with_totals} |",
    ])


# --- regular payments against the debts the officer declared -----------------------------------

def _regular_items(generated, directory: Path) -> list[dict]:
    path = directory / f"d.{generated.fmt}"
    path.write_bytes(generated.data)
    outcome = records.check_bank_statement(context(path, generated.fmt, profiles=[]))
    if outcome.findings.get("unverified_reason") == "unconfirmed_mapping":
        profile = confirmed_profile(outcome.findings["proposed_mapping"])
        outcome = records.check_bank_statement(context(path, generated.fmt, profiles=[profile]))
    return [{"document_id": 1, **f} for f in outcome.findings["flags"]
            if f["code"].startswith("flow_")]


def declared_cases(generated) -> dict[str, dict]:
    """The officer's answers for one hidden-loan statement: the loan declared by lender (a
    debts table, the instalment rounded), declared by lender with its repayment understated
    (60% of the instalment) or overstated (150%), declared by amount only (the monthly
    debt-service figure, rounded up to the hundred), or not declared (another debt declared
    instead)."""
    loan = [t for t in generated.txns if t.planted == "loan"]
    lender, instalment = loan[0].counterparty, -loan[0].amount
    rounded = (instalment / 100).to_integral_value() * 100
    return {
        "declared_by_lender": {"DEBTS": [{"lender": lender, "monthly_repayment": str(rounded)}]},
        "understated_by_lender": {"DEBTS": [{"lender": lender,
                                             "monthly_repayment": str(rounded * 6 / 10)}]},
        "overstated_by_lender": {"DEBTS": [{"lender": lender,
                                            "monthly_repayment": str(rounded * 15 / 10)}]},
        "declared_by_amount": {"IPC_EXISTING_DEBT_SERVICE": str(rounded + 100)},
        "undeclared": {"DEBTS": [{"lender": "中国工商银行深圳分行",
                                  "monthly_repayment": str(rounded * 3 + 1234)}]},
    }


def measure_declared_debts(*, files: int = 20, rows: int = 300, seed0: int = 7000) -> dict:
    """Hidden-loan statements read by the real check, then the flow findings filtered by the
    declared debts: a declared loan flagged is a false flag, an undeclared one caught is a
    detection. Honest statements (no loan) are counted too."""
    from apps.documents.statements.policies import statement_policy_values
    from apps.investigations.controls.flows import declared_debts, flow_findings

    policy = {**statement_policy_values()}.get
    directory = Path(tempfile.mkdtemp())
    counts = Counter()

    class Source:
        def __init__(self, items):
            self.items = items

        def flow_findings(self, application_id):
            return self.items

    for i in range(files):
        generated = gen.statement(seed0 + i, fake="loan", rows=rows)
        items = _regular_items(generated, directory)
        for case, answers in declared_cases(generated).items():
            found = flow_findings(source=Source(items), application_id=1, policy=policy,
                                  declared=declared_debts(answers))
            counts[case] += any(f.code == "FLOW_REGULAR_PAYMENTS" for f in found)
            differs = [f for f in found if f.code == "FLOW_DECLARED_DEBT_DIFFERS"]
            counts[f"{case}:differs"] += bool(differs)
            counts[f"{case}:differs_r2"] += any(f.severity == "R2" for f in differs)
        honest = _regular_items(gen.statement(seed0 + 500 + i, rows=rows), directory)
        found = flow_findings(source=Source(honest), application_id=1, policy=policy,
                              declared=[])
        counts["honest"] += any(f.code == "FLOW_REGULAR_PAYMENTS" for f in found)
        counts["honest:differs"] += any(f.code == "FLOW_DECLARED_DEBT_DIFFERS" for f in found)
    return {"files": files, **counts}


def declared_markdown(result: dict) -> str:
    n = result["files"]

    def row(label: str, case: str, undeclared_kind: str, differs_kind: str) -> str:
        return (f"| {label} | {result.get(case, 0)}/{n} ({undeclared_kind}) | "
                f"{result.get(case + ':differs', 0)}/{n} ({differs_kind}) |")

    return "\n".join([
        "| Case | Flagged as undeclared debt service (`FLOW_REGULAR_PAYMENTS`) "
        "| Declared amount differs (`FLOW_DECLARED_DEBT_DIFFERS`) |", "|---|---|---|",
        row("hidden loan, not declared (another debt declared)", "undeclared", "detection",
            "not expected"),
        row("hidden loan declared by lender (debts table, instalment rounded)",
            "declared_by_lender", "false flags", "false flags"),
        row("declared by lender, repayment understated (60%)", "understated_by_lender",
            "false flags",
            f"detection; at R2: {result.get('understated_by_lender:differs_r2', 0)}"),
        row("declared by lender, repayment overstated (150%)", "overstated_by_lender",
            "false flags",
            f"detection; at R2: {result.get('overstated_by_lender:differs_r2', 0)}"),
        row("hidden loan declared by monthly amount only", "declared_by_amount", "false flags",
            "false flags"),
        row("honest statement, no loan, nothing declared", "honest", "false flags",
            "false flags")])
