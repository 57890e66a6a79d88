"""Exports read back cell by cell: shortlist CSV (both separators), XLSX (four sheets), PDF,
background jobs with progress, formula injection, the ARS's region export, audit events."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from contextlib import nullcontext
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from app.accounts.models import User
from app.audit import AuditEvent
from app.config import Settings
from app.dashboard.service import refresh_structures
from app.permissions import Role
from app.shortlists import delivery, exports, jobs
from app.shortlists.models import ExportJob
from tests.auth_helpers import csrf_headers, log_in
from tests.factories import make_assessment, make_structure, make_user
from tests.integration.test_shortlists import snapshot

XLSX_SHEETS = ["Sélection", "Critères et provenance", "Scores par domaine",
               "Prochaines étapes"]
STEP = {"requirement": "ins", "tier": 3, "label": "INS qualifiée", "title": "=Qualifier l'INS",
        "detail": "", "effort": "moyen", "funding": ["esms-numerique"]}
# A step whose condition read a "je ne sais pas" answer (revision 2).
STEP_TO_VERIFY = {"requirement": "mss", "tier": 3, "label": "MSSanté intégrée",
                  "title": "Intégrer MSSanté", "detail": "", "effort": "faible",
                  "funding": ["segur-vague-2-ms"], "to_verify": True}


@pytest.fixture
def committee(session: Session) -> User:
    return make_user(session, Role.committee, region="84")


@pytest.fixture
def shortlist_id(app_client: TestClient, session: Session, settings: Settings,
                 committee: User) -> int:
    """Three structures of the Rhône; names chosen to try formula injection."""
    when = datetime(2026, 3, 2, 8, 15, tzinfo=UTC)
    a = make_structure(session, name="=HYPERLINK(\"http://x\")", department="69", capacity=80)
    b = make_structure(session, name="-2+3 Résidence", department="69", capacity=45)
    c = make_structure(session, name="EHPAD Les Tilleuls", department="69", capacity=20)
    make_assessment(session, a, "submitted", tier_level=3, global_score=81.25,
                    submitted_at=when,
                    result=snapshot(3, 1, ["esms-numerique"], [STEP, STEP_TO_VERIFY]),
                    domain_scores={"dui": (8, 10), "securite": (3, 4)})
    make_assessment(session, b, "submitted", tier_level=2, global_score=60.5,
                    submitted_at=when, result=snapshot(2, 2, []),
                    domain_scores={"dui": (5, 10), "securite": (1, 4)})
    make_assessment(session, c, "submitted", tier_level=1, global_score=None,
                    submitted_at=when, result=snapshot(1, 3, []))
    refresh_structures(session)  # the read models, as submit() keeps them
    session.commit()
    token = log_in(app_client, session, settings, committee)
    r = app_client.post("/api/v1/shortlists", headers=csrf_headers(token), json={
        "name": "@Export", "region": "84", "rank_by": "global", "order": "desc", "size": 3})
    assert r.status_code == 201, r.text
    return int(r.json()["id"])


@pytest.fixture
def job_sessions(app_client: TestClient, session: Session) -> Iterator[None]:
    """Background jobs and streamed responses use the test's session."""
    app = app_client.app
    app.dependency_overrides[jobs.session_factory] = lambda: (lambda: nullcontext(session))  # type: ignore[attr-defined]
    yield


def read_csv(response: Any, sep: str = ",") -> list[list[str]]:
    raw = response.content
    assert raw.startswith("\ufeff".encode())
    return list(csv.reader(io.StringIO(raw.decode("utf-8-sig")), delimiter=sep))


HEADER = ["Rang", "FINESS", "Nom", "Code région", "Région", "Code département", "Département",
          "Code catégorie FINESS", "Catégorie FINESS", "Secteur", "Capacité", "Taille",
          "Palier", "Score global", "Valeur de classement : Score global",
          "Exigences manquantes pour le palier suivant", "Transmise le (heure de Paris)",
          "Statut de revue", "Quota concerné", "Code du groupe (quotas)", "Motif de sélection",
          "Rang parmi les éligibles"]
