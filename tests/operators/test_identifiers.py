import pytest
from django.core.exceptions import ValidationError

from operators.identifiers import (
    normalise_credit_code,
    normalise_plate,
    normalise_vin,
    validate_credit_code,
    validate_plate,
    validate_vin,
    vin_check_digit,
)

# Published codes of well-known companies (business licences are public in China).
PUBLISHED_CREDIT_CODES = [
    "91110000802100433B",  # 北京百度网讯科技有限公司
    "91440300708461136T",  # 深圳市腾讯计算机系统有限公司
    "91110108551385082Q",  # 北京小米科技有限责任公司
    "91110000600037341L",  # the example in python-stdnum's documentation
]


@pytest.mark.parametrize("code", PUBLISHED_CREDIT_CODES)
def test_published_credit_codes_are_valid(code: str) -> None:
    validate_credit_code(code)


def test_credit_code_with_wrong_check_character_is_refused_as_checksum() -> None:
    with pytest.raises(ValidationError) as error:
        validate_credit_code("91110000802100433C")
    assert error.value.code == "checksum"


@pytest.mark.parametrize(
    "code",
    ["9111000080210043", "91110000802100433B1", "I1110000802100433B", "９１", ""],
)
def test_malformed_credit_codes_are_refused_as_format(code: str) -> None:
    with pytest.raises(ValidationError) as error:
        validate_credit_code(code)
    assert error.value.code == "format"


def test_credit_code_is_normalised_from_spaces_dashes_and_lower_case() -> None:
    assert normalise_credit_code(" 9111-0000 8021-0043 3b ") == "91110000802100433B"


@pytest.mark.parametrize(
    "vin",
    [
        "1M8GDM9AXKP042788",  # the worked example of ISO 3779 check digits (X)
        "5GZCZ43D13S812715",
        "JHMCM56557C404453",
        "11111111111111111",  # all ones: 1 × (sum of weights 89) mod 11 = 1
    ],
)
def test_published_vins_with_correct_check_digit_are_valid(vin: str) -> None:
    validate_vin(vin)


def test_check_digit_worked_example() -> None:
    # 1M8GDM9A_KP042788: values 1,4,8,7,4,4,9,1 · weights 8,7,6,5,4,3,2,10 = 8+28+48+35+16+12+18+10
    # = 175; K=2,P=7,0,4,2,7,8,8 · 9,8,7,6,5,4,3,2 = 18+56+0+24+10+28+24+16 = 176;
    # 351 mod 11 = 10 → "X".
    assert vin_check_digit("1M8GDM9A0KP042788") == "X"


def test_european_vin_without_check_digit_is_refused_as_gb16735_requires_one() -> None:
    with pytest.raises(ValidationError) as error:
        validate_vin("WP0ZZZ99ZTS392124")  # Porsche: 'Z' where the check digit (8) belongs
    assert error.value.code == "checksum"
    assert "8" in str(error.value.messages[0])


@pytest.mark.parametrize(
    "vin", ["1M8GDM9AXKP04278", "1M8GDM9AXKP0427888", "1M8GDM9AXKP04278O", "IM8GDM9AXKP042788"]
)
def test_vin_of_wrong_length_or_with_i_o_q_is_refused_as_format(vin: str) -> None:
    with pytest.raises(ValidationError) as error:
        validate_vin(vin)
    assert error.value.code == "format"


def test_vin_is_normalised() -> None:
    assert normalise_vin("1m8gdm9a xkp-042788") == "1M8GDM9AXKP042788"


@pytest.mark.parametrize(
    "plate",
    [
        "晋C12345",  # ordinary
        "晋CA1B2C",  # ordinary with letters
        "晋CD12345",  # small new-energy (D: pure electric)
        "晋CFA1234",  # small new-energy (F: hybrid), a letter in second place
        "晋C12345D",  # large new-energy (bus)
        "晋C1234试",  # road-test plate
        "京AD12345",
    ],
)
def test_plates_of_each_kind_are_valid(plate: str) -> None:
    validate_plate(plate)


@pytest.mark.parametrize(
    "plate",
    [
        "晋C1234",  # too short
        "晋CI2345",  # I is not used on plates
        "晋CO2345",  # nor O
        "X C12345",  # not a province
        "晋C123456",  # 8 characters but not new-energy
        "晋CD1234A",  # new-energy small plate ends with 4 digits
        "",
    ],
)
def test_malformed_plates_are_refused(plate: str) -> None:
    with pytest.raises(ValidationError):
        validate_plate(plate)


def test_plate_is_normalised_from_dot_and_spaces() -> None:
    assert normalise_plate("晋C·d 12345") == "晋CD12345"
