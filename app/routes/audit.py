"""The audit trail for admins: browse with filters (action, user, object, date range), page
through, export as CSV. Read-only: this router has GET routes only, and no route anywhere
edits or deletes an AuditEvent. Exporting the trail is itself audited (`audit_exported`).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response, StreamingResponse
from sqlalchemy import ColumnElement, and_, func, or_
from sqlmodel import Session, col, select

from app.audit import record_now
from app.auth_deps import CurrentActor, client_ip, require_permission
from app.deps import PageQuery, SessionDep
from app.models import AuditEvent, User
from app.permissions import Action
from app.shortlists.exports import csv_chunks
from app.shortlists.jobs import SessionFactory, SessionFactoryDep
from app.shortlists.ranking import canonical_json
from app.templating import PARIS, render

router = APIRouter(prefix="/admin/journal", include_in_schema=False,
                   dependencies=[Depends(require_permission(Action.view_audit))])

PAGE_SIZE = 50


@dataclass
class Filters:
    action: str = ""
    user: str = ""  # e-mail (part of it) or user id
    object_type: str = ""
    object_id: str = ""
    start: date | None = None  # Paris days, inclusive
    end: date | None = None
    errors: dict[str, str] | None = None

    @classmethod
    def of(cls, request: Request) -> Filters:
        p = request.query_params
        errors: dict[str, str] = {}

        def day(name: str) -> date | None:
            raw = (p.get(name) or "").strip()
            if not raw:
                return None
            try:
                return date.fromisoformat(raw)
            except ValueError:
                errors[name] = "Date invalide : utilisez le format AAAA-MM-JJ."
                return None

        return cls(action=(p.get("action") or "").strip(),
                   user=(p.get("utilisateur") or "").strip(),
                   object_type=(p.get("objet") or "").strip(),
                   object_id=(p.get("identifiant") or "").strip(),
                   start=day("du"), end=day("au"), errors=errors)

    def query(self) -> dict[str, str]:
        out = {"action": self.action, "utilisateur": self.user, "objet": self.object_type,
               "identifiant": self.object_id,
               "du": self.start.isoformat() if self.start else "",
               "au": self.end.isoformat() if self.end else ""}
        return {k: v for k, v in out.items() if v}

    def conditions(self) -> list[ColumnElement[bool]]:
        conds: list[ColumnElement[bool]] = []
        if self.action:
            conds.append(col(AuditEvent.action) == self.action)
        if self.user:
            if self.user.isdigit():
                conds.append(col(AuditEvent.user_id) == int(self.user))
            else:
                users = select(col(User.id)).where(
                    func.lower(col(User.email)).contains(self.user.lower()))
                conds.append(col(AuditEvent.user_id).in_(users))
        if self.object_type:
            conds.append(col(AuditEvent.object_type) == self.object_type)
        if self.object_id:
            conds.append(col(AuditEvent.object_id) == self.object_id)
        if self.start:
            conds.append(col(AuditEvent.at) >= _paris_midnight(self.start))
        if self.end:
            conds.append(col(AuditEvent.at) < _paris_midnight(self.end + timedelta(days=1)))
        return conds


def _paris_midnight(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=PARIS).astimezone(UTC)


def _events(session: Session, filters: Filters) -> Any:
    return (select(AuditEvent, col(User.email))
            .outerjoin(User, col(User.id) == col(AuditEvent.user_id))
            .where(*filters.conditions())
            .order_by(col(AuditEvent.at).desc(), col(AuditEvent.id).desc()))


@router.get("", response_class=HTMLResponse)
def journal(request: Request, session: SessionDep, page: PageQuery = 1) -> Response:
    filters = Filters.of(request)
    total = session.exec(select(func.count()).select_from(AuditEvent)
                         .where(*filters.conditions())).one()
    pages = max(1, -(-int(total) // PAGE_SIZE))
    page = min(max(page, 1), pages)
    rows = session.exec(_events(session, filters).limit(PAGE_SIZE)
                        .offset((page - 1) * PAGE_SIZE)).all()
    actions = session.exec(select(col(AuditEvent.action)).distinct()
                           .order_by(col(AuditEvent.action))).all()
    object_types = session.exec(select(col(AuditEvent.object_type))
                                .where(col(AuditEvent.object_type).is_not(None)).distinct()
                                .order_by(col(AuditEvent.object_type))).all()
    query = filters.query()
    return render(request, "pages/audit/journal.html", {
        "events": [{"e": e, "email": email, "details": canonical_json(e.details)}
                   for e, email in rows],
        "filters": filters, "total": int(total), "page": page, "pages": pages,
        "actions": actions, "object_types": object_types,
        "query": urlencode(query), "page_query": lambda n: urlencode({**query, "page": n}),
        "breadcrumb": [{"text": "Accueil", "href": "/"},
                       {"text": "Journal d’audit", "href": ""}],
    }, block_name="results")


EXPORT_PAGE = 1000


def _export_values(sessions: SessionFactory, filters: Filters) -> Iterator[list[Any]]:
    """Every matching event, newest first, read in keyset pages of EXPORT_PAGE rows in the
    stream's own session (memory stays flat on a long trail)."""
    with sessions() as session:
        last: tuple[datetime, int] | None = None
        while True:
            query = _events(session, filters)
            if last is not None:
                at, ident = last
                query = query.where(or_(col(AuditEvent.at) < at,
                                        and_(col(AuditEvent.at) == at,
                                             col(AuditEvent.id) < ident)))
            rows = session.exec(query.limit(EXPORT_PAGE)).all()
            for e, email in rows:
                yield [e.id, e.at.isoformat(), e.user_id, email, e.action, e.object_type,
                       e.object_id, e.ip, canonical_json(e.details)]
            if len(rows) < EXPORT_PAGE:
                return
            last = (rows[-1][0].at, rows[-1][0].id or 0)


@router.get("/export.csv")
def export(request: Request, actor: CurrentActor, session: SessionDep,
           sessions: SessionFactoryDep) -> Response:
    """The filtered trail as CSV (UTF-8 with BOM), newest first, streamed."""
    filters = Filters.of(request)
    record_now(session, actor, "audit_exported", "audit_event", None,
               {"filters": filters.query()}, client_ip(request))
    values = _export_values(sessions, filters)

    header = ["Identifiant", "Date (UTC)", "Utilisateur (id)", "Utilisateur (courriel)",
              "Action", "Type d’objet", "Objet", "Adresse IP", "Détails (JSON)"]
    return StreamingResponse(csv_chunks(header, values), media_type="text/csv; charset=utf-8",
                             headers={"Content-Disposition":
                                      'attachment; filename="journal-audit.csv"',
                                      "Cache-Control": "private, no-store"})
