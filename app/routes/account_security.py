"""The account's security page (/compte/securite): second factor (enrol, new recovery
codes), remembered devices, personal access tokens for the API; and the administrator's
reset of a lost factor. Every form posts its CSRF token; every change is audited by the
services (app/accounts/totp.py, second_factor.py, tokens_pat.py)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlmodel import Session

from app.accounts import auth, second_factor, tokens_pat, totp
from app.accounts.models import User
from app.config import Settings
from app.db import utcnow
from app.deps import IdPath, SessionDep, SettingsDep
from app.permissions import Action, Actor
from app.routes.mfa_login import confirm_enrolment, enrol_page, recovery_codes_page
from app.web.auth_deps import CurrentActor, client_ip, require_permission
from app.web.templating import render

PATH = "/compte/securite"
router = APIRouter(prefix=PATH, include_in_schema=False)
admin_router = APIRouter(prefix="/admin/utilisateurs", include_in_schema=False,
                         dependencies=[Depends(require_permission(Action.manage_users))])

NOTICES = {
    "active": ("success", "La double authentification est activée."),
    "appareil": ("success", "Cet appareil a été oublié : le code sera demandé à la prochaine "
                            "connexion."),
    "appareils": ("success", "Tous les appareils mémorisés ont été oubliés."),
    "jeton-revoque": ("success", "Le jeton d’accès a été révoqué."),
    **{f"codes-restants-{n}": ("warning", f"Il vous reste {n} code(s) de secours : générez-en "
                               "de nouveaux ci-dessous.") for n in range(4)},
}
BREADCRUMB = [{"text": "Accueil", "href": "/"}, {"text": "Sécurité du compte"}]


def _user(session: Session, actor: Actor) -> User:
    user = session.get(User, actor.id)
    assert user is not None
    return user


def _security_page(request: Request, session: Session, settings: Settings, actor: Actor,
                   status_code: int = 200, **context: Any) -> Response:
    notice = NOTICES.get(request.query_params.get("info", ""))
    response = render(request, "pages/account/security.html", {
        "enrolled": totp.enrolled(session, actor.id),
        "required": totp.privileged(actor),
        "codes_left": totp.recovery_codes_left(session, actor.id),
        "devices": second_factor.list_devices(session, actor.id),
        "tokens": tokens_pat.list_pats(session, actor.id),
        "now": utcnow(),
        "scopes": tokens_pat.SCOPES,
        "scope_options": [{"value": k, "label": v} for k, v in tokens_pat.SCOPES.items()],
        "lifetime_options": [{"value": d, "label": f"{d} jours"} for d in tokens_pat.LIFETIMES],
        "remember_days": second_factor.remember_days(settings),
        "messages": [{"level": notice[0], "text": notice[1]}] if notice else [],
        "breadcrumb": BREADCRUMB, "pat": {}, "pat_errors": {}, **context,
    }, status_code=status_code)
    response.headers["Cache-Control"] = "no-store"
    return response


@router.get("", response_class=HTMLResponse)
def security(request: Request, actor: CurrentActor, session: SessionDep,
             settings: SettingsDep) -> Response:
    return _security_page(request, session, settings, actor)


@router.get("/activation", response_class=HTMLResponse)
def enrol_form(request: Request, actor: CurrentActor, session: SessionDep) -> Response:
    try:
        enrolment = totp.begin_enrolment(session, _user(session, actor))
    except totp.AlreadyEnrolled:
        return RedirectResponse(PATH, status_code=303)
    return enrol_page(request, enrolment, forced=False)


@router.post("/activation", response_class=HTMLResponse)
def enrol(request: Request, actor: CurrentActor, session: SessionDep, settings: SettingsDep,
          code: Annotated[str, Form()] = "") -> Response:
    codes = confirm_enrolment(request, session, settings, _user(session, actor), code,
                              forced=False)
    if isinstance(codes, Response):
        return codes
    return recovery_codes_page(request, codes, next_path=f"{PATH}?info=active", enrolled=True)


@router.post("/codes-de-secours", response_class=HTMLResponse)
def new_recovery_codes(request: Request, actor: CurrentActor, session: SessionDep,
                       settings: SettingsDep, code: Annotated[str, Form()] = "") -> Response:
    if not totp.enrolled(session, actor.id):
        return RedirectResponse(PATH, status_code=303)
    try:
        codes = totp.regenerate_recovery_codes(session, settings, actor.id, code,
                                               client_ip(request))
    except (auth.RateLimited, totp.CodeError) as exc:
        status = 429 if isinstance(exc, auth.RateLimited) else 400
        return _security_page(request, session, settings, actor, status, codes_error=exc.message)
    return recovery_codes_page(request, codes, next_path=PATH, enrolled=False)


def _done(found: bool | int, missing: str, info: str) -> Response:
    """Back to the security page with `info` once something was found and handled, else 404."""
    if not found:
        raise HTTPException(404, missing)
    return RedirectResponse(f"{PATH}?info={info}", status_code=303)


@router.post("/appareils/{device_id}/oublier")
def forget_device(request: Request, device_id: IdPath, actor: CurrentActor,
                  session: SessionDep) -> Response:
    return _done(second_factor.forget_device(session, actor.id, device_id, client_ip(request)),
                 "Appareil introuvable.", "appareil")


@router.post("/appareils/oublier")
def forget_devices(request: Request, actor: CurrentActor, session: SessionDep) -> Response:
    second_factor.forget_device(session, actor.id, None, client_ip(request))
    return RedirectResponse(f"{PATH}?info=appareils", status_code=303)


@router.post("/jetons", response_class=HTMLResponse)
def create_token(
    request: Request, actor: CurrentActor, session: SessionDep, settings: SettingsDep,
    name: Annotated[str, Form()] = "", scope: Annotated[str, Form()] = "",
    days: Annotated[str, Form()] = "",
) -> Response:
    form = tokens_pat.NewPat(name=name, scope=scope, days=days)
    try:
        issued = tokens_pat.create_pat(session, settings, _user(session, actor), form,
                                       client_ip(request))
    except tokens_pat.PatError as exc:
        return _security_page(request, session, settings, actor, 400,
                              pat={"name": name, "scope": scope, "days": days},
                              pat_errors=exc.errors)
    return _security_page(request, session, settings, actor, new_token=issued.token,
                          new_token_row=issued.row)


@router.post("/jetons/{token_id}/revoquer")
def revoke_token(request: Request, token_id: IdPath, actor: CurrentActor,
                 session: SessionDep) -> Response:
    return _done(tokens_pat.revoke_pat(session, actor.id, token_id, client_ip(request)),
                 "Jeton introuvable.", "jeton-revoque")


@admin_router.post("/{user_id}/double-authentification")
def reset_factor(request: Request, user_id: IdPath, actor: CurrentActor,
                 session: SessionDep) -> Response:
    """Remove a user's lost second factor (audited): they enrol again at next login."""
    if session.get(User, user_id) is None:
        raise HTTPException(404, "Compte introuvable.")
    totp.reset_second_factor(session, actor, user_id, client_ip(request))
    return RedirectResponse(f"/admin/utilisateurs?info=facteur#user-{user_id}",
                            status_code=303)
