"""Security headers, CSRF on forms and htmx requests, bearer exemption, /docs."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from app.config import Settings
from app.web.security import new_anonymous_csrf_token
from tests.auth_helpers import api_token, bearer, csrf_headers, csrf_token, log_in
from tests.factories import DEFAULT_PASSWORD, make_user

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; "
    "frame-ancestors 'none'"
)
CSRF_MESSAGE = "La vérification de sécurité du formulaire a échoué"


def assert_security_headers(headers: dict[str, str] | object, csp: str = CSP) -> None:
    h = headers  # httpx.Headers: case-insensitive
    assert h["content-security-policy"] == csp  # type: ignore[index]
    assert h["x-content-type-options"] == "nosniff"  # type: ignore[index]
    assert h["referrer-policy"] == "same-origin"  # type: ignore[index]
    assert h["x-frame-options"] == "DENY"  # type: ignore[index]
    assert "camera=()" in h["permissions-policy"]  # type: ignore[index]
    assert "geolocation=()" in h["permissions-policy"]  # type: ignore[index]


# --- headers --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/", 200),
        ("/connexion", 200),
        ("/mot-de-passe-oublie", 200),
        ("/healthz", 200),
        ("/api/v1/me", 401),
        ("/page-qui-n-existe-pas", 404),
        ("/static/css/palier.css", 200),
        ("/openapi.json", 200),
    ],
)
def test_security_headers_everywhere(app_client: TestClient, path: str, status: int) -> None:
    response = app_client.get(path, follow_redirects=False)
    assert response.status_code == status
    assert_security_headers(response.headers)


def test_logged_in_pages_are_not_cached(app_client: TestClient, session: Session,
                                        settings: Settings) -> None:
    assert "cache-control" not in app_client.get("/").headers
    log_in(app_client, session, settings, make_user(session))
    assert app_client.get("/").headers["cache-control"] == "no-store"


def test_docs_are_self_hosted(app_client: TestClient) -> None:
    page = app_client.get("/docs")
    assert page.status_code == 200
    assert_security_headers(page.headers)  # the same strict CSP: Swagger UI runs under it
    assert "<script>" not in page.text
    assert "http" not in page.text.replace('data-openapi-url="/openapi.json"', "")
    for asset in ("/static/vendor/swagger-ui-5.35.0/swagger-ui-bundle.js",
                  "/static/vendor/swagger-ui-5.35.0/swagger-ui.css", "/static/js/api-docs.js"):
        assert f'"{asset}"' in page.text
        assert app_client.get(asset).status_code == 200
    assert app_client.get("/static/vendor/swagger-ui-5.35.0/LICENSE").status_code == 200
    schema = app_client.get("/openapi.json").json()
    assert "/api/v1/auth/token" in schema["paths"]
    assert schema["components"]["securitySchemes"]["OAuth2PasswordBearer"]["type"] == "oauth2"
    assert "/connexion" not in schema["paths"]


# --- CSRF, anonymous forms ------------------------------------------------------------------


def test_login_form_without_csrf_token_is_refused(app_client: TestClient,
                                                  session: Session) -> None:
    make_user(session, email="c@example.fr")
    app_client.get("/connexion")  # the anonymous CSRF cookie
    response = app_client.post("/connexion",
                               data={"email": "c@example.fr", "password": DEFAULT_PASSWORD},
                               headers={"Accept": "text/html"}, follow_redirects=False)
    assert response.status_code == 403
    assert CSRF_MESSAGE in response.text
    assert response.template.name == "pages/error.html"  # type: ignore[attr-defined]
    assert "palier_session" not in response.headers.get("set-cookie", "")


def test_login_form_with_a_wrong_token_is_refused(app_client: TestClient,
                                                  session: Session) -> None:
    make_user(session, email="c@example.fr")
    csrf_token(app_client)
    response = app_client.post("/connexion", data={
        "email": "c@example.fr", "password": DEFAULT_PASSWORD,
        "csrf_token": new_anonymous_csrf_token("another key")}, follow_redirects=False)
    assert response.status_code == 403


def test_forged_double_submit_cookie_is_refused(app_client: TestClient,
                                                session: Session) -> None:
    """An attacker who can plant a cookie still cannot make up a token (it is signed)."""
    make_user(session, email="c@example.fr")
    forged = "made-up.value"
    app_client.cookies.set("palier_csrf", forged, domain="testserver.local", path="/")
    response = app_client.post("/connexion", data={
        "email": "c@example.fr", "password": DEFAULT_PASSWORD, "csrf_token": forged},
        follow_redirects=False)
    assert response.status_code == 403


def test_login_form_with_its_token_passes(app_client: TestClient, session: Session) -> None:
    make_user(session, email="c@example.fr")
    page = app_client.get("/connexion")
    token = page.context["csrf_token"]  # type: ignore[attr-defined]
    assert f'name="csrf_token" value="{token}"' in page.text
    response = app_client.post("/connexion", data={
        "email": "c@example.fr", "password": DEFAULT_PASSWORD, "csrf_token": token},
        follow_redirects=False)
    assert response.status_code == 303


def test_anonymous_token_is_stable_and_cookie_flags(app_client: TestClient) -> None:
    first = app_client.get("/connexion")
    cookie = first.headers["set-cookie"]
    assert cookie.startswith("palier_csrf=")
    assert "HttpOnly" in cookie
    assert "SameSite=lax" in cookie
    assert "Path=/" in cookie
    token = first.context["csrf_token"]  # type: ignore[attr-defined]
    second = app_client.get("/connexion")
    assert second.context["csrf_token"] == token  # type: ignore[attr-defined]
    assert "set-cookie" not in second.headers


# --- CSRF, logged-in sessions ---------------------------------------------------------------


@pytest.fixture
def logged_in(app_client: TestClient, session: Session, settings: Settings) -> str:
    """Logs the client in as an admin; returns the session's CSRF token."""
    return log_in(app_client, session, settings, make_user(session, "admin"))


