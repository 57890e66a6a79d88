"""The second factor of password logins (issue 13): ars, committee and admin accounts give
a TOTP code after their password; enrolment at first login; one-time recovery codes;
lockout after wrong codes; remembered devices; the administrator's reset. Codes are
computed with pyotp from the account's secret, as the user's phone would."""

from __future__ import annotations

import re
import time
from datetime import timedelta

import pyotp
from fastapi.testclient import TestClient
from sqlmodel import Session, col, select

from app.accounts.mfa_models import LoginChallenge, RecoveryCode, TrustedDevice, UserTotp
from app.audit import AuditEvent
from app.db import utcnow
from tests.auth_helpers import (
    audit_actions,
    csrf_headers,
    csrf_token,
    log_in,
    login,
    post_code,
    second_step,
    set_cookie_attrs,
)
from tests.factories import DEFAULT_TOTP_SECRET, make_user


def logged_in(client: TestClient) -> bool:
    return bool(client.get("/session/csrf").json()["authenticated"])


def log_out(client: TestClient) -> None:
    client.post("/deconnexion", headers=csrf_headers(csrf_token(client)), follow_redirects=False)


def enrol_at_login(client: TestClient, email: str) -> tuple[str, list[str]]:
    """Password, then the forced enrolment page: scan (read the key), confirm with a first
    code. Returns the secret and the ten recovery codes shown."""
    response = login(client, email)
    assert (response.status_code, response.headers["location"]) == (303, "/connexion/activation")
    page = client.get("/connexion/activation")
    assert page.status_code == 200
    assert '<svg role="img" aria-label="Code QR' in page.text
    key = re.search(r'id="totp-secret"[^>]*>([A-Z2-7 ]+)<', page.text)
    assert key is not None
    secret = key.group(1).replace(" ", "")
    response = client.post(
        "/connexion/activation",
        data={"code": pyotp.TOTP(secret).now(), "csrf_token": csrf_token(client)},
        follow_redirects=False,
    )
    assert response.status_code == 200, response.text
    codes = re.findall(r"<li><code>([a-z2-9]{5}-[a-z2-9]{5})</code></li>", response.text)
    return secret, codes


def test_privileged_login_is_two_steps_and_the_first_grants_nothing(
    app_client: TestClient, session: Session
) -> None:
    ars = make_user(session, "ars", region="84")
    response = login(app_client, ars.email, next_path="/regions/84", totp_secret=None)
    assert (response.status_code, response.headers["location"]) == (303, "/connexion/code")
    challenge = set_cookie_attrs(response.headers.get_list("set-cookie"), "palier_mfa")
    assert challenge["httponly"] is True
    assert "palier_session" not in app_client.cookies
    # Half logged in: every other page sees an anonymous visitor.
    assert not logged_in(app_client)
    assert (
        app_client.get("/regions/84", follow_redirects=False)
        .headers["location"]
        .startswith("/connexion")
    )
    assert app_client.get("/api/v1/me").status_code == 401
    page = app_client.get("/connexion/code")
    assert page.status_code == 200 and "Code à 6 chiffres" in page.text

    response = second_step(app_client)
    assert (response.status_code, response.headers["location"]) == (303, "/regions/84")
    assert logged_in(app_client)
    assert app_client.get("/regions/84").status_code == 200
    assert audit_actions(session, ars.id)[-1] == "login"


def test_directors_log_in_with_their_password_alone(
    app_client: TestClient, session: Session
) -> None:
    director = make_user(session, "director")
    response = login(app_client, director.email, totp_secret=None)
    assert (response.status_code, response.headers["location"]) == (303, "/")
    assert logged_in(app_client)


def test_a_code_serves_once(app_client: TestClient, session: Session) -> None:
    admin = make_user(session, "admin")
    code = pyotp.TOTP(DEFAULT_TOTP_SECRET).now()
    login(app_client, admin.email, totp_secret=None)
    assert post_code(app_client, code).status_code == 303
    log_out(app_client)
    login(app_client, admin.email, totp_secret=None)
    replayed = post_code(app_client, code)
    if replayed.status_code == 303:  # the clock turned between the two: the code is new
        return
    assert replayed.status_code == 400
    assert "Ce code a déjà été utilisé" in replayed.text
    assert not logged_in(app_client)


