"""A running Credence for fault drills: private Redis, a drill database, gunicorn, a Celery
worker group and the outbox relay, each a subprocess the drill can kill and restart.

Never touches the shared services' processes: Redis runs as our own `redis-server` on a port of
its own (appendonly, as production must), and the database is a drill database on the machine's
PostgreSQL (or a private cluster, `--pg-port`), dropped and recreated. Set-up and verification
run in this process through the ORM against the same database.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
PY = sys.executable


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port: int, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise RuntimeError(f"nothing listens on {port} after {timeout} s")


def recreate_database(url: str) -> None:
    import psycopg

    parsed = urlparse(url)
    name = parsed.path.lstrip("/")
    with psycopg.connect(parsed._replace(path="/postgres").geturl(), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


class System:
    """Start with `start()`, stop everything with `stop()`; components restart by name."""

    def __init__(self, name: str, *, db_url: str | None = None, concurrency: int = 2):
        self.name = name
        self.tmp = Path(tempfile.mkdtemp(prefix=f"credence-drill-{name}-"))
        self.redis_port, self.web_port = free_port(), free_port()
        self.db_url = db_url or f"postgres://postgres@127.0.0.1:5432/credence_drill_{name}"
        self.concurrency = concurrency
        self.procs: dict[str, subprocess.Popen] = {}
        self.env = dict(
            os.environ, DJANGO_SETTINGS_MODULE="config.settings.local", DJANGO_DEBUG="false",
            DATABASE_URL=self.db_url, REDIS_URL=f"redis://127.0.0.1:{self.redis_port}/0",
            CELERY_BROKER_URL=f"redis://127.0.0.1:{self.redis_port}/0",
            MEDIA_ROOT=str(self.tmp / "media"), OMP_NUM_THREADS="1", LOG_LEVEL="WARNING",
            PYTHONPATH=str(ROOT), PYTHONUNBUFFERED="1",
            PYTHONWARNINGS="ignore:You're running the worker with superuser privileges")
        self.base_url = f"http://127.0.0.1:{self.web_port}"

    # --- processes ---------------------------------------------------------------------------
    def _spawn(self, key: str, argv: list[str]) -> subprocess.Popen:
        log = open(self.tmp / f"{key}.log", "ab")  # noqa: SIM115 - lives with the process
        proc = subprocess.Popen(argv, cwd=ROOT, env=self.env, stdout=log, stderr=log,
                                start_new_session=True)
        self.procs[key] = proc
        return proc

    def start_redis(self) -> None:
        (self.tmp / "redis").mkdir(exist_ok=True)
        self._spawn("redis", ["redis-server", "--port", str(self.redis_port), "--bind",
                              "127.0.0.1", "--appendonly", "yes", "--save", "",
                              "--dir", str(self.tmp / "redis")])
        wait_port(self.redis_port)

    def start_web(self) -> None:
        self._spawn("web", [PY, "-m", "gunicorn", "config.wsgi:application", "--bind",
                            f"127.0.0.1:{self.web_port}", "--workers", "2", "--timeout", "60"])
        wait_port(self.web_port, 60)

    def start_worker(self) -> None:
        self._spawn("worker", [PY, "-m", "celery", "-A", "config", "worker", "--pool", "prefork",
                               "--concurrency", str(self.concurrency), "--loglevel", "WARNING",
                               "--hostname", f"drill-{self.name}-{time.time_ns()}@localhost",
                               "--without-gossip", "--without-mingle"])

    def start_beat(self) -> None:
        """The one schedule (CELERY_BEAT_SCHEDULE): relay every minute, sweeps every 2."""
        self._spawn("beat", [PY, "-m", "celery", "-A", "config", "beat", "--loglevel",
                             "WARNING", "--scheduler",
                             "django_celery_beat.schedulers:DatabaseScheduler",
                             "--schedule", str(self.tmp / "beat-schedule")])

    def start_relay(self) -> None:
        self._spawn("relay", [PY, "manage.py", "outbox_relay", "--loop", "--interval", "2"])

    def kill(self, key: str, sig=signal.SIGKILL) -> None:
        proc = self.procs.get(key)
        if proc is not None and proc.poll() is None:
            os.killpg(proc.pid, sig)
            proc.wait(timeout=30)

    def setup_django(self) -> None:
        os.environ.update(self.env)
        import django

        django.setup()

    def start(self) -> None:
        recreate_database(self.db_url)
        self.start_redis()
        self.setup_django()
        from django.core.management import call_command

        call_command("migrate", verbosity=0)
        self.start_web()
        self.start_worker()
        self.start_relay()
        self.start_beat()

    def stop(self) -> None:
        for key in list(self.procs):
            try:
                self.kill(key, signal.SIGTERM)
            except Exception:  # noqa: BLE001 - already gone
                self.kill(key)
        from django.db import connections

        connections.close_all()
        shutil.rmtree(self.tmp, ignore_errors=True)

    # --- helpers for drills --------------------------------------------------------------------
    def token(self, username: str) -> str:
        from rest_framework.authtoken.models import Token

        from apps.accounts.models import User

        return Token.objects.get_or_create(user=User.objects.get(username=username))[0].key


def wait_until(predicate, *, timeout: float, every: float = 1.0) -> float | None:
    """Seconds until predicate() held, or None past the timeout."""
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        if predicate():
            return time.monotonic() - start
        time.sleep(every)
    return None


def is_json(response) -> bool:
    try:
        response.json()
        return True
    except ValueError:
        return False


def document_figures() -> dict[str, int]:
    """What "nothing lost, nothing stuck" is measured by, for documents."""
    from apps.core.models import OutboxMessage, OutboxState
    from apps.documents.models import Document
    from apps.documents.orphans import stored_document_names
    from apps.documents.states import DocumentState as S

    rows = list(Document.objects.values_list("storage_name", "sha256", "state"))
    names = {r[0] for r in rows}
    on_disk = stored_document_names()  # through the storage API: the disk or a bucket
    return {
        "documents": len(rows),
        "distinct_contents": len({r[1] for r in rows}),
        "rows_without_file": len(names - on_disk),
        "files_without_row": len(on_disk - names),
        "undecided": sum(r[2] in (S.UPLOADED, S.CHECKING) for r in rows),
        "outbox_unsent": OutboxMessage.objects.exclude(state=OutboxState.SENT).count(),
        "outbox_failed": OutboxMessage.objects.filter(state=OutboxState.FAILED).count(),
    }


def run_sweeps() -> None:
    """What beat would fire within minutes: the owners of every in-between state."""
    from apps.core.outbox import outbox_relay
    from apps.documents.checking import document_check_sweep
    from apps.scoring.services import score_sweep

    document_check_sweep()
    score_sweep()
    outbox_relay()
