"""Scoring one application through a real Celery worker, as a ratio to the no-op task round trip.

Both measured in this run on the same worker (`celery -A config worker --pool solo`, Redis broker
and result backend) against PostgreSQL:
  * baseline: `core.ping` with no probe, sent and its result fetched (the broker round trip);
  * fresh score: `scoring.application_score` for an application whose investigation is accepted,
    with its previous result deleted first, so each sample assembles the features (checklist,
    derived values, findings, exposure), scores with the champion, applies the decision policy
    and writes the result, its snapshot and its audit event;
  * replay: the same task again with nothing changed (the idempotent path: features assembled,
    the existing result found, nothing written);
  * intake-to-decision throughput (issue #23 (3)): the score tasks of `--files` accepted files
    sent at once, as the outbox relay sends them after the investigations are accepted, until
    every score is stored, in files/s; baseline: as many no-op pings sent at once until every
    answer is back (tasks/s); `--rounds` (5) such pairs, each round with files of its own, and
    the median of the rounds' ratios (one burst lasts a tenth of a second). The files are
    copies of the bench application (its row, its investigation and answers) with their own
    references, four to an enterprise of their own, so each is a fresh score. Measured
    twice: on the solo worker above, and on a worker as the interactive queue is deployed
    (`--pool prefork`, `--concurrency` processes, default 2 = CELERY_INTERACTIVE_CONCURRENCY's
    default in docker-compose.yml; prefetch 1, acks_late), pings and scores on that same
    worker, with files of their own;
  * with `--rescore-rows N` (issue #23 (2)): N more files with feature snapshots, a second
    worker on a bulk queue of its own running the portfolio re-score (`scoring.rescoring_run`,
    chunks of the service's default size, printed), and, while it runs, fresh scores on the
    interactive worker as above: their p95 as a ratio to the idle p95 of this run (target
    <= 2x). The fresh score is the task the investigation's acceptance queues, from send to
    stored result.

Runs in a database of its own (BENCH_DATABASE_URL, default
postgres://postgres@127.0.0.1:5432/credence_bench_scoring), dropped and recreated, and on Redis
database 4 (BENCH_REDIS_DB) with a queue named for this run; keys it created are deleted.
"""

import argparse
import os
import signal
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
TOKEN = f"bench-{uuid.uuid4().hex[:10]}"
QUEUE = f"{TOKEN}.scoring"


def _recreate_database(url: str) -> None:
    import psycopg

    parsed = urlparse(url)
    name = parsed.path.lstrip("/")
    with psycopg.connect(parsed._replace(path="/postgres").geturl(), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        # BENCH_TEMPLATE_DATABASE: a database already migrated to this code's migrations,
        # copied instead of migrating from nothing (minutes on a loaded machine).
        template = os.environ.get("BENCH_TEMPLATE_DATABASE")
        conn.execute(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else ""))


def _percentiles(samples: list[float]) -> tuple[float, float]:
    cuts = statistics.quantiles(samples, n=100)
    return cuts[49] * 1000, cuts[94] * 1000


