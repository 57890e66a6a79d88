"""ProConnect sign-in: the OpenID Connect protocol, through Authlib (no hand-written OAuth).

Authorization code flow with PKCE (S256); `state`, `nonce` and the code verifier of each
login are kept server-side (`OidcLoginRequest`), bound to the browser by a random cookie
whose sha256 is the row's id, and used once. The ID token's signature is checked against
the provider's JWKS (from its discovery document), its claims (iss, aud, exp, iat, nonce)
by Authlib. The userinfo answer may be JSON or a signed JWT (ProConnect signs it): a JWT is
checked against the same keys. Logout at the provider: its end_session_endpoint, with a
`state` the browser brings back. What ProConnect documents: docs/proconnect.md.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

import httpx
from authlib.common.errors import AuthlibBaseError
from authlib.common.security import generate_token
from authlib.integrations.base_client.sync_app import BaseApp, OAuth2Mixin
from authlib.integrations.base_client.sync_openid import OpenIDMixin
from authlib.integrations.httpx_client import OAuth2Client
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet
from joserfc.jws import JWSRegistry
from sqlalchemy import delete
from sqlmodel import Session, col

from app.accounts.oidc_models import OidcLoginRequest
from app.accounts.tokens import new_token, token_hash, tokens_match
from app.config import Settings
from app.db import utcnow

CALLBACK_PATH = "/proconnect/retour"
LOGGED_OUT_PATH = "/proconnect/deconnecte"
LOGIN_REQUEST_MINUTES = 10
LEEWAY_SECONDS = 60  # clock difference tolerated on exp / iat
METADATA_SECONDS = 3600  # discovery document and keys are fetched again after this


class OidcError(Exception):
    """A sign-in that cannot go on; `message` is shown to the user (French)."""

    def __init__(self, message: str, reason: str) -> None:
        super().__init__(message)
        self.message = message
        self.reason = reason  # for the audit trail


RETRY = " Recommencez la connexion avec ProConnect."
UNREACHABLE = "ProConnect ne répond pas pour le moment."


@dataclass(frozen=True)
class ProviderIdentity:
    issuer: str
    subject: str
    email: str
    name: str
    organisation: str | None
    id_token: str
    next_path: str | None


class _ProviderApp(OAuth2Mixin, OpenIDMixin, BaseApp):  # type: ignore[misc]
    """Authlib's framework-independent OpenID Connect client, on httpx (synchronous)."""

    client_cls = OAuth2Client


_apps: dict[tuple[str, str], tuple[float, _ProviderApp]] = {}


def callback_url(settings: Settings) -> str:
    return settings.public_url + CALLBACK_PATH


def logged_out_url(settings: Settings) -> str:
    return settings.public_url + LOGGED_OUT_PATH


def provider_origins(settings: Settings) -> tuple[str, ...]:
    """The provider's origin (its pages: authorization, logout), for the CSP form-action."""
    if not settings.oidc_enabled:
        return ()
    parts = urlsplit(settings.oidc_issuer.strip())
    return (f"{parts.scheme}://{parts.netloc}",) if parts.scheme and parts.netloc else ()


def _discovery_url(issuer: str) -> str:
    return issuer.rstrip("/") + "/.well-known/openid-configuration"


def provider_app(settings: Settings) -> _ProviderApp:
    """The client of the configured provider (its metadata cached for METADATA_SECONDS)."""
    key = (settings.oidc_issuer.strip(), settings.oidc_client_id.strip())
    cached = _apps.get(key)
    if cached is not None and time.monotonic() - cached[0] < METADATA_SECONDS:
        return cached[1]
    app = _ProviderApp(
        None,
        client_id=key[1],
        client_secret=settings.oidc_client_secret.get_secret_value(),
        server_metadata_url=_discovery_url(key[0]),
        client_kwargs={
            "scope": settings.oidc_scopes,
            "code_challenge_method": "S256",
            "token_endpoint_auth_method": "client_secret_post",
            "timeout": settings.oidc_timeout_seconds,
        },
    )
    _apps[key] = (time.monotonic(), app)
    return app


