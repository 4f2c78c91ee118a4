"""Upload safety: every uploaded file is hostile until these functions say otherwise.

Rules followed (OWASP File Upload Cheat Sheet unless named otherwise):
- the type is decided by content (magic bytes), never by the extension or the client's MIME type
  ("Content-Type Validation", "File Signature Validation"), and checked against an allow-list
  per document type ("List Allowed Extensions");
- the size limit is enforced while streaming to a private temporary file, before anything is
  stored ("File Size Limits");
- the client's filename is metadata only; hostile names are refused and the others sanitised
  ("Filename Sanitization");
- images are opened only as the allowed formats, under an explicit decompression-bomb limit,
  and re-encoded, which drops trailing payloads and polyglots ("Image Rewriting");
- PDFs: encrypted files, too many pages and polyglots are refused; active content (JavaScript,
  launch actions, embedded files) is quarantined (CISA/NSA guidance on PDF active content);
- xlsx: the zip container is inspected with zip-bomb and path guards before any parser sees it
  (OWASP "Zip Bomb", CWE-409; "Zip Slip", CWE-22);
- csv: decoded strictly (UTF-8 or GB18030, as Chinese bank exports use), with row limits.

Each check raises `UploadRejected(code, message)`: the code is stable (tests, audit), the
message is shown to the person uploading. Functions here do no database work; the service in
`services.py` runs them on a temporary file and stores only what passed.
"""

import csv
import hashlib
import io
import os
import re
import tempfile
import unicodedata
import warnings
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from django.conf import settings
from django.utils.translation import gettext as _

from apps.documents.states import CONTENT_TYPES, EXTENSIONS, IMAGE_FORMATS, DocumentFormat

F = DocumentFormat

# Defaults, each overridable by a DOCUMENTS_* setting of the same name.
DEFAULTS = {
    # 40 megapixels covers any phone photo; a 100000x100000 "pixel flood" is 10,000 MP.
    "MAX_IMAGE_PIXELS": 40_000_000,
    "PDF_MAX_PAGES": 300,
    "PDF_MAX_OBJECTS": 200_000,
    "XLSX_MAX_ENTRIES": 2_000,
    "XLSX_MAX_UNCOMPRESSED_BYTES": 200 * 1024 * 1024,
    # Real xlsx parts compress ~5-20x; zip bombs reach 1000x and more.
    "XLSX_MAX_RATIO": 100,
    "CSV_MAX_ROWS": 200_000,
    "CSV_MAX_COLUMNS": 200,
    "FILENAME_MAX_LENGTH": 150,
}
CHUNK = 64 * 1024


def limit(name: str) -> int:
    """A safety limit from settings (`DOCUMENTS_<name>`) or its default."""
    return getattr(settings, f"DOCUMENTS_{name}", DEFAULTS[name])


class UploadRejected(Exception):
    """The upload is refused; nothing of it is kept. `code` is stable, `message` for people."""

    def __init__(self, code: str, message: str):
        self.code, self.message = code, str(message)
        super().__init__(f"{code}: {self.message}")


@dataclass
class Spooled:
    """An upload copied to a private temporary file, with its size and digest."""

    path: Path
    size: int
    sha256: str


@dataclass
class Inspection:
    """What the pipeline learnt: the format, the file to store (re-encoded for images) and
    metadata for the checks. `quarantine_reason` set means "keep, but never serve"."""

    format: str
    path: Path
    metadata: dict = field(default_factory=dict)
    quarantine_reason: str = ""

    @property
    def content_type(self) -> str:
        return CONTENT_TYPES[self.format]

    @property
    def extension(self) -> str:
        return EXTENSIONS[self.format]


# --- size: enforced while streaming -----------------------------------------------------------

