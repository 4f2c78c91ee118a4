"""The bilingual contract PDF, rendered from the contract's template version with reportlab.

Every glyph, Latin and Chinese, is set in the embedded font of `apps.core.pdf_fonts`: the
document prints the same on any machine.
"""

from __future__ import annotations

import io
from decimal import Decimal
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from apps.core.pdf_fonts import FONT_NAME, register_cjk_font
from apps.loans.contract_template import template_load
from apps.loans.money_words import amount_in_capitals

_METHOD_ZH = {"equal_instalment": "等额本息", "equal_principal": "等额本金",
              "interest_bullet": "按月付息、到期还本", "irregular": "不规则还款计划"}
_METHOD_EN = {"equal_instalment": "equal instalments of principal and interest",
              "equal_principal": "equal principal with interest on the balance",
              "interest_bullet": "monthly interest with principal at maturity",
              "irregular": "the agreed irregular schedule"}
_COLLATERAL_ZH = {"none": "信用", "property": "房产抵押", "guarantee_person": "自然人保证",
                  "guarantee_company": "担保公司保证", "receivables": "应收账款质押",
                  "equipment": "设备抵押"}
_COLLATERAL_EN = {"none": "none (credit loan)", "property": "property mortgage",
                  "guarantee_person": "personal guarantee",
                  "guarantee_company": "guarantee company", "receivables":
                  "pledge of receivables", "equipment": "equipment mortgage"}
_SIGNING_ZH = {"in_person": "面签", "video": "视频签约"}
_SIGNING_EN = {"in_person": "in person", "video": "by video"}


def money(amount: Decimal) -> str:
    """Thousands separators and fen: 1,050,000.50."""
    return f"{Decimal(amount):,.2f}"


def date_zh(value) -> str:
    return f"{value.year}年{value.month}月{value.day}日"


def date_en(value) -> str:
    return f"{value.day} {value.strftime('%B')} {value.year}"


def _fill(text: str, values: dict) -> str:
    return escape(text.format(**values))


