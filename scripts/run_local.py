"""`make run`: web UI, a real Celery worker and beat, and the data hub's local stand-in
services, as child processes; Ctrl-C stops them all.

The embedded default (SQLite + kombu's filesystem broker) needs no server; with DATABASE_URL and
CELERY_BROKER_URL set, the same command runs against PostgreSQL and Redis.
"""

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from apps.core.task_routes import Queue  # noqa: E402  (no Django needed: a plain enum)
from apps.datahub.testservers import demo_env  # noqa: E402  (stdlib only)

PYTHON = sys.executable
PORT = os.environ.get("PORT", "8000")
# The demo firms' tax facts the seed writes and the tax bureau's stand-in answers from.
FACTS = ROOT / "var" / "datahub-demo-facts.json"
HOST = os.environ.get("HOST", "127.0.0.1")


def _env() -> dict:
    env = dict(os.environ)
    env.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
    env.setdefault("OMP_NUM_THREADS", "1")  # 2 cores: oversubscribed BLAS threads stall models
    env.setdefault("PYTHONUNBUFFERED", "1")
    # The data hub's sources: the local stand-ins below unless real services are configured.
    for name, url in demo_env().items():
        env.setdefault(name, url)
    env.setdefault("DATAHUB_DEMO_FACTS", str(FACTS))
    return env


def _manage(*args: str) -> None:
    subprocess.run([PYTHON, "manage.py", *args], cwd=ROOT, env=_env(), check=True)


def _start(name: str, argv: list[str]) -> subprocess.Popen:
    # A process group of its own: Ctrl-C goes to us, and we stop each child tree in order.
    return subprocess.Popen(argv, cwd=ROOT, env=_env(), start_new_session=True)


def _wait_healthy(timeout: float = 60.0) -> dict | None:
    deadline = time.monotonic() + timeout
    report = None
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://{HOST}:{PORT}/readyz", timeout=5) as response:
                return json.load(response)
        except urllib.error.HTTPError as exc:  # 503: up, but something is not ready yet
            report = json.load(exc)
        except OSError:
            pass
        time.sleep(1)
    return report


def _stop(processes: dict[str, subprocess.Popen]) -> None:
    # SIGTERM to each main process only: celery's warm shutdown stops its own pool children.
    for proc in processes.values():
        if proc.poll() is None:
            proc.terminate()
    deadline = time.monotonic() + 15
    for name, proc in processes.items():
        try:
            proc.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            print(f"{name} did not stop in time; killing it", flush=True)
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def main() -> int:
    _manage("migrate", "--no-input", "-v", "0")
    _manage("collectstatic", "--no-input", "-v", "0")
    _manage("seed_demo", "--datahub-facts", str(FACTS))
    processes = {
        # The stand-ins for the outside data services (registry, court, tax, utility, credit
        # bureau) on the loopback, so the demo's data pulls reach something that answers.
        "datahub-sources": _start("datahub-sources", [PYTHON, "-m", "apps.datahub.testservers"]),
        "web": _start("web", [PYTHON, "manage.py", "runserver", f"{HOST}:{PORT}", "--noreload"]),
        # One embedded worker for every queue (apps/core/task_routes.py); production runs a
        # worker per queue so bulk work never delays what a person waits for.
        "worker": _start("worker", [PYTHON, "-m", "celery", "-A", "config", "worker",
                                    "--loglevel", "INFO", "--concurrency", "2",
                                    "--queues", ",".join(str(q) for q in Queue),
                                    "--hostname", "worker@%h"]),
        "beat": _start("beat", [PYTHON, "-m", "celery", "-A", "config", "beat",
                                "--loglevel", "INFO"]),
    }
    stopping = False

    def on_signal(signum, frame):
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    try:
        report = _wait_healthy()
        print("\n" + "=" * 72, flush=True)
        print(f"Credence is running at http://{HOST}:{PORT}/", flush=True)
        print(f"Health: {json.dumps(report)}", flush=True)
        _manage("seed_demo", "--print-accounts")
        print("Press Ctrl-C to stop the web server, worker and beat.", flush=True)
        print("=" * 72 + "\n", flush=True)
        while not stopping:
            for name, proc in processes.items():
                if proc.poll() is not None:
                    print(f"{name} exited with code {proc.returncode}; stopping", flush=True)
                    stopping = True
            time.sleep(0.5)
    finally:
        print("Stopping…", flush=True)
        _stop(processes)
        print("Stopped.", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
