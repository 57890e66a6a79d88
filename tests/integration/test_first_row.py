"""app.db.FirstRow (issue 14): a Core SELECT run on the DBAPI cursor gives the values
`Connection.execute` gives (types processed: JSON, UTC datetimes, booleans), on each backend."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import bindparam, exists, select
from sqlmodel import Session

from app.assessments.models import Assessment
from app.first_row import FirstRow
from app.structures.models import Structure
from tests.factories import make_assessment, make_structure

A, S = Assessment.__table__, Structure.__table__  # type: ignore[attr-defined]
OTHER = S.alias()
STATEMENT = (select(A.c.id, A.c.answers, A.c.submitted_at, A.c.result, S.c.name,
                    exists().where(OTHER.c.id == A.c.structure_id, OTHER.c.closed)
                    .label("closed"))
             .select_from(A.join(S, S.c.id == A.c.structure_id))
             .where(A.c.id == bindparam("id"), S.c.name != bindparam("not_named")))


def test_first_row_reads_what_execute_reads(session: Session) -> None:
    s = make_structure(session, name="EHPAD « Les Tilleuls »")
    when = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
    a = make_assessment(session, s, "submitted", answers={"wifi": "complet", "capacite": 30,
                                                          "dmp_documents": ["dlu"]},
                        submitted_at=when)
    conn = session.connection()
    params = {"id": a.id, "not_named": "autre"}
    row = FirstRow(STATEMENT).first(conn, params)
    assert row == {"id": a.id, "answers": {"wifi": "complet", "capacite": 30,
                                           "dmp_documents": ["dlu"]},
                   "submitted_at": when, "result": None, "name": "EHPAD « Les Tilleuls »",
                   "closed": False}
    assert row["submitted_at"].tzinfo is not None
    executed = conn.execute(STATEMENT, params).first()
    assert executed is not None and row == dict(executed._mapping)
    assert FirstRow(STATEMENT).first(conn, {"id": a.id, "not_named": s.name}) is None
    assert FirstRow(STATEMENT).first(conn, {"id": (a.id or 0) + 1000,
                                             "not_named": "x"}) is None
