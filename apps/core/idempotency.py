"""Idempotency keys for API commands: a retried POST is applied once (CONVENTIONS §6).

A client that lost the answer to a command (timeout, dropped connection) cannot know whether it
was applied; resending it blind could submit or disburse twice. With an `Idempotency-Key`
header the first outcome is stored with the request's hash, in the command's own transaction,
and every retry gets that stored outcome back:

- same key, same body: the stored response, failures (4xx) included, with
  `Idempotent-Replayed: true`;
- same key, another body or route: 422 `idempotency_key_reused`;
- same key while the first request is still running: 409 `idempotency_request_in_flight`;
- server errors (5xx) roll the whole transaction back, record included, so a retry runs again.

Without the header a command runs as usual. Keys are scoped to the user who sent them.
"""

import datetime as dt
import hashlib
import json
import zlib

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files import File
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import OpenApiResponse
from rest_framework import status
from rest_framework.response import Response
from rest_framework.utils.encoders import JSONEncoder

from apps.core.exceptions import DomainError
from apps.core.models import IdempotencyRecord
from apps.core.schema import ErrorSerializer

HEADER = "Idempotency-Key"
KEY_MAX_LENGTH = 255
# Long enough to cover any client's retry window (hours, across a night batch), short enough
# that the table stays small; the beat sweep deletes older records.
IDEMPOTENCY_TTL = dt.timedelta(hours=getattr(settings, "IDEMPOTENCY_TTL_HOURS", 24))
# Namespace of the two-key PostgreSQL advisory locks taken here ("IDMP"); the two-key space
# does not overlap the single-bigint key the audit chain uses.
_LOCK_NAMESPACE = 0x49444D50

IDEMPOTENCY_ERRORS = {
    422: OpenApiResponse(ErrorSerializer,
                         description="The Idempotency-Key was already used for another request."),
}


class IdempotencyKeyReused(DomainError):
    """The key was used before with another body or route: it cannot mean "the same again"."""

    code = "idempotency_key_reused"
    status_code = status.HTTP_422_UNPROCESSABLE_ENTITY
    default_detail = gettext_lazy("This Idempotency-Key was already used for another request.")


class IdempotentRequestInFlight(DomainError):
    """The first request with this key has not finished; the client should retry later."""

    code = "idempotency_request_in_flight"
    status_code = status.HTTP_409_CONFLICT
    default_detail = gettext_lazy("A request with this Idempotency-Key is still being "
                                  "processed; retry shortly.")


def _file_digest(upload: File) -> dict:
    """An uploaded file by its content hash: the encoder would otherwise decode its bytes as
    UTF-8 (a binary upload raised) and leave it read to the end."""
    digest = hashlib.sha256()
    for chunk in upload.chunks():
        digest.update(chunk)
    upload.seek(0)
    return {"name": upload.name, "sha256": digest.hexdigest()}


