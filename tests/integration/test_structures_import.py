"""The structures import (service, CLI, upload page, correction page) on fixture files the
tests write themselves (tests/fixtures/finess): broken lines, encodings, bad numbers,
duplicates, non-ESMS categories, overseas and Corsica lines, re-imports."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import nullcontext
from pathlib import Path
from typing import Any, cast

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, col, select
from typer.testing import CliRunner

from app.accounts.models import User
from app.audit import AuditEvent
from app.cli import cli
from app.config import Settings, get_settings
from app.db import get_engine, make_engine
from app.errors import Forbidden
from app.permissions import Actor, Role
from app.reference import finess_categories
from app.routes.structures_admin import IMPORT_PATH, job_sessions
from app.structures import import_writing
from app.structures import imports as service
from app.structures.adapters import EtalabCsvAdapter
from app.structures.imports import ImportOptions, ImportReport
from app.structures.models import ImportJob, Structure, StructureCorrection
from tests.auth_helpers import csrf_headers, log_in
from tests.factories import make_structure, make_user
from tests.fixtures.finess import et_line, write_file

ALL_ESMS = frozenset(finess_categories())

VALID = [
    et_line("690000039", "690000047", "EHPAD LES TILLEULS", "500", "69",
            acheminement="69003 LYON"),
    et_line("690000054", "690000047", "SSIAD DU RHONE", "354", "69",
            acheminement="69100 VILLEURBANNE"),
    et_line("010000016", "010000024", "IME LES SAULES", "183", "01",
            acheminement="01000 BOURG EN BRESSE"),
]


def _run(session: Session, path: Path, **options: Any) -> tuple[ImportReport, ImportJob]:
    opts = ImportOptions(categories=options.pop("categories", ALL_ESMS), **options)
    job = service.create_job(session, filename=path.name, options=opts, user_id=None)
    report = service.run_import(session, job, EtalabCsvAdapter.from_path(path), opts)
    session.refresh(job)
    return report, job


def _structures(session: Session) -> dict[str, Structure]:
    session.expire_all()
    return {s.finess: s for s in session.exec(select(Structure)).all()}


def _lines(report: ImportReport) -> list[tuple[int, str, str]]:
    return [(r.line, r.finess, r.status) for r in report.lines]


# --- the service -------------------------------------------------------------------------------


def test_valid_file_imports_every_line(session: Session, tmp_path: Path) -> None:
    report, job = _run(session, write_file(tmp_path / "ok.csv", VALID))
    assert report.summary_line() == "imported 3, updated 0, skipped 0, rejected 0"
    assert _lines(report) == [(2, "690000039", "imported"), (3, "690000054", "imported"),
                              (4, "010000016", "imported")]
    s = _structures(session)["690000039"]
    assert (s.finess_ej, s.name, s.category_code, s.department, s.region, s.city, s.closed) == (
        "690000047", "EHPAD LES TILLEULS", "500", "69", "84", "LYON", False)
    # The reference label wins over the file's abbreviated one.
    assert s.category_label == ("EHPAD (Établissement d'hébergement pour personnes âgées "
                                "dépendantes)")
    assert _structures(session)["010000016"].category_code == "183"
    assert (job.status, job.imported, job.updated, job.skipped, job.rejected, job.applied) == (
        "done", 3, 0, 0, 0, True)
    assert job.report is not None
    assert job.report["counts"] == {"imported": 3, "updated": 0, "skipped": 0, "rejected": 0}
    assert job.report["lines"][0] == [2, "690000039", "imported", "", None]
    event = session.exec(select(AuditEvent).where(
        AuditEvent.action == "structures_imported")).one()
    assert event.object_id == str(job.id)
    assert event.details["imported"] == 3


@pytest.mark.parametrize("encoding", ["latin-1", "utf-8"])
def test_accents_in_both_encodings(session: Session, tmp_path: Path, encoding: str) -> None:
    line = et_line("690000039", "690000047", "EHPAD L'ÉTÉ À SAINT-ÉTIENNE", "500", "69",
                   acheminement="69001 LYON 1ER ARRONDISSEMENT")
    report, _ = _run(session, write_file(tmp_path / "a.csv", [line], encoding=encoding))
    assert report.encoding == encoding
    assert report.summary_line() == "imported 1, updated 0, skipped 0, rejected 0"
    assert _structures(session)["690000039"].name == "EHPAD L'ÉTÉ À SAINT-ÉTIENNE"


BROKEN = [
    *VALID,
    et_line("690000138", "", "TRONQUEE", "500", "69", fields=20),  # line 5
    et_line("69000013", "690000047", "NUMERO COURT", "500", "69"),  # line 6
    et_line("6900001X8", "690000047", "NUMERO LETTRE", "500", "69"),  # line 7
    et_line("690000146", "69-BAD", "EJ MAL FORME", "500", "69"),  # line 8
]


def test_rejected_lines_change_nothing(session: Session, tmp_path: Path) -> None:
    make_structure(session, finess="690000039", name="ANCIEN NOM", department="69")
    report, job = _run(session, write_file(tmp_path / "broken.csv", BROKEN))
    assert report.summary_line() == "imported 0, updated 0, skipped 3, rejected 4"
    assert not report.applied and not job.applied
    assert [(r.line, r.status, r.reason) for r in report.lines] == [
        (2, "skipped", "not_applied"), (3, "skipped", "not_applied"),
        (4, "skipped", "not_applied"), (5, "rejected", "field_count"),
        (6, "rejected", "finess_malformed"), (7, "rejected", "finess_malformed"),
        (8, "rejected", "finess_ej_malformed")]
    assert report.lines[3].message == ("20 champs au lieu de 32 (ligne tronquée ou "
                                       "séparateur en trop).")
    assert report.lines[4].message == ("Numéro FINESS ET : Le numéro FINESS doit comporter "
                                       "9 caractères (8 saisis).")
    assert report.lines[6].message.startswith("Numéro FINESS EJ : ")
    structures = _structures(session)
    assert set(structures) == {"690000039"}
    assert structures["690000039"].name == "ANCIEN NOM"
    assert job.status == "done"


def test_partial_imports_the_valid_lines(session: Session, tmp_path: Path) -> None:
    report, job = _run(session, write_file(tmp_path / "broken.csv", BROKEN), partial=True)
    assert report.summary_line() == "imported 3, updated 0, skipped 0, rejected 4"
    assert job.applied
    assert set(_structures(session)) == {"690000039", "690000054", "010000016"}


def test_bad_check_digit_is_kept_with_a_warning(session: Session, tmp_path: Path) -> None:
    lines = [et_line("690000030", "690000047", "CLE FAUSSE", "500", "69")]
    report, _ = _run(session, write_file(tmp_path / "a.csv", lines))
    assert report.summary_line() == "imported 1, updated 0, skipped 0, rejected 0"
    assert report.lines[0].warnings == 1
    assert report.lines[0].message == (
        "Numéro FINESS ET : La clé de contrôle du numéro FINESS ne correspond pas : "
        "vérifiez le numéro.")
    assert "690000030" in _structures(session)


def test_missing_ej_is_a_warning(session: Session, tmp_path: Path) -> None:
    report, _ = _run(session, write_file(tmp_path / "a.csv",
                                         [et_line("690000039", "", "SANS EJ", "500", "69")]))
    assert report.lines[0].status == "imported"
    assert report.lines[0].message == "Numéro FINESS EJ absent : organisme gestionnaire inconnu."
    assert _structures(session)["690000039"].finess_ej is None


def test_duplicates_keep_the_first_occurrence(session: Session, tmp_path: Path) -> None:
    lines = [et_line("690000039", "690000047", "PREMIERE", "500", "69"),
             et_line("690000054", "690000047", "AUTRE", "500", "69"),
             et_line("690000039", "690000047", "SECONDE", "500", "69")]
    report, _ = _run(session, write_file(tmp_path / "a.csv", lines))
    assert report.summary_line() == "imported 2, updated 0, skipped 1, rejected 0"
    assert (report.lines[2].status, report.lines[2].reason, report.lines[2].message) == (
        "skipped", "duplicate", "Doublon : ce numéro FINESS figure déjà ligne 2.")
    assert _structures(session)["690000039"].name == "PREMIERE"


def test_non_esms_categories_are_skipped(session: Session, tmp_path: Path) -> None:
    lines = [et_line("690000039", "690000047", "CENTRE HOSPITALIER", "355", "69",
                     category_label="Centre Hospitalier (C.H.)"),
             et_line("690000054", "690000047", "EHPAD", "500", "69"),
             # a non-ESMS line is skipped before its number is even checked
             et_line("BAD", "690000047", "PHARMACIE", "620", "69")]
    report, _ = _run(session, write_file(tmp_path / "a.csv", lines))
    assert report.summary_line() == "imported 1, updated 0, skipped 2, rejected 0"
    assert report.lines[0].message == "Catégorie 355 (Centre Hospitalier (C.H.)) hors champ ESMS."
    assert report.lines[0].reason == "category"
    assert set(_structures(session)) == {"690000054"}


def test_configured_category_list(session: Session, tmp_path: Path) -> None:
    listing = tmp_path / "categories.txt"
    listing.write_text("# EHPAD seulement\n500\n", encoding="utf-8")
    settings = Settings(env="test", secret_key="x" * 40, import_categories_file=listing)
    categories = service.load_categories(settings)
    assert categories == frozenset({"500"})
    report, _ = _run(session, write_file(tmp_path / "a.csv", VALID), categories=categories)
    assert report.summary_line() == "imported 1, updated 0, skipped 2, rejected 0"
    csv_listing = tmp_path / "categories.csv"
    csv_listing.write_text("code,label\n500,EHPAD\n354,SSIAD\n", encoding="utf-8")
    settings = Settings(env="test", secret_key="x" * 40, import_categories_file=csv_listing)
    assert service.load_categories(settings) == frozenset({"500", "354"})


def test_overseas_and_corsica(session: Session, tmp_path: Path) -> None:
    lines = [
        et_line("970300091", "970300091", "EHPAD DE CAYENNE", "500", "9C",
                acheminement="97300 CAYENNE"),
        et_line("970100087", "970100087", "EHPAD DE POINTE-A-PITRE", "500", "9A",
                acheminement="97110 POINTE A PITRE"),
        # a letter not confirmed in domain.md: the department comes from the number
        et_line("970300091", "", "DOUBLON GUYANE", "500", "9C"),
        et_line("2A0000105", "2B0000111", "EHPAD D'AJACCIO", "500", "2A",
                acheminement="20000 AJACCIO"),
        et_line("2B0000111", "2B0000111", "SSIAD DE BASTIA", "354", "",
                acheminement="20200 BASTIA"),
    ]
    report, _ = _run(session, write_file(tmp_path / "a.csv", lines, encoding="latin-1"))
    assert report.summary_line() == "imported 4, updated 0, skipped 1, rejected 0"
    s = _structures(session)
    assert (s["970300091"].department, s["970300091"].region) == ("973", "03")
    assert (s["970100087"].department, s["970100087"].region) == ("971", "01")
    assert (s["2A0000105"].department, s["2A0000105"].region, s["2A0000105"].finess_ej) == (
        "2A", "94", "2B0000111")
    # no department in the file: derived from the number
    assert (s["2B0000111"].department, s["2B0000111"].region) == ("2B", "94")


def test_uncertain_overseas_letter_and_unknown_code(session: Session, tmp_path: Path) -> None:
    lines = [et_line("970300091", "", "GUYANE LETTRE INCERTAINE", "500", "9X"),
             et_line("690000039", "", "CODE INCONNU", "500", "ZZ")]
    report, _ = _run(session, write_file(tmp_path / "a.csv", lines))
    assert report.summary_line() == "imported 2, updated 0, skipped 0, rejected 0"
    s = _structures(session)
    assert s["970300091"].department == "973"
    assert "Département « ZZ » inconnu : département Rhône (69) déduit du numéro FINESS." in (
        report.lines[1].message)


def test_reimport_updates_changes_only(session: Session, tmp_path: Path) -> None:
    _run(session, write_file(tmp_path / "v1.csv", VALID))
    before = _structures(session)["690000054"].updated_at
    v2 = [et_line("690000039", "690000047", "EHPAD LES TILLEULS (RENOMME)", "500", "69",
                  acheminement="69003 LYON"), VALID[1], VALID[2],
          et_line("690000146", "690000047", "NOUVEL EHPAD", "500", "69")]
    report, _ = _run(session, write_file(tmp_path / "v2.csv", v2))
    assert report.summary_line() == "imported 1, updated 1, skipped 2, rejected 0"
    assert [(r.line, r.status, r.reason) for r in report.lines] == [
        (2, "updated", None), (3, "skipped", "unchanged"), (4, "skipped", "unchanged"),
        (5, "imported", None)]
    assert report.lines[1].message == "Déjà à jour : aucun changement."
    s = _structures(session)
    assert s["690000039"].name == "EHPAD LES TILLEULS (RENOMME)"
    assert s["690000054"].updated_at == before


def test_full_reimport_of_a_region_closes_the_missing(session: Session, tmp_path: Path) -> None:
    gone = make_structure(session, finess="690000161", department="69")
    broken_line = make_structure(session, finess="690000153", department="69")
    elsewhere = make_structure(session, finess="750000069", department="75")
    lines = [*VALID,
             et_line("690000153", "", "LIGNE CASSEE", "500", "69", fields=12),
             et_line("750000077", "", "PARIS", "500", "75")]
    report, job = _run(session, write_file(tmp_path / "r84.csv", lines), region="84",
                       close_missing=True, partial=True)
    assert report.summary_line() == "imported 3, updated 0, skipped 1, rejected 1"
    assert report.lines[4].reason == "other_region"
    assert report.lines[4].message == ("Structure de la région Île-de-France (11), hors de la "
                                       "région importée, Auvergne-Rhône-Alpes (84).")
    assert report.closed == ["690000161"]
    assert job.closed == 1
    s = _structures(session)
    assert s[gone.finess].closed
    assert not s[broken_line.finess].closed  # its line was broken, not absent
    assert not s[elsewhere.finess].closed  # another region
    assert "750000077" not in s

    # It comes back: reopened.
    again = [*VALID, et_line("690000161", "", "DE RETOUR", "500", "69")]
    report, _ = _run(session, write_file(tmp_path / "r84b.csv", again), region="84",
                     close_missing=True)
    assert report.lines[3].status == "updated"
    assert "Structure de nouveau présente : rouverte." in report.lines[3].message
    s = _structures(session)
    assert not s["690000161"].closed
    assert s["690000153"].closed  # absent this time


def test_no_closure_when_the_file_has_no_line_of_the_region(session: Session,
                                                            tmp_path: Path) -> None:
    kept = make_structure(session, finess="750000069", department="75")
    report, _ = _run(session, write_file(tmp_path / "wrong.csv", VALID), region="11",
                     close_missing=True)
    assert report.closed == []
    assert report.notes == ["Aucune ligne de la région Île-de-France (11) dans le fichier : "
                            "aucune structure n’a été marquée fermée (mauvais fichier ?)."]
    assert not _structures(session)[kept.finess].closed


def test_corrections_survive_a_reimport(session: Session, tmp_path: Path) -> None:
    s = make_structure(session, finess="690000039", department="69", category_code="501")
    assert s.id is not None
    session.add(StructureCorrection(structure_id=s.id, field="category_code", value="501"))
    session.commit()
    report, _ = _run(session, write_file(tmp_path / "a.csv", [VALID[0]]))
    assert report.lines[0].message.endswith(
        "Correction manuelle conservée : catégorie EHPA percevant des crédits d'assurance "
        "maladie (501).")
    assert _structures(session)["690000039"].category_code == "501"


def test_failure_while_writing_leaves_nothing(session: Session, tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(import_writing, "BATCH", 1)
    calls = {"n": 0}
    real_execute = Session.execute

    def flaky(self: Session, statement: Any, *args: Any, **kw: Any) -> Any:
        if getattr(statement, "is_insert", False):
            calls["n"] += 1
            if calls["n"] == 3:
                raise RuntimeError("disk full")
        return real_execute(self, statement, *args, **kw)

    monkeypatch.setattr(Session, "execute", flaky)
    opts = ImportOptions(categories=ALL_ESMS)
    path = write_file(tmp_path / "a.csv", VALID)
    job = service.create_job(session, filename=path.name, options=opts, user_id=None)
    with pytest.raises(RuntimeError):
        service.run_import(session, job, EtalabCsvAdapter.from_path(path), opts)
    monkeypatch.undo()
    assert _structures(session) == {}
    job = session.exec(select(ImportJob).where(col(ImportJob.id) == job.id)).one()
    assert job.status == "failed"
    assert job.error == "Erreur inattendue pendant l’import : rien n’a été modifié."


def test_options_for_actors(settings: Settings) -> None:
    ars = Actor(id=1, role=Role.ars, region="84")
    opts = service.options_for(ars, settings, region="11", close_missing=True)
    assert (opts.region, opts.close_missing) == ("84", True)
    admin = Actor(id=2, role=Role.admin)
    assert service.options_for(admin, settings).region is None
    with pytest.raises(service.ImportFailed):
        service.options_for(admin, settings, close_missing=True)
    with pytest.raises(Forbidden):
        service.options_for(Actor(id=3, role=Role.director), settings)
    with pytest.raises(Forbidden):
        service.options_for(Actor(id=4, role=Role.committee, region="84"), settings)


# --- the command line ------------------------------------------------------------------------


@pytest.fixture
def cli_url(fresh_db_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    monkeypatch.setenv("PALIER_DATABASE_URL", fresh_db_url)
    get_settings.cache_clear()
    yield fresh_db_url
    get_settings.cache_clear()


def _cli_structures(url: str) -> dict[str, Structure]:
    engine = make_engine(url)
    try:
        with Session(engine) as s:
            return {x.finess: x for x in s.exec(select(Structure)).all()}
    finally:
        engine.dispose()


def test_cli_refuses_a_file_with_rejected_lines(cli_url: str, tmp_path: Path) -> None:
    path = write_file(tmp_path / "broken.csv", BROKEN, encoding="latin-1")
    result = CliRunner().invoke(cli, ["structures", "import", str(path)])
    assert result.exit_code == 1, result.output
    assert result.stdout.splitlines()[-1] == "imported 0, updated 0, skipped 3, rejected 4"
    assert ("Ligne 6 rejetée (69000013) : Numéro FINESS ET : Le numéro FINESS doit comporter "
            "9 caractères (8 saisis).") in result.stdout
    assert _cli_structures(cli_url) == {}


def test_cli_partial_and_report(cli_url: str, tmp_path: Path) -> None:
    path = write_file(tmp_path / "broken.csv", BROKEN)
    out = tmp_path / "rapport.csv"
    result = CliRunner().invoke(cli, ["structures", "import", str(path), "--partial",
                                      "--report", str(out)])
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[-1] == "imported 3, updated 0, skipped 0, rejected 4"
    assert set(_cli_structures(cli_url)) == {"690000039", "690000054", "010000016"}
    rows = out.read_text(encoding="utf-8").splitlines()
    assert rows[0] == ("Ligne du fichier;Numéro FINESS;Résultat;Motif;Détail ou avertissement;"
                       "Code du résultat;Code du motif")
    assert rows[1] == "2;690000039;Importée;;;imported;"
    assert rows[4] == ("5;690000138;Rejetée;Ligne illisible (nombre de champs);20 champs au "
                       "lieu de 32 (ligne tronquée ou séparateur en trop).;rejected;field_count")

    again = CliRunner().invoke(cli, ["structures", "import", str(path), "--partial"])
    assert again.stdout.splitlines()[-1] == "imported 0, updated 0, skipped 3, rejected 4"


def test_cli_full_reimport_of_a_region(cli_url: str, tmp_path: Path) -> None:
    first = write_file(tmp_path / "v1.csv", VALID)
    assert CliRunner().invoke(cli, ["structures", "import", str(first)]).exit_code == 0
    second = write_file(tmp_path / "v2.csv", VALID[1:])
    result = CliRunner().invoke(cli, ["structures", "import", str(second), "--region", "84"])
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[-1] == "imported 0, updated 0, skipped 2, rejected 0"
    assert "Structures marquées fermées (absentes du fichier, région 84) : 1" in result.stdout
    assert _cli_structures(cli_url)["690000039"].closed


def test_cli_unknown_region_and_unreadable_file(cli_url: str, tmp_path: Path) -> None:
    path = write_file(tmp_path / "a.csv", VALID)
    result = CliRunner().invoke(cli, ["structures", "import", str(path), "--region", "99"])
    assert result.exit_code == 1
    assert "région inconnue : '99'" in result.output
    other = tmp_path / "autre.csv"
    other.write_text("nom;ville\nA;B\n", encoding="utf-8")
    result = CliRunner().invoke(cli, ["structures", "import", str(other)])
    assert result.exit_code == 1
    assert "n’est pas une extraction FINESS au format etalab" in result.output


# --- the upload page and the job page -------------------------------------------------------


class Client:
    """A logged-in TestClient with its CSRF token."""

    def __init__(self, client: TestClient, session: Session, settings: Settings,
                 user: User) -> None:
        self.client, self.user = client, user
        self.token = log_in(client, session, settings, user)

    def get(self, url: str, **kw: Any) -> Any:
        return self.client.get(url, follow_redirects=False, **kw)

    def post(self, url: str, data: dict[str, Any] | None = None, **kw: Any) -> Any:
        return self.client.post(url, data=data or {}, follow_redirects=False,
                                headers=csrf_headers(self.token), **kw)

    def upload(self, path: Path | None, name: str | None = None, **fields: str) -> Any:
        files = {"file": (name or path.name, path.read_bytes(), "text/csv")} if path else None
        return self.post(IMPORT_PATH, fields, files=files)


@pytest.fixture
def web(app_client: TestClient, session: Session) -> TestClient:
    """The app, with background imports running on the test's session."""
    app = cast(Any, app_client.app)
    app.dependency_overrides[job_sessions] = lambda: (lambda: nullcontext(session))
    return app_client