def render_contract_pdf(contract, *, entrusted_threshold: Decimal | None = None) -> bytes:
    """The contract as signed: terms, conditions and the text of its template version (the
    template's hash is checked, so an edited file cannot produce a different 'signed' text)."""
    register_cjk_font()
    template = template_load(contract.template_version,
                             expect_sha256=contract.template_sha256).content
    application = contract.application
    signed = contract.signed_at.date() if contract.signed_at else contract.created_at.date()
    values = {
        "amount": money(contract.amount), "amount_words_zh": amount_in_capitals(contract.amount),
        "currency": contract.currency, "purpose": application.purpose,
        "term_months": contract.term_months, "rate": f"{contract.annual_rate:.3f}",
        "day_count": contract.day_count, "method_zh": _METHOD_ZH.get(contract.repayment_method,
                                                                     contract.repayment_method),
        "method_en": _METHOD_EN.get(contract.repayment_method, contract.repayment_method),
        "collateral_zh": _COLLATERAL_ZH.get(contract.collateral_type, contract.collateral_type),
        "collateral_en": _COLLATERAL_EN.get(contract.collateral_type, contract.collateral_type),
        "entrusted_threshold": money(entrusted_threshold) if entrusted_threshold is not None
        else "—",
    }
    base = ParagraphStyle("base", fontName=FONT_NAME, fontSize=9.5, leading=14,
                          wordWrap="CJK")
    english = ParagraphStyle("en", parent=base, textColor=colors.HexColor("#333333"),
                             fontSize=8.5, leading=12, spaceAfter=4)
    heading = ParagraphStyle("h", parent=base, fontSize=11, leading=16, spaceBefore=8)
    title = ParagraphStyle("t", parent=base, fontSize=16, leading=22, alignment=1)
    subtitle = ParagraphStyle("st", parent=english, fontSize=11, leading=15, alignment=1)

    story = [Paragraph(escape(template["title_zh"]), title),
             Paragraph(escape(template["title_en"]), subtitle), Spacer(1, 4 * mm)]
    facts = [
        ("合同编号 Contract No.", contract.contract_number),
        ("贷款人 Lender", f"{contract.branch.name}"),
        ("借款人 Borrower", application.enterprise.name),
        ("申请编号 Application", application.reference),
        ("合同金额 Amount", f"{contract.currency} {money(contract.amount)}"),
        ("大写 In capitals", f"人民币{amount_in_capitals(contract.amount)}"),
        ("年利率 Annual rate", f"{contract.annual_rate:.3f}% ({contract.day_count})"),
        ("期限 Term", f"{contract.term_months} 个月 months"),
        ("签订日期 Signed", f"{date_zh(signed)} / {date_en(signed)}"),
        ("签约方式 Signing", f"{_SIGNING_ZH.get(contract.signing_mode, '')} / "
                           f"{_SIGNING_EN.get(contract.signing_mode, '')}"
                           + (f" — {contract.signing_place}" if contract.signing_place else "")),
    ]
    table = Table([[Paragraph(escape(k), base), Paragraph(escape(str(v)), base)]
                   for k, v in facts], colWidths=[45 * mm, 120 * mm])
    # Tables set a cell font of their own (Helvetica by default, never embedded): name ours.
    table.setStyle(TableStyle([("GRID", (0, 0), (-1, -1), 0.4, colors.grey),
                               ("FONTNAME", (0, 0), (-1, -1), FONT_NAME),
                               ("VALIGN", (0, 0), (-1, -1), "TOP")]))
    story += [table, Spacer(1, 4 * mm)]

    lists = {
        "conditions_precedent": [c["text"] for c in
                                 contract.conditions.get("conditions_precedent", [])],
        "covenants": [c["text"] for c in contract.conditions.get("covenants", [])],
    }
    for clause in template["clauses"]:
        story.append(Paragraph(escape(clause["heading_zh"]) + "　" + escape(clause["heading_en"]),
                               heading))
        story.append(Paragraph(_fill(clause["body_zh"], values), base))
        story.append(Paragraph(_fill(clause["body_en"], values), english))
        if "list" in clause:
            items = lists.get(clause["list"]) or ["无 None"]
            for number, text in enumerate(items, start=1):
                story.append(Paragraph(f"{number}. {escape(text)}", base))

    story += [Spacer(1, 10 * mm), Table(
        [[Paragraph("贷款人（盖章）Lender (seal)", base),
          Paragraph("借款人（盖章）Borrower (seal)", base)],
         [Paragraph("经办人 Officer: " + escape(contract.created_by.get_full_name()
                                              or contract.created_by.username), base),
          Paragraph("法定代表人或授权代理人 Legal representative", base)]],
        colWidths=[82 * mm, 82 * mm], rowHeights=[12 * mm, 12 * mm],
        style=[("FONTNAME", (0, 0), (-1, -1), FONT_NAME)])]

    def footer(canvas, doc):
        canvas.saveState()
        canvas.setFont(FONT_NAME, 7.5)
        canvas.drawString(20 * mm, 10 * mm, f"{contract.contract_number} · 模板 template "
                          f"{contract.template_version} · sha256 {contract.template_sha256[:12]}")
        canvas.drawRightString(190 * mm, 10 * mm, f"第 {doc.page} 页 page {doc.page}")
        canvas.restoreState()

    buffer = io.BytesIO()
    doc = SimpleDocTemplate(buffer, pagesize=A4, leftMargin=20 * mm, rightMargin=20 * mm,
                            topMargin=18 * mm, bottomMargin=18 * mm,
                            title=f"{template['title_en']} {contract.contract_number}",
                            author="Credence", initialFontName=FONT_NAME)
    doc.build(story, onFirstPage=footer, onLaterPages=footer)
    return buffer.getvalue()