def _metadata(app: _ProviderApp) -> dict[str, Any]:
    try:
        return dict(app.load_server_metadata())
    except (httpx.HTTPError, ValueError) as exc:
        raise OidcError(
            "ProConnect ne répond pas pour le moment : réessayez dans quelques "
            "minutes, ou connectez-vous avec votre mot de passe.",
            "provider_unreachable",
        ) from exc


def start_login(session: Session, settings: Settings, next_path: str | None) -> tuple[str, str]:
    """Record a login request and return (browser cookie token, provider authorization URL)."""
    app = provider_app(settings)
    _metadata(app)
    request = app.create_authorization_url(
        redirect_uri=callback_url(settings),
        state=new_token(),
        nonce=new_token(),
        code_verifier=generate_token(64),
    )
    raw = new_token()
    now = utcnow()
    session.exec(delete(OidcLoginRequest).where(col(OidcLoginRequest.expires_at) < now))
    session.add(
        OidcLoginRequest(
            id=token_hash(raw),
            state=request["state"],
            nonce=request["nonce"],
            code_verifier=request["code_verifier"],
            next_path=next_path,
            created_at=now,
            expires_at=now + timedelta(minutes=LOGIN_REQUEST_MINUTES),
        )
    )
    session.commit()
    return raw, str(request["url"])


def _take_request(session: Session, browser_raw: str | None) -> OidcLoginRequest:
    """The login request of this browser, deleted at once (a state is used once)."""
    row = session.get(OidcLoginRequest, token_hash(browser_raw)) if browser_raw else None
    if row is None:
        raise OidcError(
            "Cette connexion ProConnect n’a pas été commencée dans ce navigateur, "
            "ou a déjà servi." + RETRY,
            "unknown_request",
        )
    session.delete(row)
    session.commit()
    if utcnow() >= row.expires_at:
        raise OidcError("Cette connexion ProConnect a expiré." + RETRY, "expired_request")
    return row


def _check_response(settings: Settings, row: OidcLoginRequest, params: dict[str, str]) -> str:
    """The authorization code of the provider's answer, after checking state and issuer."""
    if not tokens_match(row.state, params.get("state")):
        raise OidcError(
            "La réponse de ProConnect ne correspond pas à la connexion demandée "
            "(paramètre state)." + RETRY,
            "state_mismatch",
        )
    if params.get("error"):
        raise OidcError(
            "ProConnect n’a pas authentifié votre compte ("
            + params.get("error_description", params["error"])[:200]
            + ")."
            + RETRY,
            "provider_error",
        )
    issuer = params.get("iss")
    if issuer is not None and issuer != settings.oidc_issuer.strip():
        raise OidcError(
            "La réponse ne vient pas du fournisseur d’identité attendu." + RETRY, "issuer_mismatch"
        )
    code = params.get("code", "")
    if not code:
        raise OidcError("La réponse de ProConnect ne contient pas de code." + RETRY, "no_code")
    return code


def _key_set(app: _ProviderApp) -> KeySet:
    return KeySet.import_key_set(app.fetch_jwk_set())


def _userinfo(app: _ProviderApp, token: dict[str, Any], subject: str) -> dict[str, Any]:
    """The userinfo claims (JSON, or a JWT signed with the provider's keys); its `sub` must
    be the ID token's."""
    endpoint = _metadata(app).get("userinfo_endpoint")
    if not endpoint:
        return {}
    response = app.get(endpoint, token=token)
    response.raise_for_status()
    if response.headers.get("content-type", "").startswith("application/jwt"):
        metadata = _metadata(app)
        algorithms = metadata.get("userinfo_signing_alg_values_supported")
        claims = dict(
            jwt.decode(
                response.text.strip(), _key_set(app), registry=JWSRegistry(algorithms=algorithms)
            ).claims
        )
    else:
        claims = dict(response.json())
    if claims.get("sub") != subject:
        raise OidcError(
            "Les informations d’identité de ProConnect ne concernent pas le compte "
            "authentifié." + RETRY,
            "userinfo_subject_mismatch",
        )
    return claims


