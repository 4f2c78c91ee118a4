"""Amounts in Chinese capital numerals (大写金额), as contracts and payment orders write them.

Rules of 《支付结算办法》 (PBOC 1997) annex: digits 零壹贰叁肆伍陆柒捌玖, units 拾佰仟万亿;
"整" after 元 when there are no 角 or 分, none after 分; one 零 stands for any run of zeros
inside the number; 角 zero with 分 present is written 零 (壹元零伍分). A 拾 at the head is
written 壹拾 (the capital form never drops the 壹).
"""

from decimal import ROUND_HALF_UP, Decimal

_DIGITS = "零壹贰叁肆伍陆柒捌玖"
_UNITS = ("仟", "佰", "拾", "")
_GROUP_UNITS = ("", "万", "亿", "万亿")


def _group(n: int) -> str:
    """1..9999 in capitals: inner zeros become one 零, trailing zeros vanish."""
    text, zero, started = "", False, False
    for power, unit in zip((3, 2, 1, 0), _UNITS, strict=True):
        digit = n // 10 ** power % 10
        if digit == 0:
            zero = zero or started
            continue
        if zero:
            text += "零"
            zero = False
        text += _DIGITS[digit] + unit
        started = True
    return text


def amount_in_capitals(amount: Decimal) -> str:
    """`Decimal("1050000.50")` → "壹佰零伍万元伍角"; 0 → "零元整"; negative refused."""
    amount = Decimal(amount).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    if amount < 0:
        raise ValueError("negative amounts have no capital form")
    fen_total = int(amount * 100)
    yuan, jiao, fen = fen_total // 100, fen_total // 10 % 10, fen_total % 10
    if yuan >= 10 ** 16:
        raise ValueError("amount too large")
    groups = []
    rest = yuan
    while rest:
        groups.append(rest % 10000)
        rest //= 10000
    text, zero = "", False
    for index in range(len(groups) - 1, -1, -1):
        value = groups[index]
        if value == 0:
            zero = zero or bool(text)
            continue
        if text and (zero or value < 1000):
            text += "零"
        text += _group(value) + _GROUP_UNITS[index]
        zero = False
    if yuan:
        text += "元"
    if jiao == 0 and fen == 0:
        return (text or "零元") + "整"
    if jiao:
        text += _DIGITS[jiao] + "角"
    elif yuan:
        text += "零"
    if fen:
        text += _DIGITS[fen] + "分"
    return text