def _stop_worker(worker: subprocess.Popen) -> None:
    """Stop a worker this bench started: politely, then its whole process group."""
    if worker.poll() is None:
        worker.terminate()
    try:
        worker.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(worker.pid, signal.SIGKILL)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=100)
    parser.add_argument("--files", type=int, default=50,
                        help="accepted files scored at once for the throughput figure")
    parser.add_argument("--rounds", type=int, default=5,
                        help="intake: rounds of (ping burst, score burst), each round's "
                             "files its own; the figure is the median of the rounds' ratios")
    parser.add_argument("--concurrency", type=int, default=2,
                        help="processes of the deployed-like interactive worker for the second "
                             "intake figure (0: skip it)")
    parser.add_argument("--same-enterprise", action="store_true",
                        help="(the old set-up, kept to reproduce it) give the re-scored files "
                             "the bench application's enterprise instead of their own")
    parser.add_argument("--rescore-rows", type=int, default=0,
                        help="run a portfolio re-score of this many files on a bulk worker "
                             "and measure fresh scores meanwhile (0: skip)")
    args = parser.parse_args()
    db_url = os.environ.get("BENCH_DATABASE_URL",
                            "postgres://postgres@127.0.0.1:5432/credence_bench_scoring")
    redis_base = os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379"
    redis_url = urlparse(redis_base)._replace(
        path=f"/{os.environ.get('BENCH_REDIS_DB', '4')}").geturl()
    _recreate_database(db_url)
    os.environ.update({
        "DJANGO_SETTINGS_MODULE": "config.settings.local", "DATABASE_URL": db_url,
        "DJANGO_DEBUG": "false", "CELERY_BROKER_URL": redis_url,
        "CELERY_RESULT_BACKEND": redis_url, "OMP_NUM_THREADS": "1", "LOG_LEVEL": "WARNING",
        "PYTHONWARNINGS": "ignore:You're running the worker with superuser privileges",
    })
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from django.utils import translation

    from apps.applications.tests.factories import World
    from apps.core.task_names import TaskName
    from apps.scoring.models import ScoreResult
    from config.celery import app

    with translation.override("en"):
        application = World().in_state("investigating")
        rounds = max(1, args.rounds)
        copies = _copies(application, args.files * rounds)
        # the pool's copies start at the next enterprise of four (--files 30 x 5 rounds: the
        # 150th copy's enterprise was made twice, a duplicate USCC)
        pooled = (_copies(application, args.files * rounds,
                          first=-(-args.files * rounds // 4) * 4)
                  if args.concurrency else [])
    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "config", "worker", "--pool", "solo",
         "--queues", QUEUE, "--hostname", f"{TOKEN}@localhost", "--loglevel", "WARNING",
         "--without-gossip", "--without-mingle"],
        cwd=ROOT, env=dict(os.environ), stdout=subprocess.DEVNULL, start_new_session=True)

    def call(name: str, **kwargs):
        return app.send_task(str(name), kwargs=kwargs, queue=QUEUE).get(timeout=30)

    during = pool_rates = None
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                call(TaskName.CORE_PING)
                break
            except Exception:
                if worker.poll() is not None or time.monotonic() > deadline:
                    print("worker did not start", file=sys.stderr)
                    return 1
        for _ in range(5):  # warm: connections, model cache, first score
            call(TaskName.CORE_PING)
            call(TaskName.APPLICATION_SCORE, application_id=application.pk)
        ping, fresh, replay = [], [], []
        for _ in range(args.samples):
            t0 = time.perf_counter()
            call(TaskName.CORE_PING)
            ping.append(time.perf_counter() - t0)
            ScoreResult.objects.filter(application_id=application.pk).delete()
            t0 = time.perf_counter()
            result_id = call(TaskName.APPLICATION_SCORE, application_id=application.pk)
            fresh.append(time.perf_counter() - t0)
            assert result_id is not None
            t0 = time.perf_counter()
            assert call(TaskName.APPLICATION_SCORE, application_id=application.pk) == result_id
            replay.append(time.perf_counter() - t0)
        rates = _burst_rates(app, QUEUE, copies, rounds)
        stored = ScoreResult.objects.filter(application_id__in=copies).count()
        assert stored == len(copies), f"{stored} of {len(copies)} scores stored"
        pool_rates = (_intake_on_pool(args.concurrency, application, pooled, rounds)
                      if args.concurrency else None)
        during = _during_rescore(args.rescore_rows, application, call,
                                 same_enterprise=args.same_enterprise,
                                 after_samples=args.samples) if args.rescore_rows else None
    finally:
        _stop_worker(worker)
        import redis

        broker = redis.Redis.from_url(redis_url)
        for pattern in (f"*{TOKEN}*", "celery-task-meta-*"):
            for key in broker.scan_iter(match=pattern):
                broker.delete(key)
    (p50, p95), (f50, f95), (r50, r95) = (_percentiles(ping), _percentiles(fresh),
                                          _percentiles(replay))
    print(f"  ({args.samples} samples each, solo worker, PostgreSQL, Redis db "
          f"{urlparse(redis_url).path.lstrip('/')}, load average {os.getloadavg()[0]:.1f} "
          f"on {os.cpu_count()} CPUs)")
    print(f"no-op round trip: p50 {p50:.1f} ms, p95 {p95:.1f} ms")
    print(f"score one application (fresh): p50 {f50:.1f} ms, p95 {f95:.1f} ms = "
          f"{f50 / p50:.1f}x the no-op round trip (p50)")
    print(f"score replay (idempotent, nothing written): p50 {r50:.1f} ms, p95 {r95:.1f} ms = "
          f"{r50 / p50:.1f}x the no-op round trip (p50)")
    print(f"intake to decision ({rates['size']} accepted files' scores sent at once, until all "
          f"stored; median of {rates['rounds']} rounds, each after as many pings): "
          f"{rates['score']:.1f} files/s = {rates['ratio']:.2f}x the no-op round trip "
          f"throughput ({rates['ping']:.0f} tasks/s; rounds {rates['low']:.2f}-"
          f"{rates['high']:.2f}x; target >= 0.25x)")
    if pool_rates is not None:
        print(f"intake to decision on the interactive worker as deployed (prefork, concurrency "
              f"{args.concurrency}, prefetch 1; {pool_rates['size']} other files a round, "
              f"median of {pool_rates['rounds']}): {pool_rates['score']:.1f} files/s = "
              f"{pool_rates['ratio']:.2f}x the no-op round trip throughput on the same worker "
              f"({pool_rates['ping']:.0f} tasks/s; rounds {pool_rates['low']:.2f}-"
              f"{pool_rates['high']:.2f}x; target >= 0.25x)")
    if during is not None:
        d_fresh, d_ping, seconds, after = during
        (dp50, dp95), (dg50, dg95) = _percentiles(d_fresh), _percentiles(d_ping)
        a50, a95 = _percentiles(after)
        from apps.scoring.services.rescoring import DEFAULT_CHUNK

        print(f"  (re-score of {args.rescore_rows:,} files on a bulk worker in chunks of "
              f"{DEFAULT_CHUNK:,}: {seconds:.1f} s; "
              f"{len(d_fresh)} fresh scores meanwhile; no-op round trip meanwhile p50 "
              f"{dg50:.1f} ms, p95 {dg95:.1f} ms)")
        print(f"score one application during the re-score: p50 {dp50:.1f} ms, p95 {dp95:.1f} ms "
              f"= {dp95 / f95:.2f}x its idle p95 in this run ({f95:.1f} ms; target <= 2x)")
        where = ("re-scored files on its enterprise" if args.same_enterprise
                 else "re-scored files on enterprises of their own")
        print(f"score one application after the re-score (same rows, no re-score running): "
              f"p50 {a50:.1f} ms, p95 {a95:.1f} ms; during / after p95 = {dp95 / a95:.2f}x "
              f"({where}; "
              f"load average {os.getloadavg()[0]:.1f})")
    return 0


