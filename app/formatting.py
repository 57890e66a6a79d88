"""French display formatting: dates, numbers, FINESS numbers. Pure functions (no I/O), used
by the templates (as filters, see app.web.templating) and by feature code that writes text
(e-mails, messages, exports)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from zoneinfo import ZoneInfo

from app.structures.finess import format_display

PARIS = ZoneInfo("Europe/Paris")
EMPTY = "—"
MONTHS = (
    "janvier", "février", "mars", "avril", "mai", "juin",
    "juillet", "août", "septembre", "octobre", "novembre", "décembre",
)  # fmt: skip
NARROW_NBSP = "\u202f"  # French thousands separator


def _day(value: date) -> str:
    return "1er" if value.day == 1 else str(value.day)


def date_fr(value: date | datetime | None) -> str:
    """'27 novembre 2026'; datetimes: '27 novembre 2026 à 14 h 05' in Europe/Paris.

    Naive datetimes are taken as UTC (the database stores UTC).
    """
    if value is None:
        return EMPTY
    if isinstance(value, datetime):
        aware = value if value.tzinfo is not None else value.replace(tzinfo=UTC)
        local = aware.astimezone(PARIS)
        return (
            f"{_day(local)} {MONTHS[local.month - 1]} {local.year}"
            f" à {local.hour} h {local.minute:02d}"
        )
    return f"{_day(value)} {MONTHS[value.month - 1]} {value.year}"


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


def finess(value: str | None) -> str:
    """'750000001' -> '75 000 000 1' (spaces stripped first); other lengths unchanged."""
    if value is None:
        return EMPTY
    shown = format_display(str(value))
    return shown if " " in shown else str(value)