def spool(chunks: Iterable[bytes], *, max_bytes: int, directory: str | Path) -> Spooled:
    """Copy an upload to a new temporary file in `directory`, hashing as it goes, and stop as
    soon as it exceeds `max_bytes` (we read at most max_bytes + one chunk, never the rest).

    The temporary file is created with mode 0600 and a random name, and removed on refusal.
    """
    fd, name = tempfile.mkstemp(dir=directory, prefix="upload-", suffix=".part")
    path, digest, size = Path(name), hashlib.sha256(), 0
    try:
        with os.fdopen(fd, "wb") as out:
            for chunk in chunks:
                size += len(chunk)
                if size > max_bytes:
                    raise UploadRejected("too_large", _(
                        "The file is larger than the %(limit)s allowed for this document type."
                    ) % {"limit": human_size(max_bytes)})
                digest.update(chunk)
                out.write(chunk)
        if size == 0:
            raise UploadRejected("empty", _("The file is empty."))
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return Spooled(path=path, size=size, sha256=digest.hexdigest())


def human_size(n: int) -> str:
    for unit in ("bytes", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:g} {unit}" if unit == "bytes" else f"{n:.1f} {unit}".replace(".0 ", " ")
        n /= 1024
    return str(n)  # pragma: no cover


# --- file names: metadata only ----------------------------------------------------------------

_WINDOWS_RESERVED = {"con", "prn", "aux", "nul", *(f"com{i}" for i in range(1, 10)),
                     *(f"lpt{i}" for i in range(1, 10))}
_UNSAFE_CHARS = re.compile(r'[<>:"|?*\x00-\x1f\x7f]')


def filename_sanitise(name: str) -> str:
    """The client's file name, kept only as display metadata (the stored file gets a uuid).

    Refused: path components or traversal ("../", "a/b", "C:\\x"), control and invisible
    format characters (NUL, newlines that forge log lines, right-to-left overrides that show
    "exe.pdf" as "fdp.exe"). Then NFC-normalised (one spelling per name), reserved characters
    replaced, and shortened to the limit keeping the extension.
    """
    name = unicodedata.normalize("NFC", name or "")
    if any(unicodedata.category(ch) in {"Cc", "Cf", "Cs", "Co", "Cn"} for ch in name):
        raise UploadRejected("filename_control_chars", _(
            "The file name contains control or invisible characters; rename the file."))
    if "/" in name or "\\" in name or name.strip() in {".", ".."} or re.match(r"^[A-Za-z]:", name):
        raise UploadRejected("filename_path", _(
            "The file name contains a folder path; upload the file under its plain name."))
    name = unicodedata.normalize("NFKC", name)  # full-width ／ and ． fold to / and . here
    if "/" in name or "\\" in name or ".." in PurePosixPath(name).parts:
        raise UploadRejected("filename_path", _(
            "The file name contains a folder path; upload the file under its plain name."))
    name = _UNSAFE_CHARS.sub("_", name)
    name = re.sub(r"\s+", " ", name).strip(" .")
    stem, dot, ext = name.rpartition(".")
    if not dot:
        stem, ext = name, ""
    if stem.lower() in _WINDOWS_RESERVED:
        stem = f"_{stem}"
    ext = ext[:10]
    room = limit("FILENAME_MAX_LENGTH") - (len(ext) + 1 if ext else 0)
    stem = stem[:max(room, 1)] or "upload"
    return f"{stem}.{ext}" if ext else stem


# --- format by content ------------------------------------------------------------------------

# Recognised only to name them in the refusal; none is ever accepted.
_KNOWN_REFUSED = [
    (b"MZ", _("a Windows program")),
    (b"\x7fELF", _("a Linux program")),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", _("a legacy or password-protected Office file")),
    (b"GIF8", _("a GIF image")),
    (b"Rar!", _("a RAR archive")),
    (b"7z\xbc\xaf\x27\x1c", _("a 7-Zip archive")),
    (b"\x1f\x8b", _("a gzip archive")),
    (b"II*\x00", _("a TIFF image")),
    (b"MM\x00*", _("a TIFF image")),
]
_MARKUP = re.compile(rb"<\s*(!doctype|html|script|svg|iframe|body|\?xml)", re.IGNORECASE)


