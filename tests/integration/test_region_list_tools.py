"""The ARS structure list (issue 10): search by name, FINESS or commune, the commune
column, the comparison selection kept from page to page, and the CSV/XLSX exports of the
list and of the dashboard figures with the filters applied. Dataset:
tests.integration.test_dashboard.build (department 38: Foxtrot, Golf, Hotel, Lima)."""

from __future__ import annotations

import csv
import io
import re
from datetime import datetime

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlmodel import Session, col, select

from app.audit import AuditEvent
from app.config import Settings
from app.dashboard import listing
from app.formatting import PARIS
from tests.integration import test_region_pages as rp
from tests.integration.test_dashboard import World
from tests.integration.test_region_pages import client_as, get, text_of

world = rp.world  # the fixture
ROW_NAME = re.compile(r'<th scope="row"><a href="/structures/\d+">([^<]+)</a></th>')


def names(html: str) -> list[str]:
    return ROW_NAME.findall(html)


def test_search_by_name_commune_or_finess(app_client: TestClient, session: Session,
                                          settings: Settings, world: World) -> None:
    echo = world.s["s5"]
    echo.city = "Villeurbanne"
    session.add(echo)
    session.commit()
    c = client_as(app_client, session, settings, world.ars84)
    r = get(c, "/regions/84/structures?recherche=ELT")
    assert names(r.text) == ["Delta"]
    assert "1 structure pour « ELT »" in text_of(r.text)
    assert 'name="recherche" value="ELT"' in r.text
    assert names(get(c, "/regions/84/structures?recherche=villeur").text) == ["Echo"]
    delta = world.s["s4"].finess
    spaced = f"{delta[:2]} {delta[2:5]} {delta[5:]}"
    assert names(get(c, f"/regions/84/structures?recherche={spaced}").text) == ["Delta"]
    assert names(get(c, "/regions/84/structures?recherche=%25").text) == []  # % is literal
    # The search goes with the sort links; the region of another ARS is never searched.
    r = get(c, "/regions/84/structures?recherche=a&tri=nom")
    assert 'href="/regions/84/structures?recherche=a&amp;tri=nom&amp;ordre=desc"' in r.text
    assert "November" not in r.text and "Oscar" not in r.text


def test_commune_column(app_client: TestClient, session: Session, settings: Settings,
                        world: World) -> None:
    c = client_as(app_client, session, settings, world.ars84)
    r = get(c, "/regions/84/structures?departement=38&tri=nom")
    assert 'href="/regions/84/structures?departement=38&amp;tri=commune&amp;ordre=asc"' in r.text
    t = text_of(r.text)
    assert "Commune" in t
    assert re.search(r"Foxtrot \d\d \d\d\d \d\d\d \d — ", t)  # no commune known in the Isère
    r = get(c, "/regions/84/structures?departement=69&tri=nom")
    assert re.search(r"Charlie \d\d \d\d\d \d\d\d \d Lyon ", text_of(r.text))


