"""A party's name reduced to what identifies it, so a statement's counterparty, a declared
lender and a related party from the party graph compare alike whatever the place prefix, legal
form or punctuation: 深圳市华达贸易有限公司 → 华达贸易; "Acme Trading Co., Ltd." → acmetrading."""

import re

_PLACE = re.compile(r"^(?:[\u4e00-\u9fff]{2,3}(?:省|市|自治区|区|县))+")
_LEGAL = re.compile(
    r"(有限责任公司|股份有限公司|有限公司|集团|分公司|公司|商行|经营部|工作室|"
    r"\b(?:co|company|ltd|limited|inc|llc|corp|corporation|group|plc)\b\.?)",
    re.IGNORECASE)
_PUNCT = re.compile(r"[\s\.,()（）·\-_&]+")


def core_name(name: str | None) -> str:
    text = _LEGAL.sub("", _PLACE.sub("", str(name or "").strip()))
    return _PUNCT.sub("", text).lower()
