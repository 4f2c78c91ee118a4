"""Perceptual-hash reuse detection across all applications (domain reference §3.4: "photo
hash or near-duplicate reused from another file → R3").

Hashes are stored as signed 64-bit integers with their four 16-bit quarters indexed. For a
search within 3 bits, two hashes that close must share at least one quarter exactly
(pigeonhole: 3 differing bits touch at most 3 of 4 quarters), so candidates come from four
indexed equality lookups and only they get the exact popcount. Wider searches fall back to a
streamed scan, still exact.
"""

from __future__ import annotations

from django.db.models import Q

from apps.documents.checks import FAILED, CheckOutcome, flag
from apps.documents.checks.phash import bands, hamming, to_signed, to_unsigned
from apps.documents.models import Document, PhotoHash

BANDED_MAX_DISTANCE = 3


def similar_photos(value: int, *, max_distance: int, exclude_application_id: int | None = None,
                   exclude_document_id: int | None = None) -> list[tuple[int, int, int]]:
    """(document id, application id, distance) of stored photos within `max_distance` bits."""
    value = to_unsigned(value)
    rows = PhotoHash.objects.all()
    if max_distance <= BANDED_MAX_DISTANCE:
        b = bands(value)
        rows = rows.filter(Q(band0=b[0]) | Q(band1=b[1]) | Q(band2=b[2]) | Q(band3=b[3]))
    if exclude_application_id is not None:
        rows = rows.exclude(application_id_copy=exclude_application_id)
    if exclude_document_id is not None:
        rows = rows.exclude(document_id=exclude_document_id)
    found = []
    for document_id, application_id, other in rows.values_list(
            "document_id", "application_id_copy", "value").iterator(chunk_size=5000):
        distance = hamming(value, to_unsigned(other))
        if distance <= max_distance:
            found.append((document_id, application_id, distance))
    return sorted(found, key=lambda row: (row[2], row[0]))


def store_hash(document: Document, value: int) -> None:
    b = bands(value)
    PhotoHash.objects.update_or_create(document=document, defaults={
        "application_id_copy": document.application_id, "value": to_signed(value),
        "band0": b[0], "band1": b[1], "band2": b[2], "band3": b[3]})


def record_and_compare(document: Document, outcome: CheckOutcome) -> CheckOutcome:
    """Store the photo's hash and flag matches in other applications (in the caller's
    transaction, so the hash and the check result commit together)."""
    from apps.investigations.policy import PolicyResolver

    outcome = _record_fingerprint(document, outcome)
    phash = outcome.findings.get("phash")
    if not phash:
        return outcome
    value = int(phash, 16)
    store_hash(document, value)
    limit = PolicyResolver()("documents.photo.reuse_max_distance")
    flags = list(outcome.findings.get("flags", []))
    if limit is None:
        flags.append(flag("policy_missing", key="documents.photo.reuse_max_distance"))
        matches = []
    else:
        matches = similar_photos(value, max_distance=int(limit),
                                 exclude_application_id=document.application_id)
    for other_document, other_application, distance in matches[:10]:
        flags.append(flag("photo_reused", other=other_document, application=other_application,
                          distance=distance))
    findings = {**outcome.findings,
                "reuse": [{"document_id": d, "application_id": a, "distance": n}
                          for d, a, n in matches[:10]]}
    return CheckOutcome.of({k: v for k, v in findings.items() if k != "flags"}, flags)


def _record_fingerprint(document: Document, outcome: CheckOutcome) -> CheckOutcome:
    """Store the edit-resistant fingerprint (issue 19) and flag photos of other applications
    it matches; the fingerprint itself leaves the check's findings (it lives in its table)."""
    from apps.documents import photo_fingerprints
    from apps.investigations.policy import PolicyResolver

    fingerprint = outcome.findings.get("fingerprint")
    if not fingerprint:
        return outcome
    findings = {k: v for k, v in outcome.findings.items() if k not in ("fingerprint", "flags")}
    flags = list(outcome.findings.get("flags", []))

    query = {k: int(v, 16) for k, v in fingerprint["query"].items()}
    photo_fingerprints.store(document, query=query,
                             stored={k: int(v, 16) for k, v in fingerprint["stored"].items()})
    resolver = PolicyResolver()
    limits = {key: resolver(key) for key in FINGERPRINT_POLICY}
    missing = [key for key, value in limits.items() if value is None]
    for key in missing:
        flags.append(flag("policy_missing", key=key))
    if missing:
        return CheckOutcome.of(findings, flags, fail=outcome.status == FAILED)
    candidate_key, distance_key, pairs_key = FINGERPRINT_POLICY
    matches = [m for m in photo_fingerprints.search(
        query, candidate_distance=int(limits[candidate_key]),
        max_distance=int(limits[distance_key]), min_pairs=int(limits[pairs_key]),
        exclude_document_id=document.pk) if m.other_application_id != document.application_id]
    for match in matches[:10]:
        flags.append(flag("photo_reused_edited", other=match.other_document_id,
                          application=match.other_application_id, distance=match.distance))
    findings["edited_reuse"] = [{"document_id": m.other_document_id,
                                 "application_id": m.other_application_id,
                                 "distance": m.distance, "pairs": m.pairs}
                                for m in matches[:10]]
    return CheckOutcome.of(findings, flags, fail=outcome.status == FAILED)


FINGERPRINT_POLICY = ("documents.photo.fingerprint_candidate_distance",
                      "documents.photo.fingerprint_max_distance",
                      "documents.photo.fingerprint_min_pairs")
