"""Photo reuse that survives editing (issue 19): fingerprints stored per photo and a
multi-index search over all photos of all applications and stages.

Search: every 64-bit stored hash is split into four 16-bit quarters, each kept as an indexed
key (quarter index, value). Two hashes within 3 bits share a quarter exactly (pigeonhole), so
for small distances the key lookup misses nothing; an edited photo sits further away (2-12
bits) but its many query hashes (straightened, zoomed) meet the original's stored windows on
at least one quarter often enough (the measured rates are in docs/controls/evidence.md). Each
stored hash found through a shared key is verified exactly (popcount of the XOR, in the same
index-only query) against the query hash that found it, within `candidate_distance` bits; a
candidate is confirmed when at least `min_pairs` window pairs of the two whole fingerprints
lie within `max_distance` (a true copy agrees on many, chance on a few). All three are policy.

Stored format (`PhotoFingerprint.stored` / `.query`): {window kind: signed 64-bit hash}.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from django.db import connection

from apps.documents.checks import fingerprint as fp
from apps.documents.checks.fingerprint import band_keys
from apps.documents.checks.phash import to_signed, to_unsigned
from apps.documents.models import Document, PhotoBandKey, PhotoFingerprint

Hashes = dict[str, int]  # window kind -> unsigned 64-bit hash


@dataclass(frozen=True)
class FingerprintMatch:
    document_id: int
    other_document_id: int
    other_application_id: int
    distance: int        # the closest window pair, bits
    pairs: int           # window pairs within the policy distance


def to_json(hashes: Hashes) -> dict[str, int]:
    return {kind: to_signed(value) for kind, value in hashes.items()}


def from_json(data: dict) -> Hashes:
    return {kind: to_unsigned(int(value)) for kind, value in data.items()}


def store(document: Document, *, stored: Hashes, query: Hashes) -> None:
    """Keep the photo's fingerprint and its band keys (replacing an earlier one)."""
    PhotoFingerprint.objects.update_or_create(document=document, defaults={
        "application_id_copy": document.application_id, "uploaded_at": document.uploaded_at,
        "version": fp.VERSION, "stored": to_json(stored), "query": to_json(query)})
    PhotoBandKey.objects.filter(document_id_copy=document.pk).delete()
    PhotoBandKey.objects.bulk_create(
        [PhotoBandKey(key=key, value=to_signed(value), document_id_copy=document.pk)
         for value in sorted(set(stored.values())) for key in band_keys(value)])


_SEARCH_SQL = """
SELECT b.document_id_copy, min(bit_count((b.value # q.h)::bit(64))) AS distance
FROM unnest(%s::integer[], %s::bigint[]) AS q(key, h)
JOIN {bands} b ON b.key = q.key
WHERE bit_count((b.value # q.h)::bit(64)) <= %s AND b.document_id_copy <> %s
GROUP BY b.document_id_copy
ORDER BY distance, b.document_id_copy
LIMIT %s
"""


def candidates(query: Hashes, *, max_distance: int, exclude_document_id: int = 0,
               limit: int = 50, bands: str | None = None) -> list[tuple[int, int]]:
    """(document, closest distance) of stored photos with a hash that shares a band key with
    a query hash and lies within `max_distance` bits of it (one index-only query)."""
    bands = bands or PhotoBandKey._meta.db_table
    values = set(query.values())
    if connection.vendor == "postgresql":
        pairs = sorted({(key, to_signed(value)) for value in values for key in band_keys(value)})
        with connection.cursor() as cursor:
            cursor.execute(_SEARCH_SQL.format(bands=bands),
                           [[k for k, _ in pairs], [h for _, h in pairs], max_distance,
                            exclude_document_id, limit])
            return [(d, n) for d, n in cursor.fetchall()]
    # The embedded SQLite has no arrays or bit_count: the same rule in Python.
    by_key: dict[int, set[int]] = defaultdict(set)
    for value in values:
        for key in band_keys(value):
            by_key[key].add(value)
    best: dict[int, int] = {}
    for key, value, document_id in PhotoBandKey.objects.filter(key__in=list(by_key)).exclude(
            document_id_copy=exclude_document_id).values_list("key", "value", "document_id_copy"):
        distance = min(fp.hamming(to_unsigned(value), h) for h in by_key[key])
        if distance <= max_distance:
            best[document_id] = min(distance, best.get(document_id, 64))
    return sorted(best.items(), key=lambda row: (row[1], row[0]))[:limit]


def _fingerprints(ids: list[int]):
    return PhotoFingerprint.objects.filter(document_id__in=ids).values_list(
        "document_id", "application_id_copy", "stored")


def search(query: Hashes, *, candidate_distance: int, max_distance: int, min_pairs: int,
           exclude_document_id: int = 0, bands: str | None = None,
           fingerprints=None) -> list[FingerprintMatch]:
    """Stored photos of which the query photo is an edited copy: found through the band index
    (a window pair within `candidate_distance`), confirmed when at least `min_pairs` window
    pairs of the two fingerprints lie within `max_distance`. Closest first; `bands` and
    `fingerprints(ids) -> (document, application, stored)` rows let the benchmark search its
    own store."""
    found = dict(candidates(query, max_distance=candidate_distance,
                            exclude_document_id=exclude_document_id, bands=bands))
    if not found:
        return []
    matches = []
    for document_id, application_id, stored in (fingerprints or _fingerprints)(list(found)):
        pairs = fp.agreeing_pairs(query, from_json(stored), max_distance)
        if pairs >= min_pairs:
            matches.append(FingerprintMatch(exclude_document_id, document_id, application_id,
                                            found[document_id], pairs))
    return sorted(matches, key=lambda m: (m.distance, -m.pairs, m.other_document_id))


def reuse_of(document_ids, *, candidate_distance: int, max_distance: int, min_pairs: int,
             same_application: bool = False) -> list[FingerprintMatch]:
    """Matches of the given photos among all other fingerprinted photos. Photos of the same
    application count only with `same_application` (a post-loan inspection re-using the
    pre-loan visit's picture), and then only when uploaded before the photo itself."""
    rows = list(PhotoFingerprint.objects.filter(document_id__in=list(document_ids)))
    matches = []
    for row in rows:
        for match in search(from_json(row.query), candidate_distance=candidate_distance,
                            max_distance=max_distance,
                            min_pairs=min_pairs,
                            exclude_document_id=row.document_id):
            if match.other_application_id == row.application_id_copy and (
                    not same_application or not PhotoFingerprint.objects.filter(
                        document_id=match.other_document_id,
                        uploaded_at__lt=row.uploaded_at).exists()):
                continue
            matches.append(match)
    return sorted(matches, key=lambda m: (m.document_id, m.distance, m.other_document_id))
