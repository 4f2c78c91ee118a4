"""What the dossier shows of an investigation's findings: sentences in the reader's language,
the most severe first, and one line per finding however many times it fired (a photo control
fires once per photo; seven identical lines hide the one that matters)."""

from django.utils.translation import gettext as _

from apps.investigations.models import Severity
from apps.investigations.selectors import finding_payload

_RANK = {Severity.R3: 0, Severity.R2: 1, Severity.R1: 2}


def findings_for_reader(findings) -> list[dict]:
    """Stored red flags or cross-check results as rows of `message`, `severity`,
    `severity_label`, `code`, `items` (the checklist items concerned) and `count`."""
    grouped: dict[tuple, dict] = {}
    for raw in findings or []:
        if not isinstance(raw, dict):
            continue
        finding = finding_payload(raw)
        code = finding.get("code") or ""
        message = finding.get("message") or _("A check of this file did not pass (%(code)s).") % {
            "code": code}
        key = (finding.get("severity"), code, message)
        row = grouped.get(key)
        if row is None:
            severity = finding.get("severity")
            grouped[key] = row = {
                "message": message, "code": code, "severity": severity,
                "severity_label": Severity(severity).label if severity in Severity.values
                else "",
                "explanation": finding.get("explanation") or "", "items": [], "count": 0}
        row["count"] += 1
        item = finding.get("item")
        if item and item not in row["items"]:
            row["items"].append(item)
    return sorted(grouped.values(), key=lambda r: (_RANK.get(r["severity"], 3), r["code"]))