def detect_format(path: Path) -> str:
    """The format from the first bytes of the content. Extension and client MIME type are not
    consulted at all, so an .exe renamed .pdf is still an executable."""
    with open(path, "rb") as f:
        head = f.read(4096)
    if head.startswith(b"%PDF-"):
        return F.PDF
    if head.startswith(b"\xff\xd8\xff"):
        return F.JPEG
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return F.PNG
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return F.WEBP
    if head.startswith(b"PK\x03\x04"):
        return F.XLSX  # a zip; `xlsx_inspect` proves it is a workbook, not any archive
    if b"%PDF-" in head[:1024]:
        # Readers find %PDF- anywhere in the first 1 KB, browsers sniff what comes before it.
        raise UploadRejected("polyglot", _(
            "The file has other content before its PDF header (a disguised file); "
            "export or scan the document again."))
    for magic, label in _KNOWN_REFUSED:
        if head.startswith(magic):
            raise UploadRejected("format_not_allowed", _(
                "The file is %(what)s, which is not accepted.") % {"what": label})
    if _MARKUP.search(head[:512]):
        raise UploadRejected("format_not_allowed", _(
            "The file is a web page or markup, which is not accepted."))
    if b"\x00" in head:
        raise UploadRejected("format_unknown", _("The file's format was not recognised."))
    return F.CSV  # text; `csv_inspect` proves it decodes and parses


def check_allowed(fmt: str, allowed: Iterable[str]) -> None:
    """The document type's allow-list, applied to the detected format."""
    allowed = list(allowed)
    if fmt not in allowed:
        names = ", ".join(str(F(a).label) for a in allowed if a in F.values)
        raise UploadRejected("format_not_allowed", _(
            "This document type accepts %(allowed)s; the file is %(found)s."
        ) % {"allowed": names, "found": F(fmt).label})


def _reject_appended_zip(path: Path, what: str) -> None:
    """A zip directory at the end of a non-zip file is a polyglot (an image or PDF that is also
    an archive): refused outright rather than trusting every later reader to ignore it."""
    if zipfile.is_zipfile(path):
        raise UploadRejected("polyglot", _(
            "The %(what)s has an archive hidden inside it; export or scan it again."
        ) % {"what": what})


# --- images ------------------------------------------------------------------------------------

_PIL_FORMATS = {F.JPEG: "JPEG", F.PNG: "PNG", F.WEBP: "WEBP"}


def image_process(path: Path, fmt: str, *, out_dir: Path) -> Inspection:
    """Open the image as its detected format only, refuse pixel floods before decoding, keep
    the photo metadata the checks need, and re-encode it to a new file.

    Pillow's `MAX_IMAGE_PIXELS` is set from DOCUMENTS_MAX_IMAGE_PIXELS and its warning turned
    into an error; the size is also checked from the header before any pixel is decoded.
    """
    from PIL import Image, ImageOps, UnidentifiedImageError

    _reject_appended_zip(path, _("image"))
    max_pixels = limit("MAX_IMAGE_PIXELS")
    # Process-wide in Pillow; set on every call so a changed setting (or another module's
    # change) never leaves the default of ~89 MP or None (no limit) in force here.
    Image.MAX_IMAGE_PIXELS = max_pixels
    too_big = UploadRejected("image_too_large", _(
        "The image has more pixels than allowed (%(limit)s megapixels); resize it."
    ) % {"limit": f"{max_pixels / 1e6:g}"})
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(path, formats=[_PIL_FORMATS[fmt]]) as img:
                width, height = img.size
                if width * height > max_pixels:
                    raise too_big
                metadata = {"width": width, "height": height, **_photo_metadata(img)}
                img.load()
                img = ImageOps.exif_transpose(img)  # keep what people saw once EXIF is gone
                out = out_dir / f"reencoded.{EXTENSIONS[fmt]}"
                _save_clean(img, out, fmt)
    except UploadRejected:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise too_big from exc
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError, EOFError) as exc:
        raise UploadRejected("image_corrupt", _(
            "The image could not be read; it may be damaged or not really an image.")) from exc
    return Inspection(format=fmt, path=out, metadata=metadata)


