"""Logging test clients in.

    token = log_in(app_client, session, settings, user)   # fast: no password check
    app_client.post("/x", data={"csrf_token": token})      # or headers=csrf_headers(token)

    login(app_client, user.email)                          # the real form post (and the
                                                           # code of the second step)
    bearer = api_token(app_client, user.email)             # POST /api/v1/auth/token, or
                                                           # a personal access token

ars, committee and admin accounts answer the second step with the code of their TOTP
secret (tests/factories.py: DEFAULT_TOTP_SECRET), computed with pyotp as a phone would.
"""

from __future__ import annotations

import re
import time

import httpx
import pyotp
from fastapi.testclient import TestClient
from sqlmodel import Session, col, select

from app.accounts import auth
from app.accounts.models import User
from app.audit import AuditEvent
from app.config import Settings
from app.web.security import SESSION_COOKIE
from tests.factories import DEFAULT_PASSWORD, DEFAULT_TOTP_SECRET


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
          next_path: str | None = None, *,
          totp_secret: str | None = DEFAULT_TOTP_SECRET) -> httpx.Response:
    """POST /connexion like a browser (anonymous CSRF token first); no redirect followed.
    When the server asks for the second factor, types the code (`totp_secret` None: stop
    there and return the redirect to the code page)."""
    data = {"email": email, "password": password, "csrf_token": csrf_token(client)}
    if next_path is not None:
        data["next"] = next_path
    response = client.post("/connexion", data=data, follow_redirects=False)
    if totp_secret is not None and response.status_code == 303 \
            and response.headers["location"] == "/connexion/code":
        return second_step(client, totp_secret)
    return response


REPLAYED = "déjà été utilisé"


def second_step(client: TestClient, secret: str = DEFAULT_TOTP_SECRET, *,
                remember: bool = False) -> httpx.Response:
    """Type the phone's current code on /connexion/code. A code serves once: after another
    login of the same account within 30 s, the phone's next code, or the one after the
    next tick (as a person waits for a new code)."""
    totp = pyotp.TOTP(secret)
    response = post_code(client, totp.at(time.time()), remember=remember)
    if response.status_code == 400 and REPLAYED in response.text:
        response = post_code(client, totp.at(time.time() + 30), remember=remember)
    if response.status_code == 400 and REPLAYED in response.text:
        time.sleep(30.2 - time.time() % 30)
        response = post_code(client, totp.at(time.time() + 30), remember=remember)
    return response


def post_code(client: TestClient, code: str, *, remember: bool = False,
              field: str = "code") -> httpx.Response:
    data = {field: code, "csrf_token": csrf_token(client)}
    if remember:
        data["remember"] = "1"
    return client.post("/connexion/code", data=data, follow_redirects=False)


def api_token(client: TestClient, email: str, password: str = DEFAULT_PASSWORD, *,
              scope: str = "write") -> str:
    """A bearer token: the password grant (directors); for ars, committee and admin
    accounts, which it refuses, a personal access token created on the account page."""
    response = client.post("/api/v1/auth/token", data={"username": email, "password": password})
    if response.status_code == 403:
        return personal_access_token(client, email, password, scope=scope)
    assert response.status_code == 200, response.text
    return str(response.json()["access_token"])


def personal_access_token(client: TestClient, email: str, password: str = DEFAULT_PASSWORD,
                          *, scope: str = "write", days: int = 30, name: str = "Tests") -> str:
    """Log in (both steps) in a browser of its own, create a token on /compte/securite and
    read it from the page (shown once). `client` keeps its own cookies."""
    browser = TestClient(client.app, base_url=str(client.base_url))
    try:
        assert login(browser, email, password).status_code == 303
        response = browser.post("/compte/securite/jetons", data={
            "name": name, "scope": scope, "days": str(days), "csrf_token": csrf_token(browser)})
        assert response.status_code == 200, response.text
        found = re.search(r'id="nouveau-jeton"[^>]*>([^<]+)<', response.text)
        assert found is not None, response.text
        return found.group(1)
    finally:
        browser.close()


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def set_cookie_attrs(response_headers: list[str], name: str) -> dict[str, str | bool]:
    """The attributes of the Set-Cookie header for `name` (lower-case keys)."""
    for header in response_headers:
        if header.startswith(f"{name}="):
            parts = [p.strip() for p in header.split(";")]
            attrs: dict[str, str | bool] = {"value": parts[0].partition("=")[2]}
            for part in parts[1:]:
                key, eq, value = part.partition("=")
                attrs[key.lower()] = value if eq else True
            return attrs
    raise AssertionError(f"no Set-Cookie for {name} in {response_headers}")


def audit_actions(session: Session, user_id: int | None = None) -> list[str]:
    query = select(AuditEvent.action).order_by(col(AuditEvent.id))
    if user_id is not None:
        query = query.where(AuditEvent.user_id == user_id)
    return list(session.exec(query).all())
