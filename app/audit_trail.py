"""Reading the audit trail (the admins' journal): filters, one page of events, every
matching event for the export. Read-only; writing is `app.audit.record`."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, func, or_
from sqlmodel import Session, col, select

from app.accounts.models import User
from app.audit import AuditEvent
from app.formatting import PARIS

EXPORT_PAGE = 1000


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
    def parse(cls, p: Mapping[str, str]) -> Filters:
        """From the journal's query parameters (French names); bad dates in `errors`."""
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


def _events(filters: Filters) -> Any:
    return (select(AuditEvent, col(User.email))
            .outerjoin(User, col(User.id) == col(AuditEvent.user_id))
            .where(*filters.conditions())
            .order_by(col(AuditEvent.at).desc(), col(AuditEvent.id).desc()))


@dataclass
class JournalPage:
    rows: list[tuple[AuditEvent, str | None]]  # (event, the user's e-mail)
    total: int
    page: int
    pages: int
    actions: list[str]  # every action recorded (the filter's choices)
    object_types: list[str]


def journal_page(session: Session, filters: Filters, page: int, page_size: int) -> JournalPage:
    """The matching events, newest first: page `page` (clamped to the pages there are)."""
    total = int(session.exec(select(func.count()).select_from(AuditEvent)
                             .where(*filters.conditions())).one())
    pages = max(1, -(-total // page_size))
    page = min(max(page, 1), pages)
    rows = session.exec(_events(filters).limit(page_size)
                        .offset((page - 1) * page_size)).all()
    actions = session.exec(select(col(AuditEvent.action)).distinct()
                           .order_by(col(AuditEvent.action))).all()
    object_types = session.exec(select(col(AuditEvent.object_type))
                                .where(col(AuditEvent.object_type).is_not(None)).distinct()
                                .order_by(col(AuditEvent.object_type))).all()
    return JournalPage([(e, email) for e, email in rows], total, page, pages, list(actions),
                       [o for o in object_types if o is not None])


def every_event(sessions: Callable[[], AbstractContextManager[Session]], filters: Filters,
                ) -> Iterator[tuple[AuditEvent, str | None]]:
    """Every matching event, newest first, read in keyset pages of EXPORT_PAGE rows in its
    own session (memory stays flat on a long trail)."""
    with sessions() as session:
        last: tuple[datetime, int] | None = None
        while True:
            query = _events(filters)
            if last is not None:
                at, ident = last
                query = query.where(or_(col(AuditEvent.at) < at,
                                        and_(col(AuditEvent.at) == at,
                                             col(AuditEvent.id) < ident)))
            rows = session.exec(query.limit(EXPORT_PAGE)).all()
            yield from rows
            if len(rows) < EXPORT_PAGE:
                return
            last = (rows[-1][0].at, rows[-1][0].id or 0)