def _save_clean(img, out: Path, fmt: str) -> None:
    """Write pixels only: no EXIF, ICC aside, comments or trailing bytes survive."""
    if fmt == F.JPEG:
        if img.mode not in {"RGB", "L", "CMYK"}:
            img = img.convert("RGB")
        img.save(out, "JPEG", quality=92, optimize=True)
    elif fmt == F.PNG:
        if img.mode not in {"RGB", "RGBA", "L", "LA", "P", "1", "I", "I;16"}:
            img = img.convert("RGBA")
        img.save(out, "PNG", optimize=False)
    else:
        img.save(out, "WEBP", quality=92)


def _photo_metadata(img) -> dict:
    """Capture time and GPS from EXIF, read before re-encoding strips them: the site-visit
    checks compare them with the upload time and the operating address."""
    exif = img.getexif()
    if not exif:
        return {}
    found: dict = {}
    exif_ifd = exif.get_ifd(0x8769)
    taken = exif_ifd.get(36867) or exif.get(306)  # DateTimeOriginal, else DateTime
    if taken:
        found["taken_at"] = str(taken).strip("\x00 ")[:32]
    for tag, key in ((271, "camera_make"), (272, "camera_model")):
        if exif.get(tag):
            found[key] = str(exif[tag]).strip("\x00 ")[:64]
    gps = exif.get_ifd(0x8825)
    lat, lon = _gps_degrees(gps.get(2), gps.get(1)), _gps_degrees(gps.get(4), gps.get(3))
    if lat is not None and lon is not None:
        found["gps"] = {"lat": round(lat, 7), "lon": round(lon, 7)}
    return {"exif": found} if found else {}


def _gps_degrees(value, ref) -> float | None:
    try:
        degrees, minutes, seconds = (float(v) for v in value)
    except (TypeError, ValueError, ZeroDivisionError):
        return None
    result = degrees + minutes / 60 + seconds / 3600
    return -result if str(ref).upper().startswith(("S", "W")) else result


# --- PDF ----------------------------------------------------------------------------------------

# Name tokens of active content; PDF names may hide letters as #xx, so names are decoded first.
_ACTIVE_NAMES = {
    "/JavaScript": _("JavaScript"), "/JS": _("JavaScript"), "/Launch": _("a launch action"),
    "/EmbeddedFile": _("embedded files"), "/EmbeddedFiles": _("embedded files"),
    "/RichMedia": _("rich media"), "/XFA": _("an XFA form"),
}
_PDF_NAME = re.compile(rb"/[^\s/\[\]<>(){}%]+")


def pdf_inspect(path: Path) -> Inspection:
    """Refuse polyglots, encrypted PDFs and too many pages; quarantine active content.

    Active content is looked for twice: in the raw bytes (names decoded from #xx escapes)
    and in every object pypdf resolves, including those inside compressed object streams,
    which a byte scan cannot see.
    """
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    _reject_appended_zip(path, _("PDF"))
    with open(path, "rb") as f:
        raw = f.read()
    if _MARKUP.search(raw[:2048]) or _MARKUP.search(raw[-2048:]):
        raise UploadRejected("polyglot", _(
            "The PDF also contains a web page (a disguised file); export or scan it again."))
    findings = {str(label) for name, label in _ACTIVE_NAMES.items() if name in _raw_names(raw)}
    try:
        reader = PdfReader(io.BytesIO(raw), strict=False)
        if reader.is_encrypted:
            raise UploadRejected("pdf_encrypted", _(
                "The PDF is encrypted or password-protected; upload an unprotected copy."))
        pages = len(reader.pages)
        findings |= _structural_findings(reader)
    except UploadRejected:
        raise
    except (PdfReadError, ValueError, KeyError, TypeError, AttributeError, RecursionError,
            OSError) as exc:
        raise UploadRejected("pdf_corrupt", _(
            "The PDF could not be read; it may be damaged.")) from exc
    max_pages = limit("PDF_MAX_PAGES")
    if pages > max_pages:
        raise UploadRejected("pdf_too_many_pages", _(
            "The PDF has %(pages)s pages; at most %(limit)s are accepted."
        ) % {"pages": pages, "limit": max_pages})
    if pages == 0:
        raise UploadRejected("pdf_corrupt", _("The PDF has no pages."))
    reason = ""
    if findings:
        reason = _("The PDF contains active content (%(what)s); it is kept for review but "
                   "cannot be downloaded.") % {"what": ", ".join(sorted(findings))}
    return Inspection(format=F.PDF, path=path, metadata={"pages": pages},
                      quarantine_reason=reason)


