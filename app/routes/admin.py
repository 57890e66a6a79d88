"""Admin pages: the questionnaires loaded and the files refused, with their errors; the
programme catalogue (programmes.yaml) with the entries not re-checked for six months."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response

from app.assessments.result_parts import catalogue_rows
from app.formatting import PARIS
from app.permissions import Action
from app.questionnaires import RegistryDep
from app.web.auth_deps import require_permission
from app.web.templating import render

router = APIRouter(prefix="/admin", include_in_schema=False,
                   dependencies=[Depends(require_permission(Action.view_questionnaires_admin))])


@router.get("/questionnaires", response_class=HTMLResponse)
def questionnaires(request: Request, registry: RegistryDep) -> Response:
    loaded = []
    for q in registry.all():
        latest = registry.latest(q.id)
        loaded.append({"q": q, "latest": latest is not None and latest.key == q.key,
                       "file": q.source})
    refused = [{"file": exc.errors[0].file if exc.errors else "?",
                "errors": [str(e) for e in exc.errors]} for exc in registry.refused]
    return render(request, "pages/admin/questionnaires.html", {
        "loaded": loaded, "refused": refused,
        "breadcrumb": [{"text": "Accueil", "href": "/"},
                       {"text": "Questionnaires", "href": "/admin/questionnaires"}],
    })


@router.get("/programmes", response_class=HTMLResponse)
def programmes(request: Request, registry: RegistryDep) -> Response:
    today = datetime.now(PARIS).date()
    rows = catalogue_rows(registry.catalogue, today)
    return render(request, "pages/admin/programmes.html", {
        "rows": rows, "stale": sum(1 for r in rows if r["stale"]), "today": today,
        "source": registry.catalogue.source if registry.catalogue else None,
        "breadcrumb": [{"text": "Accueil", "href": "/"},
                       {"text": "Programmes", "href": "/admin/programmes"}],
    })
