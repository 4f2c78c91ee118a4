"""Autosave of one investigation answer through the real API, against a bare authenticated request.

Prints the p50 and p95 of:
  * a changing save: PUT /api/v1/investigations/{id}/answers/{item}/ with a new value and the
    expected version (lock, validation, version check, write, audit event, derived values
    recomputed for the response);
  * the same for an item no derived value reads (nothing to recompute);
  * a retried save: the same PUT again (what a phone resends after a dropped connection: the
    service sees the answer is already stored and writes nothing);
  * the baseline: a bare DRF view behind the same session authentication and middleware,
    measured in the same run, and each result as a ratio to it.

Runs on PostgreSQL in a database of its own (BENCH_DATABASE_URL, default
postgres://postgres@127.0.0.1:5432/credence_bench_autosave), dropped and recreated.
"""

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def _parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=300, help="timed requests per kind")
    parser.add_argument("--item", default="D2_ANNUAL_COGS",
                        help="a money item that derived values read (recomputed on save)")
    parser.add_argument("--plain-item", default="B3_INQUIRIES",
                        help="a number item no derived value reads")
    return parser.parse_args()


def _recreate_database(url: str) -> None:
    import psycopg

    parsed = urlparse(url)
    name = parsed.path.lstrip("/")
    admin = parsed._replace(path="/postgres").geturl()
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def _setup_django(url: str) -> None:
    os.environ.update({
        "DJANGO_SETTINGS_MODULE": "config.settings.local",
        "DATABASE_URL": url,
        "DJANGO_DEBUG": "false",
        "DJANGO_ALLOWED_HOSTS": "testserver,localhost",
        "CELERY_BROKER_URL": "memory://",
        "LOG_LEVEL": "WARNING",
    })
    import django

    django.setup()


def _add_bare_api() -> str:
    """An authenticated DRF endpoint with no work of its own: the latency baseline."""
    from django.urls import clear_url_caches, path
    from rest_framework.response import Response
    from rest_framework.views import APIView

    from config import urls

    class BareApi(APIView):
        def put(self, request):
            return Response({"ok": True})

    urls.urlpatterns.append(path("bench-bare-api/", BareApi.as_view()))
    clear_url_caches()
    return "/bench-bare-api/"


def _started_investigation():
    """A north application in investigation, on the built-in template, started."""
    import datetime as dt

    from django.utils import translation

    from apps.accounts.models import User
    from apps.applications import services
    from apps.applications.states import ApplicationState
    from apps.applications.tests.factories import World
    from apps.demo.lifecycle import walk_to_state
    from apps.investigations import workflow
    from apps.investigations.seed import seed_builtin_templates
    from apps.products.seed import seed_products

    with translation.override("en"):
        world = World()
    seed_products(effective_from=dt.date(2026, 1, 1))
    seed_builtin_templates()
    application = walk_to_state(world.draft(), ApplicationState.SUBMITTED, branch_code="north")
    services.application_start_investigation(application_id=application.pk,
                                             actor=User.objects.get(username="am.north"))
    investigation = workflow.investigation_assign(
        application_id=application.pk, lead_officer=User.objects.get(username="am.north"),
        assisting_officer=User.objects.get(username="assistant.north"),
        actor=User.objects.get(username="lead.north"))
    return workflow.investigation_start(investigation_id=investigation.pk,
                                        actor=User.objects.get(username="am.north"))


def _timed(call, n: int) -> list[float]:
    for _ in range(5):  # warm-up
        call()
    timings = []
    for _ in range(n):
        t0 = time.perf_counter()
        call()
        timings.append((time.perf_counter() - t0) * 1000)
    timings.sort()
    return timings


def _p(timings: list[float], q: float) -> float:
    return timings[min(len(timings) - 1, int(len(timings) * q))]


def main() -> int:
    args = _parse_args()
    url = os.environ.get("BENCH_DATABASE_URL",
                         "postgres://postgres@127.0.0.1:5432/credence_bench_autosave")
    _recreate_database(url)
    _setup_django(url)

    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from django.test import Client

    from apps.accounts.models import User

    investigation = _started_investigation()
    from apps.investigations.selectors import derived_inputs

    inputs = derived_inputs(investigation.template)
    # The labels below must stay true when the template changes.
    assert args.item in inputs and args.plain_item not in inputs, sorted(inputs)
    bare_url = _add_bare_api()
    client = Client()
    client.force_login(User.objects.get(username="am.north"))
    save_url = f"/api/v1/investigations/{investigation.pk}/answers/{args.item}/"
    state = {"version": None, "n": 0}

    def put(path, body):
        response = client.put(path, json.dumps(body), content_type="application/json")
        assert response.status_code == 200, (path, response.status_code, response.content)
        return response

    def changing_save():
        state["n"] += 1
        response = put(save_url, {"value": str(1_000_000 + state["n"]),
                                  "expected_version": state["version"]})
        state["version"] = response.json()["answer"]["version"]

    def retried_save():
        put(save_url, {"value": str(1_000_000 + state["n"]),
                       "expected_version": state["version"]})

    plain = {"version": None, "n": 0}
    plain_url = f"/api/v1/investigations/{investigation.pk}/answers/{args.plain_item}/"

    def plain_save():
        plain["n"] += 1
        response = put(plain_url, {"value": str(plain["n"]),
                                   "expected_version": plain["version"]})
        plain["version"] = response.json()["answer"]["version"]

    def bare():
        put(bare_url, {"value": "1"})

    load = os.getloadavg()[0]
    print(f"{args.requests} timed requests per kind, item {args.item}, "
          f"load average {load:.2f}")
    results = {"bare authenticated PUT": _timed(bare, args.requests),
               "autosave (changing value)": _timed(changing_save, args.requests),
               "autosave (retried, no-op)": _timed(retried_save, args.requests),
               "autosave (item no derived value reads)": _timed(plain_save, args.requests)}
    base_p50, base_p95 = _p(results["bare authenticated PUT"], 0.5), \
        _p(results["bare authenticated PUT"], 0.95)
    for name, timings in results.items():
        p50, p95 = _p(timings, 0.5), _p(timings, 0.95)
        print(f"{name}: p50 {p50:.1f} ms, p95 {p95:.1f} ms; "
              f"{p95 / base_p95:.1f}x the bare p95 ({base_p95:.1f} ms), "
              f"{p50 / base_p50:.1f}x the bare p50 ({base_p50:.1f} ms); "
              f"mean {statistics.fmean(timings):.1f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