def _during_rescore(rows: int, application, call, *, same_enterprise: bool,
                    after_samples: int):
    """Seed `rows` files with snapshots, start the re-score on a bulk worker of its own, and
    score the bench application again and again until the job ends; then score it
    `after_samples` times more with the same rows and nothing running (the control: what the
    score costs on this data without a re-score beside it).

    The files get enterprises of their own (four files each), as a portfolio has: copies on
    the bench application's enterprise (`same_enterprise`, the set-up before) make its group
    exposure sum `rows` more files, so the score slows for the data, not for the re-score."""
    from apps.accounts.models import User
    from apps.applications.models import Application
    from apps.core.task_names import TaskName
    from apps.parties.models import Enterprise
    from apps.parties.validators import uscc_check_char
    from apps.scoring import services
    from apps.scoring.features.spec import KINDS
    from apps.scoring.models import FeatureSnapshot, RescoringJob, ScoreResult
    from apps.scoring.synthetic import generate_rows

    template = Application.objects.get(pk=application.pk)
    fields = {f.attname: getattr(template, f.attname) for f in Application._meta.concrete_fields
              if f.attname not in ("id", "reference")}
    owners = [template.enterprise_id]
    if not same_enterprise:
        model = Enterprise.objects.get(pk=template.enterprise_id)
        copied = {f.attname: getattr(model, f.attname) for f in Enterprise._meta.concrete_fields
                  if f.attname not in ("id", "uscc", "name")}
        made = []
        for n in range(rows // 4 + 1):
            first17 = f"91330107{n:09d}"
            made.append(Enterprise(**copied, name=f"重评企业{n}有限公司",
                                   uscc=first17 + uscc_check_char(first17)))
        owners = [e.pk for e in Enterprise.objects.bulk_create(made, batch_size=5000)]
    fields.pop("enterprise_id")
    fresh = Application.objects.bulk_create(
        [Application(**fields, enterprise_id=owners[i // 4 % len(owners)],
                     reference=f"BSR{i:07d}") for i in range(rows)], batch_size=5000)
    snapshots = []
    for i, (made, row) in enumerate(zip(fresh, generate_rows(rows, seed=9), strict=True)):
        values = {k: (None if row[k] == "" else float(row[k]) if KINDS[k] == "numeric"
                      else row[k]) for k in KINDS}
        snapshots.append(FeatureSnapshot(application_id=made.pk, input_hash=f"{i:064x}",
                                         spec_version="bench", values=values))
    FeatureSnapshot.objects.bulk_create(snapshots, batch_size=5000)
    actor = User.objects.filter(groups__name="risk_reviewer").first() or \
        User.objects.filter(is_superuser=True).first()
    job = services.rescoring_start(actor=actor)  # the shipped chunk size
    bulk_queue = f"{TOKEN}.bulk"
    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "config", "worker", "--pool", "solo",
         "--queues", bulk_queue, "--hostname", f"{TOKEN}-bulk@localhost", "--loglevel",
         "WARNING", "--without-gossip", "--without-mingle"],
        cwd=ROOT, env=dict(os.environ), stdout=subprocess.DEVNULL, start_new_session=True)
    from config.celery import app

    try:
        t0 = time.perf_counter()
        done = app.send_task(str(TaskName.SCORING_RESCORE), kwargs={"job_id": job.pk},
                             queue=bulk_queue)
        while RescoringJob.objects.filter(pk=job.pk, started_at__isnull=True).exists() \
                and time.perf_counter() - t0 < 120:
            time.sleep(0.05)
        scores, pings = [], []
        while not done.ready():
            t = time.perf_counter()
            call(TaskName.CORE_PING)
            pings.append(time.perf_counter() - t)
            ScoreResult.objects.filter(application_id=application.pk).delete()
            t = time.perf_counter()
            call(TaskName.APPLICATION_SCORE, application_id=application.pk)
            scores.append(time.perf_counter() - t)
        done.get(timeout=60)
        seconds = time.perf_counter() - t0
        after = []
        for _ in range(max(after_samples, 2)):
            ScoreResult.objects.filter(application_id=application.pk).delete()
            t = time.perf_counter()
            call(TaskName.APPLICATION_SCORE, application_id=application.pk)
            after.append(time.perf_counter() - t)
    finally:
        _stop_worker(worker)
    if len(scores) < 20:
        print(f"  (only {len(scores)} fresh scores while the re-score ran: percentiles of so "
              f"few are rough; raise --rescore-rows)")
    if len(scores) < 2:
        scores, pings = scores * 2, pings * 2  # quantiles need two points
    return scores, pings, seconds, after


