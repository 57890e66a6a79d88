"""A streaming XLSX writer: rows go straight to the zip stream as XML text, one sheet after
the other, in constant memory (nothing is kept per row, nothing is parsed back).

Only what the exports need: text (inline strings; shared strings for the cells a sheet
repeats on many rows, `Sheet.cells`: the next steps' texts), integers, decimals (scores:
the full value shown with one decimal), booleans, and dates (naive datetimes, written as
given: the caller converts to Paris time; shown `yyyy-mm-dd hh:mm`); text that a
spreadsheet could run as a formula (`=`, `+`, `-`, `@`, tab, CR first) gets the "quote
prefix" style so that it stays text when edited (its value is unchanged); characters XML
cannot hold are dropped. Every sheet starts with its header row: bold, frozen, and the
autofilter's first row. The files are checked by reading them back with openpyxl
(tests/integration/test_exports.py, test_xlsx_widths.py).

    with Book(out) as book:
        with book.sheet("Sélection") as sheet:
            sheet.append(["Rang", "FINESS"])
"""

from __future__ import annotations

import math
import re
import zipfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import IO
from xml.sax.saxutils import escape, quoteattr

Value = str | int | float | None
CellValue = Value | datetime  # what a sheet row may hold (CSV rows hold `Value`s)
DANGEROUS = ("=", "+", "-", "@", "\t", "\r")
BATCH = 256  # rows per write to the zip stream
COMPRESSLEVEL = 1  # deflate: several times faster than the default for ~10 % more bytes

_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
_SPECIAL = re.compile(r"[&<>\r\x00-\x08\x0b\x0c\x0e-\x1f]")
_ENTITIES = {"\r": "&#13;"}  # a raw CR would be read back as LF
# cellXfs indexes (styles.xml below): a text cell's style attribute, by (header row,
# could run as a formula): quote prefix, bold, both.
_TEXT_STYLES = (("", ' s="1"'), (' s="4"', ' s="5"'))
_DECIMAL_STYLE = "2"  # the one-decimal number format ("0.0": scores)
_DATE_STYLE = "3"  # the date and time format "yyyy-mm-dd hh:mm"
_EPOCH = datetime(1899, 12, 30)  # day 0 of the spreadsheets' 1900 date system
_DAY = timedelta(days=1)
_FROZEN_HEADER = ('<sheetViews><sheetView workbookViewId="0"><pane ySplit="1" '
                  'topLeftCell="A2" activePane="bottomLeft" state="frozen"/></sheetView>'
                  '</sheetViews>')

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PKG = "http://schemas.openxmlformats.org/package/2006"
HEAD = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'


def _letters(n: int) -> str:
    out = ""
    while n:
        n, r = divmod(n - 1, 26)
        out = chr(65 + r) + out
    return out


COLUMNS = [_letters(i) for i in range(1, 16385)]  # A … XFD


def _text(value: str) -> tuple[str, bool]:
    """The `<t>` element of a text (inline or shared) and whether it could run as a
    formula (its cell then gets the quote prefix)."""
    if _SPECIAL.search(value) is not None:
        value = _ILLEGAL.sub("", value)
        dangerous = value.startswith(DANGEROUS)
        space = value != value.strip()
        value = escape(value, _ENTITIES)
    else:
        dangerous = value.startswith(DANGEROUS)
        space = value[:1].isspace() or value[-1:].isspace()
    preserve = ' xml:space="preserve"' if space else ""
    return f"<t{preserve}>{value}</t>", dangerous


def text_cell(ref: str, value: str, header: bool = False) -> str:
    t, dangerous = _text(value)
    return f'<c r="{ref}"{_TEXT_STYLES[header][dangerous]} t="inlineStr"><is>{t}</is></c>'


def shared_cell(ref: str, value: str, index: int) -> str:
    """A text cell pointing at entry `index` of the shared strings (sharedStrings.xml)."""
    return f'<c r="{ref}"{_TEXT_STYLES[0][_text(value)[1]]} t="s"><v>{index}</v></c>'


def date_serial(value: datetime) -> float:
    """A naive datetime as a spreadsheet serial number: days since 1899-12-30 (exact from
    1900-03-01 on), the time of day as the fraction."""
    if value.tzinfo is not None:
        raise ValueError("XLSX dates are naive local times (convert to Paris time first)")
    return (value - _EPOCH) / _DAY


