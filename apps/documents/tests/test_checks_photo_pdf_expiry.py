"""The photo, PDF and expiry checks on generated files (no database)."""

import datetime as dt
import io

from django.utils import timezone
from PIL import Image

from apps.documents import samples
from apps.documents.checks import expiry, pdf, photo
from apps.documents.checks.phash import bands, dhash, hamming, to_signed, to_unsigned
from apps.documents.states import CheckStatus
from apps.documents.tests.conftest import context

SITE = (31.2304, 121.4737)


def _photo_file(tmp_path, name="p.jpg", **kwargs):
    path = tmp_path / name
    path.write_bytes(samples.photo(**kwargs))
    return path


def _metadata(path, device=None):
    """What the upload pipeline keeps: the EXIF it read before re-encoding."""
    from apps.documents.safety import _photo_metadata

    with Image.open(path) as img:
        meta = _photo_metadata(img)
    if device:
        meta["device"] = {"lat": str(device[0]), "lng": str(device[1])}
    return meta


def codes(outcome):
    return {f["code"] for f in outcome.findings["flags"] if f["severity"] != "info"}


def test_photo_on_site_and_on_time_passes(tmp_path):
    now = timezone.now()
    taken = timezone.localtime(now - dt.timedelta(hours=2)).replace(tzinfo=None)
    path = _photo_file(tmp_path, seed=1, lat=SITE[0] + 0.001, lng=SITE[1], taken_at=taken)
    outcome = photo.check_photo(context(path, "jpeg", metadata=_metadata(
        path, device=(SITE[0] + 0.0012, SITE[1])), uploaded_at=now, site=SITE))
    assert outcome.status == CheckStatus.PASSED, outcome.findings["flags"]
    assert 100 <= outcome.findings["site_distance_m"] <= 120  # 0.001 degree of latitude
    assert outcome.findings["device_distance_m"] < 30
    assert len(outcome.findings["phash"]) == 16


def test_photo_taken_elsewhere_and_long_ago_needs_attention(tmp_path):
    now = timezone.now()
    taken = timezone.localtime(now - dt.timedelta(days=30)).replace(tzinfo=None)
    # 2 km north of the site; the phone at upload was at the site.
    path = _photo_file(tmp_path, seed=2, lat=SITE[0] + 0.018, lng=SITE[1], taken_at=taken)
    outcome = photo.check_photo(context(path, "jpeg", metadata=_metadata(path, device=SITE),
                                        uploaded_at=now, site=SITE))
    assert outcome.status == CheckStatus.ATTENTION
    assert codes(outcome) == {"photo_time_mismatch", "photo_far_from_device",
                              "photo_outside_geofence"}


def test_photo_without_metadata_is_not_a_pass(tmp_path):
    path = _photo_file(tmp_path, seed=3)
    outcome = photo.check_photo(context(path, "jpeg", metadata=_metadata(path), site=SITE))
    assert codes(outcome) == {"photo_no_capture_time", "photo_no_gps"}


def test_dhash_survives_reencoding_and_tells_photos_apart(tmp_path):
    original = _photo_file(tmp_path, "a.jpg", seed=4, size=(480, 360))
    with Image.open(original) as img:
        out = io.BytesIO()
        img.resize((240, 180)).save(out, "JPEG", quality=60)  # what a re-shared copy looks like
    copy = tmp_path / "b.jpg"
    copy.write_bytes(out.getvalue())
    other = _photo_file(tmp_path, "c.jpg", seed=5, size=(480, 360))
    assert hamming(dhash(original), dhash(copy)) <= 3
    assert hamming(dhash(original), dhash(other)) > 12


def test_hash_integer_round_trip_and_bands():
    value = 0xFEDCBA9876543210
    assert to_signed(value) < 0 and to_unsigned(to_signed(value)) == value
    assert bands(value) == (0xFEDC, 0xBA98, 0x7654, 0x3210)
    assert bands(to_signed(value)) == bands(value)


def test_pdf_text_structure_and_edit_dates(tmp_path):
    path = tmp_path / "l.pdf"
    path.write_bytes(samples.pdf(["Business licence", "Unified code 91310000MA1K000000",
                                  "Valid until 2030-06-30"]))
    outcome = pdf.check_pdf(context(path, "pdf"))
    assert outcome.status == CheckStatus.PASSED
    f = outcome.findings
    assert f["pages"] == 1 and f["pages_with_text"] == 1
    assert "91310000MA1K000000" in f["text"] and "Helvetica" in f["fonts"][0]

    blank = tmp_path / "b.pdf"
    from apps.documents.tests import corpus

    blank.write_bytes(corpus.pdf(pages=2))
    outcome = pdf.check_pdf(context(blank, "pdf"))
    # A scan (no text layer) is recorded, not flagged: licences are scanned.
    assert outcome.status == CheckStatus.PASSED
    assert [f["code"] for f in outcome.findings["flags"]] == ["pdf_no_text"]


def test_expiry_from_entry_print_or_validity_period(tmp_path):
    today = dt.date(2026, 11, 28)
    scan = tmp_path / "s.pdf"
    scan.write_bytes(samples.pdf(["Guarantee letter", "Valid until 2026-12-10"]))
    printed = expiry.check_expiry(context(scan, "pdf", today=today))
    assert printed.findings["source"] == "printed"
    assert printed.findings["expires_on"] == "2026-12-10"
    assert printed.status == CheckStatus.PASSED  # expiring soon is a note
    assert [f["code"] for f in printed.findings["flags"]] == ["expires_soon"]

    entered = expiry.check_expiry(context(scan, "pdf", today=today,
                                          valid_until=dt.date(2026, 11, 1)))
    assert entered.status == CheckStatus.FAILED and entered.findings["source"] == "entered"

    csv_path = tmp_path / "x.csv"
    csv_path.write_text("a,b\n")
    uploaded = timezone.make_aware(dt.datetime(2026, 6, 1, 10))
    period = expiry.check_expiry(context(csv_path, "csv", today=today, validity_days=90,
                                         uploaded_at=uploaded))
    assert period.findings["expires_on"] == "2026-08-30"
    assert period.status == CheckStatus.FAILED


def test_printed_validity_in_chinese():
    assert expiry.printed_validity("营业期限 有效期至 2031年1月9日") == dt.date(2031, 1, 9)
    assert expiry.printed_validity("no date here") is None
