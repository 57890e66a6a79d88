"""The etalab CSV adapter: header, encodings, field counts, line numbers, values."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.structures.adapters import (
    EtalabCsvAdapter,
    SourceFormatError,
    StructureRecord,
    StructureSource,
    decode,
)
from tests.fixtures.finess import HEADER, et_line, write_file


def _adapter(path: Path) -> EtalabCsvAdapter:
    return EtalabCsvAdapter.from_path(path)


def test_is_a_structure_source(tmp_path: Path) -> None:
    adapter = _adapter(write_file(tmp_path / "a.csv", []))
    assert isinstance(adapter, StructureSource)
    assert adapter.name == "etalab"
    assert adapter.header == HEADER
    assert list(adapter.rows()) == []


def test_values_of_a_line(tmp_path: Path) -> None:
    line = et_line("690000039", "690000047", "EHPAD LES TILLEULS", "500", "69",
                   category_label="Etab.héberg.P.A.dépendantes", acheminement="69003 LYON",
                   long_name="EHPAD LES TILLEULS DE LYON")
    rows = list(_adapter(write_file(tmp_path / "a.csv", [line])).rows())
    assert len(rows) == 1
    assert rows[0].line == 2
    assert rows[0].error is None
    assert rows[0].record == StructureRecord(
        finess="690000039", finess_ej="690000047", name="EHPAD LES TILLEULS DE LYON",
        category_code="500", category_label="Etab.héberg.P.A.dépendantes", department="69",
        city="LYON", postal_code="69003")


def test_short_name_when_no_long_name_and_city_without_postal_code(tmp_path: Path) -> None:
    line = et_line("690000039", "", "SSIAD DU VAL", "354", "69", acheminement="CEDEX")
    (row,) = _adapter(write_file(tmp_path / "a.csv", [line])).rows()
    assert row.record is not None
    assert row.record.name == "SSIAD DU VAL"
    assert row.record.finess_ej == ""
    assert row.record.city == "CEDEX"
    assert row.record.postal_code is None


def test_latin1_file_with_accents(tmp_path: Path) -> None:
    line = et_line("690000039", "690000047", "EHPAD L'ÉTÉ À SAINT-ÉTIENNE", "500", "69",
                   category_label="Établissement d'hébergement")
    adapter = _adapter(write_file(tmp_path / "a.csv", [line], encoding="latin-1"))
    assert adapter.encoding == "latin-1"
    (row,) = adapter.rows()
    assert row.record is not None
    assert row.record.name == "EHPAD L'ÉTÉ À SAINT-ÉTIENNE"
    assert row.record.category_label == "Établissement d'hébergement"


def test_utf8_file_with_accents_and_bom(tmp_path: Path) -> None:
    line = et_line("690000039", "690000047", "Résidence « Les Érables »", "202", "69")
    path = tmp_path / "a.csv"
    path.write_bytes(b"\xef\xbb\xbf" + (HEADER + "\n" + line + "\n").encode("utf-8"))
    adapter = _adapter(path)
    assert adapter.encoding == "utf-8"
    assert adapter.header == HEADER
    (row,) = adapter.rows()
    assert row.record is not None
    assert row.record.name == "Résidence « Les Érables »"


def test_windows_1252_apostrophe_is_read_as_text() -> None:
    # 0x92 is the typographic apostrophe in Windows-1252, a control character in Latin-1.
    text, encoding = decode(b"finess;etalab;1;2026\nstructureet;L\x92\xc9T\xc9\n")
    assert encoding == "latin-1"
    assert "L’ÉTÉ" in text


def test_crlf_line_endings(tmp_path: Path) -> None:
    lines = [et_line("690000039", "", "A", "500", "69"), et_line("690000047", "", "B", "500",
                                                                  "69")]
    adapter = _adapter(write_file(tmp_path / "a.csv", lines, newline="\r\n"))
    rows = list(adapter.rows())
    assert [r.line for r in rows] == [2, 3]
    assert [r.record.finess for r in rows if r.record] == ["690000039", "690000047"]
    assert rows[1].record is not None and rows[1].record.name == "B"


@pytest.mark.parametrize("fields", [31, 33, 5])
def test_wrong_field_count_is_an_error_with_the_line_number(tmp_path: Path, fields: int) -> None:
    lines = [et_line("690000039", "", "A", "500", "69"),
             et_line("690000047", "", "B", "500", "69", fields=fields),
             et_line("690000054", "", "C", "500", "69")]
    rows = list(_adapter(write_file(tmp_path / "a.csv", lines)).rows())
    assert [r.line for r in rows] == [2, 3, 4]
    assert rows[1].record is None
    assert rows[1].error == f"{fields} champs au lieu de 32 (ligne tronquée ou séparateur en trop)."
    assert rows[1].finess_hint == "690000047"
    assert rows[0].error is None and rows[2].error is None


def test_blank_and_geolocalisation_lines_are_not_rows(tmp_path: Path) -> None:
    lines = [et_line("690000039", "", "A", "500", "69"), "",
             "geolocalisation;690000039;842000.1;6519000.2;1,ATLASANTE;2026-10-01",
             et_line("690000047", "", "B", "500", "69")]
    adapter = _adapter(write_file(tmp_path / "a.csv", lines))
    rows = list(adapter.rows())
    assert [r.line for r in rows] == [2, 5]
    assert adapter.other_lines == {"geolocalisation": 1}
    assert adapter.total_lines == 5


def test_unknown_kind_of_line_is_ignored_with_a_reason(tmp_path: Path) -> None:
    (row,) = _adapter(write_file(tmp_path / "a.csv", ["autrechose;690000039;x"])).rows()
    assert row.record is None and row.error is None
    assert row.ignored == ("Ligne de type « autrechose » ignorée : seules les lignes "
                           "d’établissement (« structureet ») sont lues.")


def test_quoted_fields_are_unwrapped(tmp_path: Path) -> None:
    line = et_line('"690000039"', "", '"EHPAD ""LE PARC"""', "500", "69")
    (row,) = _adapter(write_file(tmp_path / "a.csv", [line])).rows()
    assert row.record is not None
    assert row.record.finess == "690000039"
    assert row.record.name == 'EHPAD "LE PARC"'


@pytest.mark.parametrize("first", [
    "structureet;690000039;;A",  # no header line
    "nofinesset;nofinessej;rs",  # a header row of another format
    "",
])
def test_a_file_without_the_etalab_first_line_is_refused(tmp_path: Path, first: str) -> None:
    path = tmp_path / "a.csv"
    path.write_text(first + "\n" + et_line("690000039", "", "A", "500", "69") + "\n",
                    encoding="utf-8")
    with pytest.raises(SourceFormatError, match="première ligne devrait commencer par "
                                                "« finess;etalab »"):
        _adapter(path)


def test_empty_file_is_refused() -> None:
    with pytest.raises(SourceFormatError):
        EtalabCsvAdapter(b"")


def test_overseas_letter_department_is_passed_as_is(tmp_path: Path) -> None:
    line = et_line("970300091", "970300091", "EHPAD DE CAYENNE", "500", "9c",
                   acheminement="97300 CAYENNE")
    (row,) = _adapter(write_file(tmp_path / "a.csv", [line])).rows()
    assert row.record is not None
    assert row.record.department == "9C"
    assert row.record.postal_code == "97300"
