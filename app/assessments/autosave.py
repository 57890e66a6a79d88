"""The statements of the API's lean autosave (issue 14): `PATCH /api/v1/assessments/{id}/answers`
with a Bearer token, in two statements and no ORM object (the service that runs them:
app/assessments/token_autosave.py; one statement for a caller seen before:
app/assessments/autosave_known.py).

On PostgreSQL in production (`pg_read`, `pg_save`), the service runs them from the event
loop on an asyncio connection of the app's pool (`app.db.event_loop_pool`: no threadpool, no
SQLAlchemy), each statement committing itself, and the JSON documents stay in the
database: the read returns only the changed questions' answers and meta (for the conflict
check), the UPDATE merges the changes into the documents itself (`jsonb` operators) and
returns them as text, which the response embeds as is (`splice_documents`). Elsewhere
(SQLite; a test's session on PostgreSQL), on the request's session, `read_for_token` and
`save_read`:

- `read_for_token`: ONE statement reads the API token (by its hash), its user, the
  assessment, its structure and whether the user is linked to that structure: everything
  the authentication (app/assessments/token_autosave.py) and the permission decision
  (app/permissions.py, through `service.check_structure`) need;
- `save_read`: validation, the merge of `answers_merge.merge_answers` (conflicts per question),
  then the same compare-and-swap `UPDATE ... WHERE version = <read>` as
  `service.save_answers`, and the commit. On SQLite the write lock (BEGIN IMMEDIATE) covers
  only that UPDATE and its commit; a lost race reads the row again and merges again.

The statements are built once at import and run on the session's Connection (plain rows, no
ORM objects). Same errors, statuses and values as `service.save_answers`.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import psycopg
from psycopg.pq import ExecStatus
from psycopg.rows import namedtuple_row
from sqlalchemy import Row, bindparam, exists, select, update
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlmodel import Session, col

from app.accounts.api_tokens import touch_due
from app.accounts.models import ApiToken, DirectorStructure, User
from app.assessments.answers_merge import check_conflicts, merge_answers, new_meta
from app.assessments.lifecycle import editable_status
from app.assessments.models import Assessment, AssessmentStatus
from app.assessments.service import CAS_ATTEMPTS, check_structure
from app.db import begin_read, begin_write, utcnow
from app.errors import Conflict, InvalidAnswers, NotEditable, NotFound, QuestionnaireUnavailable
from app.permissions import Action, Actor
from app.questionnaires import Registry
from app.structures.models import Structure
from scoring import validate_answers

MISSING = "Évaluation introuvable."
TUPLES_OK = ExecStatus.TUPLES_OK
log = logging.getLogger("palier.auth")

# The assessment's columns the save reads and the response shows.
_ASSESSMENT = (
    col(Assessment.id), col(Assessment.structure_id), col(Assessment.status),
    col(Assessment.version), col(Assessment.answers), col(Assessment.answer_meta),
    col(Assessment.questionnaire_id), col(Assessment.questionnaire_version),
    col(Assessment.created_at), col(Assessment.updated_at), col(Assessment.submitted_at),
    col(Assessment.tier_id), col(Assessment.tier_level), col(Assessment.global_score),
)

# Built once. One row when the token's hash is known: the token and its user; the
# assessment, its structure (all None when there is no such assessment) and whether the
# user is linked to that structure (a director's).
_READ = (
    select(
        col(ApiToken.id).label("token_id"), col(ApiToken.scope), col(ApiToken.revoked_at),
        col(ApiToken.expires_at), col(ApiToken.last_used_at),
        col(User.id).label("user_id"), col(User.role), col(User.region), col(User.active),
        *_ASSESSMENT,
        col(Structure.finess), col(Structure.region).label("structure_region"),
        exists().where(col(DirectorStructure.user_id) == col(User.id),
                       col(DirectorStructure.structure_id) == col(Assessment.structure_id))
        .label("linked"),
    )
    .select_from(ApiToken)
    .join(User, col(User.id) == col(ApiToken.user_id))
    .outerjoin(Assessment, col(Assessment.id) == bindparam("assessment_id"))
    .outerjoin(Structure, col(Structure.id) == col(Assessment.structure_id))
    .where(col(ApiToken.token_hash) == bindparam("hash"))
)

# Built once: the assessment again, after a lost compare-and-swap.
_REREAD = select(*_ASSESSMENT).where(col(Assessment.id) == bindparam("assessment_id"))

# Built once: the compare-and-swap write of `service.save_answers`.
_CAS = (
    update(Assessment)
    .where(col(Assessment.id) == bindparam("assessment_id"),
           col(Assessment.version) == bindparam("read_version"),
           col(Assessment.status) == AssessmentStatus.draft.value)
    .values(answers=bindparam("new_answers"), answer_meta=bindparam("new_meta"),
            version=bindparam("new_version"), updated_at=bindparam("now"))
)


def read_for_token(session: Session, hashed: str, assessment_id: int) -> Row[Any] | None:
    """The row of `_READ` (None: no token has this hash), in a read transaction (SQLite:
    plain BEGIN, no write lock)."""
    begin_read(session)
    return session.connection().execute(
        _READ, {"hash": hashed, "assessment_id": assessment_id}).first()


def check_fill(actor: Actor, read: Row[Any]) -> None:
    """`service.get_assessment(..., Action.fill_assessment)` on the read row: NotFound for
    no such assessment or one out of the actor's scope, Forbidden when they may not fill."""
    if read.id is None or read.finess is None:
        raise NotFound(MISSING)
    check_structure(actor, read.structure_id, read.structure_region, Action.fill_assessment,
                    MISSING, submitted=read.status == AssessmentStatus.submitted)


