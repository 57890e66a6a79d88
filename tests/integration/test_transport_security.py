"""Issue 8: one Set-Cookie per cookie (login over a stale session cookie, defect 7), HSTS over
https and the trusted proxies setting (defect 8), links built on the public address."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, col, select

from app import email as email_module
from app.accounts import invitations
from app.accounts.models import LoginAttempt
from app.config import Settings, get_settings
from app.db import get_session
from app.permissions import Actor, Role
from tests.auth_helpers import csrf_token, log_in, login, set_session_cookie
from tests.conftest import _clear_caches
from tests.factories import DEFAULT_PASSWORD, make_structure, make_user

HSTS = "max-age=31536000; includeSubDomains"


def session_cookies(headers: list[str]) -> list[str]:
    return [h for h in headers if h.startswith("palier_session=")]


# ---- defect 7: logging in with a stale session cookie --------------------------------------


def test_login_over_a_stale_session_cookie_sets_one_cookie(app_client: TestClient,
                                                           session: Session) -> None:
    make_user(session, email="revenante@example.fr")
    token = csrf_token(app_client)  # the login page was loaded...
    set_session_cookie(app_client, "une-session-expiree-depuis-hier")  # ...then it expired
    response = app_client.post("/connexion", data={
        "email": "revenante@example.fr", "password": DEFAULT_PASSWORD, "csrf_token": token},
        follow_redirects=False)
    assert response.status_code == 303
    cookies = session_cookies(response.headers.get_list("set-cookie"))
    assert len(cookies) == 1, cookies
    assert "Max-Age=43200" in cookies[0]  # the new session, not its deletion
    assert app_client.get("/api/v1/me").json()["email"] == "revenante@example.fr"


def test_a_stale_cookie_alone_is_deleted_once(app_client: TestClient) -> None:
    set_session_cookie(app_client, "une-session-expiree-depuis-hier")
    response = app_client.get("/connexion")
    cookies = session_cookies(response.headers.get_list("set-cookie"))
    assert len(cookies) == 1
    assert 'palier_session=""' in cookies[0] and "Max-Age=0" in cookies[0]


# ---- defect 8: HSTS and trusted proxies ------------------------------------------------------


@pytest.fixture
def client_with(session: Session, settings: Settings,
                monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., TestClient]]:
    """A TestClient on create_app() built with these PALIER_* environment variables (the
    middleware is configured when the app is built). TestClient's peer is "testclient"."""
    from app.main import create_app

    made: list[TestClient] = []

    def make(**env: str) -> TestClient:
        monkeypatch.setenv("PALIER_DATABASE_URL", settings.database_url)
        for name, value in env.items():
            monkeypatch.setenv(f"PALIER_{name.upper()}", value)
        _clear_caches()
        app = create_app()
        app.dependency_overrides[get_session] = lambda: session
        app.dependency_overrides[get_settings] = lambda: settings
        client = TestClient(app)
        made.append(client)
        return client

    yield make
    _clear_caches()


def test_no_hsts_over_plain_http(client_with: Callable[..., TestClient]) -> None:
    client = client_with()
    # X-Forwarded-Proto from a client that is not a trusted proxy is ignored.
    forged = client.get("/connexion", headers={"X-Forwarded-Proto": "https"})
    assert "strict-transport-security" not in forged.headers
    assert "Secure" not in forged.headers["set-cookie"]
    assert "strict-transport-security" not in client.get("/healthz").headers


def test_hsts_when_the_base_url_is_https(client_with: Callable[..., TestClient]) -> None:
    client = client_with(base_url="https://palier.example.fr")
    assert client.get("/healthz").headers["strict-transport-security"] == HSTS
    assert client.get("/static/css/palier.css").headers["strict-transport-security"] == HSTS


def test_hsts_on_a_direct_https_request(client_with: Callable[..., TestClient]) -> None:
    client = client_with()
    response = client.get("https://testserver/healthz")
    assert response.headers["strict-transport-security"] == HSTS


def test_trusted_proxy_headers(client_with: Callable[..., TestClient],
                               session: Session) -> None:
    client = client_with(trusted_proxies="10.0.0.1, testclient")
    response = client.get("/connexion", headers={"X-Forwarded-Proto": "https"})
    assert response.headers["strict-transport-security"] == HSTS
    assert "Secure" in response.headers["set-cookie"]  # the anonymous CSRF cookie
    # The client address is the one the proxy saw: the rate limit counts it.
    client.cookies.clear()
    login(client, "inconnu@example.fr", "mauvais")  # no X-Forwarded-For: the proxy itself
    data = {"email": "inconnu@example.fr", "password": "mauvais",
            "csrf_token": csrf_token(client)}
    client.post("/connexion", data=data, headers={"X-Forwarded-For": "203.0.113.7"})
    keys = set(session.exec(select(LoginAttempt.key).where(
        col(LoginAttempt.key).startswith("ip:"))).all())
    assert keys == {"ip:testclient", "ip:203.0.113.7"}


