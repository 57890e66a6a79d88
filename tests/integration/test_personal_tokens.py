"""Personal access tokens (issue 13): created on the account page (named, read-only or
read-write, expiring, revocable, hashed at rest, shown once), accepted as Bearer tokens;
the password grant refused to ars, committee and admin accounts, kept for directors."""

from __future__ import annotations

import hashlib
from datetime import timedelta

from fastapi.testclient import TestClient
from sqlmodel import Session, select

from app.accounts.models import ApiToken
from app.db import utcnow
from tests.auth_helpers import (
    audit_actions,
    bearer,
    csrf_headers,
    log_in,
    personal_access_token,
)
from tests.factories import DEFAULT_PASSWORD, make_user

SHORTLIST = {"name": "Vague de test", "region": "84", "size": 5}


def test_password_grant_refused_for_privileged_roles(app_client: TestClient,
                                                     session: Session) -> None:
    for role in ("ars", "committee", "admin"):
        user = make_user(session, role, region="84" if role != "admin" else None)
        response = app_client.post("/api/v1/auth/token",
                                   data={"username": user.email, "password": DEFAULT_PASSWORD})
        assert response.status_code == 403
        assert "jeton d’accès personnel" in response.json()["detail"]
        assert "/compte/securite" in response.json()["detail"]
        # A wrong password says nothing of the role.
        wrong = app_client.post("/api/v1/auth/token",
                                data={"username": user.email, "password": "pas le bon"})
        assert wrong.status_code == 401
    assert session.exec(select(ApiToken)).all() == []
    director = make_user(session, "director")
    ok = app_client.post("/api/v1/auth/token",
                         data={"username": director.email, "password": DEFAULT_PASSWORD})
    assert ok.status_code == 200


def test_read_only_and_read_write_scopes(app_client: TestClient, session: Session) -> None:
    ars = make_user(session, "ars", region="84")
    read = bearer(personal_access_token(app_client, ars.email, scope="read"))
    write = bearer(personal_access_token(app_client, ars.email, scope="write"))
    assert app_client.get("/api/v1/me", headers=read).json()["email"] == ars.email
    assert app_client.get("/api/v1/regions/84/summary", headers=read).status_code == 200
    refused = app_client.post("/api/v1/shortlists", json=SHORTLIST, headers=read)
    assert refused.status_code == 403
    assert "lecture seule" in refused.json()["detail"]
    assert app_client.post("/api/v1/shortlists", json=SHORTLIST, headers=write).status_code \
        == 201


def test_token_hashed_shown_once_audited_and_revocable(app_client: TestClient,
                                                       session: Session,
                                                       settings: object) -> None:
    committee = make_user(session, "committee", region="84")
    raw = personal_access_token(app_client, committee.email, scope="read", days=90,
                                name="Suivi régional")
    row = session.exec(select(ApiToken).where(ApiToken.user_id == committee.id)).one()
    assert row.token_hash == hashlib.sha256(raw.encode()).hexdigest()
    assert (row.name, row.scope) == ("Suivi régional", "read")
    assert timedelta(days=89, hours=23) < row.expires_at - row.created_at <= timedelta(days=90)
    token = log_in(app_client, session, settings, committee)  # type: ignore[arg-type]
    page = app_client.get("/compte/securite")
    assert "Suivi régional" in page.text and raw not in page.text  # shown once only

    response = app_client.post(f"/compte/securite/jetons/{row.id}/revoquer",
                               headers=csrf_headers(token), follow_redirects=False)
    assert response.status_code == 303
    refused = app_client.get("/api/v1/me", headers=bearer(raw))
    assert refused.status_code == 401
    assert "Suivi régional" not in app_client.get("/compte/securite").text
    actions = audit_actions(session, committee.id)
    assert "pat_created" in actions and "pat_revoked" in actions
    # Somebody else's token: 404.
    other = make_user(session, "admin")
    other_raw = personal_access_token(app_client, other.email)
    other_row = session.exec(select(ApiToken).where(ApiToken.user_id == other.id)).one()
    assert app_client.post(f"/compte/securite/jetons/{other_row.id}/revoquer",
                           headers=csrf_headers(token)).status_code == 404
    assert app_client.get("/api/v1/me", headers=bearer(other_raw)).status_code == 200


def test_expired_token_refused(app_client: TestClient, session: Session) -> None:
    admin = make_user(session, "admin")
    raw = personal_access_token(app_client, admin.email)
    row = session.exec(select(ApiToken).where(ApiToken.user_id == admin.id)).one()
    row.expires_at = utcnow() - timedelta(seconds=1)
    session.add(row)
    session.commit()
    response = app_client.get("/api/v1/me", headers=bearer(raw))
    assert response.status_code == 401


def test_token_form_errors_in_french(app_client: TestClient, session: Session,
                                     settings: object) -> None:
    director = make_user(session, "director")
    token = log_in(app_client, session, settings, director)  # type: ignore[arg-type]
    response = app_client.post("/compte/securite/jetons", data={
        "name": " ", "scope": "admin", "days": "9999", "csrf_token": token})
    assert response.status_code == 400
    assert "Donnez un nom à ce jeton" in response.text
    assert "Choisissez la portée" in response.text
    assert "Choisissez une durée de validité proposée." in response.text
    assert session.exec(select(ApiToken)).all() == []
    no_csrf = app_client.post("/compte/securite/jetons", data={
        "name": "x", "scope": "read", "days": "30"})
    assert no_csrf.status_code == 403
