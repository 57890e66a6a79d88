"""The second step of a password login (ars, committee, admin, and whoever enrolled): the
code page, a recovery code, and the enrolment forced at first login. Between the password
and the code the browser holds only a login challenge (app/accounts/second_factor.py): it
is still anonymous everywhere else. See docs/security.md."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import BaseModel
from sqlmodel import Session

from app.accounts import auth, second_factor, totp
from app.accounts.mfa_models import LoginChallenge
from app.accounts.models import User
from app.config import Settings
from app.deps import SessionDep, SettingsDep
from app.web.auth_deps import LOGIN_PATH, client_ip, start_session
from app.web.security import delete_cookie, set_cookie
from app.web.templating import render

router = APIRouter(include_in_schema=False)

CHALLENGE_COOKIE = "palier_mfa"
DEVICE_COOKIE = "palier_appareil"
CODE_PATH = "/connexion/code"
ENROL_PATH = "/connexion/activation"
EXPIRED = f"{LOGIN_PATH}?info=code-expire"


def second_step(
    request: Request, session: Session, settings: Settings, user: User, target: str | None
) -> Response | None:
    """After a right password: None when no code is needed (or this browser is a
    remembered device of the user's); else the redirect to the code (or enrolment) page,
    with the challenge cookie."""
    assert user.id is not None
    if not totp.second_factor_needed(session, user):
        return None
    if totp.enrolled(session, user.id) and second_factor.device_trusted(
        session, settings, user.id, request.cookies.get(DEVICE_COOKIE)
    ):
        return None
    raw = second_factor.open_challenge(session, settings, user, target)
    path = CODE_PATH if totp.enrolled(session, user.id) else ENROL_PATH
    response = RedirectResponse(path, status_code=303)
    set_cookie(
        response,
        request,
        settings.base_url,
        CHALLENGE_COOKIE,
        raw,
        max_age=settings.mfa_challenge_minutes * 60,
    )
    return response


def _challenge(request: Request, session: Session) -> tuple[LoginChallenge, User] | None:
    return second_factor.resolve_challenge(session, request.cookies.get(CHALLENGE_COOKIE))


def _page(request: Request, template: str, status_code: int = 200, **context: Any) -> Response:
    response = render(
        request,
        template,
        {"remember_days": second_factor.remember_days(request.state.settings), **context},
        status_code=status_code,
    )
    response.headers["Cache-Control"] = "no-store"
    return response


def _log_in(
    request: Request,
    session: Session,
    settings: Settings,
    user: User,
    response: Response,
    remember: bool,
) -> Response:
    """Open the session (the challenge is used), set its cookie; remember the device."""
    start_session(request, session, settings, user, response)
    delete_cookie(response, request, settings.base_url, CHALLENGE_COOKIE)
    if remember and second_factor.remember_days(settings) > 0:
        value = second_factor.remember_device(
            session, settings, user, request.headers.get("user-agent"), client_ip(request)
        )
        set_cookie(
            response,
            request,
            settings.base_url,
            DEVICE_COOKIE,
            value,
            max_age=second_factor.remember_days(settings) * 86400,
        )
    return response


@router.get(CODE_PATH, response_class=HTMLResponse)
def code_form(request: Request, session: SessionDep) -> Response:
    found = _challenge(request, session)
    if found is None:
        return RedirectResponse(EXPIRED, status_code=303)
    assert found[1].id is not None
    if not totp.enrolled(session, found[1].id):
        return RedirectResponse(ENROL_PATH, status_code=303)
    return _page(request, "pages/auth/code.html")


class CodeForm(BaseModel):
    code: str = ""
    recovery_code: str = ""
    remember: str = ""


@router.post(CODE_PATH, response_class=HTMLResponse)
def code_submit(
    request: Request, session: SessionDep, settings: SettingsDep, form: Annotated[CodeForm, Form()]
) -> Response:
    """One form, two ways: `code` (the application's) or `recovery_code`."""
    code, recovery_code = form.code, form.recovery_code
    found = _challenge(request, session)
    if found is None:
        return RedirectResponse(EXPIRED, status_code=303)
    challenge, user = found
    assert user.id is not None
    use_recovery = bool(recovery_code.strip()) and not code.strip()
    if not code.strip() and not use_recovery:
        return _page(
            request,
            "pages/auth/code.html",
            400,
            error="Saisissez le code à 6 chiffres de votre application.",
        )
    left = None
    try:
        if use_recovery:
            left = totp.check_recovery_code(
                session, settings, user.id, recovery_code, client_ip(request)
            )
        else:
            totp.check_code(session, settings, user.id, code, client_ip(request))
    except auth.RateLimited as exc:
        return _page(request, "pages/auth/code.html", 429, error=exc.message)
    except totp.CodeError as exc:
        return _page(request, "pages/auth/code.html", 400, error=exc.message, recovery=use_recovery)
    if not second_factor.close_challenge(session, request.cookies.get(CHALLENGE_COOKIE, "")):
        return RedirectResponse(EXPIRED, status_code=303)
    target = challenge.next_path or "/"
    if left is not None and left <= 3:
        target = f"/compte/securite?info=codes-restants-{left}"
    response = RedirectResponse(target, status_code=303)
    return _log_in(request, session, settings, user, response, form.remember == "1")


@router.get(ENROL_PATH, response_class=HTMLResponse)
def enrol_form(request: Request, session: SessionDep) -> Response:
    found = _challenge(request, session)
    if found is None:
        return RedirectResponse(EXPIRED, status_code=303)
    try:
        enrolment = totp.begin_enrolment(session, found[1])
    except totp.AlreadyEnrolled:
        return RedirectResponse(CODE_PATH, status_code=303)
    return enrol_page(request, enrolment, forced=True)


def enrol_page(
    request: Request,
    enrolment: totp.Enrolment,
    *,
    forced: bool,
    status_code: int = 200,
    error: str | None = None,
) -> Response:
    return _page(
        request,
        "pages/auth/enrol.html",
        status_code,
        qr=totp.qr_svg(enrolment.uri),
        secret=totp.grouped(enrolment.secret),
        forced=forced,
        action=ENROL_PATH if forced else "/compte/securite/activation",
        error=error,
    )


def confirm_enrolment(
    request: Request, session: Session, settings: Settings, user: User, code: str, *, forced: bool
) -> list[str] | Response:
    """Turn the factor on with its first code: the recovery codes, or the response to send
    (already on: onwards; a wrong code or too many: the enrolment page again)."""
    assert user.id is not None
    try:
        enrolment = totp.begin_enrolment(session, user)
    except totp.AlreadyEnrolled:
        return RedirectResponse(CODE_PATH if forced else "/compte/securite", status_code=303)
    try:
        return totp.confirm_enrolment(session, settings, user.id, code, client_ip(request))
    except (auth.RateLimited, totp.CodeError) as exc:
        status = 429 if isinstance(exc, auth.RateLimited) else 400
        return enrol_page(request, enrolment, forced=forced, status_code=status, error=exc.message)


@router.post(ENROL_PATH, response_class=HTMLResponse)
def enrol_submit(
    request: Request, session: SessionDep, settings: SettingsDep, code: Annotated[str, Form()] = ""
) -> Response:
    found = _challenge(request, session)
    if found is None:
        return RedirectResponse(EXPIRED, status_code=303)
    challenge, user = found
    codes = confirm_enrolment(request, session, settings, user, code, forced=True)
    if isinstance(codes, Response):
        return codes
    if not second_factor.close_challenge(session, request.cookies.get(CHALLENGE_COOKIE, "")):
        return RedirectResponse(EXPIRED, status_code=303)
    response = recovery_codes_page(
        request, codes, next_path=challenge.next_path or "/", enrolled=True
    )
    return _log_in(request, session, settings, user, response, remember=False)


def recovery_codes_page(
    request: Request, codes: list[str], *, next_path: str, enrolled: bool
) -> Response:
    """The recovery codes, shown this once."""
    return _page(
        request, "pages/auth/recovery_codes.html", codes=codes, next=next_path, enrolled=enrolled
    )
