"""Print the detection and false-flag rates of the statement controls (issue 19) as the
Markdown that docs/controls/statements.md quotes.

    PYTHONPATH=. DJANGO_SETTINGS_MODULE=config.settings.test \
        .venv/bin/python scripts/statement_control_rates.py --honest 100 --per-fake 20 --rows 300
"""

import argparse
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--honest", type=int, default=100)
    parser.add_argument("--per-fake", type=int, default=20)
    parser.add_argument("--rows", type=int, default=300)
    parser.add_argument("--seed", type=int, default=1000)
    parser.add_argument("--series", type=int, default=0, metavar="PER_LAYOUT",
                        help="tax and utility records instead: files per layout")
    parser.add_argument("--tax-check", type=int, default=0, metavar="PER_LAYOUT",
                        help="the tax records' arithmetic check instead: files per layout")
    args = parser.parse_args()
    import django

    django.setup()
    from apps.documents.tests.statement_rates import (
        markdown,
        measure,
        measure_series,
        measure_tax_checks,
        series_markdown,
        tax_check_markdown,
    )

    if args.tax_check:
        print(tax_check_markdown(measure_tax_checks(per_layout=args.tax_check,
                                                    seed0=args.seed)))
        return
    if args.series:
        print(series_markdown(measure_series(per_layout=args.series, seed0=args.seed)))
        return
    print(markdown(measure(honest=args.honest, per_fake=args.per_fake, rows=args.rows,
                           seed0=args.seed)))


if __name__ == "__main__":
    main()
