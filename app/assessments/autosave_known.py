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
   database from the request's answers as JSON), guarded on every value that decision
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

import psycopg

from app.accounts.api_tokens import check_token, check_write_scope
from app.accounts.auth import actor_for_structure
from app.accounts.sessions import TOUCH_INTERVAL
from app.assessments import autosave
from app.assessments.answers_merge import meta_entry
from app.assessments.lifecycle import editable_status
from app.assessments.models import AssessmentStatus
from app.db import utcnow
from app.permissions import Actor
from app.questionnaires import Registry

CACHE_SIZE = 4096
_known: OrderedDict[tuple[str, int], Any] = OrderedDict()

# `autosave._PG_CAS` guarded on what the decision read (see the module docstring): the same
# FACTS text, the client's version, the token used within TOUCH_INTERVAL, no changed
# question "may conflict" (unless its meta is absent, an object without a revision, or an
# object whose numeric revision is at most the client's version: the cast only then).
# `changes` is the request's answers as JSON (null: removed), `entry` the answer_meta of each
# (`answers_merge.new_meta`'s).
_PG_KNOWN_CAS = f"""
WITH c AS (SELECT %(changes)s::jsonb AS doc)
UPDATE assessment a
SET answers = (a.answers - ARRAY(SELECT key FROM jsonb_each(c.doc)
                                 WHERE jsonb_typeof(value) = 'null'))
              || COALESCE((SELECT jsonb_object_agg(key, value) FROM jsonb_each(c.doc)
                           WHERE jsonb_typeof(value) <> 'null'), '{{}}'::jsonb),
    answer_meta = a.answer_meta
              || COALESCE((SELECT jsonb_object_agg(k, %(entry)s::jsonb)
                           FROM jsonb_object_keys(c.doc) AS k), '{{}}'::jsonb),
    version = %(new_version)s, updated_at = %(now)s
FROM c, api_token t
JOIN user_account u ON u.id = t.user_id
WHERE t.token_hash = %(hash)s AND a.id = %(assessment_id)s
  AND a.version = %(read_version)s AND a.status = 'draft'
  AND t.last_used_at > %(touch_before)s
  AND (SELECT {autosave.FACTS} FROM structure s WHERE s.id = a.structure_id) = %(facts)s
  AND NOT EXISTS (
    SELECT 1 FROM jsonb_object_keys(c.doc) AS k
    WHERE a.answer_meta ? k AND CASE
      WHEN jsonb_typeof(a.answer_meta -> k) <> 'object' THEN true
      WHEN NOT (a.answer_meta -> k) ? 'revision' THEN false
      WHEN jsonb_typeof(a.answer_meta -> k -> 'revision') <> 'number' THEN true
      ELSE (a.answer_meta -> k ->> 'revision')::numeric > %(read_version)s END)
RETURNING a.answers::text, a.answer_meta::text, a.status, a.created_at, a.submitted_at,
          a.tier_id, a.tier_level, a.global_score
"""


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
        "new_version": new_version, "now": now, "hash": hashed, "assessment_id": known.id,
        "read_version": base_version, "touch_before": now - TOUCH_INTERVAL,
        "facts": known.facts}, now)


async def save(conn: psycopg.AsyncConnection[Any], known: Any, decided: Decided,
               ) -> tuple[dict[str, Any], str, str] | None:
    """The save in one guarded statement: (columns, answers text, answer_meta text) as
    `autosave.pg_save` returns them, or None when the caller must take the two-statement
    path (nothing written)."""
    row = await autosave.pg_run(conn, _PG_KNOWN_CAS, decided.params, named=False)
    if row is None:
        return None
    answers, answer_meta, status, created_at, submitted_at, tier_id, tier_level, score = row
    columns = {**known._asdict(), "version": decided.params["new_version"],
               "updated_at": decided.now, "status": status, "tier_id": tier_id,
               "tier_level": tier_level, "global_score": score,
               "created_at": created_at.astimezone(UTC),
               "submitted_at": submitted_at and submitted_at.astimezone(UTC)}
    return columns, answers, answer_meta