EHPAD = "EHPAD (Établissement d'hébergement pour personnes âgées dépendantes)"


def test_shortlist_csv_cell_by_cell(app_client: TestClient, session: Session,
                                    shortlist_id: int) -> None:
    r = app_client.get(f"/selections/{shortlist_id}/export.csv")
    assert r.status_code == 200
    assert r.headers["content-type"] == "text/csv; charset=utf-8"
    today = datetime.now(ZoneInfo("Europe/Paris")).date().isoformat()
    assert r.headers["content-disposition"] == \
        f'attachment; filename="selection-{shortlist_id}-{today}.csv"'
    rows = read_csv(r)
    assert rows[0] == HEADER
    finess = [row[1] for row in rows[1:]]
    assert rows[1][:5] == ["1", finess[0], "'=HYPERLINK(\"http://x\")", "84",
                           "Auvergne-Rhône-Alpes"]
    # codes and labels side by side; one decimal, half up; 08:15 UTC on 2 March is 09:15
    # in Paris; no quota: no group
    assert rows[1][5:] == ["69", "Rhône", "500", EHPAD, "Personnes âgées", "80",
                           "De 40 à 99 places", "3", "81.3", "81.3", "1", "2026-03-02 09:15",
                           "Non revue", "", "", "Classement général", "1"]
    assert rows[2][2] == "'-2+3 Résidence"
    assert rows[2][10:16] == ["45", "De 40 à 99 places", "2", "60.5", "60.5", "2"]
    # no global score: empty cells, last
    assert rows[3][2:] == ["EHPAD Les Tilleuls", "84", "Auvergne-Rhône-Alpes", "69", "Rhône",
                           "500", EHPAD, "Personnes âgées", "20", "Moins de 40 places", "1", "",
                           "", "3", "2026-03-02 09:15", "Non revue", "", "",
                           "Classement général", "3"]
    assert len(rows) == 4


@pytest.mark.parametrize("path", ["/selections/{}/export.csv",
                                  "/api/v1/shortlists/{}/export.csv"])
def test_shortlist_csv_reads_the_shortlist_once(app_client: TestClient, engine: Engine,
                                                shortlist_id: int, path: str) -> None:
    # Before: the audit commit expired the shortlist and the CSV reloaded (and re-decoded)
    # every row. Now: its head without the rows, then the rows streamed once.
    reads: list[str] = []

    def count(_c: Any, _cur: Any, statement: str, *_: Any) -> None:
        if "FROM shortlist " in statement or "FROM shortlist\n" in statement:
            reads.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        r = app_client.get(path.format(shortlist_id))
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert r.status_code == 200
    assert len(read_csv(r)) == 4
    assert len(reads) == 2, reads
    assert "shortlist.rows AS" not in reads[0]
    assert "json_to_recordset(s.rows)" in reads[1] or "json_each(s.rows)" in reads[1]


def test_csv_header_is_the_first_chunk() -> None:
    chunks = exports.csv_chunks(["a", "b"], iter([[1, 2], [3, 4]]))
    assert next(chunks) == "\ufeffa,b\r\n"  # before any row is read
    assert "".join(chunks) == "1,2\r\n3,4\r\n"


@pytest.mark.parametrize("path", ["/selections/{}/export.csv",
                                  "/api/v1/shortlists/{}/export.csv"])
def test_csv_semicolon_uses_decimal_comma(app_client: TestClient, shortlist_id: int,
                                          path: str) -> None:
    r = app_client.get(path.format(shortlist_id) + "?sep=;")
    today = datetime.now(ZoneInfo("Europe/Paris")).date().isoformat()
    assert r.headers["content-disposition"] == \
        f'attachment; filename="selection-{shortlist_id}-{today}-pointvirgule.csv"'
    rows = read_csv(r, ";")
    assert rows[0] == HEADER
    assert rows[1][13:15] == ["81,3", "81,3"]
    assert rows[2][13] == "60,5"
    assert app_client.get(f"/selections/{shortlist_id}/export.csv?sep=x").status_code == 422