def _burst_rates(app, queue: str, copies: list[int], rounds: int) -> dict:
    """`rounds` rounds, each of as many pings, then as many of the copies' scores (a share of
    the copies of its own), sent at once to `queue` until every answer is back: tasks/s and
    files/s per round. A burst of a few dozen tasks lasts a tenth of a second, so one pair
    moves with whatever else the machine did in it (the ping rate alone swung 229-492/s between
    runs); alternating the two and taking the median of the rounds' ratios holds steadier."""
    from apps.core.task_names import TaskName

    size = len(copies) // rounds
    pings, scores = [], []
    for r in range(rounds):
        files = copies[r * size:(r + 1) * size]
        for into, sends in (
                (pings, [(TaskName.CORE_PING, {}) for _ in files]),
                (scores, [(TaskName.APPLICATION_SCORE, {"application_id": pk})
                          for pk in files])):
            t0 = time.perf_counter()
            results = [app.send_task(str(name), kwargs=kw, queue=queue) for name, kw in sends]
            for result in results:
                result.get(timeout=300)
            into.append(len(sends) / (time.perf_counter() - t0))
    ratios = sorted(score / ping for score, ping in zip(scores, pings, strict=True))
    return {"ping": statistics.median(pings), "score": statistics.median(scores),
            "ratio": statistics.median(ratios), "low": ratios[0], "high": ratios[-1],
            "rounds": rounds, "size": size}


