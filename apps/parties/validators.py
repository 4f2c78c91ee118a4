"""Check-character validators for Chinese identifiers, and masking for roles that need no full ID.

- Unified social credit code (统一社会信用代码), GB 32100-2015: 18 characters from a 31-symbol
  alphabet (digits and capitals without I, O, Z, S, V); the 18th is a MOD 31 check character
  over the first 17 with weights 3^(i-1) mod 31.
- Resident identity number (公民身份号码), GB 11643-1999: 6-digit address code, 8-digit birth
  date, 3-digit sequence, and an ISO 7064 MOD 11-2 check character (0-9 or X).

The functions are pure so the demo seed, tests and forms share one implementation. A passing
check proves the code is well formed, not that it exists: the registry pull (checklist item A1)
does that.
"""

import datetime as dt
import re

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

# GB 32100-2015 §4: the code alphabet. Its order gives each symbol its value 0..30.
USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_VALUE = {symbol: value for value, symbol in enumerate(USCC_ALPHABET)}
# Weight of position i (1-based) is 3^(i-1) mod 31.
USCC_WEIGHTS = tuple(pow(3, i, 31) for i in range(17))
USCC_LENGTH = 18

# GB 11643-1999 / ISO 7064 MOD 11-2: weight of position i (1-based) is 2^(18-i) mod 11, and the
# weighted sum mod 11 indexes this string to give the check character.
RESIDENT_ID_WEIGHTS = tuple(pow(2, 17 - i, 11) for i in range(17))
_RESIDENT_ID_CHECK = "10X98765432"
RESIDENT_ID_LENGTH = 18
_RESIDENT_ID_SHAPE = re.compile(r"^[1-9]\d{16}[\dX]$")
# The oldest birth year accepted: GB 11643's own example (440524188001010014) is born in 1880.
_OLDEST_BIRTH_YEAR = 1800


def normalise_uscc(value: str) -> str:
    """Codes are printed in capitals; people type lower case and spaces."""
    return re.sub(r"\s+", "", str(value or "")).upper()


def uscc_check_char(first17: str) -> str:
    """The GB 32100 check character for the first 17 characters of a code."""
    if len(first17) != USCC_LENGTH - 1:
        raise ValueError("a USCC check character needs exactly 17 characters")
    try:
        total = sum(_USCC_VALUE[ch] * w for ch, w in zip(first17, USCC_WEIGHTS, strict=True))
    except KeyError as exc:
        raise ValueError(f"{exc.args[0]!r} is not in the GB 32100 alphabet") from None
    # 31 - (sum mod 31), where a result of 31 is written as value 0.
    return USCC_ALPHABET[(31 - total % 31) % 31]


def uscc_problem(value: str) -> str | None:
    """Why `value` is not a well-formed USCC, or None when it is (GB 32100-2015)."""
    code = normalise_uscc(value)
    if len(code) != USCC_LENGTH:
        return str(_("A unified social credit code has 18 characters."))
    bad = sorted({ch for ch in code if ch not in _USCC_VALUE})
    if bad:
        return str(_("Characters not allowed in a unified social credit code: %(chars)s.")
                   % {"chars": " ".join(bad)})
    if uscc_check_char(code[:17]) != code[17]:
        return str(_("The check character does not match: the code is mistyped."))
    return None


def is_valid_uscc(value: str) -> bool:
    return uscc_problem(value) is None


def validate_uscc(value: str) -> None:
    """Model/form validator (GB 32100-2015); expects the normalised (upper-case) code."""
    problem = uscc_problem(value)
    if problem is None and value != normalise_uscc(value):
        problem = str(_("Write the code in capitals without spaces."))
    if problem:
        raise ValidationError(problem, code="invalid_uscc")


def normalise_resident_id(value: str) -> str:
    """The check character X is sometimes typed in lower case."""
    return re.sub(r"\s+", "", str(value or "")).upper()


def resident_id_check_char(first17: str) -> str:
    """The ISO 7064 MOD 11-2 check character for 17 digits (GB 11643-1999)."""
    if len(first17) != RESIDENT_ID_LENGTH - 1 or not first17.isdigit():
        raise ValueError("a resident ID check character needs exactly 17 digits")
    total = sum(int(d) * w for d, w in zip(first17, RESIDENT_ID_WEIGHTS, strict=True))
    return _RESIDENT_ID_CHECK[total % 11]


def resident_id_birth_date(value: str) -> dt.date | None:
    """The birth date in positions 7-14, or None when it is not a real calendar date."""
    try:
        return dt.datetime.strptime(normalise_resident_id(value)[6:14], "%Y%m%d").date()
    except ValueError:
        return None


def resident_id_problem(value: str, *, today: dt.date | None = None) -> str | None:
    """Why `value` is not a well-formed 18-digit resident ID, or None (GB 11643-1999).

    Checks the shape, the birth date (a real date, not in the future) and the check character.
    The address code is not checked against the GB/T 2260 list: codes of abolished counties
    stay valid on old cards, so a list would refuse real people.
    """
    number = normalise_resident_id(value)
    if len(number) != RESIDENT_ID_LENGTH or not _RESIDENT_ID_SHAPE.match(number):
        return str(_("A resident ID number has 17 digits and a check digit (0-9 or X)."))
    born = resident_id_birth_date(number)
    today = today or timezone.localdate()
    if born is None or born.year < _OLDEST_BIRTH_YEAR or born > today:
        return str(_("The birth date in the ID number is not a valid date."))
    if resident_id_check_char(number[:17]) != number[17]:
        return str(_("The check digit does not match: the ID number is mistyped."))
    return None


def is_valid_resident_id(value: str) -> bool:
    return resident_id_problem(value) is None


def validate_resident_id(value: str) -> None:
    """Model/form validator (GB 11643-1999); expects the normalised (upper-case X) number."""
    problem = resident_id_problem(value)
    if problem is None and value != normalise_resident_id(value):
        problem = str(_("Write the ID number without spaces, with a capital X."))
    if problem:
        raise ValidationError(problem, code="invalid_resident_id")


def mask_resident_id(value: str) -> str:
    """110105********002X: the address code and the last four stay, the birth date is hidden.

    For roles that recognise a person but need neither the birth date nor a copyable number
    (PIPL art. 28: an ID number is sensitive personal information; show the least needed).
    """
    number = normalise_resident_id(value)
    if len(number) <= 10:
        return "*" * len(number)
    return number[:6] + "*" * (len(number) - 10) + number[-4:]


_PHONE_SHAPE = re.compile(r"^\+?[0-9][0-9 \-]{4,18}[0-9]$")


def validate_phone(value: str) -> None:
    """Mobile or landline with optional +86 and separators; the SMS check proves ownership."""
    if not _PHONE_SHAPE.match(value or ""):
        raise ValidationError(_("Enter a phone number of digits, optionally with + and -."),
                              code="invalid_phone")
