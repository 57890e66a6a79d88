"""Shared fixtures.

Database fixtures are parametrized over the backends: SQLite always, PostgreSQL too when
PALIER_TEST_DATABASE_URL is set (then an unreachable server makes the tests fail, never
skip). Each backend gets its own database for the whole run, created and migrated with
Alembic once; each test runs inside a transaction rolled back at the end.

    backend        "sqlite" | "postgresql" (session)
    db_url         URL of the migrated session database (session)
    engine         Engine on db_url (session)
    session        Session isolated by rollback; commits become savepoint releases
    settings       Settings(env="test") pointing at db_url
    app_client     TestClient on create_app(), get_session/get_settings overridden
    fresh_db_url   a new, migrated, empty database for this test only (real commits,
                   several connections, a running server); dropped afterwards
    empty_db_url   same, not migrated (migration tests)
"""

from __future__ import annotations

import atexit
import os
import shutil
import sqlite3
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url
from sqlmodel import Session

from app import email
from app.cli.db import upgrade_database
from app.config import Settings, get_settings
from app.db import get_engine, get_session, get_write_engine, make_engine, normalize_url

TEST_SECRET_KEY = "test-secret-key-not-for-production-0123456789"
PG_URL = os.environ.get("PALIER_TEST_DATABASE_URL", "").strip()
BACKENDS = ["sqlite", "postgresql"] if PG_URL else ["sqlite"]


@pytest.fixture(scope="session", autouse=True)
def _test_environment(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """No test reads a developer's PALIER_* settings or touches var/palier.db."""
    tmp = tmp_path_factory.mktemp("palier-env")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("PALIER_ENV", "test")
        mp.setenv("PALIER_SECRET_KEY", TEST_SECRET_KEY)
        mp.setenv("PALIER_DATABASE_URL", f"sqlite:///{tmp / 'default.db'}")
        mp.setenv("PALIER_EVIDENCE_DIR", str(tmp / "evidence"))
        mp.setenv("PALIER_JOBS_RUNNER", "inline")  # tests of the queue set "queue"
        _clear_caches()
        yield
    _clear_caches()


def _clear_caches() -> None:
    if get_engine.cache_info().currsize:
        get_engine().dispose()
    get_settings.cache_clear()
    get_engine.cache_clear()
    get_write_engine.cache_clear()


# --- temporary databases ---------------------------------------------------------------


def _pg_admin_engine() -> Engine:
    admin_url = make_url(normalize_url(PG_URL)).set(database="postgres")
    return create_engine(admin_url, isolation_level="AUTOCOMMIT", pool_pre_ping=True)


def _pg_admin(statement: str) -> None:
    """Run one statement (CREATE/DROP DATABASE) on the PostgreSQL server's admin database."""
    admin = _pg_admin_engine()
    try:
        with admin.connect() as conn:
            conn.execute(text(statement))
    finally:
        admin.dispose()


def _pg_url(name: str) -> str:
    return make_url(normalize_url(PG_URL)).set(database=name).render_as_string(False)


# One migrated database per backend and process, copied for each temporary database that
# asks to be migrated (a copy takes a fraction of the migrations' time); removed at exit.
_templates: dict[str, str] = {}


def _template(backend: str) -> str:
    """The migrated template of `backend`: a SQLite file path or a PostgreSQL database name."""
    if backend not in _templates:
        name = f"palier_template_{uuid.uuid4().hex[:12]}"
        if backend == "sqlite":
            directory = tempfile.mkdtemp(prefix="palier-template-")
            atexit.register(shutil.rmtree, directory, ignore_errors=True)
            name = os.path.join(directory, name + ".db")
            upgrade_database(f"sqlite:///{name}")
        else:
            _pg_admin(f'CREATE DATABASE "{name}"')
            atexit.register(_pg_admin, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            upgrade_database(_pg_url(name))
        _templates[backend] = name
    return _templates[backend]


@contextmanager
def temporary_database(backend: str, directory: Path, *, migrate: bool) -> Iterator[str]:
    """A new database on `backend` (SQLite file in `directory`, or a PostgreSQL database
    `palier_test_<random>` on the PALIER_TEST_DATABASE_URL server), dropped afterwards.
    `migrate`: a copy of the migrated template (the migrations ran once per process)."""
    name = f"palier_test_{uuid.uuid4().hex[:12]}"
    if backend == "sqlite":
        path = directory / (name + ".db")
        if migrate:
            source, target = sqlite3.connect(_template(backend)), sqlite3.connect(path)
            try:
                source.backup(target)
            finally:
                source.close()
                target.close()
        yield f"sqlite:///{path}"
        return
    template = f' TEMPLATE "{_template(backend)}"' if migrate else ""
    _pg_admin(f'CREATE DATABASE "{name}"{template}')
    try:
        yield _pg_url(name)
    finally:
        _pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session", params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(scope="session")
def db_url(backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with temporary_database(backend, tmp_path_factory.mktemp("db"), migrate=True) as url:
        yield url


@pytest.fixture(scope="session")
def engine(db_url: str) -> Iterator[Engine]:
    engine = make_engine(db_url)
    yield engine
    engine.dispose()


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    """A session inside a transaction rolled back after the test. The code under test may
    commit or roll back freely: those act on a SAVEPOINT (SQLAlchemy 2
    `join_transaction_mode="create_savepoint"`)."""
    with engine.connect() as connection:
        transaction = connection.begin()
        session = Session(bind=connection, join_transaction_mode="create_savepoint")
        try:
            yield session
        finally:
            session.close()
            transaction.rollback()


@pytest.fixture
def fresh_db_url(backend: str, tmp_path: Path) -> Iterator[str]:
    with temporary_database(backend, tmp_path, migrate=True) as url:
        yield url


@pytest.fixture
def empty_db_url(backend: str, tmp_path: Path) -> Iterator[str]:
    with temporary_database(backend, tmp_path, migrate=False) as url:
        yield url


# --- application ------------------------------------------------------------------------


@pytest.fixture
def settings(db_url: str, tmp_path: Path) -> Settings:
    return Settings(
        env="test",
        secret_key=TEST_SECRET_KEY,
        database_url=db_url,
        evidence_dir=tmp_path / "evidence",
    )


@pytest.fixture
def app_client(
    session: Session, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> Iterator[TestClient]:
    """The app on the test's rolled-back session. Code calling get_settings() directly
    (not through Depends) also sees the test settings."""
    from app.main import create_app

    monkeypatch.setenv("PALIER_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("PALIER_EVIDENCE_DIR", str(settings.evidence_dir))
    _clear_caches()
    app = create_app()
    app.dependency_overrides[get_session] = lambda: session
    app.dependency_overrides[get_settings] = lambda: settings
    try:
        with TestClient(app) as client:
            yield client
    finally:
        app.dependency_overrides.clear()
        _clear_caches()


@pytest.fixture
def outbox(settings: Settings) -> Iterator[list[email.Email]]:
    """E-mails sent to memory (`email_backend=memory`), empty at the start and the end."""
    settings.email_backend = "memory"
    email.outbox.clear()
    yield email.outbox
    email.outbox.clear()