def test_wrong_codes_lock_the_second_step(
    app_client: TestClient, session: Session, settings: object
) -> None:
    committee = make_user(session, "committee", region="84")
    login(app_client, committee.email, totp_secret=None)
    for _ in range(5):  # login_max_failures_per_email
        response = post_code(app_client, "000000")
        assert response.status_code == 400
        assert "Code incorrect" in response.text
    locked = post_code(app_client, pyotp.TOTP(DEFAULT_TOTP_SECRET).now())
    assert locked.status_code == 429
    assert "Trop de tentatives" in locked.text
    assert not logged_in(app_client)
    events = session.exec(
        select(AuditEvent).where(
            AuditEvent.user_id == committee.id, AuditEvent.action == "mfa_failed"
        )
    ).all()
    assert [e.details["reason"] for e in events] == ["bad_code"] * 5 + ["rate_limited"]


def test_enrolment_forced_at_first_login_then_recovery_codes_serve_once(
    app_client: TestClient, session: Session
) -> None:
    ars = make_user(session, "ars", region="84", totp_secret=None)
    secret, codes = enrol_at_login(app_client, ars.email)
    assert len(codes) == 10 and len(set(codes)) == 10
    assert logged_in(app_client)
    assert ars.id is not None
    row = session.get(UserTotp, ars.id)
    assert row is not None and row.secret == secret and row.confirmed_at is not None
    hashes = session.exec(
        select(RecoveryCode.code_hash).where(RecoveryCode.user_id == ars.id)
    ).all()
    assert len(hashes) == 10 and all(h.startswith("$argon2") for h in hashes)
    assert not any(c.replace("-", "") in h for c in codes for h in hashes)
    assert "mfa_enrolled" in audit_actions(session, ars.id)

    log_out(app_client)
    login(app_client, ars.email, totp_secret=None)
    used = post_code(app_client, codes[0].upper().replace("-", " "), field="recovery_code")
    assert (used.status_code, used.headers["location"]) == (303, "/")
    assert logged_in(app_client)
    log_out(app_client)
    login(app_client, ars.email, totp_secret=None)
    again = post_code(app_client, codes[0], field="recovery_code")
    assert again.status_code == 400
    assert "Code de secours incorrect ou déjà utilisé" in again.text
    assert not logged_in(app_client)
    assert post_code(app_client, codes[1], field="recovery_code").status_code == 303


def test_a_wrong_first_code_does_not_enrol(app_client: TestClient, session: Session) -> None:
    admin = make_user(session, "admin", totp_secret=None)
    login(app_client, admin.email)
    app_client.get("/connexion/activation")
    response = app_client.post(
        "/connexion/activation", data={"code": "12345", "csrf_token": csrf_token(app_client)}
    )
    assert response.status_code == 400
    assert "Code incorrect" in response.text
    assert not logged_in(app_client)
    assert admin.id is not None
    row = session.get(UserTotp, admin.id)
    assert row is not None and row.confirmed_at is None


def test_remembered_device_skips_the_code_until_it_expires(
    app_client: TestClient, session: Session
) -> None:
    ars = make_user(session, "ars", region="84")
    login(app_client, ars.email, totp_secret=None)
    response = second_step(app_client, remember=True)
    assert response.status_code == 303
    device = set_cookie_attrs(response.headers.get_list("set-cookie"), "palier_appareil")
    assert device["httponly"] is True and device["max-age"] == str(30 * 86400)
    row = session.exec(select(TrustedDevice).where(TrustedDevice.user_id == ars.id)).one()
    assert timedelta(days=29, hours=23) < row.expires_at - row.created_at <= timedelta(days=30)
    assert str(device["value"]).partition(".")[0] not in row.token_hash

    log_out(app_client)
    skipped = login(app_client, ars.email, totp_secret=None)
    assert (skipped.status_code, skipped.headers["location"]) == (303, "/")
    assert logged_in(app_client)

    log_out(app_client)
    row.expires_at = utcnow() - timedelta(seconds=1)
    session.add(row)
    session.commit()
    asked = login(app_client, ars.email, totp_secret=None)
    assert asked.headers["location"] == "/connexion/code"


def test_a_forged_or_forgotten_device_does_not_skip(
    app_client: TestClient, session: Session
) -> None:
    ars = make_user(session, "ars", region="84")
    login(app_client, ars.email, totp_secret=None)
    cookie = set_cookie_attrs(
        second_step(app_client, remember=True).headers.get_list("set-cookie"), "palier_appareil"
    )["value"]
    raw = str(cookie).partition(".")[0]
    page = app_client.get("/compte/securite")
    device_id = re.search(r"/compte/securite/appareils/(\d+)/oublier", page.text)
    assert device_id is not None
    response = app_client.post(
        f"/compte/securite/appareils/{device_id.group(1)}/oublier",
        headers=csrf_headers(csrf_token(app_client)),
        follow_redirects=False,
    )
    assert response.status_code == 303
    log_out(app_client)
    assert login(app_client, ars.email, totp_secret=None).headers["location"] == "/connexion/code"
    app_client.cookies.set(
        "palier_appareil", f"{raw}.{'0' * 64}", domain="testserver.local", path="/"
    )
    log_out(app_client)
    assert login(app_client, ars.email, totp_secret=None).headers["location"] == "/connexion/code"
    assert "mfa_device_forgotten" in audit_actions(session, ars.id)


