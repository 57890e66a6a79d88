"""French numbers: the one parser of typed numbers and the display formatters.

Entry (`parse_number_fr`), what people type in France:
- a decimal comma or a decimal point, at most one: « 62,5 » and « 62.5 » are 62.5;
- spaces as thousands separators, in groups of three: ordinary, no-break (U+00A0) and narrow
  no-break (U+202F) spaces, and the thin space (U+2009): « 1 234,5 » is 1234.5;
- an optional sign (« - », « + » or the minus sign U+2212).
Refused, with a French message (never guessed): several separators (« 62,5,3 », « 1.234,5 »,
« 1,234.5 », « 1.234.567 »: a point is never a thousands separator), spaces that are not
groups of three (« 62 5 »), exponents, letters, and more than 15 digits (leading zeros and
trailing decimal zeros aside: beyond what the stored float keeps exactly).

Display: `number_fr` (rounded, for reading: « 43,6 », « 12 345 ») and `number_input_fr`
(exact, no grouping, for the value of an input: the typed 62,5 comes back as « 62,5 »).
"""

from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

EMPTY = "—"
NARROW_NBSP = "\u202f"  # French thousands separator
MAX_DIGITS = 15

NUMBER_ERROR = "Saisissez un nombre, par exemple 12 ou 12,5."
SEPARATORS_ERROR = ("Saisissez un nombre avec une seule virgule pour les décimales et, si "
                    "besoin, des espaces pour les milliers : par exemple 1 234,5.")
GROUPS_ERROR = ("Les espaces ne peuvent séparer que les milliers (groupes de trois chiffres) : "
                "par exemple 1 234,5.")
DIGITS_ERROR = f"Saisissez un nombre de {MAX_DIGITS} chiffres au plus."
INTEGER_ERROR = "Saisissez un nombre entier, par exemple 12."

_SPACES = re.compile("[ \u00a0\u202f\u2009]+")
_NUMBER = re.compile(r"(?P<sign>[-+\u2212]?)(?P<int>[0-9]*)(?:[.,](?P<frac>[0-9]+))?")
_GROUPED = re.compile(r"[0-9]{1,3}(?: [0-9]{3})+")


class NumberError(ValueError):
    """A typed text that is not a number; `message` is the French message to show."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def parse_number_fr(text: str | None) -> Decimal | None:
    """The number typed in `text`; None when it is empty. Raises NumberError."""
    text = (text or "").strip()
    if not text:
        return None
    spaced = _SPACES.sub(" ", text)
    if sum(spaced.count(c) for c in ".,") > 1:
        raise NumberError(SEPARATORS_ERROR if re.fullmatch(r"[-+\u2212]?[0-9 .,]+", spaced)
                          else NUMBER_ERROR)
    sign = spaced[0] if spaced[0] in "-+\u2212" else ""
    body = spaced[len(sign):].strip() if sign else spaced
    integer, _, _ = body.replace(",", ".").partition(".")
    if " " in integer:
        if not _GROUPED.fullmatch(integer):
            raise NumberError(GROUPS_ERROR if re.fullmatch(r"[0-9 ]+", integer) else NUMBER_ERROR)
        body = body.replace(" ", "", integer.count(" "))
    match = _NUMBER.fullmatch(sign + body)
    if match is None or not (match["int"] or match["frac"]):
        raise NumberError(NUMBER_ERROR)
    whole, fraction = match["int"].lstrip("0"), (match["frac"] or "").rstrip("0")
    if len(whole + fraction if whole else fraction.lstrip("0")) > MAX_DIGITS:
        raise NumberError(DIGITS_ERROR)
    number = Decimal(f"{match['int'] or '0'}.{match['frac'] or '0'}")
    return -number if match["sign"] in ("-", "\u2212") and number else number


def as_answer(number: Decimal) -> int | float:
    """The stored form of a parsed number: an int when whole (12,0 -> 12), else a float."""
    return int(number) if number == number.to_integral_value() else float(number)


def parse_integer_fr(text: str | None) -> int | None:
    """A whole number typed the French way (« 1 000 »); None when empty. Raises NumberError."""
    number = parse_number_fr(text)
    if number is None:
        return None
    if number != number.to_integral_value():
        raise NumberError(INTEGER_ERROR)
    return int(number)


def _decimal(value: float | int | Decimal | str) -> Decimal | None:
    try:
        number = Decimal(repr(value) if isinstance(value, float) else str(value))
    except InvalidOperation:
        return None
    return number if number.is_finite() else None


def number_fr(value: float | int | Decimal | str | None, decimals: int | None = None) -> str:
    """41.9 -> '41,9'; 12345 -> '12 345' (narrow no-break space); None -> '—'.

    `decimals=None`: at most 2 decimals, trailing zeros dropped (42.0 -> '42').
    `decimals=n`: exactly n decimals, rounded half up (41.95, 1 -> '42,0').
    """
    if value is None or isinstance(value, bool):
        return EMPTY
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        return str(value)
    if not number.is_finite():
        return EMPTY
    places = 2 if decimals is None else decimals
    number = number.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
    text = f"{abs(number):f}"
    integer, _, fraction = text.partition(".")
    if decimals is None:
        fraction = fraction.rstrip("0")
    groups: list[str] = []
    while len(integer) > 3:
        groups.insert(0, integer[-3:])
        integer = integer[:-3]
    groups.insert(0, integer)
    result = NARROW_NBSP.join(groups) + ("," + fraction if fraction else "")
    return ("-" if number < 0 else "") + result


def number_input_fr(value: float | int | Decimal | str | None) -> str | None:
    """The value of a number input: 62.5 -> '62,5', exact (no rounding, no grouping), so
    that saving the page again keeps the number. Text (a refused entry shown back) and None
    are returned unchanged."""
    if value is None or isinstance(value, str):
        return value
    number = None if isinstance(value, bool) else _decimal(value)
    if number is None:
        return str(value)
    text = f"{number.normalize():f}" if number != number.to_integral_value() else f"{number:.0f}"
    return text.replace(".", ",")
