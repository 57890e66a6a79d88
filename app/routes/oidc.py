"""ProConnect sign-in pages: start, the provider's return, the e-mailed link proof, the
return after logging out at the provider; the admins' list of identities."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from app.accounts import identities, oidc
from app.accounts.tokens import new_token, tokens_match
from app.audit import record_now
from app.deps import IdPath, SessionDep, SettingsDep
from app.permissions import Action
from app.web.auth_deps import (
    LOGIN_PATH,
    CurrentActor,
    client_ip,
    local_path,
    require_permission,
    start_session,
)
from app.web.security import delete_cookie, set_cookie
from app.web.templating import render

router = APIRouter(include_in_schema=False)
ADMIN_PATH = "/admin/proconnect"
admin_router = APIRouter(
    prefix=ADMIN_PATH,
    include_in_schema=False,
    dependencies=[Depends(require_permission(Action.manage_users))],
)

LOGIN_COOKIE = "palier_oidc"  # binds a login in progress to this browser
LOGOUT_COOKIE = "palier_oidc_sortie"  # the `state` of a logout at the provider
LOGOUT_SECONDS = 600


def _message(
    request: Request,
    status_code: int,
    heading: str,
    text: str,
    *,
    level: str = "error",
    details: list[str] | None = None,
) -> Response:
    response = render(
        request,
        "pages/proconnect/message.html",
        {"heading": heading, "level": level, "text": text, "details": details or []},
        status_code=status_code,
    )
    response.headers["Cache-Control"] = "no-store"
    return response


DISABLED = "La connexion avec ProConnect n’est pas activée sur ce service."


@router.post("/proconnect/connexion")
def start(
    request: Request, session: SessionDep, settings: SettingsDep, next: Annotated[str, Form()] = ""
) -> Response:
    if not settings.oidc_enabled:
        return _message(request, 404, "Connexion avec ProConnect", DISABLED)
    try:
        raw, url = oidc.start_login(session, settings, local_path(next))
    except oidc.OidcError as exc:
        return _message(request, 503, "Connexion avec ProConnect", exc.message)
    response = RedirectResponse(url, status_code=303)
    set_cookie(
        response,
        request,
        settings.base_url,
        LOGIN_COOKIE,
        raw,
        max_age=oidc.LOGIN_REQUEST_MINUTES * 60,
    )
    return response


@router.get("/proconnect/retour", response_class=HTMLResponse)
def callback(request: Request, session: SessionDep, settings: SettingsDep) -> Response:
    if not settings.oidc_enabled:
        return _message(request, 404, "Connexion avec ProConnect", DISABLED)
    ip = client_ip(request)
    params = {k: v for k, v in request.query_params.items()}
    try:
        found = oidc.finish_login(session, settings, request.cookies.get(LOGIN_COOKIE), params)
        result = identities.sign_in(session, settings, found, ip)
    except oidc.OidcError as exc:
        record_now(
            session,
            None,
            "login_failed",
            details={"via": "proconnect", "reason": exc.reason},
            ip=ip,
        )
        response = _message(request, 400, "Connexion avec ProConnect impossible", exc.message)
    except identities.IdentityError as exc:
        response = _message(request, 403, "Connexion avec ProConnect impossible", exc.message)
    else:
        response = _signed_in(request, session, settings, found, result)
    delete_cookie(response, request, settings.base_url, LOGIN_COOKIE)
    return response


def _signed_in(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    found: oidc.ProviderIdentity,
    result: identities.SignIn,
) -> Response:
    if result.outcome == "link_sent":
        return _message(
            request,
            200,
            "Vérifiez votre messagerie",
            f"Un compte Palier existe à l’adresse {found.email}. Pour le relier à votre identité "
            "ProConnect, ouvrez le lien que nous venons d’y envoyer (valable "
            f"{settings.oidc_link_hours} h, utilisable une seule fois), puis connectez-vous de "
            "nouveau avec ProConnect.",
            level="info",
        )
    if result.outcome == "unknown" or result.user is None:
        return _message(
            request,
            403,
            "Aucun compte Palier pour cette identité",
            f"ProConnect vous a bien identifié ({found.email}), mais aucun compte Palier ne "
            "correspond à cette identité : vous n’avez accès à rien pour le moment.",
            details=[
                "Les comptes sont ouverts par l’agence régionale de santé (ARS) ou par "
                "l’administrateur du service, qui vous attribuent un rôle et un "
                "périmètre. Demandez-leur une invitation ou l’ouverture d’un compte à "
                "cette adresse, puis reconnectez-vous avec ProConnect."
            ],
        )
    response = RedirectResponse(found.next_path or "/", status_code=303)
    auth_session = start_session(request, session, settings, result.user, response)
    identities.remember_session(session, auth_session.id, found.issuer, found.id_token)
    return response


def _link_page(request: Request, status_code: int = 200, **context: Any) -> Response:
    response = render(request, "pages/proconnect/link.html", context, status_code=status_code)
    response.headers["Cache-Control"] = "no-store"
    return response


@router.get(identities.LINK_PATH + "/{token}", response_class=HTMLResponse)
def link_form(request: Request, token: str, session: SessionDep) -> Response:
    try:
        _, identity, user = identities.check_link(session, token)
    except identities.IdentityError as exc:
        return _link_page(request, 400, invalid=exc.message)
    return _link_page(
        request, email=user.email, identity_email=identity.email, organisation=identity.organisation
    )


@router.post(identities.LINK_PATH + "/{token}", response_class=HTMLResponse)
def link_confirm(request: Request, token: str, session: SessionDep) -> Response:
    try:
        user = identities.confirm_link(session, token, client_ip(request))
    except identities.IdentityError as exc:
        return _link_page(request, 400, invalid=exc.message)
    return _message(
        request,
        200,
        "Identité ProConnect reliée",
        f"Votre identité ProConnect est reliée au compte {user.email}. "
        "Connectez-vous maintenant avec ProConnect.",
        level="success",
    )


def provider_logout(
    request: Request, session: SessionDep, settings: SettingsDep, session_id: str
) -> Response | None:
    """A redirect that also ends the provider's session (None: the session was not opened
    with ProConnect). Its `state` waits in a cookie for the provider's return."""
    state = new_token()
    url = identities.provider_logout_url(session, settings, session_id, state)
    if url is None:
        return None
    response = RedirectResponse(url, status_code=303)
    set_cookie(response, request, settings.base_url, LOGOUT_COOKIE, state, max_age=LOGOUT_SECONDS)
    return response


