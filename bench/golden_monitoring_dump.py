"""Golden dump of the monthly classification and signal run: 5,000 loans (the benchmark's
generator, seeded), two monthly runs with arrears repaid and grown in between, then every
row of every monitoring table (and the audit events' actions) written to a JSON file.

Used to prove a change to the run's implementation changes nothing it writes: dump before
the change, dump after, compare (`--compare before.json after.json`).

Row ids, and times taken from the clock, are left out; a reference to a row the run writes
(an action's signal, a proposal's run) is replaced by that row's own dump, so insertion
order does not matter. Seeded rows (rules, templates, users, loans) keep their ids: the
database is created afresh, so they are the same in both dumps.

  python bench/golden_monitoring_dump.py --out /tmp/before.json
  python bench/golden_monitoring_dump.py --compare /tmp/before.json /tmp/after.json
"""

import argparse
import datetime as dt
import json
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

WRITTEN = {"Signal", "Action", "Classification", "ClassificationRun", "ClassificationRunChunk",
           "Inspection", "LoanRiskStatus", "LoanRestructuring", "ClassificationSnapshot"}


def _describe(model, row: dict, cache: dict) -> dict:
    """The row without its id and clock times, references to written rows replaced."""
    out = {}
    for field in model._meta.concrete_fields:
        if field.primary_key and not field.is_relation:
            continue
        if field.get_internal_type() == "DateTimeField":
            out[field.name] = row[field.attname] is not None  # set or not, not when
            continue
        value = row[field.attname]
        related = field.related_model if field.is_relation else None
        if related is not None and related.__name__ in WRITTEN and value is not None \
                and not field.primary_key:
            key = (related.__name__, value)
            if key not in cache:
                cache[key] = _describe(related, related.objects.filter(pk=value).values()[0],
                                       cache)
            value = cache[key]
        out[field.name] = value
    return out


def dump() -> dict:
    from django.apps import apps
    from django.core.serializers.json import DjangoJSONEncoder
    from django.db.models import Count

    from apps.audit.models import AuditEvent

    cache: dict = {}
    result = {}
    for model in apps.get_app_config("monitoring").get_models():
        rows = [json.dumps(_describe(model, row, cache), sort_keys=True, cls=DjangoJSONEncoder)
                for row in model.objects.values().iterator(chunk_size=2000)]
        result[model.__name__] = sorted(rows)
    result["audit"] = sorted(
        f"{a} {s} {n}" for a, s, n in AuditEvent.objects.values("action", "subject_type")
        .annotate(n=Count("id")).values_list("action", "subject_type", "n"))
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--loans", type=int, default=5000)
    parser.add_argument("--out")
    parser.add_argument("--compare", nargs=2)
    args = parser.parse_args()
    if args.compare:
        before, after = (json.loads(Path(p).read_text()) for p in args.compare)
        same = True
        for table in sorted(set(before) | set(after)):
            b, a = before.get(table, []), after.get(table, [])
            if b != a:
                same = False
                only_b, only_a = sorted(set(b) - set(a)), sorted(set(a) - set(b))
                print(f"DIFFERENT {table}: {len(b)} vs {len(a)} rows; first only before: "
                      f"{only_b[:1]}; first only after: {only_a[:1]}")
            else:
                print(f"same {table}: {len(b)} rows")
        print("IDENTICAL" if same else "DIFFERENT")
        return 0 if same else 1
    import bench_monitoring_run as bench

    url = os.environ.get("GOLDEN_DATABASE_URL",
                         "postgres://postgres@127.0.0.1:5432/credence_golden_monitoring")
    bench._recreate_database(url)
    os.environ.update({"DJANGO_SETTINGS_MODULE": "config.settings.local", "DATABASE_URL": url,
                       "DJANGO_DEBUG": "false", "CELERY_BROKER_URL": "memory://",
                       "LOG_LEVEL": "WARNING"})
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from apps.demo.seed import seed_demo
    from apps.loans.models import Loan
    from apps.monitoring.inspection_seed import seed_inspection_templates
    from apps.monitoring.seed import seed_monitoring
    from apps.products.seed import seed_products

    seed_demo()
    seed_products(effective_from=dt.date(2020, 1, 1))
    seed_monitoring()
    seed_inspection_templates()
    today = dt.date.today()
    bench._generate(args.loans, 0, seed=1)
    bench._full(today - dt.timedelta(days=31), trace=False)
    # A month later: some arrears repaid, some grown, some loans newly late.
    ids = list(Loan.objects.order_by("pk").values_list("pk", flat=True))
    Loan.objects.filter(pk__in=ids[::7]).update(dpd_principal=0, dpd_interest=0)
    for loan in Loan.objects.filter(pk__in=ids[3::11]):
        loan.dpd_principal += 100
        loan.save(update_fields=["dpd_principal"])
    Loan.objects.filter(pk__in=ids[5::13], dpd_principal=0).update(dpd_interest=35)
    bench._full(today, trace=False)
    result = dump()
    Path(args.out).write_text(json.dumps(result, indent=0, ensure_ascii=False))
    print(", ".join(f"{table} {len(rows)}" for table, rows in result.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
