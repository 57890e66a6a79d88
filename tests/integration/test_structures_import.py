"""The structures import (service, CLI, upload page, correction page) on fixture files the
tests write themselves (tests/fixtures/finess): broken lines, encodings, bad numbers,
duplicates, non-ESMS categories, overseas and Corsica lines, re-imports."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import Session, col, select
from typer.testing import CliRunner

from app.cli import cli
from app.config import Settings, get_settings
from app.db import make_engine
from app.imports import service
from app.imports.adapters import EtalabCsvAdapter
from app.imports.models import ImportJob, StructureCorrection
from app.imports.service import ImportOptions, ImportReport
from app.models import AuditEvent, Structure
from app.permissions import Actor, Role
from app.reference import finess_categories
from app.services.errors import Forbidden
from tests.factories import make_structure
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
    assert "Département « ZZ » inconnu : département 69 déduit du numéro FINESS." in (
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
    assert report.lines[4].message == ("Structure de la région 11, hors de la région importée "
                                       "(84).")
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
    assert report.notes == ["Aucune ligne de la région 11 dans le fichier : aucune structure "
                            "n’a été marquée fermée (mauvais fichier ?)."]
    assert not _structures(session)[kept.finess].closed


def test_corrections_survive_a_reimport(session: Session, tmp_path: Path) -> None:
    s = make_structure(session, finess="690000039", department="69", category_code="501")
    assert s.id is not None
    session.add(StructureCorrection(structure_id=s.id, field="category_code", value="501"))
    session.commit()
    report, _ = _run(session, write_file(tmp_path / "a.csv", [VALID[0]]))
    assert report.lines[0].message.endswith("Correction manuelle conservée : catégorie 501.")
    assert _structures(session)["690000039"].category_code == "501"


def test_failure_while_writing_leaves_nothing(session: Session, tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(service, "BATCH", 1)
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
    assert rows[0] == "ligne;finess;statut;motif;message"
    assert rows[1] == "2;690000039;imported;;"
    assert rows[4].startswith("5;690000138;rejected;field_count;20 champs au lieu de 32")

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
