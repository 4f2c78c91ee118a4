"""Edit-resistant photo fingerprints (issue 19): the hashes, the band-key search on the
database, and the upload-time flag for an edited copy of another file's photo."""

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from apps.documents import checking, photo_fingerprints
from apps.documents.checks import fingerprint as fp
from apps.documents.evidence import DocumentEvidenceSource
from apps.documents.models import PhotoBandKey, PhotoFingerprint
from apps.documents.states import DocumentState as S
from apps.documents.tests.helpers import SITE, sited_draft, upload
from apps.documents.tests.photo_fakes import edit, jpeg, reopen, scene, with_exif

LIMITS = {"candidate_distance": 12, "max_distance": 16, "min_pairs": 10}


def _photo_bytes(img, *, quality=88):
    taken = timezone.localtime(timezone.now() - dt.timedelta(hours=1)).replace(tzinfo=None)
    return with_exif(img, lat=float(SITE[0]) + 0.0003, lng=float(SITE[1]), taken_at=taken,
                     quality=quality)


def _upload(world, application, data, name):
    document = upload(world, application, data, type_code="site_photo", name=name,
                      device_lat=SITE[0], device_lng=SITE[1], device_accuracy_m=Decimal("8"))
    checking.document_check(document_id=document.pk)
    document.refresh_from_db()
    return document


def test_new_metadata_changes_nothing_and_an_edited_copy_agrees_on_many_windows():
    original = reopen(jpeg(scene(1), quality=90))
    resaved = reopen(jpeg(original, quality=95))
    same_pixels_new_exif = reopen(jpeg(original, quality=95, exif_time="2020:01:01 08:00:00"))
    assert fp.stored_hashes(same_pixels_new_exif) == fp.stored_hashes(resaved)
    assert fp.closest(fp.query_hashes(resaved), fp.stored_hashes(original))[0] <= 4

    copy = reopen(jpeg(edit(original, 5), quality=70))  # cropped, turned, colour-shifted
    other = reopen(jpeg(scene(2), quality=90))
    stored = fp.stored_hashes(original)
    assert fp.agreeing_pairs(fp.query_hashes(copy), stored, 16) >= LIMITS["min_pairs"]
    assert fp.agreeing_pairs(fp.query_hashes(other), stored, 16) < LIMITS["min_pairs"]


def test_band_keys_are_the_four_quarters_with_their_position():
    keys = fp.band_keys(0x0001_0002_0003_0004)
    assert keys == [0x00001, (1 << 16) | 2, (2 << 16) | 3, (3 << 16) | 4]
    assert fp.band_keys(-1) == [(b << 16) | 0xFFFF for b in range(4)]


@pytest.mark.django_db
def test_an_edited_copy_in_another_file_is_flagged_at_upload_and_an_honest_photo_is_not(docs):
    original_img = scene(31)
    first = _upload(docs, sited_draft(docs), _photo_bytes(original_img), "gate.jpg")
    assert first.state == S.PASSED
    fingerprint = PhotoFingerprint.objects.get(document=first)
    assert len(fingerprint.stored) == len(fp.STORED_WINDOWS)
    assert PhotoBandKey.objects.filter(document_id_copy=first.pk).count() == 4 * len(
        set(fingerprint.stored.values()))
    assert "fingerprint" not in first.checks.get(kind="photo").findings  # kept in its table

    copy = _upload(docs, sited_draft(docs), _photo_bytes(edit(original_img, 77), quality=65),
                   "shopfront.jpg")
    assert copy.state == S.NEEDS_ATTENTION
    findings = copy.checks.get(kind="photo").findings
    assert [m["document_id"] for m in findings["edited_reuse"]] == [first.pk]
    assert findings["edited_reuse"][0]["pairs"] >= LIMITS["min_pairs"]
    assert "edited copy" in copy.attention_reason
    assert findings["reuse"] == []  # the old 64-bit dHash alone misses it

    honest = _upload(docs, sited_draft(docs), _photo_bytes(scene(32)), "honest.jpg")
    assert honest.state == S.PASSED
    assert honest.checks.get(kind="photo").findings["edited_reuse"] == []


@pytest.mark.django_db
def test_the_search_finds_only_confirmed_candidates_and_excludes_the_photo_itself(docs):
    original_img = scene(31)
    first = _upload(docs, sited_draft(docs), _photo_bytes(original_img), "a.jpg")
    query = fp.query_hashes(reopen(jpeg(edit(original_img, 77), quality=65)))
    [match] = photo_fingerprints.search(query, **LIMITS)
    assert match.other_document_id == first.pk and match.distance <= 12
    assert photo_fingerprints.search(query, **LIMITS, exclude_document_id=first.pk) == []
    # the same candidates, but a confirmation no copy reaches: nothing
    assert photo_fingerprints.search(query, **{**LIMITS, "min_pairs": 10_000}) == []


@pytest.mark.django_db
def test_across_stages_an_old_picture_of_the_same_file_counts_only_when_asked(docs):
    application = sited_draft(docs)
    original_img = scene(51)
    earlier = _upload(docs, application, _photo_bytes(original_img), "pre-loan.jpg")
    later = _upload(docs, application, _photo_bytes(edit(original_img, 9), quality=70),
                    "inspection.jpg")
    PhotoFingerprint.objects.filter(document=earlier).update(
        uploaded_at=later.uploaded_at - dt.timedelta(days=90))
    source = DocumentEvidenceSource()
    assert source.edited_photo_reuse(application.pk, **LIMITS) == []
    found = source.edited_photo_reuse(application.pk, **LIMITS, document_ids=[later.pk],
                                      same_application=True)
    assert [(m.document_id, m.other_document_id) for m in found] == [(later.pk, earlier.pk)]
