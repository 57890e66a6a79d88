"""Accounts and access: login, sessions, expiry, logout, deactivation, rate limiting,
password reset, API tokens, admin pages, anonymous behaviours."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from datetime import timedelta

import pytest
from argon2 import PasswordHasher
from fastapi.testclient import TestClient
from sqlmodel import Session, col, select

from app import email as email_module
from app.accounts.models import ApiToken, AuthSession, LoginAttempt, PasswordResetToken, User
from app.accounts.passwords import verify_password
from app.audit import AuditEvent
from app.config import Settings
from app.db import utcnow
from tests.auth_helpers import (
    api_token,
    audit_actions,
    bearer,
    csrf_headers,
    csrf_token,
    log_in,
    login,
    set_cookie_attrs,
    set_session_cookie,
)
from tests.factories import DEFAULT_PASSWORD, make_structure, make_user

NEW_PASSWORD = "une phrase de passe toute neuve"


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"email_backend": "memory"})


@pytest.fixture(autouse=True)
def _outbox() -> Iterator[list[email_module.Email]]:
    email_module.outbox.clear()
    yield email_module.outbox
    email_module.outbox.clear()


def sha256(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def session_cookie(client: TestClient) -> str:
    value = client.cookies.get("palier_session")
    assert value
    return value


# --- login ----------------------------------------------------------------------------------


def test_login_success_sets_a_server_side_session(app_client: TestClient,
                                                  session: Session) -> None:
    user = make_user(session, email="directrice@example.fr")
    response = login(app_client, "Directrice@Example.fr ")
    assert response.status_code == 303
    assert response.headers["location"] == "/"
    attrs = set_cookie_attrs(response.headers.get_list("set-cookie"), "palier_session")
    assert attrs["httponly"] is True
    assert attrs["samesite"] == "lax"
    assert attrs["path"] == "/"
    assert "secure" not in attrs  # plain http here
    assert attrs["max-age"] == str(12 * 3600)
    raw = str(attrs["value"])
    row = session.get(AuthSession, sha256(raw))
    assert row is not None
    assert row.user_id == user.id
    assert row.revoked_at is None
    assert row.expires_at - row.created_at == timedelta(hours=12)
    assert row.csrf_token and row.csrf_token != raw
    # Only the hash is stored.
    assert session.exec(select(AuthSession).where(AuthSession.id == raw)).first() is None
    me = app_client.get("/api/v1/me")
    assert me.status_code == 200
    assert me.json()["email"] == "directrice@example.fr"
    assert "login" in audit_actions(session, user.id)


def test_session_cookie_is_secure_over_https(app_client: TestClient, session: Session) -> None:
    make_user(session, email="secure@example.fr")
    token = csrf_token(app_client)
    response = app_client.post(
        "https://testserver/connexion",
        data={"email": "secure@example.fr", "password": DEFAULT_PASSWORD, "csrf_token": token},
        follow_redirects=False,
    )
    assert response.status_code == 303
    attrs = set_cookie_attrs(response.headers.get_list("set-cookie"), "palier_session")
    assert attrs["secure"] is True
    assert attrs["httponly"] is True


def test_login_failure(app_client: TestClient, session: Session) -> None:
    user = make_user(session, email="dir@example.fr")
    response = login(app_client, "dir@example.fr", "mauvais mot de passe")
    assert response.status_code == 400
    assert "Adresse électronique ou mot de passe incorrect." in response.text
    assert response.template.name == "pages/login.html"  # type: ignore[attr-defined]
    assert response.context["email"] == "dir@example.fr"  # type: ignore[attr-defined]
    assert "palier_session" not in response.headers.get("set-cookie", "")
    assert app_client.get("/api/v1/me").status_code == 401
    assert audit_actions(session, user.id) == ["login_failed"]
    keys = session.exec(select(LoginAttempt.key, LoginAttempt.success)).all()
    assert sorted(keys) == sorted([(f"email:{sha256('dir@example.fr')}", False),
                                   ("ip:testclient", False)])


def test_unknown_email_and_inactive_user_get_the_same_answer(app_client: TestClient,
                                                             session: Session) -> None:
    make_user(session, email="parti@example.fr", active=False)
    for email in ("parti@example.fr", "inconnu@example.fr"):
        response = login(app_client, email)
        assert response.status_code == 400
        assert "Adresse électronique ou mot de passe incorrect." in response.text
    assert app_client.get("/api/v1/me").status_code == 401


def test_empty_fields_are_refused(app_client: TestClient) -> None:
    response = login(app_client, "", "")
    assert response.status_code == 400
    assert "Indiquez votre adresse électronique et votre mot de passe." in response.text


def test_every_login_gets_a_new_session_id(app_client: TestClient, session: Session) -> None:
    make_user(session, email="a@example.fr")
    # A session id planted before login (fixation) is never adopted.
    set_session_cookie(app_client, "planted-by-an-attacker")
    assert login(app_client, "a@example.fr").status_code == 303
    first = session_cookie(app_client)
    assert first != "planted-by-an-attacker"
    assert login(app_client, "a@example.fr").status_code == 303
    second = session_cookie(app_client)
    assert second not in (first, "planted-by-an-attacker")
    assert session.get(AuthSession, sha256("planted-by-an-attacker")) is None
    # Logging in again from the same browser ended the previous session.
    set_session_cookie(app_client, first)
    assert app_client.get("/api/v1/me").status_code == 401
    set_session_cookie(app_client, second)
    assert app_client.get("/api/v1/me").status_code == 200


@pytest.mark.parametrize(
    ("next_path", "location"),
    [
        ("/structures/750000001?onglet=historique", "/structures/750000001?onglet=historique"),
        ("https://evil.example/", "/"),
        ("//evil.example/x", "/"),
        ("/\\evil.example", "/"),
        ("structures", "/"),
    ],
)
def test_login_redirects_only_to_local_paths(app_client: TestClient, session: Session,
                                             next_path: str, location: str) -> None:
    make_user(session, email="next@example.fr")
    response = login(app_client, "next@example.fr", next_path=next_path)
    assert response.status_code == 303
    assert response.headers["location"] == location


def test_login_page_keeps_the_requested_page(app_client: TestClient, session: Session) -> None:
    page = app_client.get("/connexion?suivant=/admin/utilisateurs")
    assert page.status_code == 200
    assert page.context["next"] == "/admin/utilisateurs"  # type: ignore[attr-defined]
    assert 'name="next" value="/admin/utilisateurs"' in page.text
    assert app_client.get("/connexion?suivant=https://evil.example").context["next"] is None  # type: ignore[attr-defined]


def test_login_page_redirects_when_already_logged_in(app_client: TestClient, session: Session,
                                                     settings: Settings) -> None:
    log_in(app_client, session, settings, make_user(session))
    response = app_client.get("/connexion?suivant=/mes-structures", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/mes-structures"


def test_outdated_password_hash_is_upgraded_at_login(app_client: TestClient,
                                                     session: Session) -> None:
    user = make_user(session, email="ancien@example.fr")
    weak = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1).hash(DEFAULT_PASSWORD)
    user.password_hash = weak
    session.add(user)
    session.commit()
    assert login(app_client, "ancien@example.fr").status_code == 303
    session.refresh(user)
    assert user.password_hash != weak
    assert "m=8," not in user.password_hash
    assert verify_password(DEFAULT_PASSWORD, user.password_hash)


# --- expiry, logout -------------------------------------------------------------------------


def _current_row(client: TestClient, session: Session) -> AuthSession:
    row = session.get(AuthSession, sha256(session_cookie(client)))
    assert row is not None
    return row


def test_idle_timeout(app_client: TestClient, session: Session, settings: Settings) -> None:
    log_in(app_client, session, settings, make_user(session))
    row = _current_row(app_client, session)
    row.last_seen_at = utcnow() - timedelta(minutes=59)
    session.add(row)
    session.commit()
    assert app_client.get("/api/v1/me").status_code == 200
    row.last_seen_at = utcnow() - timedelta(minutes=61)
    session.add(row)
    session.commit()
    assert app_client.get("/api/v1/me").status_code == 401
    page = app_client.get("/admin/utilisateurs", follow_redirects=False)
    assert page.status_code == 303
    assert page.headers["location"] == "/connexion?suivant=/admin/utilisateurs"


def test_absolute_timeout(app_client: TestClient, session: Session, settings: Settings) -> None:
    log_in(app_client, session, settings, make_user(session))
    row = _current_row(app_client, session)
    row.expires_at = utcnow() - timedelta(seconds=1)
    session.add(row)
    session.commit()
    assert app_client.get("/api/v1/me").status_code == 401


def test_last_seen_is_written_at_most_once_a_minute(app_client: TestClient, session: Session,
                                                    settings: Settings) -> None:
    log_in(app_client, session, settings, make_user(session))
    row = _current_row(app_client, session)
    recent = utcnow() - timedelta(seconds=20)
    row.last_seen_at = recent
    session.add(row)
    session.commit()
    assert app_client.get("/api/v1/me").status_code == 200
    session.refresh(row)
    assert row.last_seen_at == recent
    old = utcnow() - timedelta(minutes=5)
    row.last_seen_at = old
    session.add(row)
    session.commit()
    before = utcnow()
    assert app_client.get("/api/v1/me").status_code == 200
    session.refresh(row)
    assert row.last_seen_at >= before


def test_logout_revokes_the_session(app_client: TestClient, session: Session,
                                    settings: Settings) -> None:
    user = make_user(session)
    token = log_in(app_client, session, settings, user)
    raw = session_cookie(app_client)
    response = app_client.post("/deconnexion", data={"csrf_token": token},
                               follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/connexion?info=deconnexion"
    attrs = set_cookie_attrs(response.headers.get_list("set-cookie"), "palier_session")
    assert attrs["max-age"] == "0"
    row = session.get(AuthSession, sha256(raw))
    assert row is not None
    session.refresh(row)
    assert row.revoked_at is not None
    assert audit_actions(session, user.id)[-1] == "logout"
    # The old cookie, replayed, is worthless.
    set_session_cookie(app_client, raw)
    assert app_client.get("/api/v1/me").status_code == 401
    page = app_client.get("/connexion?info=deconnexion")
    assert "Vous êtes déconnecté." in page.text


# --- deactivation ---------------------------------------------------------------------------


def test_deactivation_revokes_sessions_tokens_and_links_at_once(
    app_client: TestClient, session: Session, settings: Settings
) -> None:
    admin = make_user(session, "admin")
    victim = make_user(session, email="victime@example.fr")
    assert victim.id is not None
    with TestClient(app_client.app) as victim_browser, \
            TestClient(app_client.app) as admin_browser:
        log_in(victim_browser, session, settings, victim)
        token = api_token(app_client, "victime@example.fr")
        app_client.post("/mot-de-passe-oublie", data={"email": "victime@example.fr",
                                                       "csrf_token": csrf_token(app_client)})
        assert victim_browser.get("/api/v1/me").status_code == 200
        assert app_client.get("/api/v1/me", headers=bearer(token)).status_code == 200

        admin_csrf = log_in(admin_browser, session, settings, admin)
        response = admin_browser.post(f"/admin/utilisateurs/{victim.id}/desactiver",
                                      data={"csrf_token": admin_csrf}, follow_redirects=False)
        assert response.status_code == 303
        assert response.headers["location"] == "/admin/utilisateurs?info=desactive"

        assert victim_browser.get("/api/v1/me").status_code == 401
        assert app_client.get("/api/v1/me", headers=bearer(token)).status_code == 401
    assert session.exec(select(AuthSession).where(
        AuthSession.user_id == victim.id, col(AuthSession.revoked_at).is_(None))).all() == []
    assert session.exec(select(ApiToken).where(
        ApiToken.user_id == victim.id, col(ApiToken.revoked_at).is_(None))).all() == []
    assert session.exec(select(PasswordResetToken).where(
        PasswordResetToken.user_id == victim.id,
        col(PasswordResetToken.used_at).is_(None))).all() == []
    assert login(app_client, "victime@example.fr").status_code == 400
    assert "user_deactivated" in audit_actions(session, admin.id)


def test_reactivation(app_client: TestClient, session: Session, settings: Settings) -> None:
    admin = make_user(session, "admin")
    user = make_user(session, email="retour@example.fr", active=False)
    token = log_in(app_client, session, settings, admin)
    response = app_client.post(f"/admin/utilisateurs/{user.id}/reactiver",
                               data={"csrf_token": token}, follow_redirects=False)
    assert response.status_code == 303
    session.refresh(user)
    assert user.active is True


def test_admin_cannot_deactivate_themselves(app_client: TestClient, session: Session,
                                            settings: Settings) -> None:
    admin = make_user(session, "admin")
    token = log_in(app_client, session, settings, admin)
    response = app_client.post(f"/admin/utilisateurs/{admin.id}/desactiver",
                               data={"csrf_token": token})
    assert response.status_code == 403
    session.refresh(admin)
    assert admin.active is True


# --- rate limiting --------------------------------------------------------------------------


def test_rate_limit_per_email(app_client: TestClient, session: Session,
                              monkeypatch: pytest.MonkeyPatch) -> None:
    make_user(session, email="cible@example.fr")
    for _ in range(5):
        assert login(app_client, "cible@example.fr", "essai au hasard").status_code == 400
    # Beyond the limit, even the right password is refused, without being checked.
    checked: list[str] = []
    import app.accounts.auth

    real = app.accounts.auth.verify_password
    monkeypatch.setattr(app.accounts.auth, "verify_password",
                        lambda p, h: checked.append(p) or real(p, h))
    response = login(app_client, "cible@example.fr", DEFAULT_PASSWORD)
    assert response.status_code == 429
    assert ("Trop de tentatives de connexion ont échoué. Pour protéger ce compte, la "
            "connexion est suspendue : réessayez dans 15 minutes.") in response.text
    assert checked == []
    assert app_client.get("/api/v1/me").status_code == 401
    # Another account from the same address is still fine (IP limit is 20).
    make_user(session, email="autre@example.fr")
    assert login(app_client, "autre@example.fr").status_code == 303


def test_rate_limit_window(app_client: TestClient, session: Session) -> None:
    make_user(session, email="patient@example.fr")
    for _ in range(5):
        login(app_client, "patient@example.fr", "essai au hasard")
    assert login(app_client, "patient@example.fr").status_code == 429
    for attempt in session.exec(select(LoginAttempt)).all():
        attempt.at = utcnow() - timedelta(minutes=16)
        session.add(attempt)
    session.commit()
    assert login(app_client, "patient@example.fr").status_code == 303


@pytest.fixture
def strict_settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"login_max_failures_per_ip": 3})


def test_rate_limit_per_ip(app_client: TestClient, session: Session,
                           strict_settings: Settings) -> None:
    from app.config import get_settings

    app_client.app.dependency_overrides[get_settings] = lambda: strict_settings  # type: ignore[attr-defined]
    make_user(session, email="vraie@example.fr")
    for n in range(3):
        assert login(app_client, f"essai{n}@example.fr", "x" * 12).status_code == 400
    assert login(app_client, "vraie@example.fr").status_code == 429


def test_api_token_endpoint_is_rate_limited_too(app_client: TestClient,
                                                session: Session) -> None:
    make_user(session, email="api@example.fr")
    for _ in range(5):
        response = app_client.post("/api/v1/auth/token",
                                   data={"username": "api@example.fr", "password": "non"})
        assert response.status_code == 401
    response = app_client.post("/api/v1/auth/token",
                               data={"username": "api@example.fr", "password": DEFAULT_PASSWORD})
    assert response.status_code == 429
    assert response.headers["retry-after"] == "900"


# --- password reset -------------------------------------------------------------------------


def _link_path(body: str) -> str:
    match = re.search(r"http://127\.0\.0\.1:8000(/reinitialiser/[A-Za-z0-9_-]+)", body)
    assert match, body
    return match.group(1)


def test_password_reset_end_to_end(app_client: TestClient, session: Session,
                                   settings: Settings,
                                   _outbox: list[email_module.Email]) -> None:
    user = make_user(session, email="oubli@example.fr")
    with TestClient(app_client.app) as other_browser:
        log_in(other_browser, session, settings, user)

        page = app_client.get("/mot-de-passe-oublie")
        assert page.status_code == 200
        response = app_client.post("/mot-de-passe-oublie",
                                   data={"email": "OUBLI@example.fr",
                                         "csrf_token": csrf_token(app_client)},
                                   follow_redirects=False)
        assert response.status_code == 303
        assert response.headers["location"] == "/mot-de-passe-oublie?envoye=1"
        assert [m.to for m in _outbox] == ["oubli@example.fr"]
        assert _outbox[0].subject == "Palier : choisir un nouveau mot de passe"
        path = _link_path(_outbox[0].body)
        raw = path.rsplit("/", 1)[1]
        assert session.get(PasswordResetToken, sha256(raw)) is not None

        form = app_client.get(path)
        assert form.status_code == 200
        assert form.context["email"] == "oubli@example.fr"  # type: ignore[attr-defined]
        assert form.headers["cache-control"] == "no-store"
        token = csrf_token(app_client)
        mismatch = app_client.post(path, data={"password": NEW_PASSWORD,
                                               "password_confirm": NEW_PASSWORD + "!",
                                               "csrf_token": token})
        assert mismatch.status_code == 400
        assert "Les deux mots de passe saisis sont différents." in mismatch.text
        short = app_client.post(path, data={"password": "court", "password_confirm": "court",
                                            "csrf_token": token})
        assert short.status_code == 400
        assert "Le mot de passe doit comporter au moins 12 caractères." in short.text
        done = app_client.post(path, data={"password": NEW_PASSWORD,
                                           "password_confirm": NEW_PASSWORD,
                                           "csrf_token": token}, follow_redirects=False)
        assert done.status_code == 303
        assert done.headers["location"] == "/connexion?info=reinitialisation"
        # The sessions open before the reset are over.
        assert other_browser.get("/api/v1/me").status_code == 401

    assert login(app_client, "oubli@example.fr", DEFAULT_PASSWORD).status_code == 400
    assert login(app_client, "oubli@example.fr", NEW_PASSWORD).status_code == 303
    actions = audit_actions(session, user.id)
    assert "password_reset_requested" in actions
    assert "password_reset" in actions


def test_reset_request_answers_the_same_for_unknown_emails(
    app_client: TestClient, session: Session, _outbox: list[email_module.Email]
) -> None:
    make_user(session, email="connu@example.fr")
    answers = []
    for email in ("connu@example.fr", "inconnu@example.fr"):
        response = app_client.post("/mot-de-passe-oublie",
                                   data={"email": email, "csrf_token": csrf_token(app_client)})
        answers.append((response.status_code, response.url.path, response.url.query))
    assert answers[0] == answers[1] == (200, "/mot-de-passe-oublie", b"envoye=1")
    assert [m.to for m in _outbox] == ["connu@example.fr"]
    page = app_client.get("/mot-de-passe-oublie?envoye=1")
    assert "Si un compte actif correspond à cette adresse" in page.text


def test_reset_emails_are_capped(app_client: TestClient, session: Session,
                                 _outbox: list[email_module.Email]) -> None:
    make_user(session, email="spam@example.fr")
    for _ in range(5):
        app_client.post("/mot-de-passe-oublie",
                        data={"email": "spam@example.fr", "csrf_token": csrf_token(app_client)})
    assert len(_outbox) == 3


def test_reset_token_is_single_use(app_client: TestClient, session: Session,
                                   _outbox: list[email_module.Email]) -> None:
    make_user(session, email="unefois@example.fr")
    app_client.post("/mot-de-passe-oublie",
                    data={"email": "unefois@example.fr", "csrf_token": csrf_token(app_client)})
    path = _link_path(_outbox[0].body)
    data = {"password": NEW_PASSWORD, "password_confirm": NEW_PASSWORD,
            "csrf_token": csrf_token(app_client)}
    assert app_client.post(path, data=data, follow_redirects=False).status_code == 303
    again = app_client.post(path, data={**data, "csrf_token": csrf_token(app_client)})
    assert again.status_code == 400
    assert "n’est pas valide ou a déjà été utilisé" in again.text
    assert app_client.get(path).status_code == 400


def test_reset_token_expires(app_client: TestClient, session: Session,
                             _outbox: list[email_module.Email]) -> None:
    make_user(session, email="tard@example.fr")
    app_client.post("/mot-de-passe-oublie",
                    data={"email": "tard@example.fr", "csrf_token": csrf_token(app_client)})
    path = _link_path(_outbox[0].body)
    row = session.get(PasswordResetToken, sha256(path.rsplit("/", 1)[1]))
    assert row is not None
    assert row.expires_at - row.created_at == timedelta(hours=2)
    row.expires_at = utcnow() - timedelta(seconds=1)
    session.add(row)
    session.commit()
    page = app_client.get(path)
    assert page.status_code == 400
    assert "Ce lien de réinitialisation a expiré. Demandez un nouveau lien." in page.text
    response = app_client.post(path, data={"password": NEW_PASSWORD,
                                           "password_confirm": NEW_PASSWORD,
                                           "csrf_token": csrf_token(app_client)})
    assert response.status_code == 400
    assert "a expiré" in response.text


def test_unknown_reset_token(app_client: TestClient) -> None:
    page = app_client.get("/reinitialiser/nimporte-quoi")
    assert page.status_code == 400
    assert "n’est pas valide ou a déjà été utilisé" in page.text


# --- admin pages ----------------------------------------------------------------------------


def test_admin_lists_users(app_client: TestClient, session: Session, settings: Settings) -> None:
    admin = make_user(session, "admin", email="admin@example.fr")
    structure = make_structure(session)
    director = make_user(session, "director", [structure], email="d@example.fr")
    make_user(session, "ars", email="ars@example.fr", region="84", active=False)
    log_in(app_client, session, settings, admin)
    page = app_client.get("/admin/utilisateurs")
    assert page.status_code == 200
    assert page.template.name == "pages/admin/users.html"  # type: ignore[attr-defined]
    rows = {u.email: u for u in page.context["users"]}  # type: ignore[attr-defined]
    assert [(x.finess, x.name) for x in rows["d@example.fr"].structures] == \
        [(structure.finess, structure.name)]
    assert rows["ars@example.fr"].active is False
    assert rows["ars@example.fr"].region_name == "Auvergne-Rhône-Alpes"
    assert rows["admin@example.fr"].last_login is not None
    assert rows["d@example.fr"].last_login is None
    assert f'action="/admin/utilisateurs/{director.id}/desactiver"' in page.text
    assert page.headers["cache-control"] == "no-store"


def test_admin_creates_a_user_with_an_invitation_link(
    app_client: TestClient, session: Session, settings: Settings,
    _outbox: list[email_module.Email]
) -> None:
    admin = make_user(session, "admin")
    structure = make_structure(session)
    token = log_in(app_client, session, settings, admin)
    response = app_client.post("/admin/utilisateurs/nouveau", data={
        "email": "Nouvelle@Example.fr", "name": "Camille Martin", "role": "director",
        "region": "", "structures": f"{structure.finess}\n", "password": "",
        "csrf_token": token})
    assert response.status_code == 200
    assert response.template.name == "pages/admin/user_link.html"  # type: ignore[attr-defined]
    link = response.context["link"]  # type: ignore[attr-defined]
    assert link.startswith("http://127.0.0.1:8000/reinitialiser/")
    assert [m.to for m in _outbox] == ["nouvelle@example.fr"]
    assert link in _outbox[0].body
    user = session.exec(select(User).where(User.email == "nouvelle@example.fr")).one()
    assert (user.name, user.role, user.region) == ("Camille Martin", "director", None)
    # The invited person chooses a password with the link, then logs in.
    path = link.removeprefix("http://127.0.0.1:8000")
    app_client.cookies.clear()
    app_client.post(path, data={"password": NEW_PASSWORD, "password_confirm": NEW_PASSWORD,
                                "csrf_token": csrf_token(app_client)})
    assert login(app_client, "nouvelle@example.fr", NEW_PASSWORD).status_code == 303
    assert app_client.get("/api/v1/me").json()["structures"] == [structure.finess]


def test_admin_creates_a_user_with_a_password(app_client: TestClient, session: Session,
                                              settings: Settings) -> None:
    token = log_in(app_client, session, settings, make_user(session, "admin"))
    response = app_client.post("/admin/utilisateurs/nouveau", data={
        "email": "ars.bretagne@example.fr", "role": "ars", "region": "53",
        "password": NEW_PASSWORD, "csrf_token": token}, follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/admin/utilisateurs?info=cree"
    user = session.exec(select(User).where(User.email == "ars.bretagne@example.fr")).one()
    assert (user.role, user.region) == ("ars", "53")


def test_admin_user_form_errors(app_client: TestClient, session: Session,
                                settings: Settings) -> None:
    make_user(session, email="pris@example.fr")
    token = log_in(app_client, session, settings, make_user(session, "admin"))
    response = app_client.post("/admin/utilisateurs/nouveau", data={
        "email": "pris@example.fr", "role": "ars", "region": "", "structures": "123",
        "password": "court", "csrf_token": token})
    assert response.status_code == 400
    errors = response.context["form"].errors  # type: ignore[attr-defined]
    assert errors == {
        "email": "Un compte existe déjà avec cette adresse électronique.",
        "region": "Un compte ARS doit avoir une région.",
        "structures": "Seuls les comptes de direction sont rattachés à des structures.",
        "password": "Le mot de passe doit comporter au moins 12 caractères.",
    }


def test_admin_generates_a_reset_link(app_client: TestClient, session: Session,
                                      settings: Settings,
                                      _outbox: list[email_module.Email]) -> None:
    user = make_user(session, email="perdu@example.fr")
    token = log_in(app_client, session, settings, make_user(session, "admin"))
    response = app_client.post(f"/admin/utilisateurs/{user.id}/lien-reinitialisation",
                               data={"csrf_token": token})
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    link = response.context["link"]  # type: ignore[attr-defined]
    assert link in response.text
    assert [m.to for m in _outbox] == ["perdu@example.fr"]
    assert app_client.get(link.removeprefix("http://127.0.0.1:8000")).status_code == 200


def test_admin_pages_are_for_admins_only(app_client: TestClient, session: Session,
                                         settings: Settings) -> None:
    ars = make_user(session, "ars", region="84")
    assert app_client.get("/admin/utilisateurs", follow_redirects=False).status_code == 303
    log_in(app_client, session, settings, ars)
    assert app_client.get("/admin/utilisateurs").status_code == 403
    assert audit_actions(session, ars.id)[-1] == "permission_denied"
    event = session.exec(select(AuditEvent).where(AuditEvent.user_id == ars.id)
                         .order_by(col(AuditEvent.id).desc())).first()
    assert event is not None
    assert event.details["path"] == "/admin/utilisateurs"


# --- API tokens -----------------------------------------------------------------------------


def test_api_token_login_me_and_revoke(app_client: TestClient, session: Session) -> None:
    a, b = make_structure(session), make_structure(session)
    user = make_user(session, "director", [b, a], email="api.dir@example.fr", name="Dir API")
    response = app_client.post("/api/v1/auth/token",
                               data={"username": "api.dir@example.fr",
                                     "password": DEFAULT_PASSWORD})
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"access_token", "token_type", "expires_in"}
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == 30 * 24 * 3600
    token = body["access_token"]
    row = session.exec(select(ApiToken).where(ApiToken.token_hash == sha256(token))).one()
    assert row.user_id == user.id
    assert "palier_session" not in response.headers.get("set-cookie", "")

    me = app_client.get("/api/v1/me", headers=bearer(token))
    assert me.status_code == 200
    assert me.json() == {"id": user.id, "email": "api.dir@example.fr", "name": "Dir API",
                         "role": "director", "region": None,
                         "structures": sorted([a.finess, b.finess])}
    # Bearer requests need no CSRF token.
    revoked = app_client.delete("/api/v1/auth/token", headers=bearer(token))
    assert revoked.status_code == 204
    after = app_client.get("/api/v1/me", headers=bearer(token))
    assert after.status_code == 401
    assert after.headers["www-authenticate"] == 'Bearer error="invalid_token"'


def test_api_token_wrong_password(app_client: TestClient, session: Session) -> None:
    make_user(session, email="x@example.fr")
    response = app_client.post("/api/v1/auth/token",
                               data={"username": "x@example.fr", "password": "faux"})
    assert response.status_code == 401
    assert response.json() == {"detail": "Adresse électronique ou mot de passe incorrect."}
    assert response.headers["www-authenticate"] == "Bearer"


def test_expired_api_token(app_client: TestClient, session: Session) -> None:
    make_user(session, email="exp@example.fr")
    token = api_token(app_client, "exp@example.fr")
    row = session.exec(select(ApiToken).where(ApiToken.token_hash == sha256(token))).one()
    row.expires_at = utcnow() - timedelta(seconds=1)
    session.add(row)
    session.commit()
    assert app_client.get("/api/v1/me", headers=bearer(token)).status_code == 401


def test_me_for_a_regional_account(app_client: TestClient, session: Session,
                                   settings: Settings) -> None:
    user = make_user(session, "committee", region="84", email="c@example.fr", name="Comité")
    log_in(app_client, session, settings, user)
    assert app_client.get("/api/v1/me").json() == {
        "id": user.id, "email": "c@example.fr", "name": "Comité", "role": "committee",
        "region": "84", "structures": []}


# --- anonymous ------------------------------------------------------------------------------


def test_anonymous_page_redirects_to_login(app_client: TestClient) -> None:
    response = app_client.get("/admin/utilisateurs?tri=email", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/connexion?suivant=/admin/utilisateurs%3Ftri%3Demail"


def test_anonymous_api_gets_401(app_client: TestClient) -> None:
    response = app_client.get("/api/v1/me")
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    assert response.json() == {"detail": "Authentification requise."}


def test_anonymous_htmx_gets_401_without_redirect(app_client: TestClient) -> None:
    response = app_client.get("/admin/utilisateurs", follow_redirects=False,
                              headers={"HX-Request": "true",
                                       "HX-Current-URL": "http://testserver/structures/1"})
    assert response.status_code == 401
    assert "HX-Redirect" not in response.headers
    assert "location" not in response.headers
    assert "Votre session a expiré : reconnectez-vous." in response.text
    assert 'href="/connexion?suivant=/structures/1"' in response.text


def test_expired_session_on_an_htmx_save_says_so(app_client: TestClient, session: Session,
                                                 settings: Settings) -> None:
    """An autosave posted after the session ended gets 401 "session expirée", not 403."""
    token = log_in(app_client, session, settings, make_user(session))
    row = _current_row(app_client, session)
    row.last_seen_at = utcnow() - timedelta(hours=2)
    session.add(row)
    session.commit()
    response = app_client.post("/deconnexion", headers=csrf_headers(token, htmx=True),
                               follow_redirects=False)
    assert response.status_code == 401
    assert "Votre session a expiré : reconnectez-vous." in response.text
    # The dead cookie is cleared.
    attrs = set_cookie_attrs(response.headers.get_list("set-cookie"), "palier_session")
    assert attrs["max-age"] == "0"



def test_require_permission_on_a_router(app_client: TestClient, session: Session,
                                        settings: Settings) -> None:
    from fastapi import APIRouter, Depends

    from app.permissions import Action
    from app.web.auth_deps import require_permission

    router = APIRouter(dependencies=[Depends(require_permission(Action.build_shortlist))])

    @router.get("/api/v1/essai-role")
    def endpoint() -> dict[str, bool]:
        return {"ok": True}

    app_client.app.include_router(router)  # type: ignore[attr-defined]
    assert app_client.get("/api/v1/essai-role").status_code == 401
    director = make_user(session, "director")
    log_in(app_client, session, settings, director)
    assert app_client.get("/api/v1/essai-role").status_code == 403
    assert audit_actions(session, director.id)[-1] == "permission_denied"
    log_in(app_client, session, settings, make_user(session, "committee"))
    assert app_client.get("/api/v1/essai-role").json() == {"ok": True}
