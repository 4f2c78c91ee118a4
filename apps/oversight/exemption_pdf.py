"""The frozen exemption pack as PDF, built with pdf.py's fonts, styles and table helper."""

from __future__ import annotations

from pathlib import Path

from django.utils.translation import get_language
from django.utils.translation import gettext as _
from reportlab.lib.units import mm
from reportlab.platypus import Spacer

from apps.oversight.pdf import _build, _p, _styles, _table


def render_exemption_pack_pdf(case, path: Path) -> None:
    """Loan, incident, duties as evaluated when the case opened, people with their tiers
    and dissent, the policy versions, and the pack's SHA-256."""
    s, pack = _styles(), case.pack
    zh = (get_language() or "").startswith("zh")
    title = _("Exemption case %(id)s: evidence pack") % {"id": case.pk}
    loan, app = pack.get("loan", {}), pack.get("application", {})
    story = [
        _p(title, s["title"]),
        _p(_("Loan %(loan)s · application %(app)s · %(enterprise)s · %(branch)s") % {
            "loan": loan.get("number"), "app": app.get("reference"),
            "enterprise": app.get("enterprise"), "branch": app.get("branch")}, s["body"]),
        _p(_("Incident: %(incident)s. Loan handled on %(on)s; duty rules version %(v)s.") % {
            "incident": case.get_incident_display(), "on": pack.get("handled_on"),
            "v": (pack.get("rule_set") or {}).get("version", "—")}, s["body"]),
        _p(_("Frozen %(at)s up to audit event %(seq)s. SHA-256 %(sha)s") % {
            "at": pack.get("frozen_at"), "seq": pack.get("head_seq"),
            "sha": case.pack_sha256}, s["small"]),
        Spacer(1, 3 * mm), _p(_("Duties"), s["h2"])]
    rows = [[_("Duty"), _("Status"), _("Evidence"), _("Exceptions")]]
    for line in pack.get("duties", []):
        rows.append([f"{line['code']}: {line['label_zh'] if zh else line['label_en']}",
                     line["status"], "; ".join(t for t, _u in line["evidence"]),
                     "; ".join(line["exceptions"])])
    story.append(_table(rows, [50 * mm, 22 * mm, 55 * mm, 53 * mm], s["body"]))
    story += [Spacer(1, 3 * mm), _p(_("People"), s["h2"])]
    rows = [[_("Person"), _("Roles and stages"), _("Written dissent"), _("Tier")]]
    for person in case.people.select_related("user").order_by("id"):
        rows.append([person.user.display_name,
                     "; ".join(f"{i['stage']}: {i['role']}" for i in person.involvements),
                     "; ".join(f"{d['kind']}: {d['text']}" for d in person.dissent),
                     person.get_final_tier_display()])
    story.append(_table(rows, [40 * mm, 60 * mm, 50 * mm, 30 * mm], s["body"]))
    story += [Spacer(1, 3 * mm), _p(_("Policy versions in force when the loan was handled"),
                                    s["h2"])]
    rows = [[_("Key"), _("Version"), _("Value")]]
    rows += [[key, v["version"], f"{v['value']} {v['unit']}"]
             for key, v in pack.get("policy_versions", {}).items()
             if key.startswith(("exemption.", "classification."))]
    story.append(_table(rows, [90 * mm, 20 * mm, 70 * mm], s["body"]))
    _build(path, title, story, f"Credence · EX-{case.pk} · {case.pack_sha256[:16]}")


