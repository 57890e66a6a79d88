"""The app on a database of its own, as in production (no dependency override): on PostgreSQL
its lean routes work from the event loop on their own connections (app/db.py
`event_loop_pool`)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from app.config import Settings
from app.db import make_engine
from tests.conftest import TEST_SECRET_KEY, _clear_caches


@contextmanager
def app_on_own_database(url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                        ) -> Iterator[tuple[TestClient, Session, Settings]]:
    """(client, session, settings): the app served on the database `url`, a session on it."""
    from app.main import create_app

    settings = Settings(env="test", secret_key=TEST_SECRET_KEY, database_url=url,
                        evidence_dir=tmp_path / "evidence")
    monkeypatch.setenv("PALIER_DATABASE_URL", url)
    monkeypatch.setenv("PALIER_EVIDENCE_DIR", str(settings.evidence_dir))
    _clear_caches()
    engine = make_engine(url)
    try:
        with Session(engine) as session, TestClient(create_app()) as client:
            yield client, session, settings
    finally:
        engine.dispose()
        _clear_caches()
