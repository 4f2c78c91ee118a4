"""The pure checks, one hostile input at a time (no database)."""

import itertools

import pytest
from django.test import override_settings

from apps.documents import safety
from apps.documents.safety import UploadRejected
from apps.documents.tests import corpus

ALL = ["pdf", "jpeg", "png", "webp", "xlsx", "csv"]


@pytest.fixture
def work(tmp_path):
    return tmp_path


def run(data: bytes, work, allowed=ALL) -> safety.Inspection:
    spooled = safety.spool([data], max_bytes=10**9, directory=work)
    return safety.inspect(spooled, allowed_formats=allowed, work_dir=work)


def rejected(data: bytes, work, allowed=ALL) -> UploadRejected:
    with pytest.raises(UploadRejected) as info:
        run(data, work, allowed)
    assert info.value.message  # every refusal says why
    return info.value


# --- size ---------------------------------------------------------------------------------------

def test_spool_stops_reading_past_the_limit(work):
    pulled = []

    def endless():
        for n in itertools.count():
            pulled.append(n)
            yield b"x" * 1000

    with pytest.raises(UploadRejected) as info:
        safety.spool(endless(), max_bytes=5000, directory=work)
    assert info.value.code == "too_large"
    assert len(pulled) == 6  # limit + one chunk, never the rest
    assert list(work.iterdir()) == []  # the partial temp file is gone


def test_spool_hashes_and_keeps_exactly_the_limit(work):
    spooled = safety.spool([b"a" * 3000, b"b" * 2000], max_bytes=5000, directory=work)
    assert spooled.size == 5000 and len(spooled.sha256) == 64
    assert spooled.path.stat().st_mode & 0o777 == 0o600


def test_empty_file_refused(work):
    with pytest.raises(UploadRejected, match="empty"):
        safety.spool([b""], max_bytes=10, directory=work)


# --- format by content ---------------------------------------------------------------------------

@pytest.mark.parametrize(("make", "fmt"), [
    (corpus.pdf, "pdf"), (corpus.jpeg, "jpeg"), (corpus.png, "png"), (corpus.webp, "webp"),
    (corpus.xlsx, "xlsx"), (corpus.csv_utf8, "csv"), (corpus.csv_gb18030, "csv"),
])
def test_good_files_pass(work, make, fmt):
    result = run(make(), work)
    assert result.format == fmt and not result.quarantine_reason


def test_exe_named_pdf_is_refused_by_content(work):
    error = rejected(corpus.windows_exe(), work)
    assert error.code == "format_not_allowed" and "Windows program" in error.message


def test_allow_list_per_type(work):
    error = rejected(corpus.png(), work, allowed=["pdf"])
    assert error.code == "format_not_allowed" and "PDF" in error.message


def test_html_refused(work):
    assert rejected(b"<!DOCTYPE html><html><script>x</script>", work).code == "format_not_allowed"


def test_unknown_binary_refused(work):
    assert rejected(b"\x00\x01\x02garbage", work).code == "format_unknown"


# --- polyglots -----------------------------------------------------------------------------------

def test_jpeg_with_appended_zip_is_refused(work):
    assert rejected(corpus.jpeg_with_zip(), work).code == "polyglot"


def test_pdf_with_html_before_it_is_refused(work):
    assert rejected(corpus.html_then_pdf(), work).code == "polyglot"


def test_pdf_with_appended_zip_is_refused(work):
    assert rejected(corpus.pdf() + corpus.plain_zip(), work).code == "polyglot"


# --- images --------------------------------------------------------------------------------------

def test_pixel_flood_refused_before_decoding(work):
    error = rejected(corpus.pixel_flood_png(), work)
    assert error.code == "image_too_large"


@override_settings(DOCUMENTS_MAX_IMAGE_PIXELS=1000)
def test_pixel_limit_comes_from_settings(work):
    assert rejected(corpus.png(size=(40, 40)), work).code == "image_too_large"
    assert run(corpus.png(size=(30, 30)), work).format == "png"


def test_image_is_reencoded_without_trailing_bytes_and_keeps_gps(work):
    data = corpus.jpeg(gps=True) + b"<script>trailing payload</script>"
    result = run(data, work)
    stored = result.path.read_bytes()
    assert b"trailing payload" not in stored and stored.startswith(b"\xff\xd8\xff")
    assert b"Exif" not in stored  # metadata stripped from the stored file…
    assert result.metadata["exif"]["gps"] == {"lat": 31.235, "lon": 121.475}  # …kept here
    assert result.metadata["exif"]["taken_at"] == "2026:11:01 09:30:00"


def test_png_payload_in_text_chunk_dropped(work):
    from PIL import Image, PngImagePlugin

    info = PngImagePlugin.PngInfo()
    info.add_text("Comment", "<?php system($_GET['c']); ?>")
    path = work / "in.png"
    Image.new("RGB", (8, 8)).save(path, "PNG", pnginfo=info)
    result = run(path.read_bytes(), work)
    assert b"php" not in result.path.read_bytes()


