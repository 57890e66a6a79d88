"""FINESS numbers: normalisation, validation, department, display (see domain.md).

A malformed number (length, pattern, unknown department) is an error: refused. A bad check
digit is only a warning: the Luhn key is not in an official text, so a user confirms the
number and an import keeps the row and reports it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from app.reference import departments

PATTERN = re.compile(r"[0-9][0-9A-Z][0-9]{7}")
_SEPARATORS = re.compile(r"[\s.\-]+")
# Corsica in the Luhn computation.
_LUHN_SUBSTITUTES = {"A": "1", "B": "2"}

CHECK_DIGIT_WARNING = "La clé de contrôle du numéro FINESS ne correspond pas : vérifiez le numéro."


@dataclass(frozen=True, slots=True)
class FinessCheck:
    number: str  # normalised input
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """Well-formed (there may still be warnings to confirm)."""
        return not self.errors


def normalize(raw: str) -> str:
    """Strip spaces, dots and dashes; upper-case (`2a 000 001 4` → `2A0000014`)."""
    return _SEPARATORS.sub("", raw or "").upper()


def department_of(number: str) -> str | None:
    """The department of registration encoded in a number, or None if none is recognised.

    `01`…`95` and `2A`/`2B` are the first two characters; overseas numbers start with `970`
    and the 4th character gives the department (`9703…` → `973`).
    """
    number = normalize(number)
    if len(number) < 4:
        return None
    if number.startswith("970"):
        code = "97" + number[3]
    elif number.startswith("97"):
        return None
    else:
        code = number[:2]
    return code if code in departments() else None


def _luhn_sum(digits: str) -> int:
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char)
        if position % 2 == 1:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return total


def _luhn_digits(chars: str) -> str:
    return "".join(_LUHN_SUBSTITUTES.get(c, c) for c in chars)


def luhn_check_digit(first8: str) -> str:
    """The 9th character making `first8` + it pass the Luhn check (2A→21, 2B→22)."""
    first8 = normalize(first8)
    if len(first8) != 8 or not PATTERN.fullmatch(first8 + "0"):
        raise ValueError(f"expected the first 8 characters of a FINESS number, got {first8!r}")
    total = _luhn_sum(_luhn_digits(first8) + "0")
    return str((10 - total % 10) % 10)


def luhn_valid(number: str) -> bool:
    number = normalize(number)
    if not PATTERN.fullmatch(number):
        return False
    return _luhn_sum(_luhn_digits(number)) % 10 == 0


def validate(raw: str) -> FinessCheck:
    number = normalize(raw)
    if not number:
        return FinessCheck(number, errors=["Saisissez un numéro FINESS (9 caractères)."])
    if len(number) != 9:
        return FinessCheck(
            number,
            errors=[f"Le numéro FINESS doit comporter 9 caractères ({len(number)} saisis)."],
        )
    if not PATTERN.fullmatch(number):
        return FinessCheck(
            number,
            errors=[
                "Le numéro FINESS doit comporter 9 chiffres, le deuxième pouvant être "
                "A ou B pour la Corse (2A, 2B)."
            ],
        )
    if department_of(number) is None:
        prefix = number[:4] if number.startswith("97") else number[:2]
        return FinessCheck(
            number,
            errors=[
                f"Le numéro FINESS commence par « {prefix} », qui ne correspond à aucun "
                "département."
            ],
        )
    warnings = [] if luhn_valid(number) else [CHECK_DIGIT_WARNING]
    return FinessCheck(number, warnings=warnings)


def format_display(number: str) -> str:
    """`970302287` → `97 030 228 7` (unchanged if not 9 characters)."""
    number = normalize(number)
    if len(number) != 9:
        return number
    return f"{number[:2]} {number[2:5]} {number[5:8]} {number[8]}"
