"""PDF check: text extraction, page count and a basic structure report.

The upload pipeline already refused encrypted, polyglot and oversized PDFs and quarantined
active content; this check reads what a reviewer needs: is there a text layer (a scan has
none, so its figures cannot be cross-checked automatically), who produced it, and whether it
was modified after it was created (an edited bank statement is the classic forgery, §3.3 F1).
"""

import io
import re

from apps.documents.checks import CheckContext, CheckOutcome, flag

VERSION = "pdf-1"
TEXT_PAGES = 50          # pages read for text: enough for the expiry check and a preview
TEXT_KEEP_CHARS = 4000   # kept in the findings; the rest is summarised by counts
_PDF_DATE = re.compile(r"D:(\d{4})(\d{2})?(\d{2})?(\d{2})?(\d{2})?(\d{2})?")


def _pdf_date(value) -> str | None:
    match = _PDF_DATE.match(str(value or ""))
    if not match:
        return None
    year, month, day, hour, minute, second = (g or "00" for g in match.groups())
    month, day = month if month != "00" else "01", day if day != "00" else "01"
    return f"{year}-{month}-{day}T{hour}:{minute}:{second}"


def extract_text(path, *, max_pages: int = TEXT_PAGES) -> tuple[str, int, int]:
    """(text of the first pages, pages, pages with text)."""
    from pypdf import PdfReader

    with open(path, "rb") as f:
        reader = PdfReader(io.BytesIO(f.read()), strict=False)
    pages = len(reader.pages)
    chunks, with_text = [], 0
    for page in reader.pages[:max_pages]:
        text = page.extract_text() or ""
        if text.strip():
            with_text += 1
        chunks.append(text)
    return "\n".join(chunks), pages, with_text


def check_pdf(ctx: CheckContext) -> CheckOutcome:
    from pypdf import PdfReader

    flags: list[dict] = []
    with open(ctx.path, "rb") as f:
        reader = PdfReader(io.BytesIO(f.read()), strict=False)
    pages = len(reader.pages)
    info = reader.metadata or {}
    text, _pages, with_text = extract_text(ctx.path)
    created, modified = _pdf_date(info.get("/CreationDate")), _pdf_date(info.get("/ModDate"))
    fonts: set[str] = set()
    images = 0
    for page in reader.pages[:TEXT_PAGES]:
        resources = page.get("/Resources") or {}
        for font in (resources.get("/Font") or {}).values():
            try:
                fonts.add(str(font.get_object().get("/BaseFont", "")))
            except Exception:  # noqa: BLE001, S112 - a broken font entry is not our finding
                continue
        xobjects = resources.get("/XObject") or {}
        images += sum(1 for x in xobjects.values()
                      if getattr(x.get_object(), "get", lambda *_: None)("/Subtype") == "/Image")
    findings = {
        "pages": pages, "pages_with_text": with_text, "text_chars": len(text),
        "text": text[:TEXT_KEEP_CHARS], "producer": str(info.get("/Producer") or "")[:200],
        "creator": str(info.get("/Creator") or "")[:200], "created": created,
        "modified": modified, "fonts": sorted(f for f in fonts if f)[:30], "images": images,
        "form_fields": len(reader.get_fields() or {}),
    }
    if with_text == 0:
        flags.append(flag("pdf_no_text", severity="info"))
    if created and modified and modified[:10] != created[:10]:
        flags.append(flag("pdf_modified_after_creation", created=created, modified=modified))
    return CheckOutcome.of(findings, flags)