def save_read(session: Session, actor: Actor, registry: Registry, read: Row[Any],
              base_version: int, changes: dict[str, Any]) -> dict[str, Any]:
    """`service.save_answers` from the read row (`check_fill` passed): the assessment's
    columns after the save, as `_ASSESSMENT` names them, with the structure's `finess`.
    Raises QuestionnaireUnavailable, InvalidAnswers, NotEditable, Conflict."""
    validate(registry, read, changes)
    current: Row[Any] = read
    for _ in range(CAS_ATTEMPTS):
        if not editable_status(current.status):
            session.rollback()
            raise NotEditable()
        try:
            written = merge_answers(current.answers, current.answer_meta, current.version,
                                    actor.id, base_version, changes)
        except Conflict:
            session.rollback()
            raise
        begin_write(session)  # SQLite: ends the read, BEGIN IMMEDIATE (PostgreSQL: nothing)
        res = session.connection().execute(_CAS, {
            "assessment_id": read.id, "read_version": current.version,
            "new_answers": written["answers"], "new_meta": written["answer_meta"],
            "new_version": written["version"], "now": written["updated_at"]})
        if res.rowcount == 1:
            session.commit()
            return {**current._asdict(), "finess": read.finess, **written}
        session.rollback()  # someone saved in between: read again and merge again
        begin_read(session)
        current = session.connection().execute(_REREAD, {"assessment_id": read.id}).one()
    raise Conflict([], current.version)  # pragma: no cover - only under extreme contention


# ---- PostgreSQL -----------------------------------------------------------------------------

# Every value of the token, user, assessment and structure rows the decisions of a save
# read but the draft's version and documents (and the token's last use), as one text: two
# statements that give the same text saw the same values (app/assessments/autosave_known.py).
FACTS = """ROW(t.id, t.scope, t.revoked_at, t.expires_at, u.id, u.role, u.region, u.active,
    a.id, a.structure_id, a.status, a.questionnaire_id, a.questionnaire_version,
    s.finess, s.region,
    EXISTS (SELECT 1 FROM director_structure d
            WHERE d.user_id = u.id AND d.structure_id = a.structure_id))::text"""

