"""ID numbers (GB 11643-1999) and mainland mobile numbers: what is accepted, and the messages."""

from datetime import date, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import translation

from civicgrid.pii.validators import (
    normalise_id_number,
    normalise_mobile,
    validate_id_number,
    validate_mobile,
)


@pytest.fixture(autouse=True)
def _english():
    # The messages are asserted in English, whatever translations exist by then.
    with translation.override("en"):
        yield


def check_char(body: str) -> str:
    # Written independently of the code under test: ISO 7064 MOD 11-2 derives each weight as
    # 2^(17-i) mod 11 and the check value as (12 - sum mod 11) mod 11, 10 being written X.
    total = sum(int(d) * pow(2, 17 - i, 11) for i, d in enumerate(body))
    value = (12 - total % 11) % 11
    return "X" if value == 10 else str(value)


def synthetic_id(region: str, born: date, sequence: str) -> str:
    body = f"{region}{born:%Y%m%d}{sequence}"
    return body + check_char(body)


def test_it_agrees_with_the_independent_check_digit_on_a_known_number():
    assert check_char("11010519491231002") == "X"
    validate_id_number("11010519491231002X")


@pytest.mark.parametrize(
    "number",
    [
        synthetic_id("320102", date(1985, 2, 28), "123"),
        synthetic_id("110105", date(2000, 2, 29), "004"),  # a leap day
        synthetic_id("650102", date(1931, 12, 1), "555"),
        synthetic_id("440305", date.today(), "001"),
    ],
)
def test_it_accepts_valid_id_numbers(number):
    validate_id_number(number)


def test_it_accepts_a_lower_case_x_full_width_digits_and_spaces():
    validate_id_number("110105 19491231 002x")
    validate_id_number("１１０１０５１９４９１２３１００２Ｘ")
    assert normalise_id_number(" 110105-19491231-002x ") == "11010519491231002X"


def _error(validator, value) -> ValidationError:
    with pytest.raises(ValidationError) as caught:
        validator(value)
    return caught.value


def test_it_rejects_a_wrong_check_digit():
    error = _error(validate_id_number, "110105194912310021")
    assert error.code == "id_number_check_digit"
    assert "check digit" in error.messages[0]


@pytest.mark.parametrize(
    ("number", "code"),
    [
        ("11010519491231002", "id_number_length"),
        ("1101051949123100212", "id_number_length"),
        ("", "id_number_length"),
        ("110105194912310A2X", "id_number_format"),
        ("010105194912310025", "id_number_format"),
        ("1101051949123100XX", "id_number_format"),
    ],
)
def test_it_rejects_malformed_id_numbers(number, code):
    assert _error(validate_id_number, number).code == code


def test_it_says_how_long_a_wrong_length_number_is():
    assert "17" in _error(validate_id_number, "11010519491231002").messages[0]


@pytest.mark.parametrize("born", ["19490230", "19491301", "19490001", "19490100", "18000101", "20230229"])
def test_it_rejects_impossible_birth_dates_even_with_a_right_check_digit(born):
    body = f"110105{born}002"
    error = _error(validate_id_number, body + check_char(body))
    assert error.code == "id_number_birth_date"
    assert born in error.messages[0]


def test_it_rejects_a_birth_date_in_the_future():
    number = synthetic_id("110105", date.today() + timedelta(days=1), "002")
    error = _error(validate_id_number, number)
    assert error.code == "id_number_birth_date" and "future" in error.messages[0]


@pytest.mark.parametrize(
    "phone",
    [
        "13800138000",
        "19912345678",
        "+86 138 0013 8000",
        "86-138-0013-8000",
        "0086 13800138000",
        "(138)00138000",
    ],
)
def test_it_accepts_mainland_mobile_numbers(phone):
    validate_mobile(phone)
    assert normalise_mobile(phone) in {"13800138000", "19912345678"}


@pytest.mark.parametrize(
    "phone",
    ["12800138000", "1380013800", "138001380001", "025-84561234", "+1 415 555 0100", "", "1380013800x"],
)
def test_it_rejects_other_numbers_with_a_clear_message(phone):
    error = _error(validate_mobile, phone)
    assert error.code == "mobile"
    assert "11 digits" in error.messages[0]


def test_it_keeps_86_when_it_is_part_of_the_number_itself():
    # Only a prefix in front of 11 digits is a country code.
    assert normalise_mobile("8613800138000") == "13800138000"
    assert normalise_mobile("86138001380") == "86138001380"