def _as(web: TestClient, session: Session, settings: Settings, role: str,
        region: str | None = None) -> Client:
    return Client(web, session, settings, make_user(session, role, region=region))


def _job_id(response: Any) -> int:
    assert response.status_code == 303, response.text
    location = response.headers["location"]
    assert location.startswith(IMPORT_PATH + "/")
    return int(location.rsplit("/", 1)[1])


def test_admin_uploads_a_file(web: TestClient, session: Session, settings: Settings,
                              tmp_path: Path) -> None:
    admin = _as(web, session, settings, "admin")
    page = admin.get(IMPORT_PATH)
    assert page.status_code == 200
    assert "Import des structures (FINESS)" in page.text
    assert 'enctype="multipart/form-data"' in page.text

    job_id = _job_id(admin.upload(write_file(tmp_path / "finess.csv", VALID,
                                             encoding="latin-1")))
    assert set(_structures(session)) == {"690000039", "690000054", "010000016"}
    job = admin.get(f"{IMPORT_PATH}/{job_id}")
    assert job.status_code == 200
    assert "Import terminé" in job.text
    assert "hx-trigger" not in job.text  # finished: no more polling
    counts = re.search(r'<table id="job-counts">.*?<tbody><tr>(.*?)</tr>', job.text, re.S)
    assert counts is not None
    assert re.findall(r"<td>(.*?)</td>", counts.group(1)) == ["3", "0", "0", "0", "0"]
    assert "Codage des caractères du fichier : Latin-1 (Windows-1252)" in job.text
    assert "latin-1" not in job.text
    listing = admin.get(IMPORT_PATH)
    assert f'href="/admin/structures/import/{job_id}"' in listing.text

    report = admin.get(f"{IMPORT_PATH}/{job_id}/rapport.csv")
    assert report.status_code == 200
    assert report.headers["content-type"] == "text/csv; charset=utf-8"
    assert report.text.lstrip("\ufeff").splitlines() == [
        "Ligne du fichier;Numéro FINESS;Résultat;Motif;Détail ou avertissement;"
        "Code du résultat;Code du motif",
        "2;690000039;Importée;;;imported;", "3;690000054;Importée;;;imported;",
        "4;010000016;Importée;;;imported;"]


