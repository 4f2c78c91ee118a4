"""The connector interface: ask a source about a subject, get normalised records back with the
raw answer kept and the format version it was read under.

A connector knows one service's documented request and answer shape and nothing of Django:
`query()` sends the request through `HttpTransport` (timeouts, retries with capped exponential
back-off on timeouts, connection errors, 429 and 5xx; a 4xx is the service's refusal and is not
retried) and `parse()` turns the decoded answer into records, or raises `MalformedAnswer`
naming the first field that breaks the documented shape, so nothing half-read is stored.
`parse()` is also the file-import path: an export of the same format is read by the same code.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

import requests


@dataclass(frozen=True)
class Subject:
    """Whom a query is about: the enterprise (`uscc`, `name`), or a person around it
    (a guarantor, the legal representative …) when `person_id_number` is set; connectors that
    only know enterprises ignore the person fields."""

    uscc: str
    name: str
    person_name: str = ""
    person_id_number: str = ""

    @property
    def is_person(self) -> bool:
        return bool(self.person_id_number)


@dataclass(frozen=True)
class NormalisedRecord:
    kind: str
    key: str
    data: dict[str, Any]


@dataclass
class Answer:
    records: list[NormalisedRecord]
    format_version: str
    content_type: str
    body: str
    attempts: int = 1


class ConnectorError(Exception):
    code = "connector_error"

    def __init__(self, detail: str, *, attempts: int = 0, body: str = "", field: str = ""):
        self.detail, self.attempts, self.body, self.field = detail, attempts, body, field
        super().__init__(detail)


class SourceUnavailable(ConnectorError):
    """Timeouts, connection failures or server errors on every attempt."""

    code = "source_unavailable"


class SourceRefused(ConnectorError):
    """The service answered 4xx: the question itself is wrong (unknown subject, bad key)."""

    code = "source_refused"


class MalformedAnswer(ConnectorError):
    """The answer does not have the documented shape; `field` names where it breaks."""

    code = "malformed_answer"


@dataclass(frozen=True)
class TransportLimits:
    timeout: float
    max_attempts: int
    backoff: float
    backoff_max: float


@dataclass
class HttpTransport:
    """requests with explicit limits; one Session per transport (connection reuse)."""

    base_url: str
    limits: TransportLimits
    session: requests.Session = field(default_factory=requests.Session)
    sleep: Any = time.sleep

    def send(self, method: str, path: str, *, params=None, json_body=None,
             headers=None) -> tuple[requests.Response, int]:
        last = ""
        for attempt in range(1, self.limits.max_attempts + 1):
            try:
                response = self.session.request(
                    method, self.base_url.rstrip("/") + path, params=params, json=json_body,
                    headers=headers, timeout=self.limits.timeout)
            except requests.Timeout:
                last = f"no answer within {self.limits.timeout:g} s"
            except requests.ConnectionError as exc:
                last = f"connection failed: {type(exc).__name__}"
            else:
                if response.status_code < 400:
                    return response, attempt
                if response.status_code != 429 and response.status_code < 500:
                    raise SourceRefused(f"the service refused the query (HTTP "
                                        f"{response.status_code})", attempts=attempt,
                                        body=response.text[:20000])
                last = f"HTTP {response.status_code}"
            if attempt < self.limits.max_attempts:
                self.sleep(min(self.limits.backoff_max, self.limits.backoff * 2 ** (attempt - 1)))
        raise SourceUnavailable(f"{last} after {self.limits.max_attempts} attempts",
                                attempts=self.limits.max_attempts)


class Connector(ABC):
    """One outside service. Subclasses set `source` and `format_version` and implement
    `request()` (method, path, params, body) and `parse()`."""

    source: str
    format_version: str

    @abstractmethod
    def request(self, subject: Subject, *, query_id: str) -> dict[str, Any]:
        """{"method", "path", "params"?, "json"?} for the service's documented query."""

    @abstractmethod
    def parse(self, payload: Any, *, query_id: str | None = None) -> list[NormalisedRecord]:
        """The decoded answer → records; `MalformedAnswer(field=…)` when it breaks the shape."""

    def query(self, subject: Subject, *, query_id: str, transport: HttpTransport) -> Answer:
        spec = self.request(subject, query_id=query_id)
        response, attempts = transport.send(
            spec["method"], spec["path"], params=spec.get("params"), json_body=spec.get("json"),
            headers={"X-Request-Id": query_id, "Accept": "application/json"})
        body = response.text
        try:
            payload = json.loads(body)
        except ValueError as exc:
            raise MalformedAnswer("the answer is not JSON", field="(body)", body=body[:20000],
                                  attempts=attempts) from exc
        try:
            records = self.parse(payload, query_id=query_id)
        except MalformedAnswer as exc:
            exc.body, exc.attempts = body[:20000], attempts
            raise
        return Answer(records=records, format_version=self.format_version,
                      content_type=response.headers.get("Content-Type", ""), body=body,
                      attempts=attempts)


# --- shape checks shared by the connectors -----------------------------------------------

def need(obj: Any, name: str, kind: type | tuple, path: str) -> Any:
    """obj[name] of the given type, or MalformedAnswer naming `path.name`."""
    where = f"{path}.{name}" if path else name
    if not isinstance(obj, dict) or name not in obj or obj[name] is None:
        raise MalformedAnswer(f"{where} is missing", field=where)
    value = obj[name]
    if not isinstance(value, kind) or isinstance(value, bool) and kind is not bool:
        raise MalformedAnswer(f"{where} has the wrong type", field=where)
    return value


def optional(obj: dict, name: str, kind: type | tuple, path: str, default=None) -> Any:
    if obj.get(name) is None:
        return default
    return need(obj, name, kind, path)


def need_date(obj: Any, name: str, path: str) -> str:
    text = need(obj, name, str, path)
    try:
        return dt.date.fromisoformat(text).isoformat()
    except ValueError as exc:
        raise MalformedAnswer(f"{path}.{name} is not a date", field=f"{path}.{name}") from exc


def need_amount(obj: Any, name: str, path: str) -> str:
    value = need(obj, name, (str, int), path)
    try:
        amount = Decimal(str(value))
    except InvalidOperation as exc:
        raise MalformedAnswer(f"{path}.{name} is not an amount", field=f"{path}.{name}") from exc
    if not amount.is_finite() or amount < 0:
        raise MalformedAnswer(f"{path}.{name} is not an amount", field=f"{path}.{name}")
    return str(amount)


def need_version(payload: Any, name: str, expected: str) -> None:
    version = need(payload, name, str, "")
    if version != expected:
        raise MalformedAnswer(f"format {version!r} is not the supported {expected!r}",
                              field=name)
