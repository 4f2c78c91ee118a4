"""Rules of the code base that no single feature test would notice breaking."""

import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command

from apps.core.task_names import TaskName
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
