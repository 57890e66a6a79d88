"""FINESS numbers. Check digits below are computed by hand (Luhn from the right, every
second digit doubled, digits of products summed; Corsica 2A→21, 2B→22)."""

from __future__ import annotations

import pytest

from app.structures.finess import (
    CHECK_DIGIT_WARNING,
    department_of,
    format_display,
    luhn_check_digit,
    luhn_valid,
    normalize,
    validate,
)

# 970302287, EHPAD in Cayenne (domain.md): 7 + (8→16→7) + 2 + (2→4) + 0 + (3→6) + 0
#   + (7→14→5) + 9 = 40 ✓
# 750712184, AP-HP (EJ): 4 + (8→7) + 1 + (2→4) + 1 + (7→5) + 0 + (5→1) + 7 = 30 ✓
# 690781810, Hospices civils de Lyon (EJ): 0 + (1→2) + 8 + (1→2) + 8 + (7→5) + 0
#   + (9→9) + 6 = 40 ✓
# 2A0000014 (made up, Corsica): 4 + (1→2) + 0 + 0 + 0 + 0 + 0 + (A=1→2) + 2 = 10 ✓
# 2B0000012 (made up, Corsica): 2 + (1→2) + 0 + 0 + 0 + 0 + 0 + (B=2→4) + 2 = 10 ✓
VALID = ["970302287", "750712184", "690781810", "2A0000014", "2B0000012"]


@pytest.mark.parametrize("number", VALID)
def test_valid_numbers_have_no_error_and_no_warning(number: str) -> None:
    check = validate(number)
    assert check.number == number
    assert check.errors == []
    assert check.warnings == []
    assert check.ok
    assert luhn_valid(number)


@pytest.mark.parametrize(
    "number",
    [
        "970302288",  # last digit changed
        "970302278",  # two digits swapped
        "2B0000014",  # valid for 2A, not for 2B: the letters count differently
        "2A0000012",
    ],
)
def test_bad_check_digit_is_a_warning_not_an_error(number: str) -> None:
    check = validate(number)
    assert check.errors == []
    assert check.ok
    assert check.warnings == [
        "La clé de contrôle du numéro FINESS ne correspond pas : vérifiez le numéro."
    ]
    assert check.warnings == [CHECK_DIGIT_WARNING]


@pytest.mark.parametrize(
    ("raw", "error"),
    [
        ("", "Saisissez un numéro FINESS (9 caractères)."),
        ("97030228", "Le numéro FINESS doit comporter 9 caractères (8 saisis)."),
        ("9703022870", "Le numéro FINESS doit comporter 9 caractères (10 saisis)."),
        (
            "A70302287",
            "Le numéro FINESS doit comporter 9 chiffres, le deuxième pouvant être "
            "A ou B pour la Corse (2A, 2B).",
        ),
        (
            "97030228X",
            "Le numéro FINESS doit comporter 9 chiffres, le deuxième pouvant être "
            "A ou B pour la Corse (2A, 2B).",
        ),
        (
            "2C0000014",
            "Le numéro FINESS commence par « 2C », qui ne correspond à aucun département.",
        ),
        (
            "200000000",
            "Le numéro FINESS commence par « 20 », qui ne correspond à aucun département.",
        ),
        (
            "000000000",
            "Le numéro FINESS commence par « 00 », qui ne correspond à aucun département.",
        ),
        (
            "990000000",
            "Le numéro FINESS commence par « 99 », qui ne correspond à aucun département.",
        ),
        (
            "970012345",
            "Le numéro FINESS commence par « 9700 », qui ne correspond à aucun département.",
        ),
        (
            "975012345",
            "Le numéro FINESS commence par « 9750 », qui ne correspond à aucun département.",
        ),
    ],
)
def test_malformed_numbers_are_refused(raw: str, error: str) -> None:
    check = validate(raw)
    assert check.errors == [error]
    assert check.warnings == []
    assert not check.ok


def test_normalize_strips_spaces_dots_and_upper_cases() -> None:
    assert normalize(" 97 030 228 7 ") == "970302287"
    assert normalize("2a.000.001.4") == "2A0000014"
    assert normalize("97\u00a0030\t228-7") == "970302287"
    assert validate(" 2a 000 001 4").number == "2A0000014"


@pytest.mark.parametrize(
    ("number", "department"),
    [
        ("750712184", "75"),
        ("690781810", "69"),
        ("010000000", "01"),
        ("950000000", "95"),
        ("2A0000014", "2A"),
        ("2B0000012", "2B"),
        ("970100000", "971"),
        ("970200000", "972"),
        ("970302287", "973"),
        ("970400000", "974"),
        ("970600000", "976"),
        ("970500000", None),  # Saint-Pierre-et-Miquelon is not in the reference data
        ("970012345", None),
        ("971234567", None),  # overseas numbers start with 970
        ("200000000", None),
        ("12", None),
    ],
)
def test_department_of(number: str, department: str | None) -> None:
    assert department_of(number) == department


def test_format_display() -> None:
    assert format_display("970302287") == "97 030 228 7"
    assert format_display("2A0000014") == "2A 000 001 4"
    assert format_display("97 030 228 7") == "97 030 228 7"
    assert format_display("1234") == "1234"


def test_luhn_check_digit_by_hand() -> None:
    assert luhn_check_digit("97030228") == "7"
    assert luhn_check_digit("75071218") == "4"
    assert luhn_check_digit("69078181") == "0"
    assert luhn_check_digit("2A000001") == "4"
    assert luhn_check_digit("2B000001") == "2"


@pytest.mark.parametrize("first8", ["01000000", "13055123", "2A000123", "97040001", "59999999"])
def test_generated_numbers_validate_and_one_changed_digit_warns(first8: str) -> None:
    number = first8 + luhn_check_digit(first8)
    assert validate(number).warnings == []
    wrong = first8 + str((int(number[-1]) + 1) % 10)
    assert validate(wrong).warnings == [CHECK_DIGIT_WARNING]


@pytest.mark.parametrize("bad", ["1234567", "123456789", "2C000000"])
def test_luhn_check_digit_refuses_bad_input(bad: str) -> None:
    with pytest.raises(ValueError):
        luhn_check_digit(bad)
