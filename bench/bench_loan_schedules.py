"""Repayment schedules and the contract PDF: how dear is exact Decimal arithmetic, and the
embedded CJK font?

Prints:
  * schedules: `--loans` (2,000) 36-month equal-instalment schedules, ACT/360, through
    `apps.loans.schedules` (Decimal, half-up to the fen per row, month-end clamping); baseline
    in the same run: the same formula in binary floats with no rounding or date logic (what a
    naive implementation would do, and get wrong by fractions of a fen);
  * the contract PDF: `--pdfs` (20) renders with the subset-embedded WenQuanYi Micro Hei;
    baseline: the same number of one-page reportlab documents in the built-in Helvetica.
No database: the PDF is rendered from an in-memory contract.
"""

import argparse
import datetime as dt
import io
import os
import sys
import time
from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def _float_schedule(amount: float, rate: float, n: int) -> list[tuple[float, float]]:
    r = rate / 100 / 12
    payment = amount * r / (1 - (1 + r) ** -n)
    rows, left = [], amount
    for _ in range(n):
        interest = left * rate / 100 * 30 / 360
        rows.append((payment - interest, interest))
        left -= payment - interest
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--loans", type=int, default=2000)
    parser.add_argument("--pdfs", type=int, default=20)
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
    os.environ.setdefault("DATABASE_URL", "sqlite:///:memory:")
    os.environ.setdefault("CELERY_BROKER_URL", "memory://")
    import django

    django.setup()
    from apps.loans.contract_pdf import render_contract_pdf
    from apps.loans.contract_template import template_load
    from apps.loans.schedules import equal_instalment

    print(f"loans={args.loans} pdfs={args.pdfs} load={os.getloadavg()[0]:.2f}")
    start = time.perf_counter()
    for i in range(args.loans):
        equal_instalment(amount=Decimal(100000 + i), annual_rate_pct=Decimal("4.35"),
                         term_months=36, value_date=dt.date(2026, 1, 31), day_count="ACT/360")
    t_decimal = time.perf_counter() - start
    start = time.perf_counter()
    for i in range(args.loans):
        _float_schedule(100000.0 + i, 4.35, 36)
    t_float = time.perf_counter() - start
    print(f"schedules: {args.loans / t_decimal:,.0f} 36-month schedules/s exact "
          f"({t_decimal / args.loans * 1e3:.2f} ms each), {t_decimal / t_float:.1f}x the naive "
          f"float loop in this run ({args.loans / t_float:,.0f}/s)")

    template = template_load()
    contract = SimpleNamespace(
        contract_number="HTBENCH000001", template_version=template.version,
        template_sha256=template.sha256, signed_at=dt.datetime(2026, 12, 4, 10),
        created_at=dt.datetime(2026, 12, 4, 10), amount=Decimal("1050000.50"), currency="CNY",
        term_months=12, annual_rate=Decimal("4.350"), day_count="ACT/360",
        repayment_method="equal_instalment", collateral_type="property", signing_mode="video",
        signing_place="北区支行", branch=SimpleNamespace(name="North branch 北区支行"),
        conditions={"conditions_precedent": [{"text": "抵押登记完成 Mortgage registered"}],
                    "covenants": [{"text": "受托支付 for all drawdowns"}]},
        created_by=SimpleNamespace(get_full_name=lambda: "运营 甲", username="ops.north"),
        application=SimpleNamespace(purpose="采购原材料", reference="CRBENCH",
                                    enterprise=SimpleNamespace(name="杭州示例贸易有限公司")))
    render_contract_pdf(contract)  # font loaded once, as in a running server
    start = time.perf_counter()
    for _ in range(args.pdfs):
        size = len(render_contract_pdf(contract, entrusted_threshold=Decimal("10000000")))
    t_pdf = time.perf_counter() - start
    from reportlab.pdfgen import canvas

    start = time.perf_counter()
    for _ in range(args.pdfs):
        page = canvas.Canvas(io.BytesIO())
        for line in range(60):
            page.drawString(40, 800 - 12 * line, "Loan contract clause text " * 3)
        page.save()
    t_base = time.perf_counter() - start
    print(f"contract PDF: {t_pdf / args.pdfs * 1e3:.0f} ms each ({size / 1024:.0f} KiB, font "
          f"subset embedded), {t_pdf / t_base:.1f}x a one-page Helvetica document in this run "
          f"({t_base / args.pdfs * 1e3:.1f} ms)")


if __name__ == "__main__":
    main()