def test_form_post_without_token_is_refused(app_client: TestClient, logged_in: str) -> None:
    response = app_client.post("/deconnexion", follow_redirects=False)
    assert response.status_code == 403
    assert app_client.get("/api/v1/me").status_code == 200  # still logged in


def test_form_post_with_wrong_token_is_refused(app_client: TestClient, logged_in: str) -> None:
    response = app_client.post("/deconnexion", data={"csrf_token": logged_in[:-1] + "x"},
                               follow_redirects=False)
    assert response.status_code == 403


def test_anonymous_token_is_not_accepted_for_a_session(app_client: TestClient,
                                                       session: Session,
                                                       settings: Settings) -> None:
    anonymous = csrf_token(app_client)
    log_in(app_client, session, settings, make_user(session))
    response = app_client.post("/deconnexion", data={"csrf_token": anonymous},
                               follow_redirects=False)
    assert response.status_code == 403


def test_htmx_request_without_or_with_wrong_header_is_refused(app_client: TestClient,
                                                              logged_in: str) -> None:
    for headers in ({"HX-Request": "true"}, csrf_headers("wrong", htmx=True)):
        response = app_client.post("/deconnexion", headers=headers, follow_redirects=False)
        assert response.status_code == 403
        assert CSRF_MESSAGE in response.text
        assert 'role="alert"' in response.text


def test_htmx_request_with_header_is_accepted(app_client: TestClient, logged_in: str) -> None:
    response = app_client.post("/deconnexion", headers=csrf_headers(logged_in, htmx=True),
                               follow_redirects=False)
    assert response.status_code == 303
    assert app_client.get("/api/v1/me").status_code == 401


def test_form_field_token_is_accepted(app_client: TestClient, logged_in: str) -> None:
    response = app_client.post("/deconnexion", data={"csrf_token": logged_in},
                               follow_redirects=False)
    assert response.status_code == 303


def test_page_and_endpoint_expose_the_session_token(app_client: TestClient,
                                                    logged_in: str) -> None:
    assert app_client.get("/session/csrf").json() == {"csrf_token": logged_in,
                                                      "authenticated": True}
    page = app_client.get("/")
    assert f'"X-CSRF-Token": "{logged_in}"' in page.text  # hx-headers on <body>
    assert f'name="csrf_token" value="{logged_in}"' in page.text  # logout form


def test_api_with_session_cookie_needs_csrf(app_client: TestClient, logged_in: str) -> None:
    response = app_client.delete("/api/v1/auth/token")
    assert response.status_code == 403
    assert response.json() == {"detail": (
        "La vérification de sécurité du formulaire a échoué (page trop ancienne ou ouverte "
        "ailleurs). Rechargez la page puis recommencez.")}
    with_header = app_client.delete("/api/v1/auth/token", headers=csrf_headers(logged_in))
    assert with_header.status_code == 400  # past CSRF; no bearer token to revoke


def test_bearer_requests_are_exempt(app_client: TestClient, session: Session) -> None:
    make_user(session, email="b@example.fr")
    token = api_token(app_client, "b@example.fr")
    app_client.cookies.clear()
    response = app_client.delete("/api/v1/auth/token", headers=bearer(token))
    assert response.status_code == 204


def test_put_patch_delete_are_checked_too(app_client: TestClient, logged_in: str) -> None:
    def endpoint() -> dict[str, bool]:
        return {"done": True}

    app = app_client.app
    app.add_api_route("/essai-csrf", endpoint, methods=["PUT", "PATCH", "DELETE"])  # type: ignore[attr-defined]
    for method in ("PUT", "PATCH", "DELETE"):
        refused = app_client.request(method, "/essai-csrf")
        assert refused.status_code == 403, method
        accepted = app_client.request(method, "/essai-csrf", headers=csrf_headers(logged_in))
        assert accepted.status_code == 200, method


def test_oversized_bodies_are_refused_before_parsing(app_client: TestClient) -> None:
    big = "x" * (1024 * 1024 + 1)
    r = app_client.post("/connexion", data={"email": big, "password": "p"})
    assert r.status_code == 413
    r = app_client.post("/api/v1/score", content=big,
                        headers={"Content-Type": "application/json"})
    assert r.status_code == 413
    ok = app_client.post("/api/v1/score", json={"questionnaire": "esms-maturite-numerique",
                                                "answers": {}})
    assert ok.status_code == 200
