"""In Chromium: an admin uploads a FINESS file and follows the import to its report (htmx
polling); an invited director creates their account from the link. Pages are axe clean."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import delete, func
from sqlmodel import Session, col, select

from app.accounts.invitations import NewInvitation, create_invitation
from app.config import Settings
from app.permissions import Actor, Role
from app.structures.finess import luhn_check_digit
from app.structures.models import Structure
from tests.conftest import TEST_SECRET_KEY
from tests.e2e.axe import assert_accessible
from tests.e2e.conftest import LiveServer
from tests.e2e.helpers import login
from tests.factories import DEFAULT_PASSWORD, make_structure, make_user
from tests.fixtures.finess import et_line, write_file

pytestmark = pytest.mark.e2e


def _number(serial: int) -> str:
    body = f"2B{serial:06d}"  # Haute-Corse, a range the other tests' factories do not use
    return body + luhn_check_digit(body)


def test_admin_imports_a_file_and_reads_the_report(page: Page, db: Session,
                                                   tmp_path: Path) -> None:
    admin = make_user(db, "admin", password=DEFAULT_PASSWORD)
    db.commit()
    lines = [et_line(_number(900_001 + i), _number(950_000), f"EHPAD CORSE {i}", "500", "2B",
                     acheminement="20200 BASTIA") for i in range(3)]
    lines.append(et_line("2B90000", "", "NUMERO COURT", "500", "2B"))
    path = write_file(tmp_path / "finess-corse.csv", lines, encoding="latin-1")

    login(page, admin.email, DEFAULT_PASSWORD)
    page.goto("/admin/structures/import")
    expect(page.get_by_role("heading", level=1)).to_have_text("Import des structures (FINESS)")
    assert_accessible(page)

    page.get_by_label("Fichier FINESS (obligatoire)").set_input_files(str(path))
    page.get_by_text("Importer les lignes valides même si d’autres lignes sont rejetées").click()
    with page.expect_navigation():
        page.get_by_role("button", name="Importer le fichier").click()
    expect(page).to_have_url(re.compile(r"/admin/structures/import/\d+$"))
    expect(page.get_by_text("Import terminé")).to_be_visible()
    counts = page.locator("#job-counts tbody td")
    expect(counts).to_have_text(["3", "0", "0", "1", "0"])
    expect(page.locator("#job-lines")).to_contain_text("Numéro FINESS ET : Le numéro FINESS "
                                                       "doit comporter 9 caractères (7 saisis).")
    assert_accessible(page)


def test_invited_director_creates_an_account(page: Page, db: Session,
                                             live_server: LiveServer) -> None:
    structure = make_structure(db, name="EHPAD Les Oliviers", department="2A")
    admin = make_user(db, "admin")
    db.commit()
    assert admin.id is not None
    settings = Settings(env="test", secret_key=TEST_SECRET_KEY,
                        database_url=live_server.database_url, email_backend="memory")
    _, link = create_invitation(db, settings, Actor(id=admin.id, role=Role.admin),
                                NewInvitation(email="oliviers@exemple.fr",
                                              structures=structure.finess))
    db.commit()
    token = link.rsplit("/", 1)[1]

    page.goto(f"/invitation/{token}")
    expect(page.get_by_role("heading", name="Créer votre compte")).to_be_visible()
    expect(page.get_by_text("EHPAD Les Oliviers")).to_be_visible()
    assert_accessible(page)
    page.get_by_label("Votre nom").fill("Inès Leclerc")
    page.get_by_label("Mot de passe", exact=False).first.fill("une phrase de passe solide")
    page.get_by_label("Confirmer le mot de passe").fill("une phrase de passe solide")
    with page.expect_navigation():
        page.get_by_role("button", name="Créer mon compte et accepter l’invitation").click()
    expect(page).to_have_url(re.compile(r"/mes-structures$"))
    expect(page.get_by_text("EHPAD Les Oliviers").first).to_be_visible()

    page.goto(f"/invitation/{token}")
    expect(page.get_by_role("alert")).to_contain_text("Cette invitation a déjà été acceptée.")
    assert_accessible(page)


def test_progress_is_followed_without_reloading(page: Page, db: Session,
                                                tmp_path: Path) -> None:
    """A file big enough to take a few seconds: the job page shows the progress bar, then
    htmx (polling every second) replaces it with the report, without a reload."""
    from bench.import_bench import generate

    admin = make_user(db, "admin")
    db.commit()
    path = tmp_path / "finess-national.csv"
    generate(path, 60_000, seed=4, serial_base=20_000)  # clear of the factories' serials
    before = db.exec(select(func.max(Structure.id))).one() or 0
    db.commit()  # end the read: on SQLite it could not write after the server did
    try:
        _follow_progress(page, admin.email, path)
    finally:  # other tests share this database: leave it as it was
        db.exec(delete(Structure).where(col(Structure.id) > before))  # type: ignore[call-overload]
        db.commit()


def _follow_progress(page: Page, email: str, path: Path) -> None:

    login(page, email, DEFAULT_PASSWORD)
    page.goto("/admin/structures/import")
    page.get_by_label("Fichier FINESS (obligatoire)").set_input_files(str(path))
    with page.expect_navigation():
        page.get_by_role("button", name="Importer le fichier").click()
    expect(page.locator("#job-progress")).to_be_visible()
    expect(page.get_by_role("link", name="Actualiser")).to_be_visible()
    navigations: list[str] = []
    page.on("framenavigated", lambda frame: navigations.append(frame.url))
    expect(page.get_by_text("Import terminé")).to_be_visible(timeout=60_000)
    assert navigations == []  # swapped in place by htmx
    expect(page.locator("#job-progress")).to_have_count(0)
