"""French number entry and display (app/numbers_fr.py): expectations written by hand."""

from __future__ import annotations

from decimal import Decimal

import pytest

from app.numbers_fr import (
    DIGITS_ERROR,
    GROUPS_ERROR,
    INTEGER_ERROR,
    NUMBER_ERROR,
    SEPARATORS_ERROR,
    NumberError,
    as_answer,
    number_fr,
    number_input_fr,
    parse_integer_fr,
    parse_number_fr,
)

NBSP, NNBSP, THIN = "\u00a0", "\u202f", "\u2009"


@pytest.mark.parametrize(("text", "expected"), [
    ("62,5", Decimal("62.5")),  # the defect: the decimal comma
    ("62.5", Decimal("62.5")),
    ("  62,5  ", Decimal("62.5")),
    ("12", Decimal("12")),
    ("0", Decimal("0")),
    (",5", Decimal("0.5")),
    ("0,05", Decimal("0.05")),
    ("1 234,5", Decimal("1234.5")),
    (f"1{NBSP}234,5", Decimal("1234.5")),
    (f"1{NNBSP}234,5", Decimal("1234.5")),
    (f"1{THIN}234{THIN}567", Decimal("1234567")),
    ("12 345 678,25", Decimal("12345678.25")),
    ("1234.5", Decimal("1234.5")),
    ("1,234", Decimal("1.234")),  # French: the comma is always decimal
    ("-3,5", Decimal("-3.5")),
    ("\u22123,5", Decimal("-3.5")),  # minus sign
    ("+7", Decimal("7")),
    ("-0", Decimal("0")),
    ("007", Decimal("7")),
    ("123456789012345", Decimal("123456789012345")),  # 15 digits
    ("0,000000000000001", Decimal("0.000000000000001")),
    ("", None),
    ("   ", None),
    (None, None),
])
def test_parse_accepts(text: str | None, expected: Decimal | None) -> None:
    assert parse_number_fr(text) == expected


@pytest.mark.parametrize(("text", "message"), [
    ("62,5,3", SEPARATORS_ERROR),
    ("1.234,5", SEPARATORS_ERROR),
    ("1,234.5", SEPARATORS_ERROR),
    ("1.234.567", SEPARATORS_ERROR),
    ("62 5", GROUPS_ERROR),  # a typo, not 625
    ("1 23 456", GROUPS_ERROR),
    ("1234 567", GROUPS_ERROR),
    ("douze", NUMBER_ERROR),
    ("12 ans", NUMBER_ERROR),
    ("12,", NUMBER_ERROR),
    (",", NUMBER_ERROR),
    ("-", NUMBER_ERROR),
    ("1e3", NUMBER_ERROR),
    ("NaN", NUMBER_ERROR),
    ("Infinity", NUMBER_ERROR),
    ("1_000", NUMBER_ERROR),
    ("٣", NUMBER_ERROR),  # Arabic-Indic digit: int() would take it
    ("12,5 3", NUMBER_ERROR),
    ("1234567890123456", DIGITS_ERROR),  # 16 digits
    ("1" + "0" * 5000, DIGITS_ERROR),
    ("0,1234567890123456", DIGITS_ERROR),
])
def test_parse_refuses(text: str, message: str) -> None:
    with pytest.raises(NumberError) as caught:
        parse_number_fr(text)
    assert caught.value.message == message


def test_messages_are_french_sentences() -> None:
    assert SEPARATORS_ERROR == ("Saisissez un nombre avec une seule virgule pour les décimales "
                                "et, si besoin, des espaces pour les milliers : par exemple "
                                "1 234,5.")
    assert NUMBER_ERROR == "Saisissez un nombre, par exemple 12 ou 12,5."


def test_as_answer() -> None:
    assert as_answer(Decimal("62.5")) == 62.5
    assert isinstance(as_answer(Decimal("12.0")), int)
    assert as_answer(Decimal("12.0")) == 12


def test_parse_integer() -> None:
    assert parse_integer_fr("1 000") == 1000
    assert parse_integer_fr(f"80{NBSP}") == 80
    assert parse_integer_fr("12,0") == 12
    assert parse_integer_fr("") is None
    with pytest.raises(NumberError) as caught:
        parse_integer_fr("12,5")
    assert caught.value.message == INTEGER_ERROR


