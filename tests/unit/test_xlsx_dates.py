"""Dates and the header row of the streaming XLSX writer (app.exports.xlsx), read from the
written XML and back with openpyxl. Serial numbers worked out by hand: 2024-01-01 is day
45292 of the 1900 date system, 2024 has 366 days, so 2025-01-01 is 45658 and 2025-06-01
(+31+28+31+30+31) is 45809."""

from __future__ import annotations

import io
import re
import zipfile
from datetime import UTC, datetime

import pytest
from openpyxl import load_workbook

from app.exports.xlsx import Book, CellValue


def _write(rows: list[list[CellValue]]) -> bytes:
    out = io.BytesIO()
    with Book(out) as book, book.sheet("Dates") as sheet:
        for row in rows:
            sheet.append(row)
    return out.getvalue()


def test_dates_are_serial_numbers_with_a_date_format() -> None:
    data = _write([["Quand", "Nom"], [datetime(2025, 6, 1, 14, 0), "Été"],
                   [datetime(2025, 1, 1), "=x"]])
    xml = zipfile.ZipFile(io.BytesIO(data)).read("xl/worksheets/sheet1.xml").decode()
    serials = [float(v) for v in re.findall(r'<c r="A[23]" s="\d+" t="n"><v>([^<]+)</v>', xml)]
    assert serials[0] == pytest.approx(45809 + 14 / 24, abs=1e-9)
    assert serials[1] == 45658
    ws = load_workbook(io.BytesIO(data))["Dates"]
    assert ws["A2"].is_date and ws["A2"].number_format == "yyyy-mm-dd hh:mm"
    assert ws["A2"].value == datetime(2025, 6, 1, 14, 0)
    assert ws["A3"].value == datetime(2025, 1, 1, 0, 0)
    assert ws["B2"].value == "Été" and not ws["B2"].font.b
    assert ws["B3"].quotePrefix and not ws["B3"].font.b


def test_header_row_is_bold_and_keeps_the_quote_prefix() -> None:
    ws = load_workbook(io.BytesIO(_write([["Nom", "-marge", 3], ["a", "b", 4]])))["Dates"]
    assert [(c.value, bool(c.font.b), bool(c.quotePrefix)) for c in ws[1]] == [
        ("Nom", True, False), ("-marge", True, True), (3, False, False)]
    assert [bool(c.font.b) for c in ws[2]] == [False, False, False]


def test_aware_datetimes_are_refused() -> None:
    with pytest.raises(ValueError, match="naive"):
        _write([["Quand"], [datetime(2025, 6, 1, 12, 0, tzinfo=UTC)]])
