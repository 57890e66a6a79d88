"""Login, logout, password reset (pages) and the token endpoints of the API."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.security import OAuth2PasswordRequestForm
from pydantic import BaseModel

from app.accounts import auth, identities, password_reset, totp
from app.accounts.models import User
from app.accounts.passwords import MIN_LENGTH
from app.accounts.tokens import token_hash
from app.audit import record_now
from app.deps import SessionDep, SettingsDep
from app.routes import mfa_login
from app.routes import oidc as oidc_routes
from app.web.auth_deps import LOGIN_PATH, CurrentActor, client_ip, local_path, start_session
from app.web.security import SESSION_COOKIE, delete_cookie
from app.web.templating import render

router = APIRouter(include_in_schema=False)
api_router = APIRouter(prefix="/api/v1", tags=["authentification"])

NOTICES = {
    "deconnexion": ("success", "Vous êtes déconnecté."),
    "reinitialisation": (
        "success",
        "Votre mot de passe a été modifié. Connectez-vous avec votre nouveau mot de passe.",
    ),
    "code-expire": (
        "info",
        "Votre connexion n’a pas abouti à temps (ou la page a été ouverte "
        "ailleurs) : saisissez à nouveau votre mot de passe.",
    ),
}


def _login_page(
    request: Request, settings: SettingsDep, *, status_code: int = 200, **context: Any
) -> Response:
    notice = NOTICES.get(request.query_params.get("info", ""))
    messages = [{"level": notice[0], "text": notice[1]}] if notice else []
    return render(
        request,
        "pages/login.html",
        {"messages": messages, "proconnect": settings.oidc_enabled, **context},
        status_code=status_code,
    )


PROCONNECT_REQUIRED = (
    "Votre compte se connecte avec ProConnect, l’identité des agents publics "
    "et des professionnels : utilisez le bouton « S’identifier avec "
    "ProConnect »."
)


@router.get("/connexion", response_class=HTMLResponse)
def login_form(request: Request, settings: SettingsDep, suivant: str | None = None) -> Response:
    target = local_path(suivant)
    if request.state.actor is not None:
        return RedirectResponse(target or "/", status_code=303)
    return _login_page(request, settings, next=target)


def _refused(request: Request, session: SessionDep, user: User, reason: str) -> None:
    """Audit a sign-in refused after a correct password."""
    record_now(
        session, user, "login_failed", "user", user.id, {"reason": reason}, ip=client_ip(request)
    )


class LoginForm(BaseModel):
    email: str = ""
    password: str = ""
    next: str = ""


@router.post("/connexion", response_class=HTMLResponse)
def login(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    form: Annotated[LoginForm, Form()],
) -> Response:
    email, password, target = form.email, form.password, local_path(form.next)
    if not email.strip() or not password:
        return _login_page(
            request,
            settings,
            status_code=400,
            email=email,
            next=target,
            error="Indiquez votre adresse électronique et votre mot de passe.",
        )
    try:
        user = auth.authenticate(session, settings, email, password, client_ip(request))
    except auth.RateLimited as exc:
        return _login_page(
            request, settings, status_code=429, email=email, next=target, error=exc.message
        )
    except auth.InvalidCredentials as exc:
        return _login_page(
            request, settings, status_code=400, email=email, next=target, error=exc.message
        )
    if identities.requires_proconnect(settings, user.role):
        _refused(request, session, user, "proconnect_required")
        return _login_page(
            request, settings, status_code=403, email=email, next=target, error=PROCONNECT_REQUIRED
        )
    pending = mfa_login.second_step(request, session, settings, user, target)
    if pending is not None:  # the code (or the enrolment) comes next
        return pending
    response = RedirectResponse(target or "/", status_code=303)
    start_session(request, session, settings, user, response)
    return response


@router.post("/deconnexion")
def logout(request: Request, session: SessionDep, settings: SettingsDep) -> Response:
    raw = request.cookies.get(SESSION_COOKIE)
    response = None
    if raw:
        # A ProConnect session ends at the provider too, which sends the browser back.
        response = oidc_routes.provider_logout(request, session, settings, token_hash(raw))
        auth.close_session(session, raw, client_ip(request))
    if response is None:
        response = RedirectResponse(f"{LOGIN_PATH}?info=deconnexion", status_code=303)
    delete_cookie(response, request, settings.base_url, SESSION_COOKIE)
    return response


@router.get("/session/csrf")
def csrf_token(request: Request) -> dict[str, Any]:
    """The CSRF token of this browser (e.g. for a page whose session was renewed in another
    tab). Readable by same-origin scripts only."""
    return {
        "csrf_token": request.state.csrf_token,
        "authenticated": request.state.actor is not None,
    }


@router.get("/mot-de-passe-oublie", response_class=HTMLResponse)
def forgot_password_form(
    request: Request, settings: SettingsDep, envoye: str | None = None
) -> Response:
    return render(
        request,
        "pages/auth/forgot_password.html",
        {"sent": envoye is not None, "reset_hours": settings.password_reset_hours},
    )


@router.post("/mot-de-passe-oublie", response_class=HTMLResponse)
def forgot_password(
    request: Request, session: SessionDep, settings: SettingsDep, email: Annotated[str, Form()] = ""
) -> Response:
    if "@" not in email.strip():
        return render(
            request,
            "pages/auth/forgot_password.html",
            {
                "email": email,
                "reset_hours": settings.password_reset_hours,
                "error": "Indiquez une adresse électronique, par exemple nom@domaine.fr.",
            },
            status_code=400,
        )
    password_reset.request_password_reset(session, settings, email, client_ip(request))
    return RedirectResponse("/mot-de-passe-oublie?envoye=1", status_code=303)


def _reset_page(request: Request, status_code: int = 200, **context: Any) -> Response:
    response = render(
        request,
        "pages/auth/reset_password.html",
        {"min_length": MIN_LENGTH, **context},
        status_code=status_code,
    )
    response.headers["Cache-Control"] = "no-store"
    return response


@router.get("/reinitialiser/{token}", response_class=HTMLResponse)
def reset_password_form(request: Request, token: str, session: SessionDep) -> Response:
    try:
        _, user = password_reset.check_reset_token(session, token)
    except auth.InvalidResetToken as exc:
        return _reset_page(request, status_code=400, invalid=exc.message)
    return _reset_page(request, email=user.email)


class NewPasswordForm(BaseModel):
    password: str = ""
    password_confirm: str = ""


@router.post("/reinitialiser/{token}", response_class=HTMLResponse)
def reset_password(
    request: Request, token: str, session: SessionDep, form: Annotated[NewPasswordForm, Form()]
) -> Response:
    try:
        _, user = password_reset.check_reset_token(session, token)
    except auth.InvalidResetToken as exc:
        return _reset_page(request, status_code=400, invalid=exc.message)
    if form.password != form.password_confirm:
        return _reset_page(
            request,
            status_code=400,
            email=user.email,
            error="Les deux mots de passe saisis sont différents.",
        )
    try:
        password_reset.reset_password(session, token, form.password, client_ip(request))
    except auth.InvalidResetToken as exc:
        return _reset_page(request, status_code=400, invalid=exc.message)
    except auth.WeakPassword as exc:
        return _reset_page(request, status_code=400, email=user.email, error=exc.message)
    return RedirectResponse(f"{LOGIN_PATH}?info=reinitialisation", status_code=303)


# --- API ------------------------------------------------------------------------------------


PASSWORD_GRANT_REFUSED = (
    "Les comptes ARS, comité et administrateur n’obtiennent pas de jeton avec leur mot de "
    "passe : créez un jeton d’accès personnel sur la page Sécurité du compte "
    "(/compte/securite), puis envoyez-le dans l’en-tête « Authorization: Bearer »."
)


class TokenOut(BaseModel):
    access_token: str
    token_type: str = "bearer"
    expires_in: int


class Me(BaseModel):
    id: int
    email: str
    name: str
    role: str
    region: str | None
    structures: list[str]  # FINESS numbers (directors)


@api_router.post(
    "/auth/token",
    response_model=TokenOut,
    responses={
        401: {"description": "Identifiants incorrects"},
        403: {
            "description": "Comptes ARS, comité, administrateur : "
            "utiliser un jeton d’accès personnel"
        },
        429: {"description": "Trop de tentatives échouées"},
    },
)
def create_token(
    request: Request,
    form: Annotated[OAuth2PasswordRequestForm, Depends()],
    session: SessionDep,
    settings: SettingsDep,
) -> Any:
    """Obtenir un jeton d’accès (révocable) avec l’adresse électronique et le mot de passe
    (comptes de directeur). Les comptes ARS, comité et administrateur utilisent un jeton
    d’accès personnel créé sur la page Sécurité du compte (403 ici)."""
    try:
        user = auth.authenticate(
            session, settings, form.username, form.password, client_ip(request)
        )
    except auth.RateLimited as exc:
        return JSONResponse(
            {"detail": exc.message},
            status_code=429,
            headers={"Retry-After": str(settings.login_window_minutes * 60)},
        )
    except auth.InvalidCredentials as exc:
        return JSONResponse(
            {"detail": exc.message}, status_code=401, headers={"WWW-Authenticate": "Bearer"}
        )
    if totp.privileged(user):
        _refused(request, session, user, "password_grant_refused")
        return JSONResponse({"detail": PASSWORD_GRANT_REFUSED}, status_code=403)
    issued = auth.issue_api_token(session, settings, user, client_ip(request))
    return TokenOut(access_token=issued.token, expires_in=issued.expires_in)


@api_router.delete("/auth/token", status_code=204)
def revoke_token(request: Request, actor: CurrentActor, session: SessionDep) -> Response:
    """Révoquer le jeton d’accès utilisé par cette requête."""
    raw = request.headers.get("authorization", "").partition(" ")[2].strip()
    if request.state.auth != "token" or not raw:
        raise HTTPException(400, "Cette requête n’utilise pas de jeton d’accès.")
    auth.revoke_api_token(session, raw, client_ip(request))
    return Response(status_code=204)


@api_router.get("/me", response_model=Me)
def me(request: Request, actor: CurrentActor, session: SessionDep) -> Me:
    """Le compte authentifié et ses structures (numéros FINESS)."""
    user = request.state.user
    return Me(
        id=actor.id,
        email=user.email,
        name=user.name,
        role=actor.role.value,
        region=actor.region,
        structures=auth.structure_finess(session, actor),
    )
