"""A saved shortlist read in parts: its head (everything but the rows, plus their count) and
its rows streamed from the database one by one (PostgreSQL `json_array_elements`, SQLite
`json_each`), so that an export starts before the ~20 MB of a national list are read and
never holds them all."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Sequence
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import defer
from sqlmodel import Session, col, select

from app.errors import NotFound
from app.permissions import Actor
from app.shortlists.models import Shortlist
from app.shortlists.service import visible_clause

STREAM = 5000  # rows fetched at once from the server-side cursor
_ROWS = {
    "postgresql": "SELECT {values} FROM shortlist AS s CROSS JOIN LATERAL "
                  "json_array_elements(s.rows) WITH ORDINALITY AS e(value, n) "
                  "WHERE s.id = :id ORDER BY e.n",
    "sqlite": "SELECT {values} FROM shortlist AS s, json_each(s.rows) AS e "
              "WHERE s.id = :id ORDER BY e.key",
}
# PostgreSQL, some fields: the `json` rows split into those fields in one pass (the text of
# each value as stored), sent as one small JSON array per row. 0.57–0.68 s for the 18 fields
# of a national CSV, where `e.value -> 'field'` re-read each row once per field (3–3.7 s).
_FIELDS_PG = ("SELECT json_build_array({values})::text FROM shortlist AS s CROSS JOIN LATERAL "
              "ROWS FROM (json_to_recordset(s.rows) AS ({types})) "
              "WITH ORDINALITY AS r({names}, n) WHERE s.id = :id ORDER BY r.n")
_FIELD = re.compile(r"[a-z_]+")
# The keys of a row whose values are objects or lists (SQLite hands them over as JSON text).
CONTAINERS = frozenset({"domain_scores", "funding"})


def _sql(dialect: str, fields: Sequence[str] | None) -> str:
    """The query of the whole rows, or of only `fields` (their JSON values, types kept:
    PostgreSQL one small JSON array, SQLite one column each)."""
    if fields is None:
        return _ROWS[dialect].format(
            values="e.value::text" if dialect == "postgresql" else "e.value")
    if not all(_FIELD.fullmatch(f) for f in fields):
        raise ValueError("field names are lowercase words")
    if dialect == "postgresql":  # decoded here by json.loads
        names = [f'"{f}"' for f in fields]  # quoted: "group" is a keyword
        return _FIELDS_PG.format(values=", ".join(f"r.{n}" for n in names),
                                 types=", ".join(f"{n} json" for n in names),
                                 names=", ".join(names))
    return _ROWS[dialect].format(values=", ".join(
        f"e.value -> '$.{f}'" if f in CONTAINERS else f"json_extract(e.value, '$.{f}')"
        for f in fields))


def head(session: Session, actor: Actor | None, shortlist_id: int) -> tuple[Shortlist, int]:
    """The shortlist without its rows (not loaded until asked for) and their count."""
    found = session.exec(select(Shortlist, col(Shortlist.row_count))
                         .options(defer(Shortlist.rows))  # type: ignore[arg-type]
                         .where(col(Shortlist.id) == shortlist_id, visible_clause(actor))
                         ).first()
    if found is None:
        raise NotFound("Sélection introuvable.")
    shortlist, count = found
    return shortlist, int(count or 0)


def rows(session: Session, shortlist_id: int,
         fields: Sequence[str] | None = None) -> Iterator[dict[str, Any]]:
    """The stored rows of a shortlist, in rank order, read as they are consumed; with
    `fields`, only those keys (the database picks them out: the rest of each row, such as
    its domain scores, is neither sent nor decoded)."""
    dialect = session.get_bind().dialect.name
    sql = text(_sql(dialect, fields))
    result = session.execute(sql.execution_options(yield_per=STREAM), {"id": shortlist_id})
    try:
        if fields is None:
            for (value,) in result:
                yield json.loads(value) if isinstance(value, str) else value
        elif dialect == "postgresql":
            for (values,) in result:
                yield dict(zip(fields, json.loads(values) if isinstance(values, str)
                               else values, strict=True))
        else:
            decode = [f in CONTAINERS for f in fields]
            for values in result:
                yield {f: json.loads(v) if d and isinstance(v, str) else v
                       for f, v, d in zip(fields, values, decode, strict=True)}
    finally:
        result.close()