def _raw_names(raw: bytes) -> set[str]:
    names = set()
    for match in _PDF_NAME.finditer(raw):
        token = match.group()
        if b"#" in token:
            token = re.sub(rb"#([0-9A-Fa-f]{2})", lambda m: bytes([int(m.group(1), 16)]), token)
        names.add(token.decode("latin-1"))
    return names


def _structural_findings(reader) -> set[str]:
    """Every indirect object, looking for active-content keys and action types."""
    from pypdf.generic import DictionaryObject, IndirectObject, StreamObject

    ids = set()
    for generation, objects in reader.xref.items():
        ids.update((idnum, generation) for idnum in objects)
    ids.update((idnum, 0) for idnum in reader.xref_objStm)
    if len(ids) > limit("PDF_MAX_OBJECTS"):
        raise UploadRejected("pdf_too_complex", _("The PDF has too many objects."))
    findings: set[str] = set()
    for idnum, generation in ids:
        try:
            obj = reader.get_object(IndirectObject(idnum, generation, reader))
        except Exception:  # noqa: BLE001, S112 - one unreadable object must not hide the rest
            continue
        if not isinstance(obj, DictionaryObject | StreamObject):
            continue
        keys = set(obj.keys())
        for key in keys & set(_ACTIVE_NAMES):
            findings.add(str(_ACTIVE_NAMES[key]))
        action = obj.get("/S")
        if action in {"/JavaScript", "/Launch"}:
            findings.add(str(_ACTIVE_NAMES[str(action)]))
        if "/EF" in keys or obj.get("/Type") == "/EmbeddedFile":  # file spec or its stream
            findings.add(str(_ACTIVE_NAMES["/EmbeddedFile"]))
    return findings


# --- xlsx ---------------------------------------------------------------------------------------

def xlsx_inspect(path: Path) -> Inspection:
    """Prove a zip is an Excel workbook and not a bomb, before any spreadsheet parser opens it.

    Guards: entry count; no absolute, drive or `..` paths (zip slip); no encrypted entries;
    no macros; per-entry compression ratio; and the total size actually decompressed (the sizes
    in the zip directory can lie, so entries are inflated in chunks and counted).
    """
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise UploadRejected("xlsx_corrupt", _("The workbook could not be opened.")) from exc
    with archive:
        entries = archive.infolist()
        if len(entries) > limit("XLSX_MAX_ENTRIES"):
            raise UploadRejected("zip_bomb", _("The workbook has too many parts."))
        names = set()
        for entry in entries:
            name = entry.filename
            parts = PurePosixPath(name.replace("\\", "/")).parts
            if name.startswith(("/", "\\")) or re.match(r"^[A-Za-z]:", name) or ".." in parts \
                    or "\x00" in name:
                raise UploadRejected("zip_path", _(
                    "The workbook contains a part with an unsafe path."))
            if entry.flag_bits & 0x1:
                raise UploadRejected("xlsx_encrypted", _("The workbook is encrypted."))
            names.add(name)
        if "[Content_Types].xml" not in names or "xl/workbook.xml" not in names:
            raise UploadRejected("format_not_allowed", _(
                "The file is a zip archive, not an Excel workbook."))
        if any(n.lower().endswith("vbaproject.bin") for n in names):
            raise UploadRejected("xlsx_macros", _(
                "The workbook contains macros; save it as a plain .xlsx."))
        _inflate_with_limits(archive, entries)
    return Inspection(format=F.XLSX, path=path, metadata={"parts": len(entries)})


