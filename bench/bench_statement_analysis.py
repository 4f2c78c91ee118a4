"""Statement analysis of a 12-month, 5,000-row bank statement, as a ratio to parsing it.

Both measured in this run, in this process, on the same generated file (an honest trading
firm's account with planted split round trips, in the Chinese debit/credit layout, no column
profile: the columns are inferred):
  * baseline: reading the file and parsing it into transactions (read_rows + infer + parse:
    what any figure needs before analysis starts);
  * analysis: the check's analysis of those transactions — monthly totals, concentration,
    the legacy red-flag patterns and every flow pattern (round trips split / lagged / chained,
    regular payments, cash concentration).
Target (issue 19): analysis under 1 s. Pure Python, no database: policy values are the seeded
ones. Exit 1 if the p95 analysis time is over the target.
"""

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")
os.environ.setdefault("OMP_NUM_THREADS", "1")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=5000)
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()

    import django

    django.setup()
    from apps.documents.checks import records
    from apps.documents.checks.tables import read_rows
    from apps.documents.statements.flows import analyse_flows
    from apps.documents.statements.infer import infer_statement
    from apps.documents.statements.read import transactions
    from apps.documents.tests import statement_generator as gen
    from apps.documents.tests.conftest import context

    layout = next(x for x in gen.layouts() if x.name == "zh-dc")
    generated = gen.statement(2026, fake="split", rows=args.rows, layout=layout)
    path = Path(tempfile.mkdtemp()) / "statement.csv"
    path.write_bytes(generated.data)
    ctx = context(path, "csv", profiles=[])
    # The party graph as the check gets it (issue 19): the related firms by registered name,
    # the controller by the account on file, matched by identity before any name text.
    from apps.core.names import PartyIdentity, RelatedParties

    identities = [
        PartyIdentity(key=f"person:{k}", kind="person", name=name,
                      accounts=(f"62{sum(map(ord, name)) % 10**12:012d}",))
        if name == gen.CONTROLLER else
        PartyIdentity(key=f"enterprise:{k}", kind="enterprise", name=name)
        for k, name in enumerate(generated.related)]

    def parse():
        rows = read_rows(path, "csv")
        return transactions(rows, infer_statement(rows))[0]

    def analyse(txns):
        flags: list[dict] = []
        summary = records.analyse_statement(txns, ctx, [], flags)
        summary["flows"] = analyse_flows(txns, ctx.policy, flags,
                                         related=RelatedParties(identities))
        return flags

    parse_times, analysis_times = [], []
    txns, flags = [], []
    for _ in range(args.repeats):
        start = time.perf_counter()
        txns = parse()
        parse_times.append(time.perf_counter() - start)
        start = time.perf_counter()
        flags = analyse(txns)
        analysis_times.append(time.perf_counter() - start)
    months = len({(t.date.year, t.date.month) for t in txns})
    parse_p50 = statistics.median(parse_times)
    p50 = statistics.median(analysis_times)
    p95 = sorted(analysis_times)[max(0, round(0.95 * len(analysis_times)) - 1)]
    codes = sorted({f["code"] for f in flags})
    print(f"{len(txns)} transactions over {months} months, {args.repeats} repeats, "
          f"{len(identities)} related parties by identity; "
          f"flags found: {', '.join(codes)}; load average {os.getloadavg()[0]:.1f} on "
          f"{os.cpu_count()} CPUs")
    met = p95 < 1.0
    print(f"statement analysis (5,000 rows, 12 months): p50 {p50 * 1000:.0f} ms, "
          f"p95 {p95 * 1000:.0f} ms = {p50 / parse_p50:.2f}x parsing the same file "
          f"(p50 {parse_p50 * 1000:.0f} ms); target < 1 s: {'met' if met else 'NOT met'}")
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
