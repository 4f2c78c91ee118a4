"""In-process CPU and wall of one fresh score and one replay (the scoring task applied in this
process, no worker, no broker), and where the time goes: the Python share of the worker bench's
score (bench_scoring_worker.py), measured without the broker's noise.

  python bench/profile_score.py [--samples 150]   CPU and wall p50 per fresh score and replay
  python bench/profile_score.py --pieces          the parts of a score, each timed alone
  python bench/profile_score.py --profile fresh   cProfile over the samples (or `replay`)

The code measured is the checkout this file is in, or $CODE_ROOT (compare main's checkout and a
branch with the same script). Runs in a database of its own (PROFILE_DATABASE_URL, default
postgres://postgres@127.0.0.1:5432/credence_profile_score), dropped and recreated (copied from
BENCH_TEMPLATE_DATABASE when set, a name or a URL), seeded with the bench application (an
application in investigation, its investigation accepted); `--reuse` keeps a seeded one.
"""

import argparse
import cProfile
import os
import pstats
import statistics
import sys
import time
import timeit
from pathlib import Path
from urllib.parse import urlparse

ROOT = Path(os.environ.get("CODE_ROOT") or Path(__file__).resolve().parent.parent)
sys.path.insert(0, str(ROOT))
os.chdir(ROOT)


def _recreate_database(url: str) -> None:
    import psycopg

    parsed = urlparse(url)
    name = parsed.path.lstrip("/")
    with psycopg.connect(parsed._replace(path="/postgres").geturl(), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        template = os.environ.get("BENCH_TEMPLATE_DATABASE")
        if template and "/" in template:
            template = urlparse(template).path.lstrip("/")
        conn.execute(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else ""))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=150)
    parser.add_argument("--profile", choices=["fresh", "replay"])
    parser.add_argument("--pieces", action="store_true")
    parser.add_argument("--reuse", action="store_true",
                        help="keep the database if it was seeded by an earlier run")
    args = parser.parse_args()
    url = os.environ.get("PROFILE_DATABASE_URL",
                         "postgres://postgres@127.0.0.1:5432/credence_profile_score")
    if not args.reuse:
        _recreate_database(url)
    os.environ.update({"DJANGO_SETTINGS_MODULE": "config.settings.local", "DATABASE_URL": url,
                       "DJANGO_DEBUG": "false", "LOG_LEVEL": "WARNING", "OMP_NUM_THREADS": "1"})
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from django.utils import translation

    from apps.applications.models import Application
    from apps.scoring.models import ScoreResult
    from apps.scoring.tasks import application_score

    seeded = Application.objects.filter(reference="PROFILE01").first()
    if seeded is None:
        from apps.applications.tests.factories import World

        with translation.override("en"):
            seeded = World().in_state("investigating")
        Application.objects.filter(pk=seeded.pk).update(reference="PROFILE01")
    pk = seeded.pk

    def score(fresh: bool):
        if fresh:
            ScoreResult.objects.filter(application_id=pk).delete()
        t0, c0 = time.perf_counter(), time.process_time()
        result = application_score.apply(kwargs={"application_id": pk}).get()
        return time.perf_counter() - t0, time.process_time() - c0, result

    for _ in range(10):  # warm: connection, prepared statements, caches
        score(True)
        score(False)
    if args.pieces:
        _pieces(pk)
        return 0
    if args.profile:
        profile = cProfile.Profile()
        for _ in range(args.samples):
            if args.profile == "fresh":
                ScoreResult.objects.filter(application_id=pk).delete()
            profile.enable()
            application_score.apply(kwargs={"application_id": pk}).get()
            profile.disable()
        stats = pstats.Stats(profile)
        stats.sort_stats("tottime").print_stats(45)
        stats.sort_stats("cumulative").print_stats(60)
        return 0
    fresh_wall, fresh_cpu, replay_wall, replay_cpu = [], [], [], []
    for _ in range(args.samples):
        wall, cpu, first = score(True)
        fresh_wall.append(wall)
        fresh_cpu.append(cpu)
        wall, cpu, again = score(False)
        replay_wall.append(wall)
        replay_cpu.append(cpu)
        assert first is not None and again == first

    def ms(samples):
        return statistics.median(samples) * 1000

    print(f"{ROOT}: fresh score CPU p50 {ms(fresh_cpu):.2f} ms (wall {ms(fresh_wall):.2f} ms); "
          f"replay CPU p50 {ms(replay_cpu):.2f} ms (wall {ms(replay_wall):.2f} ms); "
          f"{args.samples} samples, load average {os.getloadavg()[0]:.1f}")
    return 0


def _pieces(pk: int) -> None:
    """Each part of a score timed alone over the bench application (best of 30 x 50: the best
    of many short runs holds steadier than a long one on a shared machine)."""
    from apps.core.compiled import run_together
    from apps.scoring.features import assemble
    from apps.scoring.policy import recommend
    from apps.scoring.services import scoring
    from apps.scoring.services.registry import decision_policy_cached, model_of

    def reads():
        return run_together(
            scoring._application_steps(pk), assemble.application_sources_steps(pk),
            scoring.scoring_models_steps(states=scoring._shadow_guess),
            scoring._champion_results_steps(pk), prepared=True)

    (application, investigation), sources, (version, _challengers), _results = reads()
    policy = decision_policy_cached(application.policy_in_force_id)
    changed = (application.policy_values_changed_at,)
    record = assemble.features_of_sources(application, investigation, sources,
                                          policy_changed_at=changed)
    model = model_of(version)

    def predict():
        columns = assemble.records_to_columns([record.values], model.feature_kinds)
        return model.predict(columns, grades=policy.document["grades"], top_k=3)[0]

    scored = predict()
    parts = {
        "reads (one round trip, wall)": reads,
        "features_of_sources": lambda: assemble.features_of_sources(
            application, investigation, sources, policy_changed_at=changed),
        "  derived values": lambda: assemble._derived(investigation, sources[1], changed),
        "input hash": lambda: record.input_hash,
        "columns + predict": predict,
        "recommend": lambda: recommend(
            policy.document, score=scored["score"], values=record.values,
            red_flag_codes=record.red_flag_codes, amount_requested=application.amount_requested,
            annual_revenue=application.enterprise.annual_revenue),
    }
    for name, part in parts.items():
        best = min(timeit.repeat(part, number=50, repeat=30)) / 50
        print(f"{name:32s} {best * 1e6:8.1f} us")
    cpu = min(timeit.repeat(reads, number=50, repeat=30, timer=time.process_time)) / 50
    print(f"{'reads (one round trip, CPU)':32s} {cpu * 1e6:8.1f} us")



if __name__ == "__main__":
    sys.exit(main())