def _inflate_with_limits(archive: zipfile.ZipFile, entries) -> None:
    bomb = UploadRejected("zip_bomb", _(
        "The workbook expands to far more data than it holds (a zip bomb)."))
    max_total, max_ratio = limit("XLSX_MAX_UNCOMPRESSED_BYTES"), limit("XLSX_MAX_RATIO")
    total = 0
    for entry in entries:
        declared = entry.file_size
        if declared > max_total or total + declared > max_total:
            raise bomb
        # Tiny parts compress oddly well; the ratio only means something past 1 MB.
        if declared > 1024 * 1024 and declared > max_ratio * max(entry.compress_size, 1):
            raise bomb
        inflated = 0
        try:
            with archive.open(entry) as member:
                while chunk := member.read(CHUNK):
                    inflated += len(chunk)
                    if inflated > declared or total + inflated > max_total:
                        raise bomb
        except (zipfile.BadZipFile, OSError, EOFError, NotImplementedError) as exc:
            raise UploadRejected("xlsx_corrupt", _("The workbook is damaged.")) from exc
        total += inflated


# --- csv ----------------------------------------------------------------------------------------

def csv_inspect(path: Path) -> Inspection:
    """Decode strictly (UTF-8, else GB18030, the encoding of Chinese bank exports) and parse
    within row and column limits. Cells are kept as data: anyone re-exporting them must escape
    formula starts (`csv_cell`, CONVENTIONS §5)."""
    raw = path.read_bytes()
    encoding = "utf-8"
    if raw.startswith(b"\xef\xbb\xbf"):
        raw, encoding = raw[3:], "utf-8-sig"
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        try:
            text, encoding = raw.decode("gb18030"), "gb18030"
        except UnicodeDecodeError as exc:
            raise UploadRejected("csv_encoding", _(
                "The CSV file is not valid UTF-8 or GB18030 text.")) from exc
    if "\x00" in text:
        raise UploadRejected("format_unknown", _("The file's format was not recognised."))
    max_rows, max_columns = limit("CSV_MAX_ROWS"), limit("CSV_MAX_COLUMNS")
    rows = columns = 0
    try:
        for row in csv.reader(io.StringIO(text, newline="")):
            rows += 1
            columns = max(columns, len(row))
            if rows > max_rows:
                raise UploadRejected("csv_too_many_rows", _(
                    "The CSV file has more than %(limit)s rows.") % {"limit": max_rows})
            if len(row) > max_columns:
                raise UploadRejected("csv_too_many_columns", _(
                    "The CSV file has more than %(limit)s columns.") % {"limit": max_columns})
    except csv.Error as exc:
        raise UploadRejected("csv_malformed", _("The CSV file could not be parsed.")) from exc
    return Inspection(format=F.CSV, path=path,
                      metadata={"encoding": encoding, "rows": rows, "columns": columns})


# --- the pipeline -------------------------------------------------------------------------------

def inspect(spooled: Spooled, *, allowed_formats: Iterable[str], work_dir: Path) -> Inspection:
    """Format by content → allow-list → the format's own checks. Returns what to store."""
    fmt = detect_format(spooled.path)
    check_allowed(fmt, allowed_formats)
    if fmt in IMAGE_FORMATS:
        return image_process(spooled.path, fmt, out_dir=work_dir)
    if fmt == F.PDF:
        return pdf_inspect(spooled.path)
    if fmt == F.XLSX:
        return xlsx_inspect(spooled.path)
    return csv_inspect(spooled.path)
