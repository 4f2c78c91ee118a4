"""Local stand-ins for the outside services, on the loopback, speaking each connector's
documented request and answer shape (the connectors' module docstrings).

Each service has a `mode` the tests set: `normal`, `slow` (answers after `slow_seconds`,
past the connector's timeout), `error` (HTTP 503), `malformed` (a documented field broken),
`flaky` (503 for the first `fail_first` calls, then normal). `latency` delays every answer
(the benchmark's 50 ms). `calls` counts the queries received, so a test can prove the cache
answered without a paid call. Stdlib only (http.server), one thread per request.
"""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit


class TestService:
    __test__ = False  # not a pytest class

    def __init__(self):
        self._lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        self.mode, self.latency, self.slow_seconds, self.fail_first = "normal", 0.0, 2.0, 0
        self.calls = 0
        self.request_ids: list[str] = []

    def answer(self, method: str, path: str, query: dict, body: dict | None
               ) -> tuple[int, object]:
        raise NotImplementedError

    def respond(self, method, path, query, body, headers) -> tuple[int, object]:
        with self._lock:
            self.calls += 1
            number = self.calls
            self.request_ids.append(headers.get("X-Request-Id", ""))
        if self.latency:
            time.sleep(self.latency)
        if self.mode == "slow":
            time.sleep(self.slow_seconds)
        if self.mode == "error" or (self.mode == "flaky" and number <= self.fail_first):
            return 503, {"error": "unavailable"}
        return self.answer(method, path, query, body)


def _handler_for(service: TestService):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        # The headers and the body go out in two writes: with Nagle's algorithm on, the body
        # waits for the client's delayed ACK (~40 ms on Linux), which added ~45 ms to every
        # answer on top of `latency` (the bench's 50 ms source answered in ~100 ms).
        disable_nagle_algorithm = True

        def _serve(self, method: str) -> None:
            parts = urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            try:
                body = json.loads(raw) if raw else None
            except ValueError:
                body = None
            status, payload = service.respond(method, parts.path, parse_qs(parts.query), body,
                                              self.headers)
            data = payload if isinstance(payload, bytes) else json.dumps(
                payload, ensure_ascii=False).encode()
            try:
                self.send_response(status)
                self.send_header("Content-Type", "application/json; charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up (its timeout): nothing to answer

        def do_GET(self):  # noqa: N802 - http.server's naming
            self._serve("GET")

        def do_POST(self):  # noqa: N802
            self._serve("POST")

        def log_message(self, *args):  # quiet
            return

    return Handler


class LoopbackServer:
    """Serve one TestService on 127.0.0.1 (port 0 = any free port) in a daemon thread."""

    def __init__(self, service: TestService, port: int = 0):
        self.service = service
        self.httpd = ThreadingHTTPServer(("127.0.0.1", port), _handler_for(service))
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> LoopbackServer:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
