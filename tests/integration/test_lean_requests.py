"""Lean requests: reading a token or a session takes no SQLite write lock (even for a
state-changing request), Jinja re-checks template files only in development."""

from __future__ import annotations

import sqlite3
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url
from sqlmodel import Session
from starlette.requests import Request

from app.accounts.models import ApiToken
from app.accounts.tokens import new_token, token_hash
from app.config import Settings
from app.db import _IMMEDIATE, make_engine, utcnow
from app.permissions import Role
from app.web.auth_deps import resolve_user
from tests.conftest import TEST_SECRET_KEY
from tests.factories import make_structure, make_user


def _patch_request(raw_token: str) -> Request:
    return Request({"type": "http", "method": "PATCH", "path": "/api/v1/rien",
                    "query_string": b"", "client": ("127.0.0.1", 1),
                    "headers": [(b"authorization", f"Bearer {raw_token}".encode())]})


def test_token_lookup_of_a_write_request_does_not_wait_for_the_write_lock(
        backend: str, fresh_db_url: str, tmp_path: Path) -> None:
    if backend != "sqlite":
        pytest.skip("SQLite locking")
    engine = make_engine(fresh_db_url)
    raw = new_token()
    with Session(engine) as session:
        user_id = make_user(session, Role.director, [make_structure(session)]).id
        now = utcnow()  # recently used: no activity touch due
        session.add(ApiToken(token_hash=token_hash(raw), user_id=user_id or 0,
                             last_used_at=now, expires_at=now + timedelta(hours=1)))
        session.commit()
    settings = Settings(env="test", secret_key=TEST_SECRET_KEY, database_url=fresh_db_url,
                        evidence_dir=tmp_path / "evidence")
    write_engine = engine.execution_options(**{_IMMEDIATE: True})  # as for a PATCH
    holder = sqlite3.connect(str(make_url(fresh_db_url).database), isolation_level=None)
    try:
        with Session(write_engine) as session:
            session.connection().exec_driver_sql("PRAGMA busy_timeout=200")
            session.rollback()
            holder.execute("BEGIN IMMEDIATE")  # another request is writing
            request = _patch_request(raw)
            resolve_user(request, session, settings)  # before: database is locked
            assert request.state.auth == "token"
            assert request.state.actor.id == user_id
    finally:
        if holder.in_transaction:
            holder.execute("ROLLBACK")
        holder.close()
        engine.dispose()


@pytest.mark.parametrize(("env", "expected"), [("development", True),
                                                ("production", False), ("test", False)])
def test_jinja_auto_reload_only_in_development(env: str, expected: bool) -> None:
    from app.web import templating

    before = templating.env.auto_reload
    try:
        templating.configure(Settings(env=env, secret_key=TEST_SECRET_KEY,
                                     base_url="https://palier.example.fr"))
        assert templating.env.auto_reload is expected
    finally:
        templating.env.auto_reload = before


def test_serve_uses_uvloop_and_httptools() -> None:
    """Runtime dependencies: uvicorn's "auto" choices (what `palier serve` passes) pick them."""
    import uvloop
    from uvicorn.loops.auto import auto_loop_factory
    from uvicorn.protocols.http.auto import AutoHTTPProtocol
    from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

    assert AutoHTTPProtocol is HttpToolsProtocol
    assert auto_loop_factory(use_subprocess=False) is uvloop.new_event_loop


def test_pooled_connection_is_pinged_only_after_being_idle(
        backend: str, fresh_db_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """PostgreSQL: a connection back in the pool for less than PING_AFTER_IDLE_S is used
    without a ping (a dead one then fails its statement); after that, a dead connection is
    found by the ping and replaced."""
    if backend != "postgresql":
        pytest.skip("PostgreSQL pool")
    from sqlalchemy import text
    from sqlalchemy.exc import OperationalError

    from app import db

    engine = make_engine(fresh_db_url, pool_size=1, max_overflow=0)
    killer = make_engine(fresh_db_url)

    def kill_the_pooled_connection() -> None:
        with engine.connect() as conn:
            pid = conn.execute(text("SELECT pg_backend_pid()")).scalar()
        with killer.connect() as conn:
            conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
            conn.commit()

    try:
        monkeypatch.setattr(db, "PING_AFTER_IDLE_S", 3600.0)
        kill_the_pooled_connection()
        with pytest.raises(OperationalError), engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        monkeypatch.setattr(db, "PING_AFTER_IDLE_S", 0.0)
        kill_the_pooled_connection()
        with engine.connect() as conn:
            assert conn.execute(text("SELECT 1")).scalar() == 1
    finally:
        engine.dispose()
        killer.dispose()
