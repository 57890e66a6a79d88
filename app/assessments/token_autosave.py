"""The API's autosave with a Bearer token (issue 14, `PATCH /api/v1/assessments/{id}/answers`):
the service its FastAPI route (app/routes/api.py `save`) and its lean ASGI path
(app/routes/api_autosave.py) call. The token, its user, the assessment and its structure are
read in one statement (app/assessments/autosave.py), then the checks of load_user and
current_actor for a Bearer request (`api_tokens.check_token`: 401; the token's use recorded
at most once a minute; `check_write_scope`: 403 read-only), the permission decision
(`autosave.check_fill`: 404, 403) and the compare-and-swap save of `service.save_answers`
(422, 409). `seen(actor)` is called once the caller is known, before the permission
decision, so the web side can mark the request as authenticated (its error answers too).

- `save_on_pool`: PostgreSQL, from the event loop on the app's asyncio pool (autocommit: each
  statement commits itself); the documents come back as JSON text.
- `save_on_session`: on a session (SQLite; a test's session on PostgreSQL).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from psycopg_pool import AsyncConnectionPool
from sqlmodel import Session

from app.accounts.api_tokens import check_token, check_write_scope, touch_if_due
from app.accounts.auth import actor_for_structure
from app.accounts.tokens import token_hash
from app.assessments import autosave, autosave_known
from app.db import utcnow
from app.permissions import Actor
from app.questionnaires import Registry

Seen = Callable[[Actor], None]


@dataclass(frozen=True, slots=True)
class Saved:
    """The assessment after the save: its columns as `autosave.save_read` names them (with
    the structure's `finess`), and its two documents as JSON text (`answers`, `answer_meta`:
    PostgreSQL's pool), or None when they are in `columns`."""

    columns: dict[str, Any]
    answers: str | None = None
    answer_meta: str | None = None


def _actor(read: Any, seen: Seen) -> Actor:
    """The caller of a usable token whose use is recorded: ReadOnlyToken for a read-only
    one; else its actor as far as the assessment's structure is concerned, `seen`."""
    check_write_scope(read.scope)
    actor = actor_for_structure(read.user_id, read.role, read.region, read.active,
                                read.structure_id, read.linked)
    seen(actor)
    return actor


async def save_on_pool(pool: AsyncConnectionPool[Any], registry: Registry, bearer: str,
                       assessment_id: int, base_version: int, changes: dict[str, Any],
                       seen: Seen) -> Saved:
    """The save on PostgreSQL from the event loop: `autosave.pg_read`, the checks,
    `autosave.pg_save` (the documents merged by the database, returned as text); for a
    token and draft whose read is remembered, first one guarded statement
    (`autosave_known.save`, sent with the others waiting: app/assessments/save_batch.py)."""
    hashed = token_hash(bearer)
    known = autosave_known.lookup(hashed, assessment_id)
    decided = known and autosave_known.decide(registry, known, hashed, base_version, changes)
    if decided:  # seen before: one statement (with others: save_batch), if nothing changed
        fast = await autosave_known.save(pool, known, decided)
        if fast is not None:
            seen(decided.actor)
            return Saved(*fast)
    autosave_known.forget(hashed, assessment_id)
    async with pool.connection() as conn:  # all busy: PoolTimeout, a 503 (app.web.contention)
        params = autosave.pg_params(hashed, assessment_id, changes)
        read = await autosave.pg_read(conn, params)
        now = utcnow()
        check_token(read, now)
        await autosave.pg_touch_if_due(conn, read.token_id, read.last_used_at, now)
        actor = _actor(read, seen)
        autosave.check_fill(actor, read)
        columns, answers, meta = await autosave.pg_save(
            conn, actor, registry, read, base_version, changes, params)
    autosave_known.remember(hashed, assessment_id, read)
    return Saved(columns, answers, meta)


def save_on_session(session: Session, registry: Registry, bearer: str, assessment_id: int,
                    base_version: int, changes: dict[str, Any], seen: Seen) -> Saved:
    """The same save on a session: `autosave.read_for_token`, the checks (the token's use
    recorded in its own short write transaction), `autosave.save_read` (commits)."""
    read = autosave.read_for_token(session, token_hash(bearer), assessment_id)
    now = utcnow()
    check_token(read, now)
    assert read is not None
    touch_if_due(session, read.token_id, read.last_used_at, now)
    actor = _actor(read, seen)
    autosave.check_fill(actor, read)
    return Saved(autosave.save_read(session, actor, registry, read, base_version, changes))
