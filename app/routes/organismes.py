"""The organisme gestionnaire (FINESS EJ) page: its structures the actor may see, with their
latest palier (see app/structures/organismes.py for who sees what)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from app.deps import SessionDep
from app.permissions import Action, can, has_own_structures
from app.questionnaires import RegistryDep
from app.structures.organismes import organisme_view
from app.web.auth_deps import CurrentActor
from app.web.navigation import crumbs
from app.web.templating import render

router = APIRouter(include_in_schema=False)


@router.get("/organismes/{finess_ej}", response_class=HTMLResponse)
def organisme(request: Request, finess_ej: str, actor: CurrentActor, session: SessionDep,
              registry: RegistryDep) -> Response:
    view = organisme_view(session, actor, finess_ej, registry)
    return render(request, "pages/organismes/view.html", {
        "view": view,
        "director": has_own_structures(actor),
        "can_invite": can(actor, Action.invite_director),
        "breadcrumb": crumbs(actor, (f"Organisme gestionnaire {view.finess_ej}", "")),
    })