# The columns of _READ, the answers and meta of the changed questions (`qids`) only, and
# FACTS.
_PG_READ = f"""
SELECT {FACTS} AS facts,
       t.id AS token_id, t.scope, t.revoked_at, t.expires_at, t.last_used_at,
       u.id AS user_id, u.role, u.region, u.active,
       a.id, a.structure_id, a.status, a.version, a.questionnaire_id, a.questionnaire_version,
       a.created_at, a.updated_at, a.submitted_at, a.tier_id, a.tier_level, a.global_score,
       (SELECT jsonb_object_agg(k, a.answers -> k) FROM unnest(%(qids)s::text[]) AS k
         WHERE a.answers ? k) AS answers,
       (SELECT jsonb_object_agg(k, a.answer_meta -> k) FROM unnest(%(qids)s::text[]) AS k
         WHERE a.answer_meta ? k) AS answer_meta,
       s.finess, s.region AS structure_region,
       EXISTS (SELECT 1 FROM director_structure d
               WHERE d.user_id = u.id AND d.structure_id = a.structure_id) AS linked
FROM api_token t
JOIN user_account u ON u.id = t.user_id
LEFT JOIN assessment a ON a.id = %(assessment_id)s
LEFT JOIN structure s ON s.id = a.structure_id
WHERE t.token_hash = %(hash)s
"""

# The compare-and-swap of _CAS, merging in the database: answers set to null are removed.
_PG_CAS = """
UPDATE assessment
SET answers = (answers - %(removed)s::text[]) || %(set)s::jsonb,
    answer_meta = answer_meta || %(meta)s::jsonb,
    version = %(new_version)s, updated_at = %(now)s
WHERE id = %(assessment_id)s AND version = %(read_version)s AND status = 'draft'
RETURNING answers::text, answer_meta::text
"""


_PG_LOCK = "SELECT 1 FROM assessment WHERE id = %(assessment_id)s FOR UPDATE"

_PG_TOUCH = "UPDATE api_token SET last_used_at = %(now)s WHERE id = %(token_id)s"


def pg_params(hashed: str, assessment_id: int, changes: dict[str, Any]) -> dict[str, Any]:
    """The parameters of `_PG_READ`. Question ids PostgreSQL cannot take (NUL, lone
    surrogates) are no question: the validation refuses them before any conflict check."""
    return {"hash": hashed, "assessment_id": assessment_id,
            "qids": [q for q in changes if _utf8(q)]}


async def pg_run(conn: psycopg.AsyncConnection[Any], sql: str, params: dict[str, Any], *,
                 named: bool = True) -> Any:
    """One statement, its first row (named columns, or a plain tuple). Errors of the driver
    are raised as SQLAlchemy's (`DBAPIError.instance`), as a session would: lock contention
    is a 503."""
    with _driver_errors(sql, params):
        cursor = conn.cursor(row_factory=namedtuple_row) if named else conn.cursor()
        await cursor.execute(sql, params, prepare=True)
        result = cursor.pgresult  # not `description`: it builds column objects each time
        return await cursor.fetchone() if result and result.status == TUPLES_OK else None


async def pg_rows(conn: psycopg.AsyncConnection[Any], sql: str,
                  params: dict[str, Any]) -> list[tuple[Any, ...]]:
    """One statement's rows (plain tuples); errors as `pg_run`'s."""
    with _driver_errors(sql, params):
        cursor = conn.cursor()
        await cursor.execute(sql, params, prepare=True)
        return await cursor.fetchall()


@contextmanager
def _driver_errors(sql: str, params: dict[str, Any]) -> Iterator[None]:
    """psycopg's errors raised as SQLAlchemy's, as a session raises them."""
    try:
        yield
    except psycopg.Error as exc:
        raise DBAPIError.instance(sql, params, exc, psycopg.Error) from exc


async def pg_read(conn: psycopg.AsyncConnection[Any], params: dict[str, Any]) -> Any:
    """The row of `_PG_READ` (None: no token has this hash)."""
    return await pg_run(conn, _PG_READ, params)