def test_truncated_image_refused(work):
    assert rejected(corpus.jpeg()[:200], work).code == "image_corrupt"


# --- PDF -----------------------------------------------------------------------------------------

def test_encrypted_pdf_refused(work):
    assert rejected(corpus.pdf_encrypted(), work).code == "pdf_encrypted"


@pytest.mark.parametrize(("data", "what"), [
    (corpus.pdf_with_open_action("javascript"), "JavaScript"),
    (corpus.pdf_with_open_action("launch"), "launch action"),
    (corpus.pdf_with_attachment(), "embedded files"),
    (corpus.pdf_hex_escaped_javascript(), "JavaScript"),
])
def test_pdf_active_content_is_quarantined(work, data, what):
    result = run(data, work)
    assert what in result.quarantine_reason


@override_settings(DOCUMENTS_PDF_MAX_PAGES=3)
def test_pdf_page_limit(work):
    assert run(corpus.pdf(pages=3), work).metadata == {"pages": 3}
    assert rejected(corpus.pdf(pages=4), work).code == "pdf_too_many_pages"


def test_broken_pdf_refused(work):
    assert rejected(b"%PDF-1.7\nnot really a pdf", work).code == "pdf_corrupt"


# --- xlsx ----------------------------------------------------------------------------------------

def test_zip_bomb_disguised_as_xlsx(work):
    assert rejected(corpus.xlsx_zip_bomb(), work).code == "zip_bomb"


def test_zip_bomb_with_lying_sizes(work):
    assert rejected(corpus.xlsx_lying_sizes(), work).code in {"zip_bomb", "xlsx_corrupt"}


@override_settings(DOCUMENTS_XLSX_MAX_UNCOMPRESSED_BYTES=10_000)
def test_total_uncompressed_limit(work):
    data = corpus.xlsx({"xl/sharedStrings.xml": b"x" * 20_000})
    assert rejected(data, work).code == "zip_bomb"


@override_settings(DOCUMENTS_XLSX_MAX_ENTRIES=5)
def test_entry_count_limit(work):
    data = corpus.xlsx({f"xl/media/{n}.bin": b"." for n in range(5)})
    assert rejected(data, work).code == "zip_bomb"


def test_zip_slip_path_refused(work):
    assert rejected(corpus.xlsx_traversal(), work).code == "zip_path"


def test_plain_zip_is_not_a_workbook(work):
    assert rejected(corpus.plain_zip(), work).code == "format_not_allowed"


def test_macros_refused(work):
    assert rejected(corpus.xlsx({"xl/vbaProject.bin": b"\x00"}), work).code == "xlsx_macros"


# --- csv -----------------------------------------------------------------------------------------

def test_csv_metadata(work):
    assert run(corpus.csv_gb18030(), work).metadata == {
        "encoding": "gb18030", "rows": 2, "columns": 3}


def test_csv_bad_encoding_refused(work):
    assert rejected(b"a,b\n\xff\xfe\xfd\xfc\n", work).code == "csv_encoding"


@override_settings(DOCUMENTS_CSV_MAX_ROWS=2)
def test_csv_row_limit(work):
    assert rejected(b"a\nb\nc\n", work).code == "csv_too_many_rows"


# --- file names ----------------------------------------------------------------------------------

@pytest.mark.parametrize("name", [
    "../../etc/passwd.pdf", "..\\..\\windows\\win.ini.pdf", "/etc/passwd", "C:evil.pdf",
    "reports/q3.pdf", "．．／．．／etc.pdf",  # full-width dots and slash fold to ../
])
def test_path_traversal_names_refused(name):
    with pytest.raises(UploadRejected) as info:
        safety.filename_sanitise(name)
    assert info.value.code == "filename_path"


@pytest.mark.parametrize("name", [
    "lic\x00ence.pdf", "line\nforged.pdf", "tab\there.pdf", "invoice\u202egpj.exe",
    "zero\u200bwidth.pdf",
])
def test_control_and_invisible_characters_refused(name):
    with pytest.raises(UploadRejected) as info:
        safety.filename_sanitise(name)
    assert info.value.code == "filename_control_chars"


@pytest.mark.parametrize(("name", "expected"), [
    ("营业执照.pdf", "营业执照.pdf"),
    ("Cafe\u0301 menu.jpg", "Café menu.jpg"),  # one normal form
    ("  a <b>:c?.pdf. ", "a _b__c_.pdf"),
    ("CON.pdf", "_CON.pdf"),
    ("", "upload"),
])
def test_names_sanitised(name, expected):
    assert safety.filename_sanitise(name) == expected


def test_long_names_keep_their_extension():
    name = safety.filename_sanitise("x" * 500 + ".pdf")
    assert len(name) == 150 and name.endswith(".pdf")
