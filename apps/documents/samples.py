"""Realistic small files for the demo walk, the benchmark and the tests: site photos with
EXIF capture time and GPS, PDFs with a text layer, bank statements in the two seeded layouts,
and tax and electricity records. Generated, so no customer data is ever committed."""

from __future__ import annotations

import csv
import datetime as dt
import io
import random
from dataclasses import dataclass
from decimal import Decimal

CN_HEADER = ["交易日期", "交易时间", "摘要", "对方户名", "对方账号", "借方发生额(支出)",
             "贷方发生额(收入)", "余额", "交易渠道"]
EN_HEADER = ["Date", "Description", "Counterparty", "Amount", "Balance", "Channel"]
CUSTOMERS = ["上海华联超市有限公司", "杭州明达贸易有限公司", "苏州新创电子有限公司",
             "宁波顺通物流有限公司", "无锡恒信机械有限公司", "南京金桥商贸有限公司"]
SUPPLIERS = ["江苏永盛原料有限公司", "浙江宏达包装有限公司", "国网上海市电力公司"]


def _dms(value: float) -> tuple[float, float, float]:
    value = abs(value)
    degrees = int(value)
    minutes = int((value - degrees) * 60)
    seconds = round(((value - degrees) * 60 - minutes) * 60, 4)
    return (float(degrees), float(minutes), seconds)


def photo(*, seed: int, lat: float | None = None, lng: float | None = None,
          taken_at: dt.datetime | None = None, size=(96, 72)) -> bytes:
    """A JPEG of random grey blocks (each seed a different picture, so perceptual hashes
    differ) with EXIF DateTimeOriginal and GPS when given."""
    from PIL import Image, ImageDraw

    rng = random.Random(seed)
    img = Image.new("RGB", size, (128, 128, 128))
    draw = ImageDraw.Draw(img)
    cols, rows = 12, 9
    w, h = size[0] // cols, size[1] // rows
    for r in range(rows):
        for c in range(cols):
            g = rng.randrange(0, 256)
            draw.rectangle([c * w, r * h, c * w + w - 1, r * h + h - 1], fill=(g, g, g))
    exif = Image.Exif()
    exif[0x010F], exif[0x0110] = "Credence", "DemoCam"
    if taken_at is not None:
        stamp = taken_at.strftime("%Y:%m:%d %H:%M:%S")
        exif[0x0132] = stamp
        exif.get_ifd(0x8769)[36867] = stamp
    if lat is not None and lng is not None:
        exif.get_ifd(0x8825).update({1: "N" if lat >= 0 else "S", 2: _dms(lat),
                                     3: "E" if lng >= 0 else "W", 4: _dms(lng)})
    out = io.BytesIO()
    img.save(out, "JPEG", exif=exif, quality=90)
    return out.getvalue()


def pdf(lines: list[str]) -> bytes:
    """A one-page PDF whose text layer holds `lines` (ASCII, Helvetica)."""
    from pypdf import PdfWriter
    from pypdf.generic import DecodedStreamObject, DictionaryObject, NameObject

    writer = PdfWriter()
    page = writer.add_blank_page(595, 842)
    font = writer._add_object(DictionaryObject({
        NameObject("/Type"): NameObject("/Font"), NameObject("/Subtype"): NameObject("/Type1"),
        NameObject("/BaseFont"): NameObject("/Helvetica")}))
    page[NameObject("/Resources")] = DictionaryObject({NameObject("/Font"): DictionaryObject(
        {NameObject("/F1"): font})})
    ops = ["BT", "/F1 12 Tf", "14 TL", "50 800 Td"]
    for line in lines:
        safe = line.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
        ops.append(f"({safe}) Tj T*")
    ops.append("ET")
    stream = DecodedStreamObject()
    stream.set_data("\n".join(ops).encode("latin-1"))
    page[NameObject("/Contents")] = writer._add_object(stream)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


@dataclass
class Txn:
    date: dt.date
    description: str
    counterparty: str
    amount: Decimal  # signed: + in, - out
    channel: str = "网银"


