"""Files live in the database: evidence uploaded through one app instance is downloaded
through another (its own settings, no shared folder), and nothing is written on a local
disk. Both backends, real commits."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, event
from sqlmodel import Session, select

from app import files
from app.assessments.models import Assessment
from app.config import Settings, get_settings
from app.db import make_engine
from app.main import create_app
from app.permissions import Role
from app.reviews.models import Evidence
from tests.answers import PETIT_EHPAD
from tests.conftest import TEST_SECRET_KEY, _clear_caches
from tests.factories import make_structure, make_user
from tests.integration.test_evidence import PDF, Browser


@pytest.fixture
def shared_engine(fresh_db_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Engine]:
    monkeypatch.setenv("PALIER_DATABASE_URL", fresh_db_url)
    _clear_caches()
    engine = make_engine(fresh_db_url)
    yield engine
    engine.dispose()
    _clear_caches()


def instance(url: str, folder: Path) -> TestClient:
    """An app instance with its own settings (its own evidence folder)."""
    settings = Settings(env="test", secret_key=TEST_SECRET_KEY, database_url=url,
                        evidence_dir=folder / "evidence")
    app = create_app()
    app.dependency_overrides[get_settings] = lambda: settings
    return TestClient(app)


def test_evidence_uploaded_on_one_instance_is_served_by_another(
        fresh_db_url: str, shared_engine: Engine, tmp_path: Path) -> None:
    with Session(shared_engine) as session:
        ehpad = make_structure(session, name="EHPAD Les Tilleuls", department="69")
        director = make_user(session, Role.director, [ehpad])
        with instance(fresh_db_url, tmp_path / "a") as a, \
                instance(fresh_db_url, tmp_path / "b") as b:
            first = Browser(a, session, Settings(database_url=fresh_db_url)).as_(director)
            created = first.post(f"/structures/{ehpad.finess}/evaluation")
            match = re.match(r"/evaluations/(\d+)/", created.headers["location"])
            assert match
            session.rollback()  # a new snapshot: the app committed the draft
            a = session.get(Assessment, int(match.group(1)))
            assert a is not None and a.id is not None
            a.answers, a.version = dict(PETIT_EHPAD), 1  # the question with evidence shown
            session.add(a)
            session.commit()
            assert first.upload(a.id, "sauvegardes", "compte-rendu.pdf", PDF).status_code == 303
            session.rollback()
            e = session.exec(select(Evidence)).one()
            second = Browser(b, session, Settings(database_url=fresh_db_url)).as_(director)
            download = second.get(f"/preuves/{e.id}")
        assert download.status_code == 200
        assert download.content == PDF
        assert download.headers["content-type"] == "application/pdf"
        assert 'filename="compte-rendu.pdf"' in download.headers["content-disposition"]
        [blob] = session.exec(select(files.StoredFile)).all()
        assert (blob.key, blob.size) == (f"evidence/{e.stored_name}", len(PDF))
    assert not (tmp_path / "a" / "evidence").exists()
    assert not (tmp_path / "b" / "evidence").exists()


def test_read_returns_the_bytes_in_one_query(session: Session, engine: Engine) -> None:
    # Before: `files.get(...).data` read the row, then its deferred data (two queries).
    files.put(session, "evidence/lettre.txt", b"Bonjour", "text/plain")
    session.flush()
    session.expunge_all()  # nothing from the session's identity map
    queries: list[str] = []

    def count(_c: Any, _cur: Any, statement: str, *_: Any) -> None:
        if "stored_file" in statement:
            queries.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        data = files.read(session, "evidence/lettre.txt")
        missing = files.read(session, "evidence/absente.txt")
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert data == b"Bonjour"
    assert missing is None
    assert len(queries) == 2, queries  # one for each call