def _claim(claims: dict[str, Any], name: str) -> str:
    value = claims.get(name) if name else None
    return value.strip() if isinstance(value, str) else ""


CODE_REJECTED = (
    "ProConnect a refusé le code de connexion (déjà utilisé, expiré ou émis pour une autre "
    "demande)." + RETRY
)
INVALID_ID_TOKEN = (
    "Le jeton d’identité reçu n’est pas valide (signature, émetteur, destinataire, "
    "expiration ou nonce)." + RETRY
)


@contextmanager
def _refused_as(message: str, reason: str, *refusals: type[Exception]) -> Iterator[None]:
    """A call to the provider: its `refusals` become OidcError(message, reason), a network
    failure OidcError(UNREACHABLE)."""
    try:
        yield
    except refusals as exc:
        raise OidcError(message, reason) from exc
    except httpx.HTTPError as exc:
        raise OidcError(UNREACHABLE + RETRY, "provider_unreachable") from exc


def _exchange_code(
    app: _ProviderApp, settings: Settings, row: OidcLoginRequest, code: str
) -> dict[str, Any]:
    """The token endpoint's answer for this code (client_secret_post, PKCE verifier)."""
    with _refused_as(CODE_REJECTED, "code_rejected", AuthlibBaseError):
        return dict(
            app.fetch_access_token(
                redirect_uri=callback_url(settings), code=code, code_verifier=row.code_verifier
            )
        )


def finish_login(
    session: Session, settings: Settings, browser_raw: str | None, params: dict[str, str]
) -> ProviderIdentity:
    """Check the provider's answer and exchange its code: the identity it vouches for."""
    row = _take_request(session, browser_raw)
    code = _check_response(settings, row, params)
    app = provider_app(settings)
    token = _exchange_code(app, settings, row, code)
    with _refused_as(INVALID_ID_TOKEN, "invalid_id_token", JoseError, AuthlibBaseError, ValueError):
        options = {
            "iss": {"essential": True, "values": [_metadata(app).get("issuer")]},
            "aud": {"essential": True, "values": [settings.oidc_client_id.strip()]},
        }
        id_claims = app.parse_id_token(
            token, nonce=row.nonce, claims_options=options, leeway=LEEWAY_SECONDS
        )
        if id_claims is None:
            raise OidcError("ProConnect n’a pas envoyé de jeton d’identité." + RETRY, "no_id_token")
        claims = {**id_claims, **_userinfo(app, token, str(id_claims["sub"]))}
    email = _claim(claims, settings.oidc_email_claim).lower()
    if "@" not in email:
        raise OidcError(
            "ProConnect n’a pas transmis d’adresse électronique : Palier ne peut "
            "pas vous identifier.",
            "no_email",
        )
    name = " ".join(
        p
        for p in (
            _claim(claims, "given_name"),
            _claim(claims, "usual_name") or _claim(claims, "family_name"),
        )
        if p
    )
    return ProviderIdentity(
        issuer=settings.oidc_issuer.strip(),
        subject=str(id_claims["sub"]),
        email=email,
        name=name,
        organisation=_claim(claims, settings.oidc_organisation_claim) or None,
        id_token=str(token["id_token"]),
        next_path=row.next_path,
    )


def logout_url(settings: Settings, id_token: str, state: str) -> str | None:
    """Where to send the browser to end the provider's session too (None: the provider has
    no end_session_endpoint or cannot be reached). ProConnect requires `id_token_hint`,
    `state` (sent back to the post-logout URI, to be checked there) and
    `post_logout_redirect_uri`."""
    app = provider_app(settings)
    try:
        metadata = _metadata(app)
    except OidcError:
        return None
    if not metadata.get("end_session_endpoint"):
        return None
    result = app.create_logout_url(
        post_logout_redirect_uri=logged_out_url(settings), id_token_hint=id_token, state=state
    )
    return str(result["url"])