def test_shortlist_xlsx_sheets_cell_by_cell(app_client: TestClient, session: Session,
                                            shortlist_id: int) -> None:
    r = app_client.get(f"/api/v1/shortlists/{shortlist_id}/export.xlsx")
    assert r.status_code == 200, r.text
    wb = load_workbook(io.BytesIO(r.content))
    assert wb.sheetnames == XLSX_SHEETS
    ws = wb["Sélection"]
    values = [[c.value for c in row] for row in ws.iter_rows()]
    assert values[0] == HEADER
    injected = ws["C2"]
    assert injected.value == "=HYPERLINK(\"http://x\")"
    assert injected.data_type == "s" and injected.quotePrefix  # text, never a formula
    assert ws["C3"].value == "-2+3 Résidence" and ws["C3"].data_type == "s"
    assert values[1][3:] == ["84", "Auvergne-Rhône-Alpes", "69", "Rhône", "500", EHPAD,
                             "Personnes âgées", 80, "De 40 à 99 places", 3, 81.25, 81.25, 1,
                             "2026-03-02 09:15", "Non revue", None, None, "Classement général",
                             1]
    assert (ws["N2"].number_format, ws["O2"].number_format) == ("0.0", "0.0")  # scores
    assert ws["K2"].number_format == "General"  # a capacity: an integer
    assert ws.freeze_panes == "A2" and ws.auto_filter.ref == "A1:V4"
    assert values[3][12:16] == [1, None, None, 3]

    crit = {row[0].value: row[1].value for row in wb["Critères et provenance"].iter_rows(
        min_row=2)}
    hash_ = app_client.get(f"/api/v1/shortlists/{shortlist_id}").json()["hash"]
    assert crit["Empreinte SHA-256 (critères, versions, lignes)"] == hash_
    assert crit["Sélection"] == "@Export"
    assert wb["Critères et provenance"]["B2"].quotePrefix
    assert crit["Portée"] == "Auvergne-Rhône-Alpes (84)"
    assert crit["Classement"] == "Score global"
    assert crit["Versions du questionnaire"] == "esms-maturite-numerique@2026.2"
    assert crit["Structures retenues"] == "3"

    scores = [[c.value for c in row] for row in wb["Scores par domaine"].iter_rows()]
    assert scores[0] == ["Rang", "FINESS", "Nom", "Score global",
                         "Dossier usager informatisé", "Sécurité et protection des données"]
    assert scores[1][3:] == [81.25, 80.0, 75.0]
    assert scores[2][3:] == [60.5, 50.0, 25.0]
    assert scores[3][3:] == [None, None, None]

    steps = [[c.value for c in row] for row in wb["Prochaines étapes"].iter_rows()]
    assert steps[0] == ["Rang", "FINESS", "Nom", "Palier visé", "Exigence", "Action proposée",
                        "Effort", "À vérifier auprès de l’éditeur ou du prestataire",
                        "Financements"]
    assert steps[1][3:] == [3, "INS qualifiée", "=Qualifier l'INS", "moyen", None,
                            "Programme ESMS numérique (financement, terminé au 2 décembre "
                            "2026)"]
    assert steps[2][3:] == [3, "MSSanté intégrée", "Intégrer MSSanté", "faible", "oui",
                            "Ségur numérique vague 2 — médico-social (SONS) (financement, "
                            "annoncé au 2 décembre 2026)"]
    assert wb["Prochaines étapes"]["F2"].data_type == "s"
    assert len(steps) == 3


def test_pdf_report(app_client: TestClient, session: Session, shortlist_id: int) -> None:
    r = app_client.get(f"/selections/{shortlist_id}/export.pdf")
    assert r.status_code == 200
    assert r.headers["content-type"] == "application/pdf"
    assert r.content.startswith(b"%PDF")


