"""Browser tests: Playwright drives the distribution's Chromium against pytest-django's live_server.

Playwright's own browser download is unavailable here, so never `playwright install`. The live
server serves static files through staticfiles' finders (pytest-django wraps it in
StaticFilesHandler), so CSS and JavaScript load with DEBUG off and no collectstatic.
"""

import os
from pathlib import Path

import pytest
from playwright.sync_api import expect

# Assertions wait on state; this is only their ceiling. Playwright's 5 s default was too short
# for a page's first request on a loaded 2-core machine (CI, or seven developers at once).
expect.set_options(timeout=20_000)

# Playwright's sync API runs an event loop, and Django refuses ORM calls inside one.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} is missing: apt-get install chromium")
    return {**browser_type_launch_args, "executable_path": CHROMIUM, "args": CHROMIUM_FLAGS}


@pytest.fixture
def demo_site(live_server, transactional_db):
    """The live server with the demo people in its database; returns its base URL."""
    from django.utils import translation

    from apps.demo.seed import seed_demo

    # Demo names come from role labels, translated in whatever language an earlier test left on.
    with translation.override("en"):
        seed_demo()
    return live_server.url


@pytest.fixture
def page_errors(page):
    """Console errors and failed requests of the page: a missing stylesheet shows up here."""
    errors = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("response", lambda r: errors.append(f"{r.status} {r.url}") if r.status >= 400 else None)
    return errors