def request_hash(data) -> str:
    """SHA-256 of the body in canonical form (sorted keys, no spaces): key order and
    whitespace do not make two retries of one command look different."""
    if hasattr(data, "lists"):  # QueryDict from a form post: keep repeated keys
        data = {key: [_file_digest(v) if isinstance(v, File) else v for v in values]
                for key, values in data.lists()}
    canonical = json.dumps(data, cls=JSONEncoder, sort_keys=True, separators=(",", ":"),
                           ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def _try_lock(user_id: int, key: str) -> bool:
    """On PostgreSQL, a transaction-scoped advisory lock on (user, key), not waited for: a
    second request with the same key while the first runs is told so (409) at once rather
    than blocking on the first one's uncommitted row. SQLite's IMMEDIATE transactions already
    serialise writers, so the second request simply sees the first one's record."""
    if connection.vendor != "postgresql":
        return True
    digest = zlib.crc32(f"{user_id}:{key}".encode())
    objid = digest - 2**32 if digest >= 2**31 else digest  # int4 range
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_xact_lock(%s, %s)", [_LOCK_NAMESPACE, objid])
        return bool(cursor.fetchone()[0])


def idempotency_purge(*, now: dt.datetime | None = None, batch_size: int = 5000) -> int:
    """Delete records older than IDEMPOTENCY_TTL, in batches so no lock is held for long;
    returns how many were deleted."""
    cutoff = (now or timezone.now()) - IDEMPOTENCY_TTL
    deleted = 0
    while True:
        ids = list(IdempotencyRecord.objects.filter(created_at__lt=cutoff)
                   .values_list("id", flat=True)[:batch_size])
        if not ids:
            return deleted
        deleted += IdempotencyRecord.objects.filter(id__in=ids).delete()[0]


class IdempotentCommandMixin:
    """For `APIView` POST commands: honour an `Idempotency-Key` header.

    Put it first in the bases (`class XApi(IdempotentCommandMixin, APIView)`). Authentication
    and permission classes run before the key is looked at, so the key is always the
    authenticated user's. The command, the lookup and the stored outcome share one transaction.
    """

    idempotent_methods = ("POST",)

    def dispatch(self, request, *args, **kwargs):
        # DRF's APIView.dispatch, with the handler call wrapped; kept in step with DRF 3.18.
        self.args, self.kwargs = args, kwargs
        request = self.initialize_request(request, *args, **kwargs)
        self.request = request
        self.headers = self.default_response_headers
        try:
            self.initial(request, *args, **kwargs)
            method = request.method.lower()
            handler = (getattr(self, method, self.http_method_not_allowed)
                       if method in self.http_method_names else self.http_method_not_allowed)
            key = request.headers.get(HEADER)
            if key is not None and request.method in self.idempotent_methods:
                response = self._handle_idempotently(request, key, handler, *args, **kwargs)
            else:
                response = handler(request, *args, **kwargs)
        except Exception as exc:  # DRF's own contract: every error is rendered
            response = self.handle_exception(exc)
        self.response = self.finalize_response(request, response, *args, **kwargs)
        return self.response

    def _handle_idempotently(self, request, key: str, handler, *args, **kwargs):
        key = key.strip()
        if not key or len(key) > KEY_MAX_LENGTH:
            raise ValidationError({HEADER: _("Give 1 to %(max)s characters.")
                                   % {"max": KEY_MAX_LENGTH}})
        user = request.user
        body_hash = request_hash(request.data)
        with transaction.atomic():
            if not _try_lock(user.pk, key):
                raise IdempotentRequestInFlight()
            # Lock the row too: on databases without the advisory lock, a concurrent replay
            # waits here for the first request's outcome instead of racing it.
            record = (IdempotencyRecord.objects.select_for_update(no_key=True)
                      .filter(user=user, key=key).first())
            if record is not None and record.created_at < timezone.now() - IDEMPOTENCY_TTL:
                record.delete()  # expired, not yet swept: the key is free again
                record = None
            if record is not None:
                if (record.request_hash, record.method, record.path) != (
                        body_hash, request.method, request.path):
                    raise IdempotencyKeyReused()
                return Response(record.response_body, status=record.response_status,
                                headers={"Idempotent-Replayed": "true"})

            try:
                # A savepoint of its own: a refused command rolls back its writes, and the
                # refusal is then stored in the outer transaction like a success would be.
                with transaction.atomic():
                    response = handler(request, *args, **kwargs)
            except Exception as exc:  # rendered exactly as DRF would
                response = self.handle_exception(exc)  # re-raises what becomes a 500
            if response.status_code >= 500:
                transaction.set_rollback(True)  # not an outcome: let the retry run again
                return response
            body = json.loads(json.dumps(response.data, cls=JSONEncoder))
            try:
                with transaction.atomic():
                    IdempotencyRecord.objects.create(
                        user=user, key=key, method=request.method, path=request.path,
                        request_hash=body_hash, response_status=response.status_code,
                        response_body=body)
            except IntegrityError:
                # Another request with this key committed first (possible only where the
                # advisory lock is unavailable): ours must not count as well.
                transaction.set_rollback(True)
                raise IdempotentRequestInFlight() from None
            return response
