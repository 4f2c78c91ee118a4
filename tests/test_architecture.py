"""Rules of the code base that no single feature test would notice breaking."""

import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command

from apps.core.task_names import TaskName
from apps.core.task_routes import QUEUE_OF, Queue
from config.celery import app as celery_app

ROOT = Path(__file__).resolve().parent.parent


def test_imports_flow_one_way():
    """import-linter: no app imports one to its right (CONVENTIONS §1)."""
    lint_imports = Path(sys.executable).with_name("lint-imports")
    result = subprocess.run([str(lint_imports)], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.django_db
def test_migrations_match_models():
    out = StringIO()
    call_command("makemigrations", "--check", "--dry-run", stdout=out, stderr=out)


def test_every_task_name_is_registered():
    celery_app.loader.import_default_modules()
    missing = {name.value for name in TaskName} - set(celery_app.tasks)
    assert not missing, f"TaskName without a task: {sorted(missing)}"


def test_beat_schedule_names_registered_tasks():
    celery_app.loader.import_default_modules()
    for entry in celery_app.conf.beat_schedule.values():
        assert entry["task"] in celery_app.tasks


def test_every_registered_task_has_an_explicit_queue():
    """Unrouted tasks would fall to the default (bulk) silently: each queue is a decision."""
    celery_app.loader.import_default_modules()
    ours = {str(name) for name in celery_app.tasks if not str(name).startswith("celery.")}
    routes = celery_app.conf.task_routes
    unrouted = sorted(ours - set(routes))
    assert not unrouted, f"tasks without a route in apps/core/task_routes.py: {unrouted}"
    defined = {queue.name for queue in celery_app.conf.task_queues}
    assert defined == {str(q) for q in Queue}
    assert {route["queue"] for route in routes.values()} <= defined
    assert celery_app.conf.task_default_queue == str(Queue.BULK)


def test_beat_fires_only_periodic_tasks_and_they_route_to_the_periodic_queue():
    routes = celery_app.conf.task_routes
    fired = {entry["task"] for entry in celery_app.conf.beat_schedule.values()}
    assert {routes[name]["queue"] for name in fired} == {str(Queue.PERIODIC)}
    # ...and nothing on the periodic queue is sent by anyone but beat.
    periodic = {name for name, route in routes.items() if route["queue"] == Queue.PERIODIC}
    assert periodic == fired


def test_the_router_sends_each_task_name_to_its_queue():
    """What the outbox relay's send_task(name) gets: the router, not the map, decides."""
    for name, queue in QUEUE_OF.items():
        assert celery_app.amqp.router.route({}, str(name))["queue"].name == str(queue)
    assert celery_app.amqp.router.route({}, "some.unrouted_task")["queue"].name == "bulk"