def cells_xml(r: str, values: Sequence[CellValue], first: int = 0,
              shared: SharedStrings | None = None, header: bool = False) -> str:
    """The cells of row `r` (its number as text), from column `first` (0: A); empty cells
    (None, "") are left out. Text goes to `shared` when given, else inline; `header`: the
    texts in bold."""
    cells = []
    for col, v in enumerate(values, start=first):
        if v is None or v == "":
            continue
        ref = COLUMNS[col] + r
        if isinstance(v, str):
            cells.append(text_cell(ref, v, header) if shared is None
                         else shared_cell(ref, v, shared.index(v)))
        elif isinstance(v, bool):
            cells.append(f'<c r="{ref}" t="b"><v>{int(v)}</v></c>')
        elif isinstance(v, int):
            cells.append(f'<c r="{ref}" t="n"><v>{v!r}</v></c>')
        elif isinstance(v, datetime):
            cells.append(f'<c r="{ref}" s="{_DATE_STYLE}" t="n"><v>{date_serial(v)!r}</v></c>')
        elif math.isfinite(v):  # a score: the full value, shown with one decimal
            cells.append(f'<c r="{ref}" s="{_DECIMAL_STYLE}" t="n"><v>{v!r}</v></c>')
    return "".join(cells)


def cols_xml(widths: Sequence[float]) -> str:
    """The `<cols>` element of the sheet head (after sheetViews, before sheetData)."""
    if not widths:
        return ""
    return "<cols>" + "".join(f'<col min="{i}" max="{i}" width="{w:g}" customWidth="1"/>'
                              for i, w in enumerate(widths, start=1)) + "</cols>"


class SharedStrings:
    """The workbook's shared strings: texts repeated on many rows are written once
    (sharedStrings.xml) and each cell holds their index."""

    def __init__(self) -> None:
        self.strings: dict[str, int] = {}

    def index(self, value: str) -> int:
        found = self.strings.get(value)
        if found is None:
            found = self.strings[value] = len(self.strings)
        return found

    def xml(self) -> str:
        items = [f"<si>{_text(value)[0]}</si>" for value in self.strings]
        n = len(items)
        return (f'{HEAD}<sst xmlns="{MAIN}" count="{n}" uniqueCount="{n}">'
                + "".join(items) + "</sst>")


class Cells:
    """Cells laid out once for many rows (the same values on every row): their row
    number is filled in at each use. With `shared`, their texts are shared strings."""

    __slots__ = ("parts",)

    def __init__(self, values: Sequence[CellValue], first: int = 0,
                 shared: SharedStrings | None = None) -> None:
        self.parts = cells_xml(_MARK, values, first, shared).split(_MARK)

    def at(self, r: str) -> str:
        return r.join(self.parts)


_MARK = "\x00"  # never in a cell: illegal in XML, dropped from text


class Sheet:
    """Rows of one sheet, written to the zip stream in batches."""

    def __init__(self, stream: IO[bytes], shared: SharedStrings) -> None:
        self.stream = stream
        self.shared = shared
        self.pending: list[str] = []
        self.count = 0
        self.width = 0  # the header row's (the first row's) number of columns

    def append(self, values: Sequence[CellValue]) -> None:
        """A row; the first one is the header (its texts in bold)."""
        self.count += 1
        header = self.count == 1
        if header:
            self.width = len(values)
        r = str(self.count)
        self._add(f'<row r="{r}">{cells_xml(r, values, header=header)}</row>')

    def cells(self, values: Sequence[CellValue], first: int = 0) -> Cells:
        """Cells to repeat on many rows (`append_cells`), their texts shared."""
        return Cells(values, first, self.shared)

    def append_cells(self, *cells: Cells) -> None:
        """A row made of prepared cells (their columns must not overlap)."""
        self.count += 1
        r = str(self.count)
        self._add(f'<row r="{r}">{"".join(c.at(r) for c in cells)}</row>')

    def _add(self, row: str) -> None:
        self.pending.append(row)
        if len(self.pending) >= BATCH:
            self.flush()

    def flush(self) -> None:
        self.stream.write("".join(self.pending).encode())
        self.pending.clear()


# Cell styles by index: 0 plain, 1 text kept as typed (quote prefix), 2 one decimal, 3 date
# and time, 4 bold header, 5 bold header kept as typed.
STYLES_XML = (
    f'{HEAD}<styleSheet xmlns="{MAIN}">'
    '<numFmts count="2"><numFmt numFmtId="164" formatCode="0.0"/>'
    '<numFmt numFmtId="165" formatCode="yyyy-mm-dd hh:mm"/></numFmts>'
    '<fonts count="2"><font><sz val="11"/><name val="Calibri"/></font>'
    '<font><b/><sz val="11"/><name val="Calibri"/></font></fonts>'
    '<fills count="2"><fill><patternFill patternType="none"/></fill>'
    '<fill><patternFill patternType="gray125"/></fill></fills>'
    '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border>'
    '</borders><cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" '
    'borderId="0"/></cellStyleXfs><cellXfs count="6">'
    '<xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
    '<xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0" quotePrefix="1"/>'
    '<xf numFmtId="164" fontId="0" fillId="0" borderId="0" xfId="0" '
    'applyNumberFormat="1"/>'
    '<xf numFmtId="165" fontId="0" fillId="0" borderId="0" xfId="0" '
    'applyNumberFormat="1"/>'
    '<xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1"/>'
    '<xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1" '
    'quotePrefix="1"/>'
    '</cellXfs><cellStyles count="1"><cellStyle name="Normal" xfId="0" '
    'builtinId="0"/></cellStyles></styleSheet>')

