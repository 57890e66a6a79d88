"""ProConnect sign-in against a real OpenID Connect provider (npm `oidc-provider`, started by
tests/oidc_provider.py): success, state, replayed code, expired and forged ID tokens,
unknown identities, linking (e-mail proof, admin), logout at the provider, mandatory
ProConnect for some roles. Nothing of the protocol is mocked."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr
from sqlmodel import Session, col, select

from app import email as email_module
from app.accounts.models import User
from app.accounts.oidc_models import ExternalIdentity, OidcLinkToken
from app.audit import AuditEvent
from app.config import Settings
from app.db import utcnow
from app.permissions import Role
from tests.auth_helpers import csrf_token, log_in, login
from tests.factories import make_user
from tests.oidc_provider import (
    CLIENT_ID,
    CLIENT_SECRET,
    provider_login,
    provider_logout,
    running_provider,
)

PUBLIC_URL = "http://testserver"
AGENT = "referente@ars.sante.fr"


@pytest.fixture(scope="module")
def issuer() -> Iterator[str]:
    with running_provider(PUBLIC_URL) as url:
        yield url


def _configure(settings: Settings, issuer: str, **extra: object) -> Settings:
    for key, value in {
        "base_url": PUBLIC_URL,
        "email_backend": "memory",
        "oidc_issuer": issuer,
        "oidc_client_id": CLIENT_ID,
        "oidc_client_secret": SecretStr(CLIENT_SECRET),
        **extra,
    }.items():
        setattr(settings, key, value)
    return settings


@pytest.fixture
def settings(settings: Settings, issuer: str) -> Settings:
    return _configure(settings, issuer)


@pytest.fixture
def browser() -> Iterator[httpx.Client]:
    """The user's browser on the provider's pages (its own cookies)."""
    with httpx.Client(timeout=10) as client:
        yield client


@pytest.fixture(autouse=True)
def outbox() -> Iterator[list[email_module.Email]]:
    email_module.outbox.clear()
    yield email_module.outbox
    email_module.outbox.clear()


def start(client: TestClient, next_path: str | None = None) -> str:
    data = {"csrf_token": csrf_token(client)}
    if next_path:
        data["next"] = next_path
    response = client.post("/proconnect/connexion", data=data, follow_redirects=False)
    assert response.status_code == 303, response.text
    return response.headers["location"]


def callback_path(url: str) -> str:
    parts = urlsplit(url)
    assert f"{parts.scheme}://{parts.netloc}" == PUBLIC_URL
    assert parts.path == "/proconnect/retour"
    return f"{parts.path}?{parts.query}"


def sign_in(
    client: TestClient,
    browser: httpx.Client,
    issuer: str,
    email: str = AGENT,
    next_path: str | None = None,
) -> httpx.Response:
    url = provider_login(browser, start(client, next_path), issuer, email)
    return client.get(callback_path(url), follow_redirects=False)


def actions(session: Session) -> list[str]:
    return list(session.exec(select(AuditEvent.action).order_by(col(AuditEvent.id))).all())


def link_url(outbox: list[email_module.Email]) -> str:
    assert len(outbox) == 1
    line = next(x for x in outbox[0].body.splitlines() if "/proconnect/lier/" in x)
    return urlsplit(line.strip()).path


def test_authorization_request_uses_pkce_state_and_nonce(
    app_client: TestClient, issuer: str
) -> None:
    query = parse_qs(urlsplit(start(app_client)).query)
    assert query["response_type"] == ["code"]
    assert query["client_id"] == [CLIENT_ID]
    assert query["redirect_uri"] == ["http://testserver/proconnect/retour"]
    assert query["code_challenge_method"] == ["S256"]
    # Only what Palier reads: sub, e-mail, first and usual names, SIRET.
    assert query["scope"] == ["openid email given_name usual_name siret"]
    assert len(query["state"][0]) >= 32 and len(query["nonce"][0]) >= 32
    assert len(query["code_challenge"][0]) == 43  # base64url of a sha256


def test_link_by_email_proof_then_sign_in(
    app_client: TestClient,
    session: Session,
    browser: httpx.Client,
    issuer: str,
    outbox: list[email_module.Email],
) -> None:
    user = make_user(session, Role.ars, email=AGENT, region="84")
    first = sign_in(app_client, browser, issuer)
    assert first.status_code == 200
    assert "Vérifiez votre messagerie" in first.text
    assert outbox[0].to == AGENT
    identity = session.exec(select(ExternalIdentity)).one()
    assert identity.user_id is None and identity.organisation == "13002526500013"
    assert identity.name == "Camille Martin"
    path = link_url(outbox)
    page = app_client.get(path)
    assert page.status_code == 200 and "Relier et continuer" in page.text
    confirmed = app_client.post(path, data={"csrf_token": csrf_token(app_client)})
    assert confirmed.status_code == 200 and "Identité ProConnect reliée" in confirmed.text
    session.refresh(identity)
    assert identity.user_id == user.id
    again = app_client.post(path, data={"csrf_token": csrf_token(app_client)})
    assert again.status_code == 400 and "a déjà servi" in again.text

    done = sign_in(app_client, browser, issuer, next_path="/regions/84")
    assert done.status_code == 303 and done.headers["location"] == "/regions/84"
    assert app_client.get("/session/csrf").json()["authenticated"] is True
    trail = [a for a in actions(session) if a.startswith(("oidc_", "login"))]
    assert trail == [
        "oidc_identity_seen",
        "oidc_link_requested",
        "oidc_identity_linked",
        "oidc_login",
        "login",
    ]


def test_unknown_identity_gets_nothing_until_an_admin_links_it(
    app_client: TestClient,
    session: Session,
    browser: httpx.Client,
    issuer: str,
    settings: Settings,
    outbox: list[email_module.Email],
) -> None:
    response = sign_in(app_client, browser, issuer, email="inconnu@exemple.gouv.fr")
    assert response.status_code == 403
    assert "Aucun compte Palier pour cette identité" in response.text
    assert app_client.get("/session/csrf").json()["authenticated"] is False
    assert outbox == []
    identity = session.exec(select(ExternalIdentity)).one()
    assert identity.user_id is None and "oidc_unknown_identity" in actions(session)

    admin = make_user(session, Role.admin, email="admin@palier.fr")
    committee = make_user(session, Role.committee, email="membre@exemple.gouv.fr")
    with TestClient(app_client.app) as admin_client:
        token = log_in(admin_client, session, settings, admin)
        listing = admin_client.get("/admin/proconnect")
        assert listing.status_code == 200 and "inconnu@exemple.gouv.fr" in listing.text
        missing = admin_client.post(
            f"/admin/proconnect/{identity.id}/lier",
            data={"csrf_token": token, "email": "personne@x.fr"},
        )
        assert missing.status_code == 400 and "Aucun compte actif" in missing.text
        linked = admin_client.post(
            f"/admin/proconnect/{identity.id}/lier",
            data={"csrf_token": token, "email": committee.email},
            follow_redirects=False,
        )
        assert linked.status_code == 303
    session.refresh(identity)
    assert identity.user_id == committee.id and identity.linked_by == admin.id
    event = session.exec(
        select(AuditEvent).where(AuditEvent.action == "oidc_identity_linked")
    ).one()
    assert event.user_id == admin.id and event.details == {"by": "admin", "user_id": committee.id}
    done = sign_in(app_client, browser, issuer, email="inconnu@exemple.gouv.fr")
    assert done.status_code == 303 and done.headers["location"] == "/"


def _linked(session: Session, email: str = AGENT) -> None:
    """An ARS account whose identity is already attached (through the e-mail proof flow's
    outcome: the row an admin link writes)."""
    make_user(session, Role.ars, email=email, region="84")


def _sign_in_linked(
    app_client: TestClient,
    session: Session,
    browser: httpx.Client,
    issuer: str,
    outbox: list[email_module.Email],
) -> httpx.Response:
    _linked(session)
    sign_in(app_client, browser, issuer)
    path = link_url(outbox)
    app_client.post(path, data={"csrf_token": csrf_token(app_client)})
    return sign_in(app_client, browser, issuer)


def test_wrong_state_is_refused(
    app_client: TestClient, session: Session, browser: httpx.Client, issuer: str
) -> None:
    url = provider_login(browser, start(app_client), issuer, AGENT)
    forged = url.replace("state=", "state=x", 1)
    response = app_client.get(callback_path(forged), follow_redirects=False)
    assert response.status_code == 400
    assert "ne correspond pas à la connexion demandée (paramètre state)" in response.text
    event = session.exec(select(AuditEvent).where(AuditEvent.action == "login_failed")).one()
    assert event.details == {"via": "proconnect", "reason": "state_mismatch"}
    # The login request is used up: the genuine answer no longer works either.
    assert app_client.get(callback_path(url)).status_code == 400


def test_non_ascii_state_is_refused(
    app_client: TestClient, session: Session, browser: httpx.Client, issuer: str
) -> None:
    url = provider_login(browser, start(app_client), issuer, AGENT)
    response = app_client.get(callback_path(url.replace("state=", "state=%C3%A9", 1)))
    assert response.status_code == 400
    assert "(paramètre state)" in response.text


def test_replayed_code_is_refused(
    app_client: TestClient,
    session: Session,
    browser: httpx.Client,
    issuer: str,
    outbox: list[email_module.Email],
) -> None:
    _linked(session)
    url = provider_login(browser, start(app_client), issuer, AGENT)
    assert app_client.get(callback_path(url)).status_code == 200  # link e-mailed
    replay = app_client.get(callback_path(url))
    assert replay.status_code == 400 and "n’a pas été commencée" in replay.text
    # The same code under the state of a new login: the provider refuses it.
    new_state = parse_qs(urlsplit(start(app_client)).query)["state"][0]
    code = parse_qs(urlsplit(url).query)["code"][0]
    response = app_client.get(
        "/proconnect/retour", params={"code": code, "state": new_state, "iss": issuer}
    )
    assert response.status_code == 400
    assert "ProConnect a refusé le code de connexion" in response.text


@pytest.mark.parametrize(
    "misbehaviour",
    [{"OIDC_TOKEN_CLOCK_SKEW": "-7200"}, {"OIDC_FOREIGN_JWKS": "1"}],
    ids=["expired", "forged"],
)
def test_invalid_id_token_is_refused(
    app_client: TestClient,
    session: Session,
    browser: httpx.Client,
    settings: Settings,
    misbehaviour: dict[str, str],
) -> None:
    _linked(session)
    with running_provider(PUBLIC_URL, **misbehaviour) as other:
        _configure(settings, other)
        response = sign_in(app_client, browser, other)
    assert response.status_code == 400
    assert "Le jeton d’identité reçu n’est pas valide" in response.text
    assert app_client.get("/session/csrf").json()["authenticated"] is False
    assert session.exec(select(ExternalIdentity)).all() == []
    event = session.exec(select(AuditEvent).where(AuditEvent.action == "login_failed")).one()
    assert event.details == {"via": "proconnect", "reason": "invalid_id_token"}


def test_logout_ends_the_provider_session_too(
    app_client: TestClient,
    session: Session,
    browser: httpx.Client,
    issuer: str,
    outbox: list[email_module.Email],
) -> None:
    assert _sign_in_linked(app_client, session, browser, issuer, outbox).status_code == 303
    token = app_client.get("/session/csrf").json()["csrf_token"]
    response = app_client.post("/deconnexion", data={"csrf_token": token}, follow_redirects=False)
    assert response.status_code == 303
    end_session = response.headers["location"]
    parts = urlsplit(end_session)
    assert end_session.startswith(issuer + "/session/end?")
    query = parse_qs(parts.query)
    assert query["post_logout_redirect_uri"] == ["http://testserver/proconnect/deconnecte"]
    assert query["id_token_hint"][0].count(".") == 2
    assert len(query["state"][0]) >= 32  # ProConnect: a random state of 32 characters at least
    assert app_client.get("/session/csrf").json()["authenticated"] is False  # local: ended
    back = provider_logout(browser, end_session, issuer)
    assert back.startswith("http://testserver/proconnect/deconnecte?")
    assert parse_qs(urlsplit(back).query)["state"] == query["state"]
    landing = app_client.get(back.removeprefix(PUBLIC_URL), follow_redirects=False)
    assert landing.headers["location"] == "/connexion?info=deconnexion"
    # The state serves once; another one (a forged return) confirms nothing either.
    again = app_client.get(back.removeprefix(PUBLIC_URL), follow_redirects=False)
    assert again.headers["location"] == "/connexion"
    forged = app_client.get("/proconnect/deconnecte?state=autre-état", follow_redirects=False)
    assert forged.headers["location"] == "/connexion"
    # The provider asks for a login again: its session is over.
    page = browser.get(start(app_client), follow_redirects=True)
    assert "Connexion au fournisseur d’identité de test" in page.text


def test_login_page_offers_proconnect(app_client: TestClient) -> None:
    page = app_client.get("/connexion")
    assert "S’identifier avec" in page.text and "ProConnect" in page.text
    assert 'action="/proconnect/connexion"' in page.text
    # The DSFR 1.15.3 ProConnect button (example/component/connect), as written there.
    assert (
        '<button class="fr-connect fr-connect--pro" type="submit" id="proconnect-button">\n'
        '      <span class="fr-connect__login">S’identifier avec</span>\n'
        '      <span class="fr-connect__brand">ProConnect</span>\n'
        "    </button>"
    ) in page.text
    assert (
        '<a href="https://proconnect.gouv.fr/" target="_blank" rel="noopener" '
        'title="Qu’est-ce que ProConnect ? - nouvelle fenêtre">Qu’est-ce que ProConnect ?'
        "</a>"
    ) in page.text
    assert '<div class="fr-connect-group">' in page.text


def test_login_page_without_state_marks(app_client: TestClient, settings: Settings) -> None:
    settings.state_marks = False
    page = app_client.get("/connexion").text
    assert "Qu’est-ce que ProConnect ?" not in page
    assert (
        '<button class="fr-btn fr-btn--secondary" type="submit" id="proconnect-button">'
        "S’identifier avec ProConnect</button>"
    ) in page


def test_mandatory_proconnect_refuses_the_password(
    app_client: TestClient, session: Session, settings: Settings
) -> None:
    settings.oidc_required_roles = "ars,committee"
    make_user(session, Role.ars, email="ars@palier.fr", region="84")
    make_user(session, Role.director, email="directrice@palier.fr")
    refused = login(app_client, "ars@palier.fr")
    assert refused.status_code == 403
    assert "Votre compte se connecte avec ProConnect" in refused.text
    assert app_client.get("/session/csrf").json()["authenticated"] is False
    assert login(app_client, "directrice@palier.fr").status_code == 303


def test_disabled_proconnect(app_client: TestClient, settings: Settings) -> None:
    settings.oidc_issuer = ""
    assert "/proconnect/connexion" not in app_client.get("/connexion").text
    response = app_client.post("/proconnect/connexion", data={"csrf_token": csrf_token(app_client)})
    assert response.status_code == 404 and "n’est pas activée" in response.text


def test_deactivated_account_and_detached_identity_get_no_session(
    app_client: TestClient,
    session: Session,
    browser: httpx.Client,
    issuer: str,
    settings: Settings,
    outbox: list[email_module.Email],
) -> None:
    assert _sign_in_linked(app_client, session, browser, issuer, outbox).status_code == 303
    user = session.exec(select(User).where(User.email == AGENT)).one()
    identity = session.exec(select(ExternalIdentity)).one()
    admin = make_user(session, Role.admin, email="admin@palier.fr")
    with TestClient(app_client.app) as admin_client:
        token = log_in(admin_client, session, settings, admin)
        assert (
            admin_client.post(
                f"/admin/utilisateurs/{user.id}/desactiver", data={"csrf_token": token}
            ).status_code
            == 200
        )
        app_client.cookies.clear()
        refused = sign_in(app_client, browser, issuer)
        assert refused.status_code == 403 and "Votre compte Palier est désactivé" in refused.text
        assert (
            admin_client.post(
                f"/admin/proconnect/{identity.id}/detacher", data={"csrf_token": token}
            ).status_code
            == 200
        )
    session.refresh(identity)
    assert identity.user_id is None
    assert "oidc_identity_unlinked" in actions(session)


def test_expired_link_is_refused(
    app_client: TestClient,
    session: Session,
    browser: httpx.Client,
    issuer: str,
    outbox: list[email_module.Email],
) -> None:
    _linked(session)
    sign_in(app_client, browser, issuer)
    row = session.exec(select(OidcLinkToken)).one()
    row.expires_at = utcnow() - timedelta(seconds=1)
    session.add(row)
    session.commit()
    page = app_client.get(link_url(outbox))
    assert page.status_code == 400 and "a expiré" in page.text
    assert session.exec(select(ExternalIdentity)).one().user_id is None


def test_answer_from_another_issuer_is_refused(
    app_client: TestClient, session: Session, browser: httpx.Client, issuer: str
) -> None:
    url = provider_login(browser, start(app_client), issuer, AGENT)
    query = parse_qs(urlsplit(url).query)
    response = app_client.get(
        "/proconnect/retour",
        params={
            "code": query["code"][0],
            "state": query["state"][0],
            "iss": "https://autre.example",
        },
    )
    assert response.status_code == 400
    assert "ne vient pas du fournisseur d’identité attendu" in response.text
