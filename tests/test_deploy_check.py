"""Production settings pass Django's deployment checklist with nothing left at warning level.

Runs `manage.py check --deploy` in a subprocess: production settings must be imported fresh,
with the environment `.env.example` documents, not on top of the test settings of this process.
"""

import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _production_env(tmp_path: Path, **overrides: str) -> dict:
    env = {
        # Only what a process needs to start; nothing of this shell's Credence settings leaks in.
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(tmp_path),
        "DJANGO_SETTINGS_MODULE": "config.settings.production",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),  # 67 characters, as production needs
        "PARTIES_ID_HASH_KEY": secrets.token_urlsafe(32),
        "DJANGO_ALLOWED_HOSTS": "credence.bank.example",
        "DJANGO_CSRF_TRUSTED_ORIGINS": "https://credence.bank.example",
        # The checks inspect settings only; SQLite keeps the test free of a server.
        "DATABASE_URL": f"sqlite:///{tmp_path / 'deploy-check.sqlite3'}",
        "REDIS_URL": "redis://127.0.0.1:6379/0",
        # Set explicitly, so a developer's .env (read by base.py) cannot weaken what is checked.
        "DJANGO_DEBUG": "false",
        "DJANGO_SECURE_SSL_REDIRECT": "true",
        "DJANGO_SECURE_HSTS_SECONDS": "31536000",
        "DJANGO_SECURE_HSTS_PRELOAD": "true",
    }
    env.update(overrides)
    return env


def _manage(env: dict, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)


def test_check_deploy_passes_at_warning_level(tmp_path):
    result = _manage(_production_env(tmp_path), "check", "--deploy", "--fail-level", "WARNING")

    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "System check identified no issues" in output, output
    assert "WARNING" not in output and "?: (" not in output, output


def test_production_refuses_to_start_without_a_secret_key(tmp_path):
    dotenv = ROOT / ".env"
    if dotenv.is_file() and re.search(r"^\s*DJANGO_SECRET_KEY\s*=", dotenv.read_text(), re.M):
        pytest.skip(".env sets DJANGO_SECRET_KEY, and base.py reads .env")
    env = _production_env(tmp_path)
    del env["DJANGO_SECRET_KEY"]

    result = _manage(env, "check")

    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY" in result.stderr
