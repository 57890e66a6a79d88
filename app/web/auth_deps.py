"""FastAPI dependencies for authentication, CSRF and roles.

`load_user` runs for every route (registered on the app: `FastAPI(dependencies=[...])`) and
sets, on `request.state` (through `resolve_user`):
    user        a detached snapshot of the User (read-only; None when anonymous)
    actor       the permissions.Actor (None when anonymous)
    auth        "session" | "token" | None: how the request was authenticated
    auth_session / api_token   the AuthSession / ApiToken row, when so authenticated
    csrf_token  the token this page must send back on POST/PUT/PATCH/DELETE
and enforces CSRF (see app/web/security.py for the contract).

Route parameters:
    OptionalActor   Actor | None
    CurrentActor    Actor; anonymous -> LoginRequired: 303 to /connexion?suivant=... for
                    pages, 401 JSON (WWW-Authenticate: Bearer) under /api/, 401 with a short
                    French message for htmx requests (no redirect: the page alerts)
Router or route dependencies:
    require_permission(action)   403 (audited) unless permissions.can (global actions): routes
                                 never test the actor's role themselves
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated
from urllib.parse import quote, urlsplit

from fastapi import Depends, FastAPI, HTTPException, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.security import OAuth2PasswordBearer
from markupsafe import escape
from sqlmodel import Session

from app.accounts import auth
from app.accounts.api_tokens import InvalidBearerToken, ReadOnlyToken, check_write_scope
from app.accounts.models import AuthSession, User
from app.accounts.tokens import tokens_match
from app.audit import record_now
from app.config import Settings
from app.db import begin_read
from app.deps import SessionDep, SettingsDep
from app.permissions import Action, Actor, can
from app.web.observability import PROBE_PATHS
from app.web.security import (
    CSRF_COOKIE,
    DEFAULT_MAX_BODY,
    SAFE_METHODS,
    SESSION_COOKIE,
    cookie_header,
    csrf_exempt,
    new_anonymous_csrf_token,
    queue_cookie,
    set_cookie,
    submitted_csrf_token,
    valid_anonymous_csrf_token,
)
from app.web.templating import is_htmx, render

LOGIN_PATH = "/connexion"
SESSION_EXPIRED = "Votre session a expiré : reconnectez-vous."
CSRF_FAILED = (
    "La vérification de sécurité du formulaire a échoué (page trop ancienne ou ouverte "
    "ailleurs). Rechargez la page puis recommencez."
)

# Declares the bearer scheme in OpenAPI (the /docs "Authorize" button); resolution itself
# happens in load_user.
oauth2_scheme = OAuth2PasswordBearer(tokenUrl="/api/v1/auth/token", auto_error=False)


class LoginRequired(Exception):
    """No (valid) login for a route that needs one."""

    def __init__(self, expired: bool = False) -> None:
        super().__init__("login required")
        self.expired = expired


class CsrfFailed(Exception):
    pass


READ_ONLY_TOKEN = (
    "Ce jeton d’accès personnel est en lecture seule : il ne permet pas de "
    "modifier des données. Créez un jeton « lecture et écriture » sur la page "
    "Sécurité du compte (/compte/securite)."
)


def client_ip(request: Request) -> str | None:
    return request.client.host if request.client else None


def bearer_token(request: Request) -> str | None:
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    return value.strip() if scheme.lower() == "bearer" and value.strip() else None


def _snapshot(user: User) -> User:
    """A detached copy: safe to read after the request's session is closed (error pages).
    `model_construct`: the values were read from the row (a `User()` runs the model's
    defaults for every field: seven times slower, on every authenticated request)."""
    return User.model_construct(**{name: getattr(user, name) for name in User.model_fields})


def resolve_user(request: Request, session: SessionDep, settings: SettingsDep) -> None:
    """Who is asking (sets request.state). A sync function: FastAPI runs it in the
    threadpool, so database waits (SQLite busy timeout) never block the event loop."""
    state = request.state
    state.settings = settings  # for render(): template globals follow the injected settings
    state.user = state.actor = state.auth = state.auth_session = state.api_token = None
    state.csrf_token = ""
    state.bearer = bearer_token(request)
    state.stale_session = False
    if request.url.path in PROBE_PATHS:  # load-balancer probes: no session, no cookie
        return
    cookie = request.cookies.get(SESSION_COOKIE)
    begin_read(session)  # no write lock for reading a token or a session (SQLite)
    user: User | None = None

    if state.bearer is not None:
        found_token = auth.resolve_api_token(session, state.bearer)
        begin_read(session)  # again after an activity touch (its own write transaction)
        if found_token is None:
            raise InvalidBearerToken()
        state.api_token, user = found_token
        state.auth = "token"
        check_scope(request, state.api_token.scope)
    elif cookie:
        found_session = auth.resolve_session(session, settings, cookie)
        begin_read(session)  # again after an activity touch (its own write transaction)
        if found_session is None:
            state.stale_session = True
            queue_cookie(request, cookie_header(request, settings.base_url, SESSION_COOKIE, None))
        else:
            state.auth_session, user = found_session
            state.auth = "session"
            state.csrf_token = state.auth_session.csrf_token

    if user is not None:
        state.actor = auth.build_actor(session, user)
        state.user = _snapshot(user)
    elif not request.url.path.startswith("/api/"):
        anonymous = request.cookies.get(CSRF_COOKIE)
        if not valid_anonymous_csrf_token(settings.secret_key, anonymous):
            anonymous = new_anonymous_csrf_token(settings.secret_key)
            queue_cookie(request, cookie_header(request, settings.base_url, CSRF_COOKIE, anonymous))
        state.csrf_token = anonymous
    # End the read transaction: the connection goes back to the pool while the request
    # waits for its next thread (the route runs in another one).
    session.commit()


def check_scope(request: Request, scope: str) -> None:
    """ReadOnlyToken for a read-only token on a state-changing request (revoking itself,
    `DELETE /api/v1/auth/token`, is allowed)."""
    if request.method not in SAFE_METHODS and request.url.path != "/api/v1/auth/token":
        check_write_scope(scope)


async def load_user(request: Request, _: None = Depends(resolve_user)) -> None:
    """The app-wide dependency: resolve the user, then enforce CSRF (reading the form
    body needs `await`)."""
    state = request.state
    if csrf_exempt(request, bearer=state.bearer is not None):
        return
    if state.user is None and _declared_length(request) > DEFAULT_MAX_BODY:
        raise LoginRequired()  # only logged-in users upload: never read a large anonymous body
    if not tokens_match(state.csrf_token, await submitted_csrf_token(request)):
        # A page left open past its session: say so, rather than "security check failed".
        raise LoginRequired(expired=True) if state.stale_session else CsrfFailed()


def _declared_length(request: Request) -> int:
    value = request.headers.get("content-length", "")
    return int(value) if value.isdigit() else 0


# The actor dependencies only read request.state: `async def`, so FastAPI runs them in the event
# loop rather than sending each to the threadpool.
async def optional_actor(request: Request, _: None = Depends(load_user)) -> Actor | None:
    actor: Actor | None = getattr(request.state, "actor", None)
    return actor


async def current_actor(
    request: Request,
    _: None = Depends(load_user),
    _scheme: str | None = Depends(oauth2_scheme),
) -> Actor:
    actor: Actor | None = getattr(request.state, "actor", None)
    if actor is None:
        raise LoginRequired()
    return actor


OptionalActor = Annotated[Actor | None, Depends(optional_actor)]
CurrentActor = Annotated[Actor, Depends(current_actor)]


def deny(request: Request, session: SessionDep, actor: Actor, what: str) -> HTTPException:
    """Audit a refusal and return the 403 to raise."""
    record_now(
        session,
        actor,
        "permission_denied",
        details={"path": request.url.path, "method": request.method, "needs": what},
        ip=client_ip(request),
    )
    return HTTPException(403, "Vous n’avez pas les droits nécessaires pour cette action.")


def require_permission(action: Action) -> Callable[..., Actor]:
    """Router dependency: `permissions.can(actor, action)` must hold."""

    def dependency(request: Request, actor: CurrentActor, session: SessionDep) -> Actor:
        if not can(actor, action):
            raise deny(request, session, actor, action.value)
        return actor

    return dependency


# --- signing in ------------------------------------------------------------------------------


def start_session(
    request: Request, session: Session, settings: Settings, user: User, response: Response
) -> AuthSession:
    """Open a session for `user` (replacing this browser's, if any) and set its cookie on
    `response`: every way of signing in ends here."""
    raw, auth_session = auth.open_session(
        session,
        settings,
        user,
        user_agent=request.headers.get("user-agent"),
        ip=client_ip(request),
        replaces=request.cookies.get(SESSION_COOKIE),
    )
    max_age = settings.session_absolute_hours * 3600
    set_cookie(response, request, settings.base_url, SESSION_COOKIE, raw, max_age=max_age)
    return auth_session


def local_path(target: str | None) -> str | None:
    """`target` if it is a path on this site ("/x?y"), else None (no open redirect)."""
    if not target or not target.startswith("/") or target.startswith("//"):
        return None
    if "\\" in target or any(ord(c) < 32 or ord(c) == 127 for c in target):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return None
    return target


def login_url(next_path: str | None) -> str:
    target = local_path(next_path)
    if target is None or target == "/":
        return LOGIN_PATH
    return f"{LOGIN_PATH}?suivant={quote(target, safe='/')}"


# --- the responses for failures ---------------------------------------------------------------


def _return_path(request: Request) -> str | None:
    """Where to come back after logging in: this page, or for a form post or an htmx call,
    the page it came from."""
    if request.method in ("GET", "HEAD") and not is_htmx(request):
        query = f"?{request.url.query}" if request.url.query else ""
        return request.url.path + query
    source = request.headers.get("HX-Current-URL") or request.headers.get("referer") or ""
    parts = urlsplit(source)
    if parts.netloc and parts.netloc != request.url.netloc:
        return None
    return (parts.path or "/") + (f"?{parts.query}" if parts.query else "")


async def login_required_handler(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, LoginRequired)
    if request.url.path.startswith("/api/"):
        return JSONResponse(
            {"detail": "Authentification requise."},
            status_code=401,
            headers={"WWW-Authenticate": "Bearer"},
        )
    target = login_url(_return_path(request))
    if is_htmx(request):
        # No redirect: the page keeps the user's input and shows this alert.
        body = (
            '<div class="fr-alert fr-alert--error fr-alert--sm" role="alert">'
            f"<p>{SESSION_EXPIRED} "
            f'<a href="{escape(target)}" target="_blank" rel="noopener">Se reconnecter '
            "(nouvel onglet)</a></p></div>"
        )
        return HTMLResponse(body, status_code=401)
    return RedirectResponse(target, status_code=303)


async def csrf_failed_handler(request: Request, exc: Exception) -> Response:
    if request.url.path.startswith("/api/"):
        return JSONResponse({"detail": CSRF_FAILED}, status_code=403)
    if is_htmx(request):
        return HTMLResponse(
            f'<div class="fr-alert fr-alert--error fr-alert--sm" role="alert"><p>{CSRF_FAILED}'
            "</p></div>",
            status_code=403,
        )
    return render(
        request,
        "pages/error.html",
        {"status": 403, "title": "Vérification de sécurité échouée", "message": CSRF_FAILED},
        status_code=403,
    )


async def invalid_bearer_handler(request: Request, exc: Exception) -> Response:
    return JSONResponse(
        {"detail": "Jeton d’accès invalide, expiré ou révoqué."},
        status_code=401,
        headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
    )


async def read_only_token_handler(request: Request, exc: Exception) -> Response:
    return JSONResponse({"detail": READ_ONLY_TOKEN}, status_code=403)


def install(app: FastAPI) -> None:
    """Register the handlers of the exceptions raised above."""
    app.add_exception_handler(ReadOnlyToken, read_only_token_handler)
    app.add_exception_handler(LoginRequired, login_required_handler)
    app.add_exception_handler(CsrfFailed, csrf_failed_handler)
    app.add_exception_handler(InvalidBearerToken, invalid_bearer_handler)