def _intake_on_pool(concurrency: int, application, copies: list[int],
                    rounds: int) -> dict[str, float]:
    """The intake figure on a worker started as the interactive queue is deployed (prefork,
    `concurrency` processes; the settings' prefetch multiplier 1 and the tasks' acks_late),
    baseline and scores on that worker; every process warmed first."""
    from apps.core.task_names import TaskName
    from apps.scoring.models import ScoreResult
    from config.celery import app

    queue = f"{TOKEN}.pool"
    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "config", "worker", "--pool", "prefork",
         "--concurrency", str(concurrency), "--queues", queue, "--hostname",
         f"{TOKEN}-pool@localhost", "--loglevel", "WARNING", "--without-gossip",
         "--without-mingle"],
        cwd=ROOT, env=dict(os.environ), stdout=subprocess.DEVNULL, start_new_session=True)
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                app.send_task(str(TaskName.CORE_PING), queue=queue).get(timeout=30)
                break
            except Exception:
                if worker.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("the prefork worker did not start") from None
        for _ in range(3):  # warm every process: connection, model cache, first score
            for result in [app.send_task(str(TaskName.APPLICATION_SCORE), queue=queue,
                                         kwargs={"application_id": application.pk})
                           for _ in range(2 * concurrency)]:
                result.get(timeout=120)
        rates = _burst_rates(app, queue, copies, rounds)
        stored = ScoreResult.objects.filter(application_id__in=copies).count()
        assert stored == len(copies), f"{stored} of {len(copies)} scores stored"
        return rates
    finally:
        _stop_worker(worker)


def _copies(application, count: int, first: int = 0) -> list[int]:
    """`count` copies of an application in investigation with its investigation and answers
    (own reference), four to an enterprise of their own (a copy of the bench enterprise with
    its own USCC and name), as a branch's intake is many enterprises' files: copies on the
    bench application's own enterprise would put hundreds of files in its group's exposure,
    which every score of that group sums. Made without the services' cost."""
    from apps.applications.models import Application
    from apps.investigations.models import Answer, Investigation
    from apps.parties.models import Enterprise
    from apps.parties.validators import uscc_check_char

    model = Enterprise.objects.get(pk=application.enterprise_id)
    copied = {f.attname: getattr(model, f.attname) for f in Enterprise._meta.concrete_fields
              if f.attname not in ("id", "uscc", "name")}
    made = []
    for n in range(first // 4, (first + count + 3) // 4):
        first17 = f"91330108{n:09d}"
        made.append(Enterprise(**copied, name=f"进件企业{n}有限公司",
                               uscc=first17 + uscc_check_char(first17)))
    owners = {n: e.pk for n, e in zip(range(first // 4, (first + count + 3) // 4),
                                      Enterprise.objects.bulk_create(made), strict=True)}
    investigation = Investigation.objects.get(application=application)
    answers = list(Answer.objects.filter(investigation=investigation))
    ids = []
    for n in range(first, first + count):
        copy = Application.objects.get(pk=application.pk)
        copy.pk, copy.reference, copy.enterprise_id = None, f"BSW{n:06d}", owners[n // 4]
        copy.save()
        twin = Investigation.objects.get(pk=investigation.pk)
        twin.pk, twin.application = None, copy
        twin.save()
        for answer in answers:
            answer.pk, answer.investigation = None, twin
        Answer.objects.bulk_create(answers)
        ids.append(copy.pk)
    return ids


if __name__ == "__main__":
    sys.exit(main())
