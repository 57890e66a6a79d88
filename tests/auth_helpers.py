"""Logging test clients in.

    token = log_in(app_client, session, settings, user)   # fast: no password check
    app_client.post("/x", data={"csrf_token": token})      # or headers=csrf_headers(token)

    login(app_client, user.email)                          # the real form post
    bearer = api_token(app_client, user.email)             # POST /api/v1/auth/token
"""

from __future__ import annotations

import httpx
from fastapi.testclient import TestClient
from sqlmodel import Session

from app.accounts import auth
from app.accounts.models import User
from app.config import Settings
from app.web.security import SESSION_COOKIE
from tests.factories import DEFAULT_PASSWORD


def csrf_token(client: TestClient) -> str:
    """The CSRF token of this client now (anonymous double-submit or its session's)."""
    response = client.get("/session/csrf")
    assert response.status_code == 200, response.text
    return str(response.json()["csrf_token"])


def csrf_headers(token: str, *, htmx: bool = False) -> dict[str, str]:
    headers = {"X-CSRF-Token": token}
    if htmx:
        headers["HX-Request"] = "true"
    return headers


def log_in(client: TestClient, session: Session, settings: Settings, user: User) -> str:
    """Open a session for `user` directly (no argon2) and put its cookie on the client.
    Returns the session's CSRF token."""
    raw, auth_session = auth.open_session(session, settings, user)
    set_session_cookie(client, raw)
    return auth_session.csrf_token


def set_session_cookie(client: TestClient, raw: str) -> None:
    """Replace the client's session cookie (same domain as the one the server sets)."""
    for cookie in list(client.cookies.jar):
        if cookie.name == SESSION_COOKIE:
            client.cookies.delete(SESSION_COOKIE, domain=cookie.domain, path=cookie.path)
    client.cookies.set(SESSION_COOKIE, raw, domain="testserver.local", path="/")


def login(client: TestClient, email: str, password: str = DEFAULT_PASSWORD,
          next_path: str | None = None) -> httpx.Response:
    """POST /connexion like a browser (anonymous CSRF token first); no redirect followed."""
    data = {"email": email, "password": password, "csrf_token": csrf_token(client)}
    if next_path is not None:
        data["next"] = next_path
    return client.post("/connexion", data=data, follow_redirects=False)


def api_token(client: TestClient, email: str, password: str = DEFAULT_PASSWORD) -> str:
    response = client.post("/api/v1/auth/token", data={"username": email, "password": password})
    assert response.status_code == 200, response.text
    return str(response.json()["access_token"])


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}