def test_rejected_upload_changes_nothing_and_lists_the_lines(
        web: TestClient, session: Session, settings: Settings, tmp_path: Path) -> None:
    admin = _as(web, session, settings, "admin")
    job_id = _job_id(admin.upload(write_file(tmp_path / "broken.csv", BROKEN)))
    assert _structures(session) == {}
    page = admin.get(f"{IMPORT_PATH}/{job_id}?statut=rejected")
    assert "Rien n’a été importé" in page.text
    rows = re.findall(r'<tr>\s*<th scope="row">(\d+)</th>\s*<td>(.*?)</td>\s*<td>(.*?)</td>',
                      page.text)
    assert rows == [("5", "69 000 013 8", "Rejetée"), ("6", "69000013", "Rejetée"),
                    ("7", "69 000 01X 8", "Rejetée"), ("8", "69 000 014 6", "Rejetée")]
    assert "20 champs au lieu de 32" in page.text

    partial = _job_id(admin.upload(write_file(tmp_path / "broken.csv", BROKEN), partial="1"))
    assert len(_structures(session)) == 3
    assert "import partiel" in admin.get(f"{IMPORT_PATH}/{partial}").text


def test_upload_refusals(web: TestClient, session: Session, settings: Settings,
                         tmp_path: Path) -> None:
    admin = _as(web, session, settings, "admin")
    no_file = admin.upload(None)
    assert no_file.status_code == 400
    assert "Choisissez le fichier FINESS à importer." in no_file.text
    path = write_file(tmp_path / "finess.csv", VALID)
    not_csv = admin.upload(path, name="finess.xlsx")
    assert not_csv.status_code == 415
    assert "Le fichier doit être au format CSV (extension .csv)." in not_csv.text
    other = tmp_path / "autre.csv"
    other.write_text("nom;ville\nA;B\n", encoding="utf-8")
    wrong = admin.upload(other)
    assert wrong.status_code == 422
    assert "n’est pas une extraction FINESS au format etalab" in wrong.text
    settings.import_max_upload_mb = 1
    big = write_file(tmp_path / "gros.csv", VALID * 4000)  # > 1 Mo
    assert big.stat().st_size > 1024 * 1024
    too_big = admin.upload(big)
    assert too_big.status_code == 413
    assert "Le fichier dépasse la taille maximale de 1 Mo." in too_big.text
    full_without_region = admin.upload(path, close_missing="1")
    assert full_without_region.status_code == 400
    assert "Un import complet porte sur une région : choisissez-la." in full_without_region.text
    assert _structures(session) == {}
    assert session.exec(select(ImportJob)).all() == []


