"""Identifiers of companies and vehicles: normalise, then validate. Pure functions.

- Unified social credit code (统一社会信用代码, GB 32100-2015): python-stdnum's cn.uscc.
- VIN (GB 16735-2019, as ISO 3779 with the check digit at position 9 made mandatory).
- Number plates (GA 36-2018): ordinary 7 characters, new-energy 8, road-test plates (试).
"""

import re

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from stdnum import exceptions as stdnum_exceptions
from stdnum.cn import uscc

_SEPARATORS = str.maketrans("", "", " -·.\u3000")


def normalise_credit_code(value: str) -> str:
    return value.translate(_SEPARATORS).upper()


def validate_credit_code(value: str) -> None:
    try:
        uscc.validate(value)
    except stdnum_exceptions.InvalidChecksum as exc:
        raise ValidationError(
            _("The check character of the credit code is wrong."), code="checksum"
        ) from exc
    except stdnum_exceptions.ValidationError as exc:
        raise ValidationError(
            _("A credit code is 18 digits or capital letters (not I, O, S, V, Z)."),
            code="format",
        ) from exc


_VIN_VALUES = {
    **{str(d): d for d in range(10)},
    **dict(zip("ABCDEFGH", range(1, 9), strict=True)),
    **dict(zip("JKLMN", range(1, 6), strict=True)),
    "P": 7,
    "R": 9,
    **dict(zip("STUVWXYZ", range(2, 10), strict=True)),
}
_VIN_WEIGHTS = (8, 7, 6, 5, 4, 3, 2, 10, 0, 9, 8, 7, 6, 5, 4, 3, 2)
_VIN_RE = re.compile(r"[A-HJ-NPR-Z0-9]{17}")


def normalise_vin(value: str) -> str:
    return value.translate(_SEPARATORS).upper()


def vin_check_digit(vin: str) -> str:
    """The check digit a 17-character VIN must carry at position 9 (index 8)."""
    remainder = sum(_VIN_VALUES[c] * w for c, w in zip(vin, _VIN_WEIGHTS, strict=True)) % 11
    return "X" if remainder == 10 else str(remainder)


def validate_vin(value: str) -> None:
    if not _VIN_RE.fullmatch(value):
        raise ValidationError(
            _("A VIN is 17 digits or capital letters, without I, O or Q."), code="format"
        )
    expected = vin_check_digit(value)
    if value[8] != expected:
        raise ValidationError(
            _("The VIN check digit (9th character) should be %(expected)s."),
            code="checksum",
            params={"expected": expected},
        )


_PROVINCES = "京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼"
_LETTER = "[A-HJ-NP-Z]"  # no I or O on plates
_PLATE_RE = re.compile(
    rf"[{_PROVINCES}]{_LETTER}"
    r"(?:"
    rf"[A-HJ-NP-Z0-9]{{5}}"  # ordinary, 7 characters
    rf"|[DFA-HJK][A-HJ-NP-Z0-9][0-9]{{4}}"  # small new-energy, 8 characters
    r"|[0-9]{5}[DF]"  # large new-energy, 8 characters
    r"|[A-HJ-NP-Z0-9]{4}试"  # road-test plate (道路测试号牌)
    r")"
)


def normalise_plate(value: str) -> str:
    return value.translate(_SEPARATORS).upper()


def validate_plate(value: str) -> None:
    if not _PLATE_RE.fullmatch(value):
        raise ValidationError(
            _(
                "A plate is a province character, a letter and 5 characters (8 for new-energy "
                "vehicles; 4 and 试 for road-test plates), e.g. 晋C12345 or 晋CD12345."
            ),
            code="format",
        )