def test_the_selection_survives_paging(app_client: TestClient, session: Session,
                                       settings: Settings, world: World,
                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(listing, "PAGE_SIZE", 4)
    alpha, delta, echo = (world.s[k].finess for k in ("s1", "s4", "s5"))
    c = client_as(app_client, session, settings, world.ars84)
    r = get(c, f"/regions/84/structures?page=2&finess={alpha}&finess={delta}&finess={echo}")
    assert names(r.text) == ["Echo", "Foxtrot", "Golf", "Hotel"]
    # Echo is on this page: ticked; Alpha and Delta (page 1) travel as hidden fields.
    assert f'id="cmp-{echo}" name="finess" value="{echo}" checked' in r.text
    assert f'<input type="hidden" name="finess" value="{alpha}">' in r.text
    assert f'<input type="hidden" name="finess" value="{delta}">' in r.text
    assert f'<input type="hidden" name="finess" value="{echo}">' not in r.text
    assert "3 structures cochées pour la comparaison" in text_of(r.text)
    # Page links keep the selection; their htmx request takes it from the form instead.
    assert (f'href="/regions/84/structures?tri=nom&amp;ordre=asc&amp;page=1&amp;finess={alpha}'
            f'&amp;finess={delta}&amp;finess={echo}" hx-get="/regions/84/structures?tri=nom'
            '&amp;ordre=asc&amp;page=1" hx-include="#compare-form"') in r.text
    r = get(c, f"/regions/84/structures?page=1&finess={alpha}&finess={delta}&finess={echo}")
    assert f'id="cmp-{alpha}" name="finess" value="{alpha}" checked' in r.text
    assert f'id="cmp-{delta}" name="finess" value="{delta}" checked' in r.text
    # The comparison takes the whole selection.
    r = get(c, f"/regions/84/comparer?finess={alpha}&finess={delta}&finess={echo}")
    assert r.status_code == 200
    assert all(n in r.text for n in ("Alpha", "Delta", "Echo"))


def _csv_rows(body: bytes, sep: str = ",") -> list[list[str]]:
    text = body.decode("utf-8")
    assert text.startswith("\ufeff")
    return list(csv.reader(io.StringIO(text[1:]), delimiter=sep))


def test_list_export_with_filters_csv_and_xlsx(app_client: TestClient, session: Session,
                                               settings: Settings, world: World) -> None:
    c = client_as(app_client, session, settings, world.ars84)
    page = get(c, "/regions/84/structures?departement=38&recherche=o")
    assert 'href="/regions/84/structures.csv?departement=38&amp;recherche=o"' in page.text
    r = get(c, "/regions/84/structures.csv?departement=38&recherche=o")
    assert r.status_code == 200
    today = datetime.now(PARIS).date().isoformat()
    assert r.headers["content-disposition"] == \
        f'attachment; filename="structures-region-84-{today}.csv"'
    rows = _csv_rows(r.content)
    assert rows[0] == ["FINESS", "Nom", "Commune", "Code département", "Département",
                       "Code catégorie FINESS", "Catégorie FINESS", "Capacité",
                       "Palier (niveau)", "Palier", "Score global (sur 100)",
                       "Transmise le (heure de Paris)", "Revue de l’ARS"]
    # Department 38 with an "o" in the name: Foxtrot, Golf, Hotel (not Lima).
    assert [row[1] for row in rows[1:]] == ["Foxtrot", "Golf", "Hotel"]
    hotel = rows[3]
    assert hotel[0] == world.s["s8"].finess
    assert hotel[2:6] == ["", "38", "Isère", "500"]
    assert hotel[7:9] == ["90", "4"]
    assert hotel[10:] == ["90.0", "2026-03-10 13:00", "Non revue"]  # 12:00 UTC, winter

    r = get(c, "/regions/84/structures.csv?departement=38&recherche=o&sep=%3B")
    assert r.headers["content-disposition"] == \
        f'attachment; filename="structures-region-84-{today}-pointvirgule.csv"'
    assert _csv_rows(r.content, ";")[3][10] == "90,0"

    r = get(c, "/regions/84/structures.xlsx?departement=38")
    assert r.status_code == 200
    ws = load_workbook(io.BytesIO(r.content)).active
    assert ws is not None
    assert ws.freeze_panes == "A2"
    assert ws.auto_filter.ref == "A1:M5"
    assert [ws.cell(row=i, column=2).value for i in range(2, 6)] == \
        ["Foxtrot", "Golf", "Hotel", "Lima"]
    assert ws["K4"].value == 90.0 and ws["K4"].number_format == "0.0"
    assert ws["L5"].value == datetime(2025, 6, 1, 14, 0)  # 12:00 UTC, summer time

    events = session.exec(select(AuditEvent).where(AuditEvent.action == "export")
                          .order_by(col(AuditEvent.id))).all()
    assert [(e.user_id, e.object_id, e.details["kind"], e.details["format"], e.details["rows"],
             e.details["filters"], e.details.get("search")) for e in events] == [
        (world.ars84.id, "84", "region_structures", "csv", 3, {"departement": "38"}, "o"),
        (world.ars84.id, "84", "region_structures", "csv", 3, {"departement": "38"}, "o"),
        (world.ars84.id, "84", "region_structures", "xlsx", 4, {"departement": "38"}, None)]


def test_dashboard_figures_export(app_client: TestClient, session: Session,
                                  settings: Settings, world: World) -> None:
    c = client_as(app_client, session, settings, world.ars84)
    page = get(c, "/regions/84?departement=38")
    assert 'href="/regions/84/chiffres.xlsx?departement=38"' in page.text
    rows = _csv_rows(get(c, "/regions/84/chiffres.csv?departement=38").content)
    assert rows[0] == ["Rubrique", "Code", "Libellé", "Indicateur", "Valeur"]
    assert rows[1:5] == [
        ["Région", "84", "Auvergne-Rhône-Alpes", "Structures en activité", "4"],
        ["Région", "84", "Auvergne-Rhône-Alpes", "Évaluations transmises", "4"],
        ["Région", "84", "Auvergne-Rhône-Alpes", "Évaluations en cours", "0"],
        ["Région", "84", "Auvergne-Rhône-Alpes", "Participation (%)", "100.0"]]
    assert ["Département", "38", "Isère (38)", "Structures", "4"] in rows
    r = get(c, "/regions/84/chiffres.xlsx")
    ws = load_workbook(io.BytesIO(r.content)).active
    assert ws is not None and ws.freeze_panes == "A2"
    assert [ws.cell(row=2, column=i).value for i in range(1, 6)] == \
        ["Région", "84", "Auvergne-Rhône-Alpes", "Structures en activité", 11]


@pytest.mark.parametrize("url", ["/regions/84/structures.csv", "/regions/84/structures.xlsx",
                                 "/regions/84/chiffres.csv", "/regions/84/chiffres.xlsx"])
def test_exports_scope(app_client: TestClient, session: Session, settings: Settings,
                       world: World, url: str) -> None:
    for user, status in ((world.ars11, 404), (world.committee84, 403), (world.director4, 403),
                         (world.admin, 200)):
        c = client_as(app_client, session, settings, user)
        assert get(c, url).status_code == status, user.email
    c = client_as(app_client, session, settings, world.ars11)
    r = get(c, "/regions/11/structures.csv")
    assert r.status_code == 200
    assert "November" in r.text and "Delta" not in r.text


def test_list_and_figures_xlsx_cell_types(app_client: TestClient, session: Session,
                                          settings: Settings, world: World) -> None:
    """The streamed list and figures files, read back cell by cell: bold header, text kept
    as text (accents intact, formula-like text with the quote prefix), integers and scores
    as numbers (scores shown with one decimal), the submission time as a date cell."""
    golf = world.s["s7"]
    golf.name = "=Golf « Les Érables »"
    golf.city = "Saint-Égrève"
    session.add(golf)
    session.commit()
    c = client_as(app_client, session, settings, world.ars84)
    ws = load_workbook(io.BytesIO(get(c, "/regions/84/structures.xlsx?departement=38")
                                  .content)).active
    assert ws is not None and ws.title == "Structures"
    assert ws["A1"].value == "FINESS" and ws["A1"].font.b and ws["M1"].font.b
    assert ws["L1"].value == "Transmise le (heure de Paris)"
    row = next(r for r in ws.iter_rows(min_row=2) if r[0].value == golf.finess)
    assert not row[0].font.b and row[0].data_type == "s"
    assert (row[1].value, row[1].data_type, row[1].quotePrefix) == \
        ("=Golf « Les Érables »", "s", True)
    assert (row[2].value, row[3].value, row[4].value) == ("Saint-Égrève", "38", "Isère")
    assert not row[2].quotePrefix
    assert (row[7].value, row[7].data_type, row[7].number_format) == (70, "n", "General")
    assert (row[8].value, row[8].data_type) == (3, "n")
    assert (row[10].value, row[10].data_type, row[10].number_format) == (80.0, "n", "0.0")
    # Submitted 2026-02-15 12:00 UTC: 13:00 in Paris (winter time).
    assert row[11].is_date and row[11].number_format == "yyyy-mm-dd hh:mm"
    assert row[11].value == datetime(2026, 2, 15, 13, 0)
    assert row[12].value == "Non revue"

    ws = load_workbook(io.BytesIO(get(c, "/regions/84/chiffres.xlsx?departement=38")
                                  .content)).active
    assert ws is not None and ws.title == "Chiffres"
    assert [c.value for c in ws[1]] == ["Rubrique", "Code", "Libellé", "Indicateur", "Valeur"]
    assert all(c.font.b for c in ws[1])
    # Department 38: four open structures, four submitted: 100 % participation.
    assert [(c.value, c.data_type) for c in ws[2]] == [
        ("Région", "s"), ("84", "s"), ("Auvergne-Rhône-Alpes", "s"),
        ("Structures en activité", "s"), (4, "n")]
    assert [c.value for c in ws[5]][3:] == ["Participation (%)", 100.0]
    assert ws["E5"].number_format == "0.0" and ws["E2"].number_format == "General"
