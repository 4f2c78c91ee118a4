"""Photo reuse that survives editing (issue 19): fingerprints stored per photo and a
multi-index search over all photos of all applications and stages.

Search: every 64-bit stored hash is split into four 16-bit quarters, each kept as an indexed
key (quarter index, value). Two hashes within 3 bits share a quarter exactly (pigeonhole), so
for small distances the key lookup misses nothing; an edited photo sits further away (6-12
bits) but its many query hashes (straightened, zoomed) meet the original's stored windows on
at least one quarter often enough (the measured rates are in docs/controls/evidence.md). Each
stored hash found through a shared key is verified exactly (popcount of the XOR, in the same
index-only query) against the query hash that found it, and kept within `max_distance` bits
(policy control.photo.fingerprint_max_distance).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import connection

from apps.documents.checks import fingerprint as fp
from apps.documents.checks.phash import to_signed, to_unsigned
from apps.documents.models import Document, PhotoBandKey, PhotoFingerprint


@dataclass(frozen=True)
class FingerprintMatch:
    document_id: int
    other_document_id: int
    other_application_id: int
    distance: int


def band_keys(value: int) -> list[int]:
    value = to_unsigned(value)
    return [(band << 16) | ((value >> (48 - 16 * band)) & 0xFFFF) for band in range(4)]


def _unsigned(hashes: dict) -> dict[str, int]:
    return {kind: to_unsigned(int(value)) for kind, value in hashes.items()}


def store(document: Document, *, stored: dict[str, int], query: dict[str, int]) -> None:
    """Keep the photo's fingerprint and its band keys (replacing an earlier one)."""
    PhotoFingerprint.objects.update_or_create(document=document, defaults={
        "application_id_copy": document.application_id, "uploaded_at": document.uploaded_at,
        "version": fp.VERSION,
        "stored": {k: to_signed(v) for k, v in stored.items()},
        "query": {k: to_signed(v) for k, v in query.items()}})
    PhotoBandKey.objects.filter(document_id_copy=document.pk).delete()
    PhotoBandKey.objects.bulk_create(
        [PhotoBandKey(key=key, value=to_signed(value), document_id_copy=document.pk)
         for value in sorted(set(stored.values())) for key in band_keys(value)])


_SEARCH_SQL = """
SELECT b.document_id_copy, f.application_id_copy,
       min(bit_count((b.value # q.h)::bit(64))) AS distance
FROM unnest(%s::integer[], %s::bigint[]) AS q(key, h)
JOIN {bands} b ON b.key = q.key
JOIN {prints} f ON f.document_id = b.document_id_copy
WHERE bit_count((b.value # q.h)::bit(64)) <= %s AND b.document_id_copy <> %s
GROUP BY b.document_id_copy, f.application_id_copy
ORDER BY distance, b.document_id_copy
LIMIT %s
"""


def search(query: dict[str, int], *, max_distance: int, exclude_document_id: int = 0,
           limit: int = 20, bands: str | None = None, prints: str | None = None
           ) -> list[tuple[int, int, int]]:
    """(document, application, distance) of stored photos with a hash sharing a band with a
    query hash and within `max_distance` bits of it, closest first. `bands`/`prints` name
    other tables of the same shape (the benchmark's store)."""
    pairs = sorted({(key, to_signed(value)) for value in query.values()
                    for key in band_keys(value)})
    sql = _SEARCH_SQL.format(bands=bands or PhotoBandKey._meta.db_table,
                             prints=prints or PhotoFingerprint._meta.db_table)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(sql, [[k for k, _ in pairs], [h for _, h in pairs], max_distance,
                                 exclude_document_id, limit])
            return [tuple(row) for row in cursor.fetchall()]
    return _search_portable(query, max_distance=max_distance,
                            exclude_document_id=exclude_document_id, limit=limit)


def _search_portable(query, *, max_distance, exclude_document_id, limit):
    """The same search without PostgreSQL's arrays and bit_count (the embedded SQLite)."""
    by_key: dict[int, list[int]] = {}
    for value in query.values():
        for key in band_keys(value):
            by_key.setdefault(key, []).append(to_unsigned(value))
    best: dict[int, int] = {}
    for key, value, document_id in PhotoBandKey.objects.filter(key__in=list(by_key)).exclude(
            document_id_copy=exclude_document_id).values_list("key", "value", "document_id_copy"):
        distance = min(fp.hamming(to_unsigned(value), h) for h in by_key[key])
        if distance <= max_distance:
            best[document_id] = min(distance, best.get(document_id, 64))
    apps = dict(PhotoFingerprint.objects.filter(document_id__in=list(best))
                .values_list("document_id", "application_id_copy"))
    rows = sorted((distance, d) for d, distance in best.items() if d in apps)[:limit]
    return [(d, apps[d], distance) for distance, d in rows]


def reuse_of(document_ids, *, max_distance: int,
             same_application: bool = False) -> list[FingerprintMatch]:
    """Matches of the given photos among all other fingerprinted photos. Photos of the same
    application count only with `same_application` (a post-loan inspection re-using the
    pre-loan visit's picture), and then only when uploaded before the photo itself."""
    rows = PhotoFingerprint.objects.filter(document_id__in=list(document_ids))
    matches = []
    for row in rows:
        query = _unsigned(row.query)
        for other, application, distance in search(
                query, max_distance=max_distance, exclude_document_id=row.document_id):
            if application == row.application_id_copy:
                if not same_application:
                    continue
                earlier = PhotoFingerprint.objects.filter(
                    document_id=other, uploaded_at__lt=row.uploaded_at).exists()
                if not earlier:
                    continue
            matches.append(FingerprintMatch(row.document_id, other, application, distance))
    return sorted(matches, key=lambda m: (m.document_id, m.distance, m.other_document_id))
