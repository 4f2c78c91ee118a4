"""Site-photo controls: window, geofence, phone vs EXIF, metadata, unchecked, reuse."""

import datetime as dt
from decimal import Decimal

from apps.investigations.controls.geo import Site
from apps.investigations.controls.photos import hamming, photo_findings, reuse_findings
from apps.investigations.evidence import PhotoReuse

from .helpers import SITE, photo, policy

START = dt.datetime(2026, 11, 28, 9, 0, tzinfo=dt.UTC)
END = dt.datetime(2026, 11, 28, 12, 0, tzinfo=dt.UTC)
AT_SITE = Site(SITE[0], SITE[1], "operating_address")
FIVE_KM_NORTH = (SITE[0] + Decimal("0.045"), SITE[1])


def _run(photos, *, site=AT_SITE, answered=(), **overrides):
    return photo_findings(photos=photos, site=site, window_start=START, window_end=END,
                          policy=policy(**overrides), answered_ids=answered)


def codes(findings):
    return sorted(f.code for f in findings)


def test_a_good_photo_raises_nothing():
    assert _run([photo(1)], answered=["1"]) == []


def test_photo_taken_5_km_away_is_r3_with_the_distance():
    [finding] = _run([photo(7, lat=FIVE_KM_NORTH[0], lng=FIVE_KM_NORTH[1],
                            device=FIVE_KM_NORTH)])
    assert finding.code == "PHOTO_OFF_SITE" and finding.severity == "R3"
    assert "5,004 m from the enterprise's operating address (limit 500 m)" in finding.message_en
    assert finding.inputs["distance_m"] == 5004
    assert finding.policies == {"control.photo.site_radius_m": "500"}
    assert "> policy control.photo.site_radius_m = 500 m" in finding.explanation


def test_radius_comes_from_policy():
    far = photo(7, lat=FIVE_KM_NORTH[0], lng=FIVE_KM_NORTH[1], device=FIVE_KM_NORTH)
    assert _run([far], control__photo__site_radius_m=6000) == []


def test_site_from_check_ins_is_named_in_the_finding():
    site = Site(SITE[0], SITE[1], "check_ins")
    [finding] = _run([photo(7, lat=FIVE_KM_NORTH[0], lng=FIVE_KM_NORTH[1],
                            device=FIVE_KM_NORTH)], site=site)
    assert "check-in position (the enterprise has no coordinates on file)" in finding.message_en


def test_capture_time_outside_the_window():
    old = photo(3, taken_at=START - dt.timedelta(days=40))
    late = photo(4, taken_at=END + dt.timedelta(minutes=20))  # inside the 30 min tolerance
    [finding] = _run([old, late])
    assert finding.code == "PHOTO_OUTSIDE_WINDOW" and finding.severity == "R3"
    assert "2026-10-19 09:00 UTC" in finding.message_en
    assert "tolerance of 30 minutes" in finding.explanation
    assert codes(_run([late], control__photo__time_tolerance_minutes=10)) == [
        "PHOTO_OUTSIDE_WINDOW"]


def test_phone_position_disagreeing_with_exif():
    moved = (SITE[0] + Decimal("0.01"), SITE[1])  # ~1.1 km from the EXIF position
    [finding] = _run([photo(5, device=moved)])
    assert finding.code == "PHOTO_DEVICE_MISMATCH" and finding.severity == "R2"
    assert "1,112 m apart (limit 300 m)" in finding.message_en


def test_missing_metadata_is_flagged_and_phone_position_stands_in():
    bare = photo(6, taken_at=None, lat=None, lng=None, device=FIVE_KM_NORTH)
    object.__setattr__(bare, "taken_at", None)
    found = {f.code: f for f in _run([bare])}
    assert set(found) == {"PHOTO_METADATA_MISSING", "PHOTO_OFF_SITE"}
    assert "capture time (EXIF), GPS position (EXIF)" in found["PHOTO_METADATA_MISSING"].message_en
    assert "the phone's position at upload" in found["PHOTO_OFF_SITE"].explanation


def test_unchecked_and_unknown_photos_are_never_a_pass():
    found = _run([photo(8, checked=False)], answered=["8", "99"])
    assert codes(found) == ["PHOTO_NOT_CHECKED", "PHOTO_NOT_ON_FILE"]
    assert all(f.severity == "R2" for f in found)


def test_no_site_reference_is_said():
    assert codes(_run([photo(1)], site=None)) == ["PHOTO_NO_SITE_REFERENCE"]


def test_hamming_distance():
    assert hamming("ffff0000ffff0000", "ffff0000ffff0000") == 0
    assert hamming("ffff0000ffff0000", "ffff0000ffff0003") == 2
    assert hamming("0000000000000000", "ffffffffffffffff") == 64


def test_reuse_in_another_application_names_both_files():
    reuse = [PhotoReuse(document_id=12, other_document_id=7, other_application_id=3,
                        distance=2)]
    [finding] = reuse_findings(photos=[], reuse=reuse, references={3: "APP-2026-00003"},
                               policy=policy())
    assert finding.code == "PHOTO_REUSED" and finding.severity == "R3"
    assert finding.message_en == ("Photo #12 is the same picture as photo #7 of application "
                                  "APP-2026-00003.")
    assert "differ by 2 bits ≤ policy control.photo.phash_max_distance = 6" in (
        finding.explanation)


def test_same_picture_twice_in_one_file():
    twins = [photo(1, phash="ffff0000ffff0000"), photo(2, phash="ffff0000ffff0001"),
             photo(3, phash="0000ffff0000ffff")]
    [finding] = reuse_findings(photos=twins, reuse=[], references={}, policy=policy())
    assert finding.code == "PHOTO_DUPLICATED" and finding.inputs["distance"] == 1
    assert "#1 and #2" in finding.message_en