def test_progress_is_polled_while_running(web: TestClient, session: Session,
                                          settings: Settings) -> None:
    admin = _as(web, session, settings, "admin")
    job = ImportJob(filename="gros.csv", status="running", phase="reading", total=1000,
                    processed=250, user_id=admin.user.id)
    session.add(job)
    session.commit()
    page = admin.get(f"{IMPORT_PATH}/{job.id}")
    assert page.headers["cache-control"] == "no-store"
    assert "<h1>Import n° " in page.text
    assert 'hx-trigger="every 1s"' in page.text
    assert "25 % des lignes lues (250 sur 1" in page.text
    assert "Lecture et vérification des lignes" in page.text
    assert f'href="/admin/structures/import/{job.id}">Actualiser</a>' in page.text.replace(
        'class="fr-link fr-icon-refresh-line fr-link--icon-left" ', "")
    fragment = admin.get(f"{IMPORT_PATH}/{job.id}", headers={"HX-Request": "true"})
    assert fragment.text.lstrip().startswith('<div id="job"')
    assert "<h1>" not in fragment.text
    job.status, job.phase, job.processed = "done", None, 1000
    job.report = {"lines": [], "counts": {}, "encoding": "utf-8", "seconds": 1.5}
    job.applied, job.imported = True, 999
    session.add(job)
    session.commit()
    done = admin.get(f"{IMPORT_PATH}/{job.id}", headers={"HX-Request": "true"})
    assert "hx-trigger" not in done.text
    assert "Import terminé" in done.text


