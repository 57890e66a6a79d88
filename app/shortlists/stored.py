"""A saved shortlist read in parts: its head (everything but the rows, plus their count) and
its rows streamed from the database one by one (PostgreSQL `jsonb_array_elements`, SQLite
`json_each`), so that an export starts before the ~20 MB of a national list are read and
never holds them all."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from sqlalchemy import func, text
from sqlalchemy.orm import defer
from sqlmodel import Session, col, select

from app.errors import NotFound
from app.permissions import Actor
from app.shortlists.models import Shortlist
from app.shortlists.service import visible_clause

STREAM = 1000
_ROWS = {
    "postgresql": text("SELECT e.value FROM shortlist AS s CROSS JOIN LATERAL "
                       "jsonb_array_elements(s.rows) WITH ORDINALITY AS e(value, n) "
                       "WHERE s.id = :id ORDER BY e.n"),
    "sqlite": text("SELECT e.value FROM shortlist AS s, json_each(s.rows) AS e "
                   "WHERE s.id = :id ORDER BY e.key"),
}


def head(session: Session, actor: Actor | None, shortlist_id: int) -> tuple[Shortlist, int]:
    """The shortlist without its rows (not loaded until asked for) and their count."""
    length = func.jsonb_array_length if session.get_bind().dialect.name == "postgresql" \
        else func.json_array_length
    found = session.exec(select(Shortlist, length(col(Shortlist.rows)))
                         .options(defer(Shortlist.rows))  # type: ignore[arg-type]
                         .where(col(Shortlist.id) == shortlist_id, visible_clause(actor))
                         ).first()
    if found is None:
        raise NotFound("Sélection introuvable.")
    shortlist, count = found
    return shortlist, int(count or 0)


def rows(session: Session, shortlist_id: int) -> Iterator[dict[str, Any]]:
    """The stored rows of a shortlist, in rank order, read as they are consumed."""
    dialect = session.get_bind().dialect.name
    result = session.execute(_ROWS[dialect].execution_options(yield_per=STREAM),
                             {"id": shortlist_id})
    try:
        for (value,) in result:
            yield json.loads(value) if isinstance(value, str) else value
    finally:
        result.close()
