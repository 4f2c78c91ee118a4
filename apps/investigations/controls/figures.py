"""Declared figures that no verified record checked (issue 19).

A cross-check compares what the officer declared (sales, VAT sales, inflows) with figures
parsed from documents. When the document is there but could not be read — a layout no profile
knows and nobody confirmed, a spreadsheet that would not open, a running balance that does not
add up — the figure is unknown and the cross-check used to skip without a word. This control
says so instead: for each cross-check with declared inputs, the records it needed and why each
did not verify, as a cross-check finding the reviewer sees beside the others. It also fires
when some records of a kind verified and others did not: the figure is then partial. With no
record of the kind at all it stays silent: asking for a required document is the checklist
gate's business (§3.5), as a missing answer is the submission gate's.
"""

from __future__ import annotations

import re

from django.utils.translation import gettext_lazy as _

from apps.investigations import expressions as ex
from apps.investigations.controls.messages import control_finding, joined
from apps.investigations.controls.policies import ControlNotConfigured, severity
from apps.investigations.evidence import evidence_source, figures_for
from apps.investigations.rules import Finding

_EVIDENCE = re.compile(r"""evidence\(\s*["']([a-z_]+)\.([a-z0-9_]+)["']\s*\)""")
_FALLBACK = "R2"

RECORD_NAMES = {"bank": _("bank statement"), "tax": _("tax record"),
                "utility": _("utility record")}
REASONS = {
    "unconfirmed_mapping": _("its columns were not recognised and nobody has confirmed them"),
    "unreadable": _("it could not be read"),
    "balance_discontinuity": _("its running balance does not add up"),
    "meter_discontinuity": _("its meter readings do not add up"),
    "tax_inconsistent": _("its tax does not follow from its sales (rate or totals)"),
    "no_transactions": _("no transactions were found in it"),
    "pending": _("its checks have not finished"),
    "not_tabular": _("it is not a spreadsheet export"),
}


class _Reason:
    """One record's reason, rendered in the language the finding is being rendered in."""

    def __init__(self, record_id, prefix, reason):
        self.record_id, self.prefix, self.reason = record_id, prefix, reason

    def __str__(self) -> str:
        return str(_("%(record)s %(id)s: %(why)s") % {
            "record": RECORD_NAMES.get(self.prefix, self.prefix), "id": self.record_id,
            "why": REASONS.get(self.reason, self.reason)})


class _NoRecord:
    def __init__(self, prefix):
        self.prefix = prefix

    def __str__(self) -> str:
        return str(_("no %(record)s was verified") % {
            "record": RECORD_NAMES.get(self.prefix, self.prefix)})


def unverified_figure_findings(template: dict, values: dict, application_id: int,
                               *, policy) -> list[Finding]:
    checks = [c for c in template.get("cross_checks") or []
              if _EVIDENCE.search(c.get("expression", ""))]
    if not checks:
        return []
    source = evidence_source()
    statuses = (source.record_status(application_id)
                if source is not None and hasattr(source, "record_status") else {})
    figures = figures_for(application_id)
    try:
        level = severity(policy, "control.figures.unverified.severity")
    except ControlNotConfigured:
        level = _FALLBACK
    findings = []
    for check in checks:
        declared = sorted(code for code in ex.compile_rule(check["expression"]).references
                          if values.get(code) not in (None, ""))
        if not declared:
            continue  # nothing declared: the gate asks for the answer, not this control
        keys = [f"{p}.{n}" for p, n in _EVIDENCE.findall(check["expression"])]
        reasons: list = []
        missing_keys = []
        for key in keys:
            prefix = key.split(".", 1)[0]
            records = statuses.get(prefix, [])
            bad = [r for r in records if not r["verified"]]
            if not records:
                continue  # no record at all: the document checklist's gate asks for it
            if figures.get(key) is None:
                missing_keys.append(key)
                if not bad:
                    reasons.append(_NoRecord(prefix))
            reasons += [_Reason(r["document_id"], prefix, r["reason"]) for r in bad]
        if not reasons:
            continue
        unique = list({str(r): r for r in reasons}.values())
        finding = control_finding(
            code="DECLARED_FIGURES_UNVERIFIED", severity=level,
            message=_("The declared figures %(items)s were not verified by cross-check "
                      "%(check)s: %(reasons)s."),
            explanation=_("Evidence %(keys)s unknown or partial."),
            inputs={"declared": {c: str(values.get(c)) for c in declared},
                    "evidence": {k: None if figures.get(k) is None else str(figures[k])
                                 for k in keys},
                    "records": {p: statuses.get(p, []) for p in {k.split(".")[0]
                                                                  for k in keys}}},
            policies={}, items=", ".join(declared), check=check["code"],
            reasons=joined(unique, "; "), keys=", ".join(keys))
        finding.kind = "cross_check"
        findings.append(finding)
    return findings
