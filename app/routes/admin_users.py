"""Admin pages: accounts (list, create, deactivate / reactivate, reset links)."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from app.accounts import admin_users as accounts
from app.accounts import users
from app.accounts.passwords import MIN_LENGTH
from app.deps import IdPath, SessionDep, SettingsDep
from app.permissions import Action, Role
from app.reference import regions
from app.web.auth_deps import CurrentActor, client_ip, require_permission
from app.web.templating import render

PATH = "/admin/utilisateurs"
router = APIRouter(prefix=PATH, include_in_schema=False,
                   dependencies=[Depends(require_permission(Action.manage_users))])

NOTICES = {
    "cree": "Le compte a été créé.",
    "desactive": "Le compte a été désactivé : ses sessions et jetons d’accès ont pris fin.",
    "reactive": "Le compte a été réactivé.",
    "facteur": "La double authentification du compte a été réinitialisée : le compte "
               "l’activera de nouveau à sa prochaine connexion.",
    "modifie": "Le rôle et le périmètre du compte ont été enregistrés.",
}
BREADCRUMB = [{"text": "Accueil", "href": "/"}, {"text": "Utilisateurs", "href": PATH}]


def _no_store(response: Response) -> Response:
    response.headers["Cache-Control"] = "no-store"
    return response


@router.get("", response_class=HTMLResponse)
def list_users(request: Request, actor: CurrentActor, session: SessionDep) -> Response:
    notice = NOTICES.get(request.query_params.get("info", ""))
    raw_page = request.query_params.get("page", "1")
    page = accounts.account_page(session, actor, request.query_params.get("recherche", ""),
                                 int(raw_page) if raw_page.isdigit() and len(raw_page) < 7
                                 else 1)

    def page_url(n: int) -> str:
        return f"{PATH}?" + urlencode({**({"recherche": page.query} if page.query else {}),
                                       "page": str(n)})

    return render(request, "pages/admin/users.html", {
        "page": page, "users": page.rows, "page_url": page_url,
        "messages": [{"level": "success", "text": notice}] if notice else [],
        "breadcrumb": [*BREADCRUMB[:1], {"text": "Utilisateurs"}],
    })


def _edit_page(request: Request, form: accounts.AccountEdit, status_code: int = 200) -> Response:
    return render(request, "pages/admin/user_edit.html", {
        "form": form, "user": form.user,
        "roles": [{"value": r.value, "label": users.ROLE_LABELS[r]} for r in Role],
        "regions": [{"value": r.code, "label": r.name} for r in regions().values()],
        "breadcrumb": [*BREADCRUMB, {"text": form.user.name or form.user.email}],
    }, status_code=status_code)


@router.get("/nouveau", response_class=HTMLResponse)
def new_user_form(request: Request) -> Response:
    return _form_page(request, users.NewUser())


@router.post("/nouveau", response_class=HTMLResponse)
def create_user(
    request: Request,
    actor: CurrentActor,
    session: SessionDep,
    settings: SettingsDep,
    data: Annotated[users.NewUser, Form()],
) -> Response:
    try:
        user, link = users.create_user(session, settings, actor, data, client_ip(request))
    except users.InvalidUser as exc:
        data.errors = exc.errors
        data.password = ""
        return _form_page(request, data, status_code=400)
    if link is None:
        return RedirectResponse(f"{PATH}?info=cree", status_code=303)
    return _no_store(render(request, "pages/admin/user_link.html", {
        "user": user, "link": link, "created": True,
        "reset_hours": settings.password_reset_hours,
        "breadcrumb": [*BREADCRUMB, {"text": "Compte créé"}],
    }))


@router.post("/{user_id}/desactiver")
def deactivate(request: Request, user_id: IdPath, actor: CurrentActor,
               session: SessionDep) -> Response:
    users.set_active(session, actor, user_id, False, client_ip(request))
    return RedirectResponse(f"{PATH}?info=desactive", status_code=303)


@router.post("/{user_id}/reactiver")
def reactivate(request: Request, user_id: IdPath, actor: CurrentActor,
               session: SessionDep) -> Response:
    users.set_active(session, actor, user_id, True, client_ip(request))
    return RedirectResponse(f"{PATH}?info=reactive", status_code=303)


@router.post("/{user_id}/lien-reinitialisation", response_class=HTMLResponse)
def reset_link(request: Request, user_id: IdPath, actor: CurrentActor, session: SessionDep,
               settings: SettingsDep) -> Response:
    user, link = users.reset_link(session, settings, actor, user_id, client_ip(request))
    return _no_store(render(request, "pages/admin/user_link.html", {
        "user": user, "link": link, "created": False,
        "reset_hours": settings.password_reset_hours,
        "breadcrumb": [*BREADCRUMB, {"text": "Lien de réinitialisation"}],
    }))


# After /nouveau: "/{user_id}" would catch it.
@router.get("/{user_id}", response_class=HTMLResponse)
def edit_user(request: Request, user_id: IdPath, actor: CurrentActor,
              session: SessionDep) -> Response:
    return _edit_page(request, accounts.edit_form(session, actor, user_id))


@router.post("/{user_id}", response_class=HTMLResponse)
def update_user(request: Request, user_id: IdPath, actor: CurrentActor, session: SessionDep,
                role: Annotated[str, Form()] = "", region: Annotated[str, Form()] = "",
                structures: Annotated[str, Form()] = "") -> Response:
    try:
        accounts.update_account(session, actor, user_id, role, region, structures,
                                client_ip(request))
    except users.InvalidUser as exc:
        session.rollback()
        form = accounts.edit_form(session, actor, user_id)
        form.role, form.region, form.structures = role, region, structures
        form.errors = exc.errors
        return _edit_page(request, form, status_code=422)
    return RedirectResponse(f"{PATH}?info=modifie", status_code=303)


def _form_page(request: Request, data: users.NewUser, status_code: int = 200) -> Response:
    context: dict[str, Any] = {
        "form": data,
        "roles": [{"value": r.value, "label": users.ROLE_LABELS[r]} for r in Role],
        "regions": [{"value": r.code, "label": r.name} for r in regions().values()],
        "min_length": MIN_LENGTH,
        "breadcrumb": [*BREADCRUMB, {"text": "Nouveau compte"}],
    }
    return render(request, "pages/admin/user_new.html", context, status_code=status_code)