class Book:
    """An XLSX file being written to `out` (a path or a binary stream); sheets in order."""

    def __init__(self, out: IO[bytes] | str) -> None:
        self.zip = zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED,
                                   compresslevel=COMPRESSLEVEL)
        self.titles: list[str] = []
        self.shared = SharedStrings()

    def __enter__(self) -> Book:
        return self

    def __exit__(self, *exc: object) -> None:
        if exc[0] is None:
            self._finish()
        self.zip.close()

    @contextmanager
    def sheet(self, title: str, widths: Sequence[float] = ()) -> Iterator[Sheet]:
        """A new sheet, written as its rows come; `widths`: of its columns from A, in
        characters (app.exports.xlsx_widths), set before the rows. Its first row is the
        header."""
        self.titles.append(title)
        name = f"xl/worksheets/sheet{len(self.titles)}.xml"
        with self.zip.open(name, "w", force_zip64=True) as stream:
            stream.write(f'{HEAD}<worksheet xmlns="{MAIN}">{_FROZEN_HEADER}'
                         f'{cols_xml(widths)}<sheetData>'.encode())
            sheet = Sheet(stream, self.shared)
            yield sheet
            sheet.flush()
            stream.write(b"</sheetData>")
            if sheet.width and sheet.count:
                last = COLUMNS[sheet.width - 1] + str(sheet.count)
                stream.write(f'<autoFilter ref="A1:{last}"/>'.encode())
            stream.write(b"</worksheet>")

    def _finish(self) -> None:
        n = len(self.titles)
        sheets = "".join(f'<Override PartName="/xl/worksheets/sheet{i}.xml" ContentType="'
                         'application/vnd.openxmlformats-officedocument.spreadsheetml.'
                         'worksheet+xml"/>' for i in range(1, n + 1))
        self.zip.writestr("[Content_Types].xml", (
            f'{HEAD}<Types xmlns="{PKG}/content-types">'
            '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
            'relationships+xml"/><Default Extension="xml" ContentType="application/xml"/>'
            '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.'
            'openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
            '<Override PartName="/xl/styles.xml" ContentType="application/vnd.openxmlformats-'
            'officedocument.spreadsheetml.styles+xml"/>'
            '<Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.'
            'openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/>'
            '<Override PartName="/docProps/core.xml" ContentType="application/vnd.'
            f'openxmlformats-package.core-properties+xml"/>{sheets}</Types>'))
        self.zip.writestr("_rels/.rels", (
            f'{HEAD}<Relationships xmlns="{PKG}/relationships">'
            f'<Relationship Id="rId1" Type="{REL}/officeDocument" Target="xl/workbook.xml"/>'
            '<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/package/2006/'
            'relationships/metadata/core-properties" Target="docProps/core.xml"/>'
            '</Relationships>'))
        now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        self.zip.writestr("docProps/core.xml", (
            f'{HEAD}<cp:coreProperties xmlns:cp="{PKG}/metadata/core-properties" '
            'xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:dcterms="http://purl.org/dc/'
            'terms/" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
            '<dc:creator>Palier</dc:creator><dcterms:created xsi:type="dcterms:W3CDTF">'
            f'{now}</dcterms:created></cp:coreProperties>'))
        entries = "".join(f'<sheet name={quoteattr(t)} sheetId="{i}" r:id="rId{i}"/>'
                          for i, t in enumerate(self.titles, start=1))
        self.zip.writestr("xl/workbook.xml", (
            f'{HEAD}<workbook xmlns="{MAIN}" xmlns:r="{REL}"><sheets>{entries}</sheets>'
            '</workbook>'))
        rels = "".join(f'<Relationship Id="rId{i}" Type="{REL}/worksheet" '
                       f'Target="worksheets/sheet{i}.xml"/>' for i in range(1, n + 1))
        self.zip.writestr("xl/_rels/workbook.xml.rels", (
            f'{HEAD}<Relationships xmlns="{PKG}/relationships">{rels}'
            f'<Relationship Id="rId{n + 1}" Type="{REL}/styles" Target="styles.xml"/>'
            f'<Relationship Id="rId{n + 2}" Type="{REL}/sharedStrings" '
            'Target="sharedStrings.xml"/></Relationships>'))
        self.zip.writestr("xl/sharedStrings.xml", self.shared.xml())
        self.zip.writestr("xl/styles.xml", STYLES_XML)