def test_ars_imports_for_their_region_only(web: TestClient, session: Session,
                                           settings: Settings, tmp_path: Path) -> None:
    make_structure(session, finess="690000161", department="69")  # region 84, absent
    paris = make_structure(session, finess="750000069", department="75")  # region 11
    ars = _as(web, session, settings, "ars", region="84")
    page = ars.get(IMPORT_PATH)
    assert "Région : <strong>Auvergne-Rhône-Alpes</strong>" in page.text
    assert 'name="region"' not in page.text
    lines = [*VALID, et_line("750000077", "", "PARIS", "500", "75")]
    job_id = _job_id(ars.upload(write_file(tmp_path / "national.csv", lines), region="11",
                                close_missing="1"))
    job = session.get(ImportJob, job_id)
    assert job is not None
    assert (job.region, job.close_missing, job.user_id) == ("84", True, ars.user.id)
    assert job.report is not None
    assert job.report["lines"][3] == [
        5, "750000077", "skipped",
        "Structure de la région Île-de-France (11), hors de la région importée, "
        "Auvergne-Rhône-Alpes (84).", "other_region"]
    s = _structures(session)
    assert "750000077" not in s
    assert s["690000161"].closed
    assert not s[paris.finess].closed

    # Another region's referent sees neither the job nor its report.
    other = _as(web, session, settings, "ars", region="11")
    assert other.get(f"{IMPORT_PATH}/{job_id}").status_code == 404
    assert other.get(f"{IMPORT_PATH}/{job_id}/rapport.csv").status_code == 404
    assert f"/admin/structures/import/{job_id}" not in other.get(IMPORT_PATH).text


