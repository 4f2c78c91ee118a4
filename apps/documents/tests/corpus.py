"""Files for the tests, made here so no binary is committed: good files of every format and the
hostile corpus of issue 5."""

import io
import struct
import zipfile
import zlib

from PIL import Image
from pypdf import PdfWriter
from pypdf.generic import DictionaryObject, NameObject, TextStringObject


def jpeg(*, gps: bool = False, size=(64, 48)) -> bytes:
    img = Image.new("RGB", size, (200, 30, 30))
    exif = Image.Exif()
    if gps:
        exif[0x010F] = "Acme"
        exif[0x0132] = "2026:11:01 09:30:00"
        exif.get_ifd(0x8769)[36867] = "2026:11:01 09:30:00"
        exif.get_ifd(0x8825).update({1: "N", 2: (31.0, 14.0, 6.0), 3: "E",
                                     4: (121.0, 28.0, 30.0)})
    out = io.BytesIO()
    img.save(out, "JPEG", exif=exif)
    return out.getvalue()


def png(size=(32, 32)) -> bytes:
    out = io.BytesIO()
    Image.new("RGBA", size, (0, 128, 0, 255)).save(out, "PNG")
    return out.getvalue()


def webp() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (16, 16)).save(out, "WEBP")
    return out.getvalue()


def _pdf(writer: PdfWriter) -> bytes:
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def pdf(pages: int = 1) -> bytes:
    writer = PdfWriter()
    for _ in range(pages):
        writer.add_blank_page(200, 200)
    return _pdf(writer)


def pdf_with_open_action(kind: str) -> bytes:
    """/OpenAction running JavaScript, or launching a program."""
    writer = PdfWriter()
    writer.add_blank_page(200, 200)
    if kind == "javascript":
        action = {NameObject("/S"): NameObject("/JavaScript"),
                  NameObject("/JS"): TextStringObject("app.alert('pwned')")}
    else:
        action = {NameObject("/S"): NameObject("/Launch"),
                  NameObject("/F"): TextStringObject("cmd.exe")}
    writer._root_object[NameObject("/OpenAction")] = writer._add_object(DictionaryObject(action))
    return _pdf(writer)


def pdf_with_attachment() -> bytes:
    writer = PdfWriter()
    writer.add_blank_page(200, 200)
    writer.add_attachment("invoice.exe", b"MZ\x90\x00payload")
    return _pdf(writer)


def pdf_encrypted() -> bytes:
    writer = PdfWriter()
    writer.add_blank_page(200, 200)
    writer.encrypt(user_password="secret", algorithm="RC4-128")
    return _pdf(writer)


def pdf_hex_escaped_javascript() -> bytes:
    """A hand-written PDF naming /J#61vaScript: a byte scan for "/JavaScript" misses it."""
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R /Names << /J#61vaScript 4 0 R >> >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] >>",
        b"<< /Names [(x) 5 0 R] >>",
        b"<< /S /J#61vaScript /J#53 (app.alert(1)) >>",
    ]
    out = io.BytesIO()
    out.write(b"%PDF-1.7\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n" % number + body + b"\nendobj\n")
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
    for offset in offsets:
        out.write(b"%010d 00000 n \n" % offset)
    out.write(b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n"
              % (len(objects) + 1, xref))
    return out.getvalue()


def html_then_pdf() -> bytes:
    return b"<html><body><script>alert(document.cookie)</script></body></html>\n" + pdf()


def _zip(entries: dict[str, bytes], *, compression=zipfile.ZIP_DEFLATED) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=compression) as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    return out.getvalue()


_XML = b'<?xml version="1.0"?>'
XLSX_PARTS = {
    "[Content_Types].xml": _XML + b'<Types xmlns="http://schemas.openxmlformats.org/'
                                  b'package/2006/content-types"/>',
    "_rels/.rels": b'<?xml version="1.0"?><Relationships/>',
    "xl/workbook.xml": _XML + b'<workbook><sheets><sheet name="S" sheetId="1"/></sheets>'
                              b'</workbook>',
    "xl/worksheets/sheet1.xml": b'<?xml version="1.0"?><worksheet><sheetData/></worksheet>',
}


def xlsx(extra: dict[str, bytes] | None = None) -> bytes:
    return _zip({**XLSX_PARTS, **(extra or {})})


def xlsx_zip_bomb(megabytes: int = 16) -> bytes:
    """A workbook whose one sheet inflates ~1000x: from ~16 KB to 16 MB of zeros."""
    return xlsx({"xl/worksheets/sheet1.xml": b"\0" * (megabytes * 1024 * 1024)})


def xlsx_lying_sizes() -> bytes:
    """A bomb whose zip directory claims each part is tiny: the declared sizes cannot be
    trusted, so the guard counts what actually inflates."""
    data = bytearray(xlsx({"xl/worksheets/sheet1.xml": b"A" * (4 * 1024 * 1024)}))
    # Rewrite the uncompressed-size field of every local and central header of that part.
    for signature, size_at, name_len_at, header in ((b"PK\x03\x04", 22, 26, 30),
                                                    (b"PK\x01\x02", 24, 28, 46)):
        start = 0
        while (start := data.find(signature, start)) != -1:
            name_len = struct.unpack_from("<H", data, start + name_len_at)[0]
            name = bytes(data[start + header:start + header + name_len])
            if name == b"xl/worksheets/sheet1.xml":
                struct.pack_into("<I", data, start + size_at, 100)
            start += 4
    return bytes(data)


def xlsx_traversal() -> bytes:
    return xlsx({"../../../../etc/cron.d/evil": b"* * * * * root sh"})


def plain_zip() -> bytes:
    return _zip({"readme.txt": b"hello"})


def jpeg_with_zip() -> bytes:
    """An image that is also a zip archive (a classic polyglot)."""
    return jpeg() + _zip({"payload.html": b"<script>alert(1)</script>"})


def pixel_flood_png(width: int = 100_000, height: int = 100_000) -> bytes:
    """A tiny PNG whose header claims 10 gigapixels."""
    def chunk(kind: bytes, body: bytes) -> bytes:
        return (struct.pack(">I", len(body)) + kind + body
                + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF))
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr)
            + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b""))


def windows_exe() -> bytes:
    return b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + b"\0" * 200 + b"PE\0\0"


def csv_utf8() -> bytes:
    return b"date,counterparty,amount\n2026-10-01,Acme Ltd,1200.50\n2026-10-02,=cmd,-300\n"


def csv_gb18030() -> bytes:
    return "日期,对方户名,金额\n2026-10-01,城北五金店,1200.50\n".encode("gb18030")
