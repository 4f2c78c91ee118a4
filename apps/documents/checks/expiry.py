"""Expiry and validity (domain reference §3.5: documents carry an expiry date for
re-collection). The date is, in order: what the uploader entered; a validity date printed in
the PDF's text ("有效期至 2027年6月30日", "valid until 2027-06-30"); else the upload date plus
the validity period of the requirement or type. Expired fails; expiring soon is noted.
"""

import datetime as dt
import re

from django.utils import timezone

from apps.documents.checks import CheckContext, CheckOutcome, flag, policy_or_flag

VERSION = "expiry-1"

_PRINTED = re.compile(
    r"(?:有效期(?:至|限至|截止)|有效日期至|valid\s+(?:until|through|thru)|expir(?:y|es)"
    r"(?:\s+date)?)\s*[:：]?\s*(\d{4})\s*[年\-/.]\s*(\d{1,2})\s*[月\-/.]\s*(\d{1,2})",
    re.IGNORECASE)


def printed_validity(text: str) -> dt.date | None:
    """The latest validity date printed in the text (a licence may print several dates)."""
    found = []
    for year, month, day in _PRINTED.findall(text or ""):
        try:
            found.append(dt.date(int(year), int(month), int(day)))
        except ValueError:
            continue
    return max(found) if found else None


def check_expiry(ctx: CheckContext) -> CheckOutcome:
    flags: list[dict] = []
    today = ctx.today or timezone.localdate()
    source, expires_on = None, None
    if ctx.valid_until:
        source, expires_on = "entered", ctx.valid_until
    elif ctx.format == "pdf":
        from apps.documents.checks.pdf import extract_text

        text, _pages, _with_text = extract_text(ctx.path)
        if (printed := printed_validity(text)) is not None:
            source, expires_on = "printed", printed
    if expires_on is None and ctx.validity_days:
        uploaded = timezone.localdate(ctx.uploaded_at)
        source, expires_on = "validity_period", uploaded + dt.timedelta(days=ctx.validity_days)
    findings = {"expires_on": expires_on.isoformat() if expires_on else None, "source": source}
    if expires_on is None:
        # Not an expiring document and no date given: nothing to hold it to.
        return CheckOutcome.of(findings, [flag("no_expiry", severity="info")])
    days_left = (expires_on - today).days
    findings["days_left"] = days_left
    if days_left < 0:
        return CheckOutcome.of(findings, [flag("expired", expires_on=expires_on)], fail=True)
    soon = policy_or_flag(ctx, "documents.reminder_days", flags)
    if soon is not None and days_left <= int(soon):
        flags.append(flag("expires_soon", expires_on=expires_on, days=days_left,
                          severity="info"))
    return CheckOutcome.of(findings, flags)
