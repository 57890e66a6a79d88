"""« Mon compte » (issue 10): name, password and, for a director, inviting a colleague to
one of their structures. Plain forms (POST, then 303 back with a message, or the page
again with its errors, 422)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from app.accounts import account as svc
from app.accounts.models import User
from app.accounts.tokens import token_hash
from app.deps import SessionDep, SettingsDep
from app.web.auth_deps import CurrentActor, client_ip
from app.web.security import SESSION_COOKIE
from app.web.templating import render

router = APIRouter(tags=["compte"])
PATH = "/mon-compte"
NOTICES = {"nom": "Votre nom est enregistré.",
           "mot-de-passe": "Votre mot de passe est changé ; vos autres sessions sont fermées.",
           "invitation": "L’invitation est envoyée à votre collègue : le lien reçu par "
                         "courriel est valable une seule fois."}


def _page(request: Request, session: Any, actor: CurrentActor, status_code: int = 200,
          **context: Any) -> Response:
    user = session.get(User, actor.id)
    notice = NOTICES.get(request.query_params.get("fait", ""))
    ctx = {"user": user, "structures": svc.delegable_structures(session, actor),
           "errors": {}, "values": {},
           "messages": [{"level": "success", "text": notice}] if notice else [],
           "breadcrumb": [{"text": "Accueil", "href": "/"}, {"text": "Mon compte", "href": ""}],
           **context}
    return render(request, "pages/account/account.html", ctx, status_code=status_code,
                  headers={"Cache-Control": "no-store"})


@router.get(PATH, response_class=HTMLResponse)
def account_page(request: Request, actor: CurrentActor, session: SessionDep) -> Response:
    return _page(request, session, actor)


@router.post(PATH + "/nom", response_class=HTMLResponse)
def change_name(request: Request, actor: CurrentActor, session: SessionDep,
                name: Annotated[str, Form()] = "") -> Response:
    try:
        svc.change_name(session, actor, name, client_ip(request))
    except svc.InvalidAccountForm as exc:
        return _page(request, session, actor, 422, errors=exc.errors, values={"name": name})
    return RedirectResponse(PATH + "?fait=nom", 303)


@router.post(PATH + "/mot-de-passe", response_class=HTMLResponse)
def change_password(request: Request, actor: CurrentActor, session: SessionDep,
                    current: Annotated[str, Form()] = "", new: Annotated[str, Form()] = "",
                    confirm: Annotated[str, Form()] = "") -> Response:
    cookie = request.cookies.get(SESSION_COOKIE)
    try:
        svc.change_password(session, actor, current, new, confirm,
                            keep_session=token_hash(cookie) if cookie else None,
                            ip=client_ip(request))
    except svc.InvalidAccountForm as exc:
        return _page(request, session, actor, 422, errors=exc.errors)
    return RedirectResponse(PATH + "?fait=mot-de-passe", 303)


@router.post(PATH + "/invitation", response_class=HTMLResponse)
def invite_colleague(request: Request, actor: CurrentActor, session: SessionDep,
                     settings: SettingsDep, email: Annotated[str, Form()] = "",
                     structure: Annotated[str, Form()] = "") -> Response:
    try:
        svc.invite_colleague(session, settings, actor, email,
                             int(structure) if structure.isdigit() else None,
                             client_ip(request))
    except svc.InvalidAccountForm as exc:
        return _page(request, session, actor, 422, errors=exc.errors,
                     values={"email": email, "structure": structure})
    return RedirectResponse(PATH + "?fait=invitation", 303)
