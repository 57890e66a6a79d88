"""Accent-, case- and punctuation-insensitive search (app/search_text.py): the `search`
columns written with the rows (ORM, Core inserts of imports and demo, import updates), filled
by migration 0013 for existing rows, and used by the ARS structure list, the admins' account
list and the API's structure list: every word typed must appear. Expected values written by
hand."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from app.accounts.models import User
from app.cli.db import upgrade_database
from app.config import Settings
from app.db import make_engine
from app.permissions import Role
from app.reference import finess_categories
from app.search_text import normalise
from app.structures import imports as service
from app.structures.adapters import EtalabCsvAdapter
from app.structures.imports import ImportOptions
from app.structures.models import Structure
from tests.auth_helpers import api_token, bearer, log_in
from tests.factories import make_structure, make_user
from tests.fixtures.finess import et_line, write_file

ROW_NAME = re.compile(r'<th scope="row"><a href="/structures/\d+">([^<]+)</a></th>')
USER_ROW = re.compile(r'<tr id="user-\d+">\s*<th scope="row">([^<]*)<br>')


@pytest.mark.parametrize(("text", "expected"), [
    ("Épinal", "epinal"),
    ("EPINAL", "epinal"),
    ("Saint-Étienne", "saint etienne"),
    ("  saint   etienne ", "saint etienne"),
    ("L'ŒUVRE", "l oeuvre"),
    ("Hôpital d’Évian-les-Bains", "hopital d evian les bains"),
    ("Straße", "strasse"),
    ("50%_x\\y", "50 x y"),
    ("---", ""),
    ("", ""),
])
def test_normalise(text: str, expected: str) -> None:
    assert normalise(text) == expected


def _vosges(session: Session) -> dict[str, Structure]:
    """Four structures of the Vosges (88, region 44)."""
    return {
        "s1": make_structure(session, name="Résidence Saint-Étienne", city="Épinal",
                             department="88"),
        "s2": make_structure(session, name="EHPAD du Parc", city="EPINAL", department="88"),
        "s3": make_structure(session, name="Foyer l'Œuvre de Saint Etienne", city="Golbey",
                             department="88"),
        "s4": make_structure(session, name="EHPAD Les Tilleuls", city="Remiremont",
                             department="88"),
    }


def test_columns_written_by_the_orm(session: Session) -> None:
    s = _vosges(session)
    assert s["s1"].search == "residence saint etienne | epinal"
    assert s["s3"].search == "foyer l oeuvre de saint etienne | golbey"
    s["s4"].city = "Saint-Dié-des-Vosges"
    session.add(s["s4"])
    session.commit()
    session.refresh(s["s4"])
    assert s["s4"].search == "ehpad les tilleuls | saint die des vosges"
    user = make_user(session, Role.ars, region="44", email="Helene.Dupre@ars.sante.fr",
                     name="Hélène Dupré")
    assert user.search == "helene dupre | helene dupre ars sante fr"


@pytest.mark.parametrize(("query", "expected"), [
    ("Épinal", ["EHPAD du Parc", "Résidence Saint-Étienne"]),
    ("epinal", ["EHPAD du Parc", "Résidence Saint-Étienne"]),
    ("EPINAL", ["EHPAD du Parc", "Résidence Saint-Étienne"]),
    ("Saint-Étienne", ["Foyer l'Œuvre de Saint Etienne", "Résidence Saint-Étienne"]),
    ("saint etienne", ["Foyer l'Œuvre de Saint Etienne", "Résidence Saint-Étienne"]),
    ("l’œuvre", ["Foyer l'Œuvre de Saint Etienne"]),
    ("TILLEULS", ["EHPAD Les Tilleuls"]),
    ("%", []),
    ("ehpad epinal", ["EHPAD du Parc"]),  # every word, in the name or the commune
    ("Épinal, résidence", ["Résidence Saint-Étienne"]),
    ("etienne golbey foyer", ["Foyer l'Œuvre de Saint Etienne"]),
    ("ehpad golbey", []),
])
def test_ars_structure_list(app_client: TestClient, session: Session, settings: Settings,
                            query: str, expected: list[str]) -> None:
    _vosges(session)
    log_in(app_client, session, settings, make_user(session, Role.ars, region="44"))
    page = app_client.get("/regions/44/structures", params={"recherche": query})
    assert page.status_code == 200
    assert sorted(ROW_NAME.findall(page.text)) == [n.replace("'", "&#39;") for n in expected]


def test_api_structure_list(app_client: TestClient, session: Session,
                            settings: Settings) -> None:
    s = _vosges(session)
    ars = make_user(session, Role.ars, region="44", email="ars44@example.fr")
    token = api_token(app_client, ars.email)
    found = app_client.get("/api/v1/structures", params={"q": "SAINT etienne"},
                           headers=bearer(token))
    assert found.status_code == 200
    assert sorted(r["name"] for r in found.json()) == [
        "Foyer l'Œuvre de Saint Etienne", "Résidence Saint-Étienne"]
    assert found.headers["X-Total-Count"] == "2"
    by_number = app_client.get("/api/v1/structures", params={"q": s["s2"].finess[:9]},
                               headers=bearer(token))
    assert [r["name"] for r in by_number.json()] == ["EHPAD du Parc"]


def test_admin_account_search(app_client: TestClient, session: Session,
                              settings: Settings) -> None:
    s = _vosges(session)
    make_user(session, Role.ars, region="44", email="helene.dupre@ars.fr", name="Hélène Dupré")
    make_user(session, Role.director, [s["s1"]], email="dir@residence.fr", name="Jean Marc")
    log_in(app_client, session, settings,
           make_user(session, Role.admin, email="admin@example.fr", name="Admin"))
    for query, expected in [("helene", ["Hélène Dupré"]),
                            ("dupre@ars", ["Hélène Dupré"]),
                            ("DUPRÉ", ["Hélène Dupré"]),
                            ("Hélène Dupre", ["Hélène Dupré"]),
                            ("saint etienne", ["Jean Marc"]),  # its structure
                            ("epinal", ["Jean Marc"]),  # its structure's commune
                            ("jean-marc", ["Jean Marc"]),
                            ("marc jean", ["Jean Marc"]),
                            ("residence saint etienne epinal", ["Jean Marc"]),
                            ("?!", [])]:
        page = app_client.get("/admin/utilisateurs", params={"recherche": query})
        assert USER_ROW.findall(page.text) == expected, query


def test_import_writes_and_updates_the_column(session: Session, tmp_path: Path) -> None:
    opts = ImportOptions(categories=frozenset(finess_categories()))
    first = write_file(tmp_path / "a.csv", [et_line(
        "880000013", "880000021", "EHPAD SAINT-ETIENNE", "500", "88",
        acheminement="88000 ÉPINAL")])
    job = service.create_job(session, filename="a.csv", options=opts, user_id=None)
    service.run_import(session, job, EtalabCsvAdapter.from_path(first), opts)
    row = session.exec(select(Structure)).one()
    assert row.search == "ehpad saint etienne | epinal"
    second = write_file(tmp_path / "b.csv", [et_line(
        "880000013", "880000021", "RÉSIDENCE L'ŒUVRE", "500", "88",
        acheminement="88150 THAON-LES-VOSGES")])
    job = service.create_job(session, filename="b.csv", options=opts, user_id=None)
    service.run_import(session, job, EtalabCsvAdapter.from_path(second), opts)
    session.expire_all()
    assert session.exec(select(Structure.search)).one() == "residence l oeuvre | thaon les vosges"


def test_core_insert_gets_the_column(session: Session) -> None:
    """The demo's path: Core inserts of many rows without `search`."""
    table = Structure.__table__  # type: ignore[attr-defined]
    rows = [{"finess": "880000039", "name": "Maison d'Accueil Spécialisée", "city": "Épinal",
             "category_code": "255", "category_label": "MAS", "department": "88",
             "region": "44"},
            {"finess": "880000047", "name": "SSIAD", "city": None, "category_code": "354",
             "category_label": "SSIAD", "department": "88", "region": "44"}]
    session.execute(sa.insert(table), rows)
    session.commit()
    assert session.exec(select(Structure.finess, Structure.search)
                        .order_by(Structure.finess)).all() == [
        ("880000039", "maison d accueil specialisee | epinal"), ("880000047", "ssiad | ")]


def test_migration_fills_existing_rows(empty_db_url: str) -> None:
    upgrade_database(empty_db_url, revision="0012")
    engine = make_engine(empty_db_url)
    try:
        with engine.begin() as conn:
            conn.execute(sa.text(
                "INSERT INTO structure (finess, name, category_code, category_label, "
                "department, region, city, capacity, closed, created_at, updated_at) VALUES "
                "('880000013', 'Résidence Saint-Étienne', '500', 'EHPAD', '88', '44', "
                "'ÉPINAL', 80, false, '2026-01-01', '2026-01-01')"))
            conn.execute(sa.text(
                "INSERT INTO user_account (email, name, password_hash, role, active, "
                "created_at, updated_at) VALUES ('zoe.lefevre@ars.fr', 'Zoé Lefèvre', 'x', "
                "'admin', true, '2026-01-01', '2026-01-01')"))
        upgrade_database(empty_db_url)
        with Session(engine) as session:
            assert session.exec(select(Structure.search)).one() == \
                "residence saint etienne | epinal"
            assert session.exec(select(User.search)).one() == \
                "zoe lefevre | zoe lefevre ars fr"
    finally:
        engine.dispose()