def transactions(*, seed: int, months: int = 12, end: dt.date | None = None,
                 customers=CUSTOMERS, suppliers=SUPPLIERS) -> list[Txn]:
    """A trading firm's account: several customers paying in, suppliers paid out, never
    round amounts, no cash: a clean statement under the seeded policy."""
    rng = random.Random(seed)
    end = end or dt.date.today()
    txns = []
    for back in range(months):
        year, month = end.year, end.month - back
        while month <= 0:
            year, month = year - 1, month + 12
        for _ in range(6):
            day = dt.date(year, month, rng.randint(1, 28))
            if day > end:
                continue
            txns.append(Txn(day, "货款", rng.choice(customers),
                            Decimal(rng.randint(2_000_000, 9_000_000)) / 100 + Decimal("0.37")))
        for _ in range(4):
            day = dt.date(year, month, rng.randint(1, 28))
            if day > end:
                continue
            txns.append(Txn(day, "采购付款", rng.choice(suppliers),
                            -(Decimal(rng.randint(1_000_000, 5_000_000)) / 100
                              + Decimal("0.21"))))
    return sorted(txns, key=lambda t: t.date)


def statement_cn_csv(txns: list[Txn], *, encoding: str = "gb18030") -> bytes:
    """Layout "cn-debit-credit": preamble lines, Chinese headers, separate debit (支出) and
    credit (收入) columns, GB18030 as Chinese bank exports are."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["账户明细查询"])
    writer.writerow(["账号:", "6222 0212 3456 7890"])
    writer.writerow(["户名:", "示例贸易有限公司"])
    writer.writerow([])
    writer.writerow(CN_HEADER)
    balance = Decimal("100000.00")
    for i, t in enumerate(txns):
        balance += t.amount
        debit = f"{-t.amount:,.2f}" if t.amount < 0 else ""
        credit = f"{t.amount:,.2f}" if t.amount > 0 else ""
        writer.writerow([t.date.strftime("%Y%m%d"), f"{9 + i % 8:02d}:15:00", t.description,
                         t.counterparty, f"62{seed_account(t.counterparty)}", debit, credit,
                         f"{balance:,.2f}", t.channel])
    writer.writerow(["合计", "", "", "", "", "", "", "", ""])
    return out.getvalue().encode(encoding)


def seed_account(name: str) -> str:
    return f"{sum(map(ord, name)) % 10**8:08d}"


def statement_en_xlsx(txns: list[Txn]) -> bytes:
    """Layout "en-signed": a title row, English headers, one signed Amount column."""
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "Statement"
    sheet.append(["Account statement"])
    sheet.append(["Account", "6217 0000 1111 2222"])
    sheet.append([])
    sheet.append(EN_HEADER)
    balance = Decimal("50000.00")
    for t in txns:
        balance += t.amount
        channel = "CASH" if t.channel == "现金" else "TRANSFER"
        sheet.append([t.date, t.description, t.counterparty, float(t.amount), float(balance),
                      channel])
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def _months(end: dt.date, months: int) -> list[str]:
    found = []
    year, month = end.year, end.month
    for _ in range(months):
        found.append(f"{year:04d}-{month:02d}")
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return sorted(found)


def tax_csv(*, seed: int, months: int = 24, end: dt.date | None = None,
            trend: float = 0.0) -> bytes:
    """Monthly VAT returns: 税款所属期, 销售额, 实缴税额. `trend` scales the last 12 months
    (-0.4: revenue fell 40% year on year)."""
    rng = random.Random(seed)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["税款所属期", "销售额", "实缴税额"])
    periods = _months(end or dt.date.today(), months)
    for i, period in enumerate(periods):
        factor = 1 + trend if i >= len(periods) - 12 else 1
        revenue = Decimal(rng.randint(250_000, 320_000)) * Decimal(str(factor))
        writer.writerow([period, f"{revenue:.2f}", f"{revenue * Decimal('0.03'):.2f}"])
    return out.getvalue().encode("utf-8")


def electricity_csv(*, seed: int, months: int = 24, end: dt.date | None = None) -> bytes:
    rng = random.Random(seed)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["月份", "用电量(kWh)", "电费(元)"])
    for period in _months(end or dt.date.today(), months):
        kwh = rng.randint(8_000, 9_500)
        writer.writerow([period, kwh, f"{kwh * 0.82:.2f}"])
    return out.getvalue().encode("utf-8")
