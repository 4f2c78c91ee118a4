"""The stand-ins as `make run` starts them (scripts/run_local.py runs
`python -m apps.datahub.testservers` as a child process): one per connector, each answering its
connector's documented query, and stopping on SIGTERM."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from apps.datahub.connectors import CONNECTORS, connector_for
from apps.datahub.connectors.base import HttpTransport, Subject, TransportLimits
from apps.datahub.testservers import DEMO_PORTS
from apps.parties.tests.factories import make_uscc

ROOT = Path(__file__).resolve().parents[3]


def _urls(process: subprocess.Popen, expected: int, timeout: float = 30.0) -> dict[str, str]:
    """The DATAHUB_<SOURCE>_URL lines the entry point prints once its servers listen."""
    urls: dict[str, str] = {}
    deadline = time.monotonic() + timeout
    while len(urls) < expected and time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            break
        name, sep, url = line.strip().partition("=")
        if sep and name.startswith("DATAHUB_") and name.endswith("_URL"):
            urls[name.removeprefix("DATAHUB_").removesuffix("_URL").lower()] = url
    return urls


def test_the_demo_entry_point_serves_every_connector_and_stops_on_sigterm():
    # Free ports (--any-ports): a demo may already hold DEMO_PORTS on this machine.
    process = subprocess.Popen(
        [sys.executable, "-m", "apps.datahub.testservers", "--any-ports"], cwd=ROOT,
        env={**os.environ, "DATAHUB_DEMO_FACTS": ""}, stdout=subprocess.PIPE, text=True,
        start_new_session=True)
    try:
        urls = _urls(process, len(CONNECTORS))
        assert sorted(urls) == sorted(CONNECTORS) == sorted(DEMO_PORTS)
        limits = TransportLimits(timeout=5, max_attempts=1, backoff=0, backoff_max=0)
        for source, url in urls.items():
            transport = HttpTransport(url, limits)
            try:
                answer = connector_for(source).query(Subject(make_uscc(), "测试企业"),
                                                     query_id=f"q-{source}",
                                                     transport=transport)
            finally:
                transport.session.close()
            # A firm the stand-ins have not been told about: the court has no case on it.
            assert answer.records or source == "court", source
            assert answer.format_version == connector_for(source).format_version
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=10) == 0
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        process.stdout.close()