def test_non_ascii_device_cookie_and_code_are_refused_not_errors(
    app_client: TestClient, session: Session
) -> None:
    ars = make_user(session, "ars", region="84")
    # A quoted cookie's octal escapes decode to "abc.été": not a device, the code is asked.
    app_client.cookies.set(
        "palier_appareil", '"abc.\\351t\\351"', domain="testserver.local", path="/"
    )
    asked = login(app_client, ars.email, totp_secret=None)
    assert (asked.status_code, asked.headers["location"]) == (303, "/connexion/code")
    arabic_indic = post_code(app_client, "\u0661\u0662\u0663\u0664\u0665\u0666")
    assert arabic_indic.status_code == 400
    assert "Code incorrect" in arabic_indic.text
    assert not logged_in(app_client)


def test_an_expired_challenge_sends_back_to_the_password(
    app_client: TestClient, session: Session
) -> None:
    ars = make_user(session, "ars", region="84")
    login(app_client, ars.email, totp_secret=None)
    challenge = session.exec(select(LoginChallenge).where(LoginChallenge.user_id == ars.id)).one()
    challenge.expires_at = utcnow() - timedelta(seconds=1)
    session.add(challenge)
    session.commit()
    response = post_code(app_client, pyotp.TOTP(DEFAULT_TOTP_SECRET).now())
    assert (response.status_code, response.headers["location"]) == (
        303,
        "/connexion?info=code-expire",
    )
    assert not logged_in(app_client)


def test_admin_resets_a_lost_factor_audited(
    app_client: TestClient, session: Session, settings: object
) -> None:
    admin = make_user(session, "admin")
    ars = make_user(session, "ars", region="84")
    assert ars.id is not None
    session.add(RecoveryCode(user_id=ars.id, code_hash="$argon2id$x"))
    session.commit()
    token = log_in(app_client, session, settings, admin)  # type: ignore[arg-type]
    page = app_client.get("/admin/utilisateurs")
    assert f"/admin/utilisateurs/{ars.id}/double-authentification" in page.text
    response = app_client.post(
        f"/admin/utilisateurs/{ars.id}/double-authentification",
        headers=csrf_headers(token),
        follow_redirects=False,
    )
    assert response.status_code == 303
    assert session.get(UserTotp, ars.id) is None
    assert session.exec(select(RecoveryCode).where(RecoveryCode.user_id == ars.id)).all() == []
    event = session.exec(
        select(AuditEvent)
        .where(AuditEvent.action == "mfa_reset")
        .order_by(col(AuditEvent.id).desc())
    ).first()
    assert event is not None
    assert (event.user_id, event.object_id) == (admin.id, str(ars.id))
    assert (
        app_client.post(
            "/admin/utilisateurs/999999/double-authentification", headers=csrf_headers(token)
        ).status_code
        == 404
    )

    other = TestClient(app_client.app)
    assert login(other, ars.email).headers["location"] == "/connexion/activation"


def test_account_page_enrolment_and_new_recovery_codes(
    app_client: TestClient, session: Session, settings: object
) -> None:
    director = make_user(session, "director")
    token = log_in(app_client, session, settings, director)  # type: ignore[arg-type]
    page = app_client.get("/compte/securite")
    assert page.status_code == 200 and "Non activée" in page.text
    enrol = app_client.get("/compte/securite/activation")
    key = re.search(r'id="totp-secret"[^>]*>([A-Z2-7 ]+)<', enrol.text)
    assert key is not None
    totp = pyotp.TOTP(key.group(1).replace(" ", ""))
    done = app_client.post(
        "/compte/securite/activation", data={"code": totp.now(), "csrf_token": token}
    )
    assert done.status_code == 200 and "Vos codes de secours" in done.text
    assert "Activée" in app_client.get("/compte/securite").text
    # A director who enrolled is asked for the code too.
    other = TestClient(app_client.app)
    assert login(other, director.email, totp_secret=None).headers["location"] == "/connexion/code"
    # The enrolment's code served once: the phone's next one (accepted: clocks drift).
    again = app_client.post(
        "/compte/securite/codes-de-secours",
        data={"code": totp.at(time.time() + 30), "csrf_token": token},
    )
    assert again.status_code == 200
    assert len(re.findall(r"<li><code>", again.text)) == 10
    assert "mfa_recovery_codes_regenerated" in audit_actions(session, director.id)
