"""The audit trail for admins: browse with filters (action, user, object, date range), page
through, export as CSV. Read-only: this router has GET routes only, and no route anywhere
edits or deletes an AuditEvent. Exporting the trail is itself audited (`audit_exported`).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response, StreamingResponse

from app import audit_trail as trail
from app.audit import record_now
from app.audit_trail import Filters
from app.deps import PageQuery, SessionDep
from app.formatting import PARIS
from app.permissions import Action
from app.shortlists.exports import csv_chunks
from app.shortlists.jobs import SessionFactory, SessionFactoryDep
from app.shortlists.ranking import canonical_json
from app.web.audit_labels import action_label, object_type_label
from app.web.auth_deps import CurrentActor, client_ip, require_permission
from app.web.templating import render

router = APIRouter(prefix="/admin/journal", include_in_schema=False,
                   dependencies=[Depends(require_permission(Action.view_audit))])

PAGE_SIZE = 50
EXPORT_DATE = "%Y-%m-%d %H:%M:%S"


@router.get("", response_class=HTMLResponse)
def journal(request: Request, session: SessionDep, page: PageQuery = 1) -> Response:
    filters = Filters.parse(request.query_params)
    jp = trail.journal_page(session, filters, page, PAGE_SIZE)
    query = filters.query()
    return render(request, "pages/audit/journal.html", {
        "events": [{"e": e, "email": email, "details": canonical_json(e.details)}
                   for e, email in jp.rows],
        "filters": filters, "total": jp.total, "page": jp.page, "pages": jp.pages,
        "actions": [(a, action_label(a)) for a in jp.actions],
        "object_types": [(o, object_type_label(o)) for o in jp.object_types],
        "action_label": action_label, "object_type_label": object_type_label,
        "query": urlencode(query), "page_query": lambda n: urlencode({**query, "page": n}),
        "breadcrumb": [{"text": "Accueil", "href": "/"},
                       {"text": "Journal d’audit", "href": ""}],
    }, block_name="results")


def _export_values(sessions: SessionFactory, filters: Filters) -> Iterator[list[Any]]:
    for e, email in trail.every_event(sessions, filters):
        yield [e.id, e.at.astimezone(PARIS).strftime(EXPORT_DATE), e.user_id, email,
               action_label(e.action), e.action, object_type_label(e.object_type),
               e.object_type, e.object_id, e.ip, canonical_json(e.details)]


@router.get("/export.csv")
def export(request: Request, actor: CurrentActor, session: SessionDep,
           sessions: SessionFactoryDep) -> Response:
    """The filtered trail as CSV (UTF-8 with BOM), newest first, streamed."""
    filters = Filters.parse(request.query_params)
    record_now(session, actor, "audit_exported", "audit_event", None,
               {"filters": filters.query()}, client_ip(request))
    values = _export_values(sessions, filters)

    header = ["Identifiant", "Date (heure de Paris, AAAA-MM-JJ HH:MM:SS)", "Utilisateur (id)",
              "Utilisateur (courriel)", "Action", "Code de l’action", "Type d’objet",
              "Code du type d’objet", "Objet", "Adresse IP", "Détails (JSON)"]
    return StreamingResponse(csv_chunks(header, values), media_type="text/csv; charset=utf-8",
                             headers={"Content-Disposition":
                                      'attachment; filename="journal-audit.csv"',
                                      "Cache-Control": "private, no-store"})
