"""Invitations of directors: `/invitations` (ARS referents for their region, admins) lists
them and sends new ones; `/invitation/{token}` is the invitee's page: create an account, or
accept while logged in with the invited address. See app/accounts/invitations.py."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from app.accounts import invitations as svc
from app.accounts.passwords import MIN_LENGTH
from app.deps import IdPath, SessionDep, SettingsDep
from app.errors import Forbidden
from app.permissions import Action, can, can_everywhere
from app.web.auth_deps import (
    CurrentActor,
    OptionalActor,
    client_ip,
    login_url,
    require_permission,
    start_session,
)
from app.web.templating import render

PATH = "/invitations"
router = APIRouter(include_in_schema=False)
inviters = [Depends(require_permission(Action.invite_director))]

NOTICES = {"annulee": "L’invitation a été annulée : son lien ne fonctionne plus."}


def _no_store(response: Response) -> Response:
    response.headers["Cache-Control"] = "no-store"
    return response


def _crumbs(*items: tuple[str, str]) -> list[dict[str, str]]:
    return [{"text": "Accueil", "href": "/"}, *({"text": t, "href": h} for t, h in items)]


def _list_page(
    request: Request,
    session: Any,
    actor: Any,
    settings: Any,
    form: svc.NewInvitation,
    status_code: int = 200,
    messages: list[dict[str, str]] | None = None,
) -> Response:
    return render(
        request,
        "pages/invitations/list.html",
        {
            "invitations": svc.list_invitations(session, actor),
            "form": form,
            "days": settings.invitation_days,
            "messages": messages or [],
            "own_region": not can_everywhere(actor, Action.invite_director),
            "breadcrumb": _crumbs(("Invitations", PATH)),
        },
        status_code=status_code,
    )


@router.get(PATH, response_class=HTMLResponse, dependencies=inviters)
def list_invitations(
    request: Request,
    actor: CurrentActor,
    session: SessionDep,
    settings: SettingsDep,
    finess: str = "",
) -> Response:
    notice = NOTICES.get(request.query_params.get("info", ""))
    return _list_page(
        request,
        session,
        actor,
        settings,
        svc.NewInvitation(structures=finess),
        messages=[{"level": "success", "text": notice}] if notice else [],
    )


@router.post(PATH, response_class=HTMLResponse, dependencies=inviters)
def create_invitation(
    request: Request,
    actor: CurrentActor,
    session: SessionDep,
    settings: SettingsDep,
    form: Annotated[svc.NewInvitation, Form()],
) -> Response:
    try:
        invitation, link = svc.create_invitation(session, settings, actor, form, client_ip(request))
    except svc.InvalidInvitationForm as exc:
        form.errors = exc.errors
        return _list_page(request, session, actor, settings, form, status_code=422)
    return _no_store(
        render(
            request,
            "pages/invitations/sent.html",
            {
                "invitation": invitation,
                "link": link,
                "structures": svc.structures_of(session, invitation),
                "breadcrumb": _crumbs(("Invitations", PATH), ("Invitation envoyée", "")),
            },
        )
    )


@router.post(PATH + "/{invitation_id}/annuler", dependencies=inviters)
def revoke_invitation(
    request: Request, invitation_id: IdPath, actor: CurrentActor, session: SessionDep
) -> Response:
    svc.revoke(session, actor, invitation_id, client_ip(request))
    return RedirectResponse(f"{PATH}?info=annulee", status_code=303)


# --- the invitee -----------------------------------------------------------------------------


def _accept_page(request: Request, status_code: int = 200, **context: Any) -> Response:
    return _no_store(
        render(
            request,
            "pages/invitations/accept.html",
            {"min_length": MIN_LENGTH, "form": svc.NewAccount(), **context},
            status_code=status_code,
        )
    )


def _invitee_context(request: Request, session: Any, actor: Any, token: str) -> dict[str, Any]:
    invitation = svc.check_token(session, token)
    user = request.state.user
    if actor is None:
        mode = "login" if svc.account_exists(session, invitation.email) else "create"
    elif (user is not None and user.email == invitation.email
          and can(actor, Action.accept_invitation)):
        mode = "accept"
    else:
        mode = "other"
    return {
        "invitation": invitation,
        "structures": svc.structures_of(session, invitation),
        "mode": mode,
        "login_url": login_url(request.url.path),
    }


@router.get("/invitation/{token}", response_class=HTMLResponse)
def invitation_page(
    request: Request, token: str, actor: OptionalActor, session: SessionDep
) -> Response:
    try:
        context = _invitee_context(request, session, actor, token)
    except svc.InvalidInvitation as exc:
        return _accept_page(request, status_code=exc.status, invalid=exc.message)
    return _accept_page(request, **context)


@router.post("/invitation/{token}", response_class=HTMLResponse)
def accept_invitation(
    request: Request,
    token: str,
    actor: OptionalActor,
    session: SessionDep,
    settings: SettingsDep,
    data: Annotated[svc.NewAccount, Form()],
) -> Response:
    ip = client_ip(request)
    try:
        if actor is not None:
            try:
                svc.accept_as(session, actor, token, ip)
            except Forbidden as exc:
                context = _invitee_context(request, session, actor, token)
                return _accept_page(request, status_code=403, error=exc.message, **context)
            return RedirectResponse("/mes-structures?info=invitation", status_code=303)
        try:
            user = svc.accept_with_new_account(session, token, data, ip)
        except svc.InvalidInvitationForm as exc:
            data.errors = exc.errors
            data.password = data.password_confirm = ""
            context = _invitee_context(request, session, actor, token)
            return _accept_page(request, status_code=422, **{**context, "form": data})
    except svc.InvalidInvitation as exc:
        return _accept_page(request, status_code=exc.status, invalid=exc.message)
    response = RedirectResponse("/mes-structures", status_code=303)
    start_session(request, session, settings, user, response)
    return response