def test_report_page_and_list_in_words(web: TestClient, session: Session, settings: Settings,
                                       tmp_path: Path) -> None:
    ars = _as(web, session, settings, "ars", region="84")
    lines = [VALID[0], "geolocalisation;690000039;842000.1;6519000.2;1,ATLASANTE;2026-10-01",
             "geolocalisation;690000054;842000.1;6519000.2;1,ATLASANTE;2026-10-01",
             "structureej;690000047;x", et_line("750000077", "", "PARIS", "500", "75")]
    job_id = _job_id(ars.upload(write_file(tmp_path / "mixte.csv", lines)))
    page = ars.get(f"{IMPORT_PATH}/{job_id}")
    assert ("Lignes ignorées (pas des établissements) : 2 lignes de géolocalisation, 1 ligne "
            "d’entité juridique (organisme gestionnaire).") in page.text
    assert "Codage des caractères du fichier : UTF-8" in page.text
    rows = re.findall(r'<tr>\s*<th scope="row">(\d+)</th>\s*<td>(.*?)</td>\s*<td>(.*?)</td>'
                      r'\s*<td>(.*?)</td>', page.text)
    assert rows == [("6", "75 000 007 7", "Ignorée",
                     "Structure de la région Île-de-France (11), hors de la région importée, "
                     "Auvergne-Rhône-Alpes (84).")]
    visible = re.sub(r"<[^>]+>", " ", page.text)
    for code in ("other_region", "skipped", "geolocalisation", "structureej"):
        assert code not in visible
    listing = ars.get(IMPORT_PATH)
    row = listing.text.split(f'href="/admin/structures/import/{job_id}"', 1)[1].split("</tr>")[0]
    assert "<td>Auvergne-Rhône-Alpes</td>" in row
    report = ars.get(f"{IMPORT_PATH}/{job_id}/rapport.csv").text.lstrip("\ufeff").splitlines()
    assert report[-1] == ("6;750000077;Ignorée;Hors de la région importée;Structure de la "
                          "région Île-de-France (11), hors de la région importée, "
                          "Auvergne-Rhône-Alpes (84).;skipped;other_region")