async def pg_touch_if_due(conn: psycopg.AsyncConnection[Any], token_id: int,
                          last_used_at: datetime | None, now: datetime) -> None:
    """`api_tokens.touch_if_due` on an autocommit connection: best effort, as there (a
    database too busy is logged, the request goes on)."""
    if not touch_due(last_used_at, now):
        return
    try:
        await pg_run(conn, _PG_TOUCH, {"now": now, "token_id": token_id})
    except OperationalError:
        log.warning("could not record activity on ApiToken (database busy)")


async def pg_save(conn: psycopg.AsyncConnection[Any], actor: Actor, registry: Registry,
                  read: Any, base_version: int, changes: dict[str, Any],
                  params: dict[str, Any]) -> tuple[dict[str, Any], str, str]:
    """`save_read` on PostgreSQL, on an autocommit connection (the compare-and-swap UPDATE
    commits itself): the assessment's columns after the save (documents left out) and the
    two documents as JSON text. When someone saved in between, the merge is done again once
    in a transaction holding the row (FOR UPDATE): a stream of other saves, each a single
    statement, cannot make this one lose the race again and again."""
    validate(registry, read, changes)
    written = await _pg_cas(conn, actor, read, base_version, changes)
    if written is not None:
        return written
    async with conn.transaction():
        await pg_run(conn, _PG_LOCK, {"assessment_id": read.id})
        current = await pg_read(conn, params)
        if current is None or current.id is None:
            raise NotFound(MISSING)
        written = await _pg_cas(conn, actor, current, base_version, changes)
    if written is None:  # pragma: no cover - the row is held: nobody can save in between
        raise Conflict([], current.version)
    return written


async def _pg_cas(conn: psycopg.AsyncConnection[Any], actor: Actor, current: Any,
                  base_version: int, changes: dict[str, Any],
                  ) -> tuple[dict[str, Any], str, str] | None:
    """One compare-and-swap of `changes` merged into the row `current` (None: the row is no
    longer at `current.version`). NotEditable, Conflict."""
    if not editable_status(current.status):
        raise NotEditable()
    check_conflicts(current.answers or {}, current.answer_meta or {}, current.version,
                    base_version, changes)
    new_version, now = current.version + 1, utcnow()
    written = await pg_run(conn, _PG_CAS, {
        "assessment_id": current.id, "read_version": current.version,
        "removed": [q for q, v in changes.items() if v is None],
        "set": json.dumps({q: v for q, v in changes.items() if v is not None}),
        "meta": json.dumps(new_meta(changes, actor.id, new_version, now)),
        "new_version": new_version, "now": now})
    if written is None:
        return None
    columns = {**current._asdict(), "version": new_version, "updated_at": now}
    for name in ("created_at", "submitted_at"):  # in the server's time zone
        columns[name] = columns[name] and columns[name].astimezone(UTC)
    return columns, written.answers, written.answer_meta


def _utf8(text: str) -> bool:
    """`text` can be sent to PostgreSQL as text (UTF-8, no NUL)."""
    try:
        text.encode()
    except UnicodeEncodeError:
        return False
    return "\x00" not in text


def validate(registry: Registry, read: Any, changes: dict[str, Any]) -> None:
    """QuestionnaireUnavailable, or InvalidAnswers for changes its questionnaire refuses."""
    q = registry.get(read.questionnaire_id, read.questionnaire_version)
    if q is None:
        raise QuestionnaireUnavailable()
    errors = validate_answers(q, changes)
    if errors:
        raise InvalidAnswers(errors)


DOCUMENTS_PLACEHOLDER = '"answers":{},"answer_meta":{}'


def splice_documents(serialised: str, answers: str, answer_meta: str) -> str:
    """A response serialised with empty `answers` and `answer_meta` (DOCUMENTS_PLACEHOLDER),
    with the documents' JSON text put in their place."""
    head, found, tail = serialised.partition(DOCUMENTS_PLACEHOLDER)
    assert found, "AssessmentOut no longer serialises answers then answer_meta"
    return f'{head}"answers":{answers},"answer_meta":{answer_meta}{tail}'
