"""Retention: what the personal-data page promises is really deleted."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import Session, select

from app.accounts.models import ApiToken, AuthSession, LoginAttempt, PasswordResetToken
from app.accounts.retention import purge
from app.audit import AuditEvent
from app.config import Settings
from tests.factories import make_user

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
H = timedelta(hours=1)


def test_purge_keeps_what_is_live_and_deletes_the_rest(session: Session,
                                                        settings: Settings) -> None:
    u = make_user(session)
    uid = u.id
    assert uid is not None

    def sess(sid: str, *, expires: datetime, seen: datetime,
             revoked: datetime | None = None) -> AuthSession:
        return AuthSession(id=sid, user_id=uid, created_at=seen, last_seen_at=seen,
                           expires_at=expires, revoked_at=revoked, csrf_token="t")

    session.add_all([
        sess("live", expires=NOW + 5 * H, seen=NOW - timedelta(minutes=10)),
        sess("past-absolute", expires=NOW - H, seen=NOW - timedelta(minutes=5)),
        sess("idle", expires=NOW + 5 * H, seen=NOW - 2 * H),  # idle limit 60 min
        sess("revoked", expires=NOW + 5 * H, seen=NOW, revoked=NOW),
        ApiToken(token_hash="tok-live", user_id=uid, created_at=NOW, expires_at=NOW + H),
        ApiToken(token_hash="tok-old", user_id=uid, created_at=NOW, expires_at=NOW - H),
        PasswordResetToken(token_hash="r-live", user_id=uid, created_at=NOW,
                           expires_at=NOW + H),
        PasswordResetToken(token_hash="r-used", user_id=uid, created_at=NOW,
                           expires_at=NOW + H, used_at=NOW),
        LoginAttempt(key="ip:1", at=NOW - timedelta(minutes=5)),
        LoginAttempt(key="ip:2", at=NOW - timedelta(minutes=30)),  # window 15 min
        AuditEvent(action="login", at=NOW - timedelta(days=364)),
        AuditEvent(action="login", at=NOW - timedelta(days=366)),
    ])
    session.commit()
    counts = purge(session, settings, now=NOW)
    assert (counts.sessions, counts.api_tokens, counts.reset_links, counts.login_attempts,
            counts.audit_events) == (3, 1, 1, 1, 1)
    assert [s.id for s in session.exec(select(AuthSession))] == ["live"]
    assert [t.token_hash for t in session.exec(select(ApiToken))] == ["tok-live"]
    assert [t.token_hash for t in session.exec(select(PasswordResetToken))] == ["r-live"]
    assert [a.key for a in session.exec(select(LoginAttempt))] == ["ip:1"]
    kept = session.exec(select(AuditEvent).where(AuditEvent.action == "login")).all()
    assert [e.at for e in kept] == [NOW - timedelta(days=364)]
    assert session.exec(select(AuditEvent).where(AuditEvent.action == "purge")).one()


def test_purge_command(fresh_db_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from typer.testing import CliRunner

    from app.cli import cli
    from app.config import get_settings
    from app.db import get_engine

    monkeypatch.setenv("PALIER_DATABASE_URL", fresh_db_url)
    get_settings.cache_clear()
    get_engine.cache_clear()
    try:
        result = CliRunner().invoke(cli, ["purge"])
    finally:
        get_engine().dispose()
        get_settings.cache_clear()
        get_engine.cache_clear()
    assert result.exit_code == 0, result.output
    assert result.output.startswith("Supprimés : 0 sessions, 0 jetons d'API")
