"""French display formatting: dates, numbers, FINESS numbers. Pure functions (no I/O), used
by the templates (as filters, see app.web.templating) and by feature code that writes text
(e-mails, messages, exports)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from app.numbers_fr import EMPTY, NARROW_NBSP, number_fr
from app.structures.finess import format_display

__all__ = ["EMPTY", "NARROW_NBSP", "date_fr", "finess", "in_paris", "number_fr"]

PARIS = ZoneInfo("Europe/Paris")
MONTHS = (
    "janvier", "février", "mars", "avril", "mai", "juin",
    "juillet", "août", "septembre", "octobre", "novembre", "décembre",
)  # fmt: skip


def in_paris(moment: datetime | str) -> datetime:
    """A stored moment (a datetime, or its ISO 8601 text; naive ones are UTC, as the
    database stores them) in Europe/Paris time."""
    when = datetime.fromisoformat(moment) if isinstance(moment, str) else moment
    return (when if when.tzinfo is not None else when.replace(tzinfo=UTC)).astimezone(PARIS)


def _day(value: date) -> str:
    return "1er" if value.day == 1 else str(value.day)


def date_fr(value: date | datetime | None) -> str:
    """'27 novembre 2026'; datetimes: '27 novembre 2026 à 14 h 05' in Europe/Paris.

    Naive datetimes are taken as UTC (the database stores UTC).
    """
    if value is None:
        return EMPTY
    if isinstance(value, datetime):
        local = in_paris(value)
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
    local = in_paris(value)
    return f"{local.hour} h {local.minute:02d}"
