"""Retention: what the personal-data page promises is really deleted."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from app.accounts.mfa_models import LoginChallenge, TrustedDevice
from app.accounts.models import ApiToken, AuthSession, LoginAttempt, PasswordResetToken
from app.accounts.oidc_models import ExternalIdentity, OidcLinkToken, OidcLoginRequest
from app.accounts.retention import purge
from app.audit import AuditEvent
from app.config import Settings
from tests.factories import make_user

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
H = timedelta(hours=1)


def test_purge_keeps_what_is_live_and_deletes_the_rest(
    session: Session, settings: Settings
) -> None:
    u = make_user(session)
    uid = u.id
    assert uid is not None

    def sess(
        sid: str, *, expires: datetime, seen: datetime, revoked: datetime | None = None
    ) -> AuthSession:
        return AuthSession(
            id=sid,
            user_id=uid,
            created_at=seen,
            last_seen_at=seen,
            expires_at=expires,
            revoked_at=revoked,
            csrf_token="t",
        )

    session.add_all(
        [
            sess("live", expires=NOW + 5 * H, seen=NOW - timedelta(minutes=10)),
            sess("past-absolute", expires=NOW - H, seen=NOW - timedelta(minutes=5)),
            sess("idle", expires=NOW + 5 * H, seen=NOW - 2 * H),  # idle limit 60 min
            sess("revoked", expires=NOW + 5 * H, seen=NOW, revoked=NOW),
            ApiToken(token_hash="tok-live", user_id=uid, created_at=NOW, expires_at=NOW + H),
            ApiToken(token_hash="tok-old", user_id=uid, created_at=NOW, expires_at=NOW - H),
            PasswordResetToken(
                token_hash="r-live", user_id=uid, created_at=NOW, expires_at=NOW + H
            ),
            PasswordResetToken(
                token_hash="r-used", user_id=uid, created_at=NOW, expires_at=NOW + H, used_at=NOW
            ),
            LoginAttempt(key="ip:1", at=NOW - timedelta(minutes=5)),
            LoginAttempt(key="ip:2", at=NOW - timedelta(minutes=30)),  # window 15 min
            AuditEvent(action="login", at=NOW - timedelta(days=364)),
            AuditEvent(action="login", at=NOW - timedelta(days=366)),
        ]
    )
    session.commit()
    counts = purge(session, settings, now=NOW)
    assert (
        counts.sessions,
        counts.api_tokens,
        counts.reset_links,
        counts.login_attempts,
        counts.audit_events,
    ) == (3, 1, 1, 1, 1)
    assert [s.id for s in session.exec(select(AuthSession))] == ["live"]
    assert [t.token_hash for t in session.exec(select(ApiToken))] == ["tok-live"]
    assert [t.token_hash for t in session.exec(select(PasswordResetToken))] == ["r-live"]
    assert [a.key for a in session.exec(select(LoginAttempt))] == ["ip:1"]
    kept = session.exec(select(AuditEvent).where(AuditEvent.action == "login")).all()
    assert [e.at for e in kept] == [NOW - timedelta(days=364)]
    assert session.exec(select(AuditEvent).where(AuditEvent.action == "purge")).one()


def test_purge_second_factor_and_proconnect_data(session: Session, settings: Settings) -> None:
    u = make_user(session)
    uid = u.id
    assert uid is not None
    D = timedelta(days=1)

    def identity(
        subject: str, *, user_id: int | None, created: datetime, seen: datetime | None
    ) -> ExternalIdentity:
        return ExternalIdentity(
            issuer="https://pc.test",
            subject=subject,
            user_id=user_id,
            email=f"{subject}@agents.gouv.fr",
            created_at=created,
            last_login_at=seen,
        )

    recent = identity("recent", user_id=None, created=NOW - 40 * D, seen=NOW - 29 * D)
    session.add_all(
        [
            identity("attached", user_id=uid, created=NOW - 400 * D, seen=NOW - 400 * D),
            recent,
            identity("old", user_id=None, created=NOW - 60 * D, seen=NOW - 31 * D),
            identity("never-seen", user_id=None, created=NOW - 31 * D, seen=None),
            OidcLoginRequest(
                id="req-live",
                state="s",
                nonce="n",
                code_verifier="v",
                created_at=NOW,
                expires_at=NOW + timedelta(minutes=5),
            ),
            OidcLoginRequest(
                id="req-old",
                state="s",
                nonce="n",
                code_verifier="v",
                created_at=NOW - H,
                expires_at=NOW - timedelta(minutes=50),
            ),
            LoginChallenge(id="ch-live", user_id=uid, created_at=NOW, expires_at=NOW + H),
            LoginChallenge(
                id="ch-used", user_id=uid, created_at=NOW, expires_at=NOW + H, used_at=NOW
            ),
            LoginChallenge(id="ch-old", user_id=uid, created_at=NOW - 2 * H, expires_at=NOW - H),
            TrustedDevice(
                token_hash="dev-live", user_id=uid, created_at=NOW - D, expires_at=NOW + 29 * D
            ),
            TrustedDevice(
                token_hash="dev-revoked",
                user_id=uid,
                created_at=NOW - D,
                expires_at=NOW + 29 * D,
                revoked_at=NOW - H,
            ),
            TrustedDevice(
                token_hash="dev-old", user_id=uid, created_at=NOW - 31 * D, expires_at=NOW - D
            ),
        ]
    )
    session.flush()
    assert recent.id is not None
    session.add_all(
        [
            OidcLinkToken(
                token_hash="link-live",
                identity_id=recent.id,
                user_id=uid,
                created_at=NOW,
                expires_at=NOW + 2 * H,
            ),
            OidcLinkToken(
                token_hash="link-used",
                identity_id=recent.id,
                user_id=uid,
                created_at=NOW,
                expires_at=NOW + 2 * H,
                used_at=NOW,
            ),
            OidcLinkToken(
                token_hash="link-old",
                identity_id=recent.id,
                user_id=uid,
                created_at=NOW - 3 * H,
                expires_at=NOW - H,
            ),
        ]
    )
    session.commit()
    counts = purge(session, settings, now=NOW)
    assert (
        counts.mfa_challenges,
        counts.trusted_devices,
        counts.oidc_login_requests,
        counts.oidc_link_tokens,
        counts.oidc_identities,
    ) == (2, 2, 1, 2, 2)
    assert sorted(i.subject for i in session.exec(select(ExternalIdentity))) == [
        "attached",
        "recent",
    ]
    assert [r.id for r in session.exec(select(OidcLoginRequest))] == ["req-live"]
    assert [t.token_hash for t in session.exec(select(OidcLinkToken))] == ["link-live"]
    assert [c.id for c in session.exec(select(LoginChallenge))] == ["ch-live"]
    assert [d.token_hash for d in session.exec(select(TrustedDevice))] == ["dev-live"]
    event = session.exec(select(AuditEvent).where(AuditEvent.action == "purge")).one()
    assert event.details == {
        "sessions": 0,
        "api_tokens": 0,
        "reset_links": 0,
        "login_attempts": 0,
        "mfa_challenges": 2,
        "trusted_devices": 2,
        "oidc_login_requests": 1,
        "oidc_link_tokens": 2,
        "oidc_identities": 2,
        "audit_events": 0,
    }


def test_personal_data_page_states_what_the_purge_does(app_client: TestClient) -> None:
    page = app_client.get("/donnees-personnelles").text
    assert "Identité ProConnect : identifiant technique attribué par ProConnect" in page
    assert (
        "une identité reliée à aucun compte est supprimée 30 jours après sa dernière connexion"
    ) in page
    assert "Second facteur : clé secrète de l’application d’authentification (TOTP)" in page
    assert "30 jours au plus ; supprimés à l’expiration ou dès que l’appareil est oublié" in page
    assert (
        "votre adresse électronique professionnelle, votre prénom, votre nom d’usage et le "
        "numéro SIRET de votre organisation. Palier ne demande rien d’autre."
    ) in page


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