def test_pdf_html_truncates_at_500_rows(session: Session, shortlist_id: int) -> None:
    from app.config import get_settings
    from app.questionnaires import Registry
    from app.shortlists import export_service
    from app.shortlists.models import Shortlist
    from app.web import reports

    s = session.get(Shortlist, shortlist_id)
    assert s is not None
    many = [dict(s.rows[0], rank=i + 1, name=f"Structure {i + 1}") for i in range(501)]
    fake = Shortlist(**{**s.model_dump(), "rows": many})
    html = reports.shortlist_report_html(export_service.shortlist_report(
        session, fake, Registry.load(get_settings().questionnaires_dir)))
    assert "Structure 500<" in html and "Structure 501<" not in html
    assert "la liste complète (501 structures) est dans les exports CSV et XLSX" in html
    assert 'aria-labelledby="repartition-paliers-t repartition-paliers-d"' in html


def test_large_export_runs_as_a_job_with_progress(
        app_client: TestClient, session: Session, shortlist_id: int, job_sessions: None,
        monkeypatch: pytest.MonkeyPatch, settings: Settings) -> None:
    monkeypatch.setitem(delivery.SYNC_ROWS, "xlsx", 1)
    r = app_client.get(f"/selections/{shortlist_id}/export.xlsx", follow_redirects=False)
    assert r.status_code == 303
    job = session.exec(select(ExportJob)).one()
    assert r.headers["location"] == f"/exports/{job.id}"
    session.refresh(job)
    assert job.status == "done" and job.progress == 1.0
    assert (job.rows_done, job.rows_total) == (3, 3)
    assert job.file_path == f"export/{job.id}.xlsx" and jobs.file_of(session, job) is not None
    page = app_client.get(f"/exports/{job.id}")
    assert "Télécharger selection-" in page.text and "hx-trigger" not in page.text
    fragment = app_client.get(f"/exports/{job.id}", headers={"HX-Request": "true"})
    assert fragment.text.lstrip().startswith('<div id="etat-export"')
    download = app_client.get(f"/exports/{job.id}/fichier")
    assert download.status_code == 200
    assert load_workbook(io.BytesIO(download.content)).sheetnames == XLSX_SHEETS
    # asked again: the finished file of the frozen shortlist is served, no new job
    again = app_client.get(f"/selections/{shortlist_id}/export.xlsx", follow_redirects=False)
    assert again.status_code == 200 and len(session.exec(select(ExportJob)).all()) == 1
    listing = app_client.get("/exports")
    assert "Sélection au format XLSX" in listing.text
    exports = session.exec(select(AuditEvent).where(AuditEvent.action == "export")).all()
    assert [(e.details["format"], e.details.get("job")) for e in exports] == [
        ("xlsx", job.id), ("xlsx", job.id)]


def test_pending_job_page_polls(app_client: TestClient, session: Session,
                                committee: User, settings: Settings) -> None:
    log_in(app_client, session, settings, committee)
    job = jobs.create(session, committee.id or 0, "region_xlsx", {"region": "84"}, "x.xlsx", 10)
    page = app_client.get(f"/exports/{job.id}")
    assert 'hx-trigger="every 2s"' in page.text and "En attente" in page.text
    other = make_user(session, Role.committee, region="84")
    log_in(app_client, session, settings, other)
    assert app_client.get(f"/exports/{job.id}").status_code == 404
    assert app_client.get(f"/api/v1/exports/{job.id}").status_code == 404


