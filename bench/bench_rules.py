"""Rule evaluation for the largest built-in checklist template, against one answer save.

Prints, per evaluation of the largest template (most items) with a complete honest set of
answers and parsed figures:
  * the rules alone, in memory: derived values + red flags + cross-checks + validation rules;
  * the whole submission-time evaluation: the rules plus every anti-box-ticking control
    (photos through an evidence source, reuse, narrative similarity against earlier reports,
    time on site, time per section), reading the database as `investigation_submit` does;
  * the baseline, measured in the same run: one autosave (`answer_save`: lock, validate,
    version check, write, section timing, audit event), median of many;
and the ratios. Runs on a throw-away SQLite database (BENCH_DATABASE_URL to override).
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


def _setup(url: str) -> None:
    os.environ.update({"DJANGO_SETTINGS_MODULE": "config.settings.local", "DATABASE_URL": url,
                       "DJANGO_DEBUG": "false", "CELERY_BROKER_URL": "memory://",
                       "LOG_LEVEL": "WARNING"})
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def _timed(fn, repeat: int) -> list[float]:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=200, help="in-memory evaluations")
    parser.add_argument("--db-repeat", type=int, default=40, help="database-backed runs")
    parser.add_argument("--earlier", type=int, default=300,
                        help="earlier investigations with a narrative to compare against")
    args = parser.parse_args()
    workdir = tempfile.mkdtemp(prefix="credence-bench-rules-")
    _setup(os.environ.get("BENCH_DATABASE_URL", f"sqlite:///{workdir}/bench.sqlite3"))

    import datetime as dt
    from decimal import Decimal

    from django.db import transaction
    from django.utils import timezone

    from apps.applications.models import Application
    from apps.applications.tests.factories import World
    from apps.investigations import rules, workflow
    from apps.investigations.controls import run_controls
    from apps.investigations.evidence import PhotoEvidence, register_evidence_source
    from apps.investigations.models import Answer, ChecklistTemplate, Investigation
    from apps.investigations.policy import PolicyResolver
    from apps.investigations.seed import seed_builtin_templates
    from apps.investigations.services import template_export
    from apps.investigations.tests.controls.conftest import as_json, start_investigation
    from apps.investigations.tests.test_builtin_template import honest_answers

    world = World()
    seed_builtin_templates()
    largest = max(ChecklistTemplate.objects.all(), key=lambda t: t.items.count())
    document = template_export(largest)
    n_items = sum(len(s["items"]) for s in document["sections"])
    n_rules = n_items and sum(len(i.get("red_flag_rules") or []) + len(
        i.get("validation_rules") or []) + (1 if i["answer_type"] == "derived" else 0)
        for s in document["sections"] for i in s["items"]) + len(document["cross_checks"])
    answers = honest_answers()
    figures = {"bank.inflows_12m": Decimal("6100000"), "tax.revenue_12m": Decimal("5900000"),
               "utility.kwh_12m": Decimal("240000")}
    policy = PolicyResolver()

    def evaluate_rules():
        values = rules.derived_values(document, answers, policy, figures.get)
        rules.red_flags(document, values, policy, figures.get)
        rules.cross_checks(document, values, policy, figures.get)
        rules.validation_failures(document, values, policy, figures.get)

    evaluate_rules()
    in_memory = _timed(evaluate_rules, args.repeat)

    people = {name: world.user(f"{name}.north") for name in ("am", "assistant")}
    # Earlier reports of other clients: the narrative control compares against them.
    for n in range(args.earlier):
        earlier = start_investigation(world, people)
        Answer.objects.create(investigation=earlier, item=earlier.template.items.get(
            code="B10_REPUTATION"), answered_by=people["am"],
            value=f"Report {n}: neighbours {n * 7 % 13} and supplier {n * 11 % 17} describe "
                  f"trade of {n % 5 + 1} years, payments on time, stock turning every "
                  f"{n % 9} weeks.")
    investigation = start_investigation(world, people)
    for code, value in answers.items():
        if value is not None:
            Answer.objects.create(investigation=investigation,
                                  item=investigation.template.items.get(code=code),
                                  value=as_json(value), answered_by=people["am"])
    application = Application.objects.get(pk=investigation.application_id)
    now = timezone.now()

    class Source:
        def photos(self, application_id):
            return [PhotoEvidence(document_id=n, application_id=application_id, uploaded_at=now,
                                  uploaded_by_id=1, taken_at=now - dt.timedelta(minutes=n),
                                  taken_lat=31.2304, taken_lng=121.4737, device_lat=31.2304,
                                  device_lng=121.4737, phash=f"{n:016x}", checked=True)
                    for n in range(1, 8)]

        def photo_reuse(self, application_id, *, max_distance):
            return []

        def edited_photo_reuse(self, application_id, **limits):
            return []

        def figures(self, application_id):
            return figures

    register_evidence_source(Source())

    def evaluate_submission():
        with transaction.atomic():
            fresh = Investigation.objects.select_related("application", "template").get(
                pk=investigation.pk)
            workflow._findings(fresh, now=now)

    def controls_only():
        run_controls(investigation, policy=PolicyResolver(), now=now)

    evaluate_submission()
    submission = _timed(evaluate_submission, args.db_repeat)
    controls = _timed(controls_only, args.db_repeat)

    counter = iter(range(10**9))

    def autosave():
        answer = Answer.objects.get(investigation=investigation, item__code="D3_INSTALMENT")
        workflow.answer_save(investigation_id=investigation.pk, item_code="D3_INSTALMENT",
                             value=str(30000 + next(counter)), actor=people["am"],
                             expected_version=answer.version)

    autosave()
    save = _timed(autosave, args.db_repeat)

    def ms(values):
        return statistics.median(values) * 1000

    def p95(values):
        return sorted(values)[int(len(values) * 0.95) - 1] * 1000

    base = ms(save)
    print(f"template {largest.code} v{largest.version}: {n_items} items, {n_rules} rules, "
          f"{len(document['cross_checks'])} cross-checks; {args.earlier} earlier narratives; "
          f"{application.reference}")
    print(f"baseline answer_save (autosave round trip in the service): median {base:.2f} ms, "
          f"p95 {p95(save):.2f} ms")
    print(f"rules in memory (derived + red flags + cross-checks + validation): median "
          f"{ms(in_memory):.2f} ms, p95 {p95(in_memory):.2f} ms = "
          f"{ms(in_memory) / base:.2f}x one answer save")
    print(f"controls only (photos, reuse, narrative vs {args.earlier}, site, sections): median "
          f"{ms(controls):.2f} ms = {ms(controls) / base:.2f}x one answer save")
    print(f"whole submission evaluation (rules + controls, from the database): median "
          f"{ms(submission):.2f} ms, p95 {p95(submission):.2f} ms = "
          f"{ms(submission) / base:.2f}x one answer save")


if __name__ == "__main__":
    main()
