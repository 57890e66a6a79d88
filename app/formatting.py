"""French display formatting: dates, numbers, FINESS numbers. Pure functions (no I/O), used
by the templates (as filters, see app.web.templating) and by feature code that writes text
(e-mails, messages, exports)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from app.numbers_fr import EMPTY, NARROW_NBSP, number_fr
from app.structures.finess import format_display

__all__ = ["EMPTY", "NARROW_NBSP", "date_fr", "finess", "number_fr"]

PARIS = ZoneInfo("Europe/Paris")
MONTHS = (
    "janvier", "février", "mars", "avril", "mai", "juin",
    "juillet", "août", "septembre", "octobre", "novembre", "décembre",
)  # fmt: skip


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


def finess(value: str | None) -> str:
    """'750000001' -> '75 000 000 1' (spaces stripped first); other lengths unchanged."""
    if value is None:
        return EMPTY
    shown = format_display(str(value))
    return shown if " " in shown else str(value)


def time_fr(value: datetime | None) -> str:
    """'14 h 05' in Europe/Paris."""
    if value is None:
        return ""
    aware = value if value.tzinfo else value.replace(tzinfo=UTC)
    local = aware.astimezone(PARIS)
    return f"{local.hour} h {local.minute:02d}"
