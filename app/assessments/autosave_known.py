"""The API autosave on PostgreSQL in one statement, for a caller seen before (issue 14).

The Bearer save (app/assessments/token_autosave.py) reads the token, its user, the
assessment and its structure (`autosave.pg_read`), decides, then writes
(`autosave.pg_save`): two round trips. A director's client saves the same draft with the
same token again and again, and what the decision reads rarely changes. So each successful
save remembers its read row (`remember`: a bounded cache of this process, keyed by the
token's hash and the assessment's id), and the next save of that pair:

1. `decide` (before a connection is taken) takes the same decisions on the remembered row,
   with the same functions (`api_tokens.check_token`, `check_write_scope`,
   `auth.actor_for_structure`, `autosave.check_fill`, `autosave.validate`,
   `editable_status`): any refusal gives None, and the caller takes the two-statement
   path, whose answer is then the one of the database's current rows;
2. `save` sends ONE compare-and-swap UPDATE (the merge of `autosave.pg_save`, done by the
   database from the request's answers as JSON; app/assessments/save_batch.py's statement,
   which sends the saves waiting together), guarded on every value that decision
   read: the remembered `autosave.FACTS` text (token, user, link to the structure,
   structure, draft's questionnaire and status) equal to the rows' current one; and on
   what the common case needs: the draft still at the client's `version` with no changed
   question whose revision is past it (no conflict possible), the token used within
   TOUCH_INTERVAL (no use to record). When any of these does not hold, nothing is written
   and None is returned: the caller goes on with the two-statement path (the cache gives
   a guess, never a decision).

The documents are merged by the database and returned as text, as in `autosave.pg_save`.
"""

from __future__ import annotations

import json
from collections import OrderedDict
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from psycopg_pool import AsyncConnectionPool

from app.accounts.api_tokens import check_token, check_write_scope
from app.accounts.auth import actor_for_structure
from app.accounts.sessions import TOUCH_INTERVAL
from app.assessments import autosave, save_batch
from app.assessments.answers_merge import meta_entry
from app.assessments.lifecycle import editable_status
from app.assessments.models import AssessmentStatus
from app.db import utcnow
from app.permissions import Actor
from app.questionnaires import Registry

CACHE_SIZE = 4096
_known: OrderedDict[tuple[str, int], Any] = OrderedDict()

def lookup(hashed: str, assessment_id: int) -> Any:
    """The read row remembered for this token's hash and assessment, or None."""
    return _known.get((hashed, assessment_id))


def remember(hashed: str, assessment_id: int, read: Any) -> None:
    """Remember the read row of a save that went through (the least recent beyond
    CACHE_SIZE forgotten)."""
    key = (hashed, assessment_id)
    _known[key] = read
    _known.move_to_end(key)
    while len(_known) > CACHE_SIZE:
        _known.popitem(last=False)


def forget(hashed: str, assessment_id: int) -> None:
    _known.pop((hashed, assessment_id), None)


@dataclass(frozen=True, slots=True)
class Decided:
    """A save the decisions on a remembered row let through: the actor, the statement's
    parameters and its time."""

    actor: Actor
    params: dict[str, Any]
    now: datetime


def decide(registry: Registry, known: Any, hashed: str, base_version: int,
           changes: dict[str, Any]) -> Decided | None:
    """The two-statement path's decisions on the remembered row (no database: before a
    connection is taken): what `save` sends when they all let the save through with no
    conflict possible, else None."""
    now = utcnow()
    try:
        check_token(known, now)
        check_write_scope(known.scope)
        actor = actor_for_structure(known.user_id, known.role, known.region, known.active,
                                    known.structure_id, known.linked)
        autosave.check_fill(actor, known)
        autosave.validate(registry, known, changes)
    except Exception:  # a refusal: the two-statement path gives it
        return None
    if known.status != AssessmentStatus.draft or not editable_status(known.status):
        return None
    new_version = base_version + 1
    entry = meta_entry(actor.id, new_version, now)  # each changed question's (new_meta)
    return Decided(actor, {
        "changes": json.dumps(changes), "entry": json.dumps(entry),
        "new_version": new_version, "now": now, "hash": hashed, "user_id": known.user_id,
        "assessment_id": known.id,
        "read_version": base_version, "touch_before": now - TOUCH_INTERVAL,
        "facts": known.facts}, now)


async def save(pool: AsyncConnectionPool[Any], known: Any, decided: Decided,
               ) -> tuple[dict[str, Any], str, str] | None:
    """The save in one guarded statement (sent with the other saves waiting for the
    database: app/assessments/save_batch.py): (columns, answers text, answer_meta text) as
    `autosave.pg_save` returns them, or None when the caller must take the two-statement
    path (nothing written)."""
    row = await save_batch.save(pool, decided.params)
    if row is None:
        return None
    answers, answer_meta, status, created_at, submitted_at, tier_id, tier_level, score = row
    columns = {**known._asdict(), "version": decided.params["new_version"],
               "updated_at": decided.now, "status": status, "tier_id": tier_id,
               "tier_level": tier_level, "global_score": score,
               "created_at": created_at.astimezone(UTC),
               "submitted_at": submitted_at and submitted_at.astimezone(UTC)}
    return columns, answers, answer_meta