def test_untrusted_client_cannot_forge_its_address(client_with: Callable[..., TestClient],
                                                   session: Session) -> None:
    client = client_with(trusted_proxies="10.0.0.1")
    data = {"email": "inconnu@example.fr", "password": "mauvais",
            "csrf_token": csrf_token(client)}
    client.post("/connexion", data=data, headers={"X-Forwarded-For": "203.0.113.7"})
    keys = set(session.exec(select(LoginAttempt.key).where(
        col(LoginAttempt.key).startswith("ip:"))).all())
    assert keys == {"ip:testclient"}


def test_trusted_proxies_default_to_none(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PALIER_TRUSTED_PROXIES", raising=False)
    assert Settings(env="test", secret_key="k" * 40).trusted_proxy_list == []
    assert Settings(env="test", secret_key="k" * 40,
                    trusted_proxies="127.0.0.1, 10.0.0.0/8,").trusted_proxy_list == [
        "127.0.0.1", "10.0.0.0/8"]


# ---- links on the public address -------------------------------------------------------------


@pytest.mark.parametrize("base_url,host,port,expected", [
    ("https://palier.example.fr/", "127.0.0.1", 8000, "https://palier.example.fr"),
    ("", "127.0.0.1", 8765, "http://127.0.0.1:8765"),
    ("", "0.0.0.0", 9000, "http://127.0.0.1:9000"),
    ("", "::", 9000, "http://[::1]:9000"),
    ("", "palier.local", 8001, "http://palier.local:8001"),
])
def test_public_url(base_url: str, host: str, port: int, expected: str) -> None:
    settings = Settings(env="test", secret_key="k" * 40, base_url=base_url, host=host,
                        port=port)
    assert settings.public_url == expected


def test_production_requires_a_base_url() -> None:
    with pytest.raises(ValueError, match="PALIER_BASE_URL"):
        Settings(env="production", secret_key="k" * 40)


def test_links_use_the_listening_port(app_client: TestClient, session: Session,
                                      settings: Settings) -> None:
    settings.port = 8765  # `palier serve --port 8765`, no PALIER_BASE_URL
    settings.email_backend = "memory"
    email_module.outbox.clear()
    user = make_user(session, email="perdu@example.fr")
    token = log_in(app_client, session, settings, make_user(session, "admin"))
    response = app_client.post(f"/admin/utilisateurs/{user.id}/lien-reinitialisation",
                               data={"csrf_token": token})
    link: str = response.context["link"]  # type: ignore[attr-defined]
    assert link.startswith("http://127.0.0.1:8765/reinitialiser/")
    assert link in email_module.outbox[-1].body

    ars = make_user(session, "ars", region="84")
    structure = make_structure(session, department="69")
    _, invitation = invitations.create_invitation(
        session, settings, Actor(id=ars.id or 0, role=Role.ars, region="84"),
        invitations.NewInvitation(email="invite@example.fr", structures=structure.finess))
    assert invitation.startswith("http://127.0.0.1:8765/invitation/")
    email_module.outbox.clear()


def test_serve_passes_its_address_to_the_app(monkeypatch: pytest.MonkeyPatch) -> None:
    import uvicorn

    from app.cli import serve

    seen: dict[str, Any] = {}

    def run(app: str, **kw: Any) -> None:
        seen.update(kw, public_url=get_settings().public_url)

    monkeypatch.delenv("PALIER_BASE_URL", raising=False)
    monkeypatch.setenv("PALIER_ENV", "development")
    monkeypatch.delenv("PALIER_SECRET_KEY", raising=False)
    monkeypatch.setattr(uvicorn, "run", run)
    monkeypatch.setenv("PALIER_HOST", "")  # restored by monkeypatch afterwards
    monkeypatch.setenv("PALIER_PORT", "")
    try:
        serve.serve(host="127.0.0.1", port=8765)
    finally:
        get_settings.cache_clear()
    assert seen["public_url"] == "http://127.0.0.1:8765"
    assert seen["proxy_headers"] is False
