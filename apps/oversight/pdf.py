"""PDF renderings of the process trail and the evidence pack (reportlab, BSD licence).

Every glyph is set in the embedded font of `apps.core.pdf_fonts` (tables and the footer too,
so no unembedded Helvetica slips in): a Chinese pack prints the same on a machine without any
Chinese font.
"""

from __future__ import annotations

from pathlib import Path
from xml.sax.saxutils import escape

from django.utils import timezone
from django.utils.translation import gettext as _
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from apps.core.pdf_fonts import FONT_NAME as FONT
from apps.core.pdf_fonts import register_cjk_font


def _styles():
    register_cjk_font()
    base = getSampleStyleSheet()
    return {
        "title": ParagraphStyle("t", parent=base["Title"], fontName=FONT, fontSize=15),
        "h2": ParagraphStyle("h", parent=base["Heading2"], fontName=FONT, fontSize=12),
        "body": ParagraphStyle("b", parent=base["BodyText"], fontName=FONT, fontSize=8.5,
                               leading=11),
        "small": ParagraphStyle("s", parent=base["BodyText"], fontName=FONT, fontSize=7,
                                leading=9, textColor=colors.grey),
    }


def _p(text, style) -> Paragraph:
    return Paragraph(escape(str(text or "")), style)


def _table(rows, widths, style) -> Table:
    table = Table([[_p(c, style) for c in row] for row in rows], colWidths=widths,
                  repeatRows=1)
    table.setStyle(TableStyle([
        ("GRID", (0, 0), (-1, -1), 0.25, colors.lightgrey),
        ("FONTNAME", (0, 0), (-1, -1), FONT),
        ("BACKGROUND", (0, 0), (-1, 0), colors.whitesmoke),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
    ]))
    return table


def _footer(text: str):
    def draw(canvas, doc):
        canvas.saveState()
        canvas.setFont(FONT, 7)
        canvas.drawString(15 * mm, 10 * mm, f"{text} · {doc.page}")
        canvas.restoreState()
    return draw


def _build(path: Path, title: str, story: list, footer: str) -> None:
    document = SimpleDocTemplate(str(path), pagesize=A4, leftMargin=15 * mm,
                                 rightMargin=15 * mm, topMargin=15 * mm, bottomMargin=18 * mm,
                                 title=title, author="Credence", initialFontName=FONT)
    document.build(story, onFirstPage=_footer(footer), onLaterPages=_footer(footer))


def _when(value) -> str:
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M:%S") if value else ""


def render_trail_pdf(trail, path: Path) -> None:
    s = _styles()
    app = trail.application
    title = _("Process trail of application %(ref)s") % {"ref": app.reference}
    story = [_p(title, s["title"]),
             _p(_("Enterprise: %(name)s · Branch: %(branch)s · State: %(state)s") % {
                 "name": app.enterprise.name, "branch": app.branch.name,
                 "state": app.get_state_display()}, s["body"]),
             _p(_("Generated %(at)s from the audit trail; every row names its event "
                  "(seq) and hash.") % {"at": _when(timezone.now())}, s["small"]),
             Spacer(1, 4 * mm), _p(_("People"), s["h2"])]
    rows = [[_("Person"), _("Roles"), _("Actions"), _("First"), _("Last")]]
    rows += [[p.name, p.roles, p.actions, _when(p.first), _when(p.last)] for p in trail.people]
    story.append(_table(rows, [45 * mm, 50 * mm, 15 * mm, 35 * mm, 35 * mm], s["body"]))
    story += [Spacer(1, 4 * mm), _p(_("Timeline"), s["h2"])]
    rows = [[_("Seq"), _("Time"), _("Who"), _("What"), _("Details and evidence")]]
    for step in trail.steps:
        event = step.event
        details = step.summary
        if step.evidence:
            details += " | " + "; ".join(text for text, _url in step.evidence)
        details += f" | req {event.request_id or '—'} | {event.hash[:16]}…"
        rows.append([event.seq, _when(event.occurred_at),
                     event.actor.display_name if event.actor else _("System"),
                     step.label, details])
    story.append(_table(rows, [12 * mm, 30 * mm, 28 * mm, 35 * mm, 75 * mm], s["body"]))
    for snapshot in trail.snapshots:
        story += [Spacer(1, 4 * mm), _p(_("Checklist as submitted, round %(round)s (event "
                                          "%(seq)s, %(at)s)") % {
            "round": snapshot.round, "seq": snapshot.seq, "at": _when(snapshot.at)}, s["h2"])]
        rows = [[_("Item"), _("Label"), _("Answer")]]
        rows += [list(answer) for answer in snapshot.answers]
        story.append(_table(rows, [25 * mm, 70 * mm, 85 * mm], s["body"]))
    _build(path, title, story, f"Credence · {app.reference}")


def render_pack_pdf(pack, path: Path) -> None:
    s = _styles()
    app = pack.application
    title = _("Due-diligence evidence pack of application %(ref)s") % {"ref": app.reference}
    verdict = (_("Every duty is fulfilled or not applicable.") if pack.all_fulfilled
               else _("Exceptions were found: see below."))
    story = [_p(title, s["title"]),
             _p(_("Enterprise: %(name)s · Branch: %(branch)s · State: %(state)s") % {
                 "name": app.enterprise.name, "branch": app.branch.name,
                 "state": app.get_state_display()}, s["body"]),
             _p(_("Duty rules version %(v)s; evaluated %(at)s up to audit event %(seq)s.") % {
                 "v": pack.rule_set.version if pack.rule_set else "—",
                 "at": _when(pack.generated_at), "seq": pack.head_seq}, s["small"]),
             Spacer(1, 3 * mm), _p(verdict, s["h2"])]
    rows = [[_("Duty"), _("Status"), _("Evidence"), _("Events"), _("Exceptions")]]
    for line in pack.lines:
        rows.append([f"{line.rule.code}: {line.rule.label}", line.result.status_label,
                     "; ".join(text for text, _url in line.result.evidence),
                     ", ".join(map(str, line.result.events[:40]))
                     + (" …" if len(line.result.events) > 40 else ""),
                     "; ".join(line.result.exceptions)])
    story.append(_table(rows, [42 * mm, 20 * mm, 50 * mm, 25 * mm, 43 * mm], s["body"]))
    if pack.exceptions:
        story += [Spacer(1, 4 * mm), _p(_("Exceptions"), s["h2"])]
        story += [_p(f"{code}: {text}", s["body"]) for code, text in pack.exceptions]
    _build(path, title, story, f"Credence · {app.reference}")
