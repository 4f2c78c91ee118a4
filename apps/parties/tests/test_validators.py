import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from hypothesis import given
from hypothesis import strategies as st

from apps.parties.validators import (
    USCC_ALPHABET,
    USCC_WEIGHTS,
    is_valid_resident_id,
    is_valid_uscc,
    mask_resident_id,
    resident_id_birth_date,
    resident_id_check_char,
    resident_id_problem,
    uscc_check_char,
    validate_phone,
    validate_resident_id,
    validate_uscc,
)

# Published codes: the sample printed in GB 32100 explainers, and codes shown on the business
# licences of well-known companies (Huawei, Tencent, Alibaba China, Xiaomi). Each passing the
# check by chance would be a 1-in-31 event.
PUBLISHED_USCC = [
    "91350100M000100Y43",
    "914403001922038216",
    "91440300708461136T",
    "91330100799655058B",
    "91110108551385082Q",
]
# GB 11643-1999's own examples (Beijing Chaoyang 1949, Guangdong Chaoyang county 1880).
PUBLISHED_RESIDENT_IDS = ["11010519491231002X", "440524188001010014"]


def test_weights_are_powers_of_three_mod_31():
    assert USCC_WEIGHTS == (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
    assert len(USCC_ALPHABET) == 31 and not set("IOZSV") & set(USCC_ALPHABET)


@pytest.mark.parametrize("code", PUBLISHED_USCC)
def test_published_uscc_are_valid(code):
    assert is_valid_uscc(code)
    assert uscc_check_char(code[:17]) == code[17]
    validate_uscc(code)


def test_check_char_zero_when_sum_is_a_multiple_of_31():
    assert uscc_check_char("0" * 17) == "0"


@pytest.mark.parametrize("code", PUBLISHED_USCC)
def test_every_single_character_substitution_is_caught(code):
    # 31 is prime and no weight is 0 mod 31, so any one wrong character changes the check.
    for position in range(18):
        for symbol in USCC_ALPHABET:
            if symbol != code[position]:
                assert not is_valid_uscc(code[:position] + symbol + code[position + 1:])


@pytest.mark.parametrize("code", PUBLISHED_USCC)
def test_adjacent_transpositions_are_caught(code):
    for i in range(16):
        if code[i] != code[i + 1]:
            assert not is_valid_uscc(code[:i] + code[i + 1] + code[i] + code[i + 2:])


@pytest.mark.parametrize("bad", [
    "", "91350100M000100Y4", "91350100M000100Y433", "91350100M000100I43",  # I not allowed
    "91350100M000100O43", "91350100M000100Z43", "91350100m000100y4#",
])
def test_malformed_uscc_are_refused(bad):
    assert not is_valid_uscc(bad)
    with pytest.raises(ValidationError):
        validate_uscc(bad)


def test_uscc_lower_case_is_normalised_for_checking_but_not_stored_that_way():
    assert is_valid_uscc(" 91350100m000100y43 ")
    with pytest.raises(ValidationError, match="capitals"):
        validate_uscc("91350100m000100y43")


@given(st.text(alphabet=USCC_ALPHABET, min_size=17, max_size=17))
def test_generated_codes_validate(body):
    assert is_valid_uscc(body + uscc_check_char(body))


def test_uscc_check_char_refuses_bad_input():
    with pytest.raises(ValueError):
        uscc_check_char("123")
    with pytest.raises(ValueError):
        uscc_check_char("9135010OM000100Y4")


@pytest.mark.parametrize("number", PUBLISHED_RESIDENT_IDS)
def test_published_resident_ids_are_valid(number):
    assert is_valid_resident_id(number)
    assert resident_id_check_char(number[:17]) == number[17]
    validate_resident_id(number)


def test_birth_date_is_read():
    assert resident_id_birth_date("11010519491231002X") == dt.date(1949, 12, 31)


@pytest.mark.parametrize("number", PUBLISHED_RESIDENT_IDS)
def test_every_single_digit_substitution_is_caught(number):
    for position in range(18):
        for symbol in "0123456789X":
            if symbol == number[position] or (symbol == "X" and position != 17):
                continue
            changed = number[:position] + symbol + number[position + 1:]
            assert not is_valid_resident_id(changed), changed


def _with_check(first17: str) -> str:
    return first17 + resident_id_check_char(first17)


@pytest.mark.parametrize("first17, reason", [
    ("11010519490230002", "date"),   # 30 February
    ("11010519491301002", "date"),   # month 13
    ("11010517991231002", "date"),   # before 1800
    ("01010519491231002", "digits"),  # address codes never start with 0
])
def test_impossible_numbers_are_refused_even_with_a_correct_check_digit(first17, reason):
    problem = resident_id_problem(_with_check(first17))
    assert problem is not None
    assert reason in problem or "17 digits" in problem


def test_future_birth_date_is_refused():
    number = _with_check("110105" + "20300101" + "002")
    assert "date" in resident_id_problem(number, today=dt.date(2026, 1, 1))
    assert resident_id_problem(number, today=dt.date(2031, 1, 1)) is None


def test_lower_case_x_is_checked_but_must_be_stored_in_capitals():
    assert is_valid_resident_id("11010519491231002x")
    with pytest.raises(ValidationError, match="capital X"):
        validate_resident_id("11010519491231002x")


@pytest.mark.parametrize("bad", ["", "1101051949123100", "11010519491231002Y",
                                 "X10105194912310023", "110105194912310020"])
def test_malformed_resident_ids_are_refused(bad):
    with pytest.raises(ValidationError):
        validate_resident_id(bad)


@given(st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date(2020, 12, 31)),
       st.integers(0, 999))
def test_generated_resident_ids_validate(born, sequence):
    assert is_valid_resident_id(_with_check(f"330106{born:%Y%m%d}{sequence:03d}"))


def test_mask_hides_the_birth_date():
    assert mask_resident_id("11010519491231002X") == "110105********002X"
    assert mask_resident_id("11010519491231002x") == "110105********002X"
    assert mask_resident_id("123") == "***"


@pytest.mark.parametrize("phone", ["13800138000", "+86 138-0013-8000", "0571-88886666"])
def test_phone_numbers(phone):
    validate_phone(phone)


@pytest.mark.parametrize("phone", ["", "12", "call me", "138001380001234567890"])
def test_bad_phone_numbers(phone):
    with pytest.raises(ValidationError):
        validate_phone(phone)