@pytest.mark.parametrize(("value", "decimals", "expected"), [
    (43.6, None, "43,6"),
    (62.5, None, "62,5"),
    (12345, None, f"12{NNBSP}345"),
    (1234567.891, None, f"1{NNBSP}234{NNBSP}567,89"),
    (42.0, None, "42"),
    (41.95, 1, "42,0"),
    (0.05, 1, "0,1"),  # half up
    (-3.25, 1, "-3,3"),
    (None, None, "—"),
])
def test_number_fr(value: float | None, decimals: int | None, expected: str) -> None:
    assert number_fr(value, decimals) == expected


@pytest.mark.parametrize(("value", "expected"), [
    (62.5, "62,5"),
    (12, "12"),
    (12.0, "12"),
    (1234.5, "1234,5"),
    (0.125, "0,125"),  # exact: not rounded like number_fr
    (1e16, "10000000000000000"),
    (0.000001, "0,000001"),
    (-3.5, "-3,5"),
    ("62,5,3", "62,5,3"),  # a refused entry is shown back as typed
    (None, None),
])
def test_number_input_fr(value: float | str | None, expected: str | None) -> None:
    assert number_input_fr(value) == expected


@pytest.mark.parametrize("text", ["62,5", "1 234,5", "0,125", "10000", "-0,5"])
def test_input_round_trip(text: str) -> None:
    number = parse_number_fr(text)
    assert number is not None
    shown = number_input_fr(as_answer(number))
    assert parse_number_fr(shown) == number


# ---- the other number fields use the same parser ------------------------------------------


def test_shortlist_builder_numbers() -> None:
    from app.shortlists.forms import criteria_from_form

    form = {"classement": ["weights"], "poids_dui": ["1,5"], "poids_securite": ["2"],
            "taille_liste": ["1 000"], "max_department": [f"1{NNBSP}200"]}
    criteria, errors = criteria_from_form(form, fixed_region="84", national=False)
    assert errors == {}
    assert criteria is not None
    assert criteria.size == 1000
    assert criteria.rank_by.weights == {"dui": 1.5, "securite": 2.0}  # type: ignore[union-attr]
    assert [(q.by, q.max) for q in criteria.quotas] == [("department", 1200)]

    form = {"classement": ["weights"], "poids_dui": ["1,5,2"], "taille_liste": ["12,5"]}
    criteria, errors = criteria_from_form(form, fixed_region="84", national=False)
    assert criteria is None
    assert errors == {
        "poids_dui": "Poids : saisissez un nombre avec une seule virgule pour les décimales "
                     "et, si besoin, des espaces pour les milliers : par exemple 1 234,5.",
        "taille_liste": "Nombre de structures : saisissez un nombre entier.",
    }


@pytest.mark.parametrize(("raw", "value", "error"), [
    ("80", 80, None),
    (f"1{NBSP}200", 1200, None),
    ("", None, None),
    ("8 0", None, "Indiquez un nombre entier de places, par exemple 80."),  # was 80
    ("80,5", None, "Indiquez un nombre entier de places, par exemple 80."),
    ("1_000", None, "Indiquez un nombre entier de places, par exemple 80."),
    ("200000", 200000, f"Indiquez un nombre de places entre 0 et 100{NNBSP}000."),
])
def test_structure_capacity(raw: str, value: int | None, error: str | None) -> None:
    from app.structures.creation import _capacity

    errors: dict[str, str] = {}
    assert _capacity(raw, errors) == value
    assert errors.get("capacity") == error


def test_shortlist_weights_read_the_french_way() -> None:
    from app.shortlists.exports import key_label
    from app.shortlists.forms import form_from_criteria

    criteria = {"rank_by": {"weights": {"dui": 1.5, "securite": 2.0}}}
    assert key_label(criteria, {"dui": "DUI", "securite": "Sécurité"}) == (
        "Moyenne pondérée (DUI × 1,5, Sécurité × 2)")
    assert ("poids_dui", "1,5") in form_from_criteria(criteria)