@router.get(oidc.LOGGED_OUT_PATH)
def logged_out(request: Request, settings: SettingsDep, state: str = "") -> Response:
    """The provider sends the browser back here after ending its own session, with the
    logout's `state`: only this browser's state confirms « Vous êtes déconnecté »."""
    confirmed = tokens_match(request.cookies.get(LOGOUT_COOKIE), state)
    response = RedirectResponse(
        f"{LOGIN_PATH}?info=deconnexion" if confirmed else LOGIN_PATH, status_code=303
    )
    delete_cookie(response, request, settings.base_url, LOGOUT_COOKIE)
    return response


# --- admin ----------------------------------------------------------------------------------

NOTICES = {"lie": "L’identité a été reliée au compte.", "detache": "L’identité a été détachée."}


def _admin_page(
    request: Request, session: SessionDep, status_code: int = 200, error: str | None = None
) -> Response:
    notice = NOTICES.get(request.query_params.get("info", ""))
    return render(
        request,
        "pages/admin/proconnect.html",
        {
            "rows": identities.list_identities(session),
            "messages": [{"level": "success", "text": notice}] if notice else [],
            "error": error,
            "breadcrumb": [{"text": "Accueil", "href": "/"}, {"text": "Identités ProConnect"}],
        },
        status_code=status_code,
    )


@admin_router.get("", response_class=HTMLResponse)
def admin_list(request: Request, session: SessionDep) -> Response:
    return _admin_page(request, session)


@admin_router.post("/{identity_id}/lier", response_class=HTMLResponse)
def admin_link(
    request: Request,
    identity_id: IdPath,
    actor: CurrentActor,
    session: SessionDep,
    email: Annotated[str, Form()] = "",
) -> Response:
    try:
        identities.admin_link(session, actor, identity_id, email, client_ip(request))
    except identities.IdentityError as exc:
        return _admin_page(request, session, 400, exc.message)
    return RedirectResponse(f"{ADMIN_PATH}?info=lie", status_code=303)


@admin_router.post("/{identity_id}/detacher", response_class=HTMLResponse)
def admin_unlink(
    request: Request, identity_id: IdPath, actor: CurrentActor, session: SessionDep
) -> Response:
    try:
        identities.admin_unlink(session, actor, identity_id, client_ip(request))
    except identities.IdentityError as exc:
        return _admin_page(request, session, 404, exc.message)
    return RedirectResponse(f"{ADMIN_PATH}?info=detache", status_code=303)