def test_api_large_export_answers_202_then_file(
        app_client: TestClient, session: Session, shortlist_id: int, job_sessions: None,
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(delivery.SYNC_ROWS, "pdf", 1)
    r = app_client.get(f"/api/v1/shortlists/{shortlist_id}/export.pdf")
    assert r.status_code == 202
    body = r.json()
    status = app_client.get(body["url"]).json()
    assert status["status"] == "done" and status["file"] == f"/api/v1/exports/{body['job']}/file"
    assert app_client.get(status["file"]).content.startswith(b"%PDF")


# ---- the ARS's region export ----------------------------------------------------------------


@pytest.fixture
def region_data(session: Session) -> dict[str, Any]:
    old = make_structure(session, name="EHPAD Ancien", department="01")
    new = make_structure(session, name="+EHPAD Nouveau", department="69")
    none = make_structure(session, name="SSIAD Sans", department="69", category_code="354")
    make_structure(session, name="Ailleurs", department="75")
    make_assessment(session, old, "submitted", questionnaire_version="2025.1",
                    answers={"zz_retiree": "oui", "capacite": 40}, tier_level=1,
                    global_score=30.0, submitted_at=datetime(2025, 5, 1, tzinfo=UTC))
    make_assessment(session, new, "submitted",
                    answers={"dui_production": "oui", "capacite": 90,
                             "dui_fonctions": ["admin", "soins"]},
                    tier_level=2, global_score=64.0, domain_scores={"dui": (3, 4)},
                    submitted_at=datetime(2026, 2, 1, tzinfo=UTC),
                    # revision 2 keys: two requirements of palier 3 unmet, palier 4's met
                    result={"gap": {"next_tier": {"id": "palier-3", "level": 3},
                                    "requirements": [{"id": "a"}, {"id": "b"}]},
                            "tiers_met_above": ["palier-4"]})
    return {"old": old, "new": new, "none": none}


def test_region_csv_has_stable_question_columns(
        app_client: TestClient, session: Session, settings: Settings, job_sessions: None,
        region_data: dict[str, Any]) -> None:
    ars = make_user(session, Role.ars, region="84")
    log_in(app_client, session, settings, ars)
    r = app_client.get("/regions/84/export.csv")
    assert r.status_code == 200
    rows = read_csv(r)
    header = rows[0]
    assert header[:13] == ["FINESS", "Nom", "Code département", "Département",
                           "Code catégorie FINESS", "Catégorie FINESS", "Secteur", "Capacité",
                           "Questionnaire", "Version", "Transmise le (heure de Paris)",
                           "Palier", "Score global"]
    questions = header[header.index("Statut de revue") + 1:]
    # 2026.2's questions in questionnaire order, then the older version's (not loaded here)
    # leftover id alphabetically
    assert questions[0] == "categorie" and questions[-1] == "zz_retiree"
    assert questions.index("capacite") < questions.index("dui_production")
    by_name = {row[1]: dict(zip(header, row, strict=True)) for row in rows[1:]}
    assert set(by_name) == {"EHPAD Ancien", "'+EHPAD Nouveau", "SSIAD Sans"}
    new = by_name["'+EHPAD Nouveau"]
    assert (new["Version"], new["Palier"], new["Score global"]) == ("2026.2", "2", "64.0")
    assert new["Score Dossier usager informatisé"] == "75.0"
    # midnight UTC on 1 February is 01:00 in Paris
    assert new["Transmise le (heure de Paris)"] == "2026-02-01 01:00"
    assert new["dui_fonctions"] == "admin | soins" and new["zz_retiree"] == ""
    assert new["Statut de revue"] == "Non revue"
    assert [new[c] for c in ("Code département", "Département", "Code catégorie FINESS",
                             "Catégorie FINESS")] == ["69", "Rhône", "500", EHPAD]
    assert by_name["EHPAD Ancien"]["Département"] == "Ain"
    assert [new[c] for c in ("Palier suivant", "Exigences manquantes pour le palier suivant",
                             "Paliers supérieurs aux exigences propres remplies")] \
        == ["3", "2", "4"]
    old = by_name["EHPAD Ancien"]
    assert old["Palier suivant"] == "" and old["Exigences manquantes pour le palier suivant"] \
        == ""
    assert (old["Version"], old["zz_retiree"], old["capacite"]) == ("2025.1", "oui", "40")
    assert by_name["SSIAD Sans"]["Palier"] == "" and by_name["SSIAD Sans"]["Secteur"] \
        == "Domicile"
    event = session.exec(select(AuditEvent).where(AuditEvent.action == "export")).one()
    assert (event.object_type, event.object_id, event.details["format"]) == ("region", "84",
                                                                             "csv")


def test_region_xlsx_and_permissions(app_client: TestClient, session: Session,
                                     settings: Settings, region_data: dict[str, Any]) -> None:
    ars = make_user(session, Role.ars, region="84")
    log_in(app_client, session, settings, ars)
    r = app_client.get("/regions/84/export.xlsx")
    assert r.status_code == 200
    ws = load_workbook(io.BytesIO(r.content))["Évaluations"]
    assert ws["B1"].value == "Nom" and ws.max_row == 4
    names = sorted(str(ws.cell(row=i, column=2).value) for i in range(2, 5))
    assert names == ["+EHPAD Nouveau", "EHPAD Ancien", "SSIAD Sans"]
    assert app_client.get("/regions/11/export.csv").status_code == 404
    log_in(app_client, session, settings, make_user(session, Role.committee, region="84"))
    assert app_client.get("/regions/84/export.csv").status_code == 403
    log_in(app_client, session, settings, make_user(session, Role.admin))
    assert app_client.get("/regions/11/export.xlsx").status_code == 200


def test_streamed_xlsx_cells_read_back_by_openpyxl(tmp_path: Any) -> None:
    """The streaming writer's cells as openpyxl reads them: text (formula-like text keeps
    its value and gets the quote prefix), numbers, booleans, escaping, dropped control
    characters, empty cells, prepared cells, several sheets, to a file and to a stream."""
    from app.exports.xlsx import Book, Cells

    rows: list[list[Any]] = [
        ["Texte", 1, 2.5, None, True, False, "=1+1", "+33 6", "-x", "@a", "\tt", "\rr"],
        ["  espaces  ", 10**12, -0.125, "a<b & c>d", "é\x0bà", 0, 1e-7, "x" * 300, ""],
    ]
    path = tmp_path / "t.xlsx"
    with Book(str(path)) as book:
        with book.sheet("Données") as sheet:
            for row in rows:
                sheet.append(row)
        with book.sheet("Préparées <&>") as sheet:
            tail = Cells(["=fixe", 7, None, "fin"], first=2)
            for n in range(3):
                sheet.append_cells(Cells([n, f"ligne {n}"]), tail)
    wb = load_workbook(path)
    assert wb.sheetnames == ["Données", "Préparées <&>"]
    cells = [[(c.value, c.data_type, bool(c.quotePrefix)) for c in row]
             for row in wb["Données"].iter_rows()]
    assert cells[0] == [("Texte", "s", False), (1, "n", False), (2.5, "n", False),
                        (None, "n", False), (True, "b", False), (False, "b", False),
                        ("=1+1", "s", True), ("+33 6", "s", True), ("-x", "s", True),
                        ("@a", "s", True), ("\tt", "s", True), ("\rr", "s", True)]
    assert [v for v, _, _ in cells[1]] == ["  espaces  ", 10**12, -0.125, "a<b & c>d", "éà",
                                           0, 1e-7, "x" * 300, None, None, None, None]
    data = wb["Données"]
    assert (data["B1"].number_format, data["C1"].number_format) == ("General", "0.0")
    assert data.freeze_panes == "A2" and data.auto_filter.ref == "A1:L2"  # the first row's width
    prepared = [[c.value for c in row] for row in wb["Préparées <&>"].iter_rows()]
    assert prepared == [[n, f"ligne {n}", "=fixe", 7, None, "fin"] for n in range(3)]
    assert wb["Préparées <&>"]["C3"].quotePrefix and wb["Préparées <&>"]["C3"].data_type == "s"
    buffer = io.BytesIO()
    with Book(buffer) as book, book.sheet("x") as sheet:
        sheet.append(["a"])
    assert load_workbook(io.BytesIO(buffer.getvalue()))["x"]["A1"].value == "a"


def _steps_sheet(app_client: TestClient, shortlist_id: int) -> list[list[Any]]:
    r = app_client.get(f"/api/v1/shortlists/{shortlist_id}/export.xlsx")
    assert r.status_code == 200, r.text
    ws = load_workbook(io.BytesIO(r.content))["Prochaines étapes"]
    return [[c.value for c in row] for row in ws.iter_rows()]


def test_xlsx_next_steps_come_from_the_stored_rows(app_client: TestClient, session: Session,
                                                   shortlist_id: int) -> None:
    from sqlalchemy import delete

    from app.assessments.models import Assessment
    from app.shortlists.models import AssessmentNextStep

    # Snapshots emptied behind the read model's back: the rows stored at refresh are read.
    for a in session.exec(select(Assessment)).all():
        a.result = {**(a.result or {}), "next_steps": []}
        session.add(a)
    session.commit()
    steps = _steps_sheet(app_client, shortlist_id)
    assert [row[3:6] for row in steps[1:]] == [[3, "INS qualifiée", "=Qualifier l'INS"],
                                              [3, "MSSanté intégrée", "Intégrer MSSanté"]]
    # No stored rows (an assessment submitted before migration 0011): its snapshot is read.
    session.execute(delete(AssessmentNextStep))
    session.commit()
    assert len(_steps_sheet(app_client, shortlist_id)) == 1  # the header


def test_large_shortlist_streamed_csv_and_xlsx_job(
        app_client: TestClient, session: Session, shortlist_id: int, job_sessions: None,
        settings: Settings) -> None:
    """2,500 rows (more than one batch of the CSV stream and of the stored-rows cursor,
    above the XLSX job threshold): every row once, in rank order, in both files."""
    from app.shortlists.models import Shortlist

    s = session.get(Shortlist, shortlist_id)
    assert s is not None
    base = s.rows[0]
    s.rows = [dict(base, rank=i, name=f"Structure {i}", finess=f"{i:09d}")
              for i in range(1, 2501)]
    session.add(s)
    session.commit()
    rows = read_csv(app_client.get(f"/api/v1/shortlists/{shortlist_id}/export.csv"))
    assert rows[0] == HEADER and len(rows) == 2501
    assert [r[0] for r in rows[1:]] == [str(i) for i in range(1, 2501)]
    assert rows[2500][1:3] == ["000002500", "Structure 2500"]

    r = app_client.get(f"/selections/{shortlist_id}/export.xlsx", follow_redirects=False)
    assert r.status_code == 303  # a background job
    job = session.exec(select(ExportJob)).one()
    session.refresh(job)
    assert job.status == "done", job.error
    stored = jobs.file_of(session, job)
    assert stored is not None
    wb = load_workbook(io.BytesIO(stored.data))
    values = [[c.value for c in row] for row in wb["Sélection"].iter_rows()]
    assert values[0] == HEADER and len(values) == 2501
    assert [v[0] for v in values[1:]] == list(range(1, 2501))
    assert values[2500][1:3] == ["000002500", "Structure 2500"]
    scores = list(wb["Scores par domaine"].iter_rows(values_only=True))
    assert len(scores) == 2501 and scores[1][:3] == (1, "000000001", "Structure 1")
    steps = list(wb["Prochaines étapes"].iter_rows(values_only=True))
    assert len(steps) == 1 + 2 * 2500  # the first structure's two steps on every row
    assert steps[-1][:4] == (2500, "000002500", "Structure 2500", 3)


def test_quota_group_in_words_with_its_code_beside(
        app_client: TestClient, session: Session, settings: Settings, shortlist_id: int) -> None:
    """A sector quota: the group's words ("Personnes âgées"), the code only in its column."""
    token = log_in(app_client, session, settings, make_user(session, Role.committee,
                                                            region="84"))
    r = app_client.post("/api/v1/shortlists", headers=csrf_headers(token), json={
        "name": "Quota", "region": "84", "rank_by": "global", "order": "desc", "size": 2,
        "quotas": [{"by": "sector", "min": 1}]})
    assert r.status_code == 201, r.text
    rows = read_csv(app_client.get(f"/selections/{r.json()['id']}/export.csv"))
    row = dict(zip(rows[0], rows[1], strict=True))
    assert (row["Quota concerné"], row["Code du groupe (quotas)"]) == ("Personnes âgées",
                                                                      "personnes_agees")
    assert row["Motif de sélection"] == "Place réservée (minimum par secteur)"


def test_stored_rows_keep_every_json_type(session: Session, shortlist_id: int) -> None:
    """`stored.rows` (read as JSON text, decoded here): ints stay ints, floats floats, null
    None, text with accents and quotes unchanged, objects objects; the fields asked, in rank
    order; the whole row without fields."""
    from app.shortlists import stored
    from app.shortlists.models import Shortlist

    s = session.get(Shortlist, shortlist_id)
    assert s is not None
    s.rows = [
        {"rank": 1, "finess": "010000001", "name": "EHPAD « Les Tilleuls » \"B\"",
         "global_score": 62.5, "capacity": None, "domain_scores": {"dui": 40.25}, "x": True},
        {"rank": 2, "finess": "010000002", "name": "Résidence Œillets", "global_score": 7.0,
         "capacity": 80, "domain_scores": {}, "x": False},
    ]
    session.add(s)
    session.commit()
    fields = ("rank", "name", "global_score", "capacity", "domain_scores")
    assert list(stored.rows(session, shortlist_id, fields)) == [
        {"rank": 1, "name": "EHPAD « Les Tilleuls » \"B\"", "global_score": 62.5,
         "capacity": None, "domain_scores": {"dui": 40.25}},
        {"rank": 2, "name": "Résidence Œillets", "global_score": 7.0, "capacity": 80,
         "domain_scores": {}},
    ]
    got = list(stored.rows(session, shortlist_id, fields))
    assert [type(r["rank"]) for r in got] == [int, int]
    assert [type(r["global_score"]) for r in got] == [float, float]
    assert list(stored.rows(session, shortlist_id))[1] == {
        "rank": 2, "finess": "010000002", "name": "Résidence Œillets", "global_score": 7.0,
        "capacity": 80, "domain_scores": {}, "x": False}


@pytest.mark.parametrize("share", [1.0, 0.5])
def test_export_job_paces_itself_with_its_duty_cycle(
        app_client: TestClient, session: Session, shortlist_id: int, job_sessions: None,
        settings: Settings, monkeypatch: pytest.MonkeyPatch, share: float) -> None:
    """PALIER_JOB_DUTY_CYCLE below 1: the export job pauses at its progress ticks; at 1 it
    never pauses. The file is complete either way."""
    from app.jobs import pace
    from app.shortlists.models import Shortlist

    s = session.get(Shortlist, shortlist_id)
    assert s is not None
    s.rows = [dict(s.rows[0], rank=i, finess=f"{i:09d}") for i in range(1, 2501)]
    session.add(s)
    session.commit()
    monkeypatch.setattr(settings, "job_duty_cycle", share)
    slept: list[float] = []
    monkeypatch.setattr(pace.time, "sleep", slept.append)
    r = app_client.get(f"/selections/{shortlist_id}/export.xlsx", follow_redirects=False)
    assert r.status_code == 303
    job = session.exec(select(ExportJob)).one()
    session.refresh(job)
    assert job.status == "done", job.error
    stored = jobs.file_of(session, job)
    assert stored is not None
    assert load_workbook(io.BytesIO(stored.data))["Sélection"].max_row == 2501
    if share == 1.0:
        assert slept == []
    else:  # ticks at 1,000 … 5,000 rows of the first two sheets, and the last one
        assert len(slept) >= 6 and all(p > 0 for p in slept)