@pytest.mark.parametrize("role,region", [("director", None), ("committee", "84"),
                                         ("committee", None)])
def test_others_may_not_import(web: TestClient, session: Session, settings: Settings,
                               tmp_path: Path, role: str, region: str | None) -> None:
    user = _as(web, session, settings, role, region=region)
    assert user.get(IMPORT_PATH).status_code == 403
    assert user.upload(write_file(tmp_path / "a.csv", VALID)).status_code == 403
    assert _structures(session) == {}


def test_anonymous_is_sent_to_login(web: TestClient) -> None:
    response = web.get(IMPORT_PATH, follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/connexion?suivant=/admin/structures/import"


def test_background_job_on_a_real_database(fresh_db_url: str, settings: Settings,
                                           tmp_path: Path, monkeypatch: pytest.MonkeyPatch
                                           ) -> None:
    """No overrides: the job opens its own Session on the configured database."""
    from app.main import create_app

    monkeypatch.setenv("PALIER_DATABASE_URL", fresh_db_url)
    get_settings.cache_clear()
    get_engine.cache_clear()
    try:
        engine = make_engine(fresh_db_url)
        with Session(engine) as s:
            admin_user = make_user(s, "admin")
            real = Settings(env="test", secret_key=settings.secret_key,
                            database_url=fresh_db_url)
            with TestClient(create_app()) as client:
                admin = Client(client, s, real, admin_user)
                job_id = _job_id(admin.upload(write_file(tmp_path / "f.csv", VALID)))
                assert "Import terminé" in admin.get(f"{IMPORT_PATH}/{job_id}").text
        engine.dispose()
        assert set(_cli_structures(fresh_db_url)) == {"690000039", "690000054", "010000016"}
    finally:
        if get_engine.cache_info().currsize:
            get_engine().dispose()
        get_engine.cache_clear()
        get_settings.cache_clear()


# --- correcting a structure -----------------------------------------------------------------


def test_admin_corrects_a_structure(web: TestClient, session: Session, settings: Settings,
                                    tmp_path: Path) -> None:
    s = make_structure(session, finess="690000039", department="69", category_code="500",
                       capacity=None)
    admin = _as(web, session, settings, "admin")
    assert admin.get("/admin/structures?finess=69 000 003 9").headers["location"] == (
        "/admin/structures/690000039")
    page = admin.get("/admin/structures/690000039")
    assert page.status_code == 200
    assert "Corriger une structure" in page.text

    bad = admin.post("/admin/structures/690000039", {"category_code": "999",
                                                      "capacity": "beaucoup",
                                                      "department": "00"})
    assert bad.status_code == 422
    assert "Choisissez une catégorie FINESS de la liste." in bad.text
    assert "Indiquez un nombre entier de places, par exemple 80." in bad.text
    assert "Choisissez un département de la liste." in bad.text

    done = admin.post("/admin/structures/690000039", {"category_code": "202",
                                                       "capacity": "45",
                                                       "department": "01"})
    assert done.status_code == 303
    assert done.headers["location"] == (
        "/admin/structures/690000039?enregistre=category_code,capacity,department")
    assert "Correction enregistrée : catégorie, capacité, département." in admin.get(
        done.headers["location"]).text
    session.expire_all()
    fixed = session.get(Structure, s.id)
    assert fixed is not None
    assert (fixed.category_code, fixed.category_label, fixed.capacity, fixed.department,
            fixed.region) == ("202", "Résidence autonomie", 45, "01", "84")
    event = session.exec(select(AuditEvent).where(
        AuditEvent.action == "structure_corrected")).one()
    assert (event.user_id, event.object_type, event.object_id) == (
        admin.user.id, "structure", str(s.id))
    assert event.details["before"] == {
        "category_code": "500", "capacity": None, "department": "69", "region": "84",
        "category_label": ("EHPAD (Établissement d'hébergement pour personnes âgées "
                           "dépendantes)")}
    assert event.details["after"] == {"category_code": "202", "capacity": 45,
                                      "department": "01", "region": "84",
                                      "category_label": "Résidence autonomie"}
    pinned = {c.field: c.value for c in session.exec(select(StructureCorrection)).all()}
    assert pinned == {"category_code": "202", "department": "01"}

    # The next import keeps the corrections, and says so.
    report, _ = _run(session, write_file(tmp_path / "a.csv", [VALID[0]]))
    assert report.lines[0].message == ("Correction manuelle conservée : catégorie Résidence "
                                       "autonomie (202), département Ain (01).")
    assert (_structures(session)["690000039"].category_code,
            _structures(session)["690000039"].department) == ("202", "01")

    # Forgetting the category pin: the file's value comes back at the next import.
    assert admin.post("/admin/structures/690000039/liberer/category_code").status_code == 303
    _run(session, write_file(tmp_path / "b.csv", [VALID[0]]))
    assert _structures(session)["690000039"].category_code == "500"
    assert _structures(session)["690000039"].department == "01"

    same = admin.post("/admin/structures/690000039", {"category_code": "500",
                                                       "capacity": "45", "department": "01"})
    assert "Aucune modification." in admin.get(same.headers["location"]).text


def test_only_admins_correct(web: TestClient, session: Session, settings: Settings) -> None:
    make_structure(session, finess="690000039", department="69")
    ars = _as(web, session, settings, "ars", region="84")
    assert ars.get("/admin/structures/690000039").status_code == 403
    assert ars.post("/admin/structures/690000039", {"category_code": "202", "capacity": "",
                                                     "department": "69"}).status_code == 403
    admin = _as(web, session, settings, "admin")
    assert admin.get("/admin/structures/690000030").status_code == 404


def test_report_rows_never_start_a_formula() -> None:
    assert service.report_row(7, "=1+1", "rejected", "finess_malformed", "-2 champs") == [
        7, "'=1+1", "Rejetée", "Numéro FINESS ET mal formé", "'-2 champs", "rejected",
        "finess_malformed"]
    assert service.report_row(2, "690000039", "imported", None, "") == [
        2, "690000039", "Importée", "", "", "imported", ""]


def test_import_and_correction_keep_the_dashboards_current(session: Session,
                                                            tmp_path: Path) -> None:
    from app.dashboard.models import LatestResult
    from app.dashboard.read_model import refresh_structures
    from app.structures.corrections import CorrectionForm, correct
    from tests.factories import make_assessment

    gone = make_structure(session, finess="690000161", department="69")
    kept = make_structure(session, finess="690000039", department="69", capacity=80)
    for s in (gone, kept):
        make_assessment(session, s, status="submitted", tier_level=2, global_score=50.0)
    refresh_structures(session)
    session.commit()
    assert {r.structure_id for r in session.exec(select(LatestResult))} == {gone.id, kept.id}
    # A full re-import of region 84 without `gone`: it is closed and leaves the figures;
    # `kept` is updated (its category becomes 500 from the file, as before).
    _run(session, write_file(tmp_path / "r84.csv", VALID), region="84", close_missing=True)
    session.expire_all()
    assert {r.structure_id for r in session.exec(select(LatestResult))} == {kept.id}
    # An admin correction of the category is copied into the read model at once.
    admin = make_user(session, role=Role.admin)
    actor = Actor(id=admin.id or 0, role=Role.admin)
    correct(session, actor, kept.finess, CorrectionForm(category_code="354", capacity="80",
                                                        department="69"))
    session.expire_all()
    row = session.exec(select(LatestResult).where(LatestResult.structure_id == kept.id)).one()
    assert row.category_code == "354"
