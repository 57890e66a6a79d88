"""The guarded one-statement saves of app/assessments/autosave_known.py, sent together
(issue 14): group commit for the API autosave on PostgreSQL.

Under load most of an autosave's cost is per statement, not per byte: a round trip to the
database (a write and a read on its socket, a wake-up of its process), the statement's start,
its commit. So the saves a web process has to send while its previous ones are still at the
database wait for them and then go as ONE statement (`_PG_SAVE`: one row per save, from
arrays) on one connection, in one transaction.
Alone, a save goes at once: batching adds no wait, it only takes the saves that were waiting.

- At most IN_FLIGHT statements at the database at once, each of at most MAX_BATCH saves.
- A draft is in at most one batch at a time, in flight or forming: a second save of a draft
  already in flight waits for the next batch. No two statements of this process lock the
  same rows, so they cannot deadlock with each other; each statement locks its drafts in the
  order of their ids, as other processes' statements do; each row's guards decide alone, as in
  the single statement (a batch whose row lost its guards returns no row for it: None, and
  that caller takes the two-statement path).
- A batch the database refuses (an error: a value it cannot take, a lock timeout, a lost
  connection) is sent again one save at a time, so that one caller's error is its own:
  every save gets its own statement's answer, a row, None or an exception.
- A draft's row locked by another transaction (another process's save, a submission: short
  ones) holds its whole batch until released, as it would hold its own save; the other
  statement in flight goes on.
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from psycopg_pool import AsyncConnectionPool

from app.assessments import autosave

# Measured (bench/README.md, stop 25): 1 or 2 statements in flight serve the most saves per
# second (8 serve a third fewer); 2, so that one batch waiting for a row lock does not hold
# every save of the process.
IN_FLIGHT = 2
MAX_BATCH = 32

# The columns of the one-save statement's parameters, in `_PG_SAVE`'s order.
_COLUMNS = ("changes", "entry", "new_version", "now", "hash", "user_id", "assessment_id",
            "read_version", "touch_before", "facts")

# `autosave._PG_CAS` guarded on what the decision read (app/assessments/autosave_known.py),
# one row per save (`b.i`: its place in the batch), each on its own parameters: the same
# FACTS text, the client's version, the token used within TOUCH_INTERVAL, no changed
# question "may conflict" (unless its meta is absent, an object without a revision, or an
# object whose numeric revision is at most the client's version: the cast only then).
# `changes` is the request's answers as JSON (null: removed), `entry` the answer_meta of each
# (`answers_merge.new_meta`'s). The token's FACTS are read by a subquery per row, the user's
# row by its key (`user_id`, the one the decision read, also in FACTS): index lookups
# whatever the batch's size (a join's plan may walk the users' index).
_PG_SAVE = f"""
WITH b AS (
  SELECT i, changes::jsonb AS doc, entry::jsonb AS entry, new_version, now, hash, user_id,
         assessment_id, read_version, touch_before, facts
  FROM unnest(%(i)s::int[], %(changes)s::text[], %(entry)s::text[], %(new_version)s::int[],
              %(now)s::timestamptz[], %(hash)s::text[], %(user_id)s::int[],
              %(assessment_id)s::int[], %(read_version)s::int[],
              %(touch_before)s::timestamptz[], %(facts)s::text[])
    AS b(i, changes, entry, new_version, now, hash, user_id, assessment_id, read_version,
         touch_before, facts)
)
UPDATE assessment a
SET answers = (a.answers - ARRAY(SELECT key FROM jsonb_each(b.doc)
                                 WHERE jsonb_typeof(value) = 'null'))
              || COALESCE((SELECT jsonb_object_agg(key, value) FROM jsonb_each(b.doc)
                           WHERE jsonb_typeof(value) <> 'null'), '{{}}'::jsonb),
    answer_meta = a.answer_meta
              || COALESCE((SELECT jsonb_object_agg(k, b.entry)
                           FROM jsonb_object_keys(b.doc) AS k), '{{}}'::jsonb),
    version = b.new_version, updated_at = b.now
FROM b
WHERE a.id = b.assessment_id AND a.version = b.read_version AND a.status = 'draft'
  AND (SELECT {autosave.FACTS}
       FROM api_token t JOIN user_account u ON u.id = t.user_id, structure s
       WHERE t.token_hash = b.hash AND t.last_used_at > b.touch_before
         AND t.user_id = b.user_id AND u.id = b.user_id AND s.id = a.structure_id) = b.facts
  AND NOT EXISTS (
    SELECT 1 FROM jsonb_object_keys(b.doc) AS k
    WHERE a.answer_meta ? k AND CASE
      WHEN jsonb_typeof(a.answer_meta -> k) <> 'object' THEN true
      WHEN NOT (a.answer_meta -> k) ? 'revision' THEN false
      WHEN jsonb_typeof(a.answer_meta -> k -> 'revision') <> 'number' THEN true
      ELSE (a.answer_meta -> k ->> 'revision')::numeric > b.read_version END)
RETURNING b.i, a.answers::text, a.answer_meta::text, a.status, a.created_at,
          a.submitted_at, a.tier_id, a.tier_level, a.global_score
"""


@dataclass(slots=True)
class _Save:
    params: dict[str, Any]
    done: asyncio.Future[Any]


@dataclass
class Batcher:
    """The saves of one web process's event loop on one pool (see the module's docstring;
    the pool is given at each call: the batcher is kept by the pool, weakly)."""

    waiting: list[_Save] = field(default_factory=list)
    drafts: set[int] = field(default_factory=set)  # in a batch in flight
    in_flight: int = 0
    tasks: set[asyncio.Future[None]] = field(default_factory=set)

    async def save(self, pool: AsyncConnectionPool[Any], params: dict[str, Any]) -> Any:
        """The row of the guarded statement for these parameters (as `autosave.pg_run`
        with named=False), None, or its error."""
        done: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self.waiting.append(_Save(params, done))
        self._start(pool)
        return await done

    def _start(self, pool: AsyncConnectionPool[Any]) -> None:
        while self.in_flight < IN_FLIGHT and self.waiting:
            batch: list[_Save] = []
            rest: list[_Save] = []
            ids: set[int] = set()
            for item in self.waiting:
                aid = item.params["assessment_id"]
                if len(batch) < MAX_BATCH and aid not in self.drafts and aid not in ids:
                    batch.append(item)
                    ids.add(aid)
                else:
                    rest.append(item)
            if not batch:
                return
            batch.sort(key=lambda item: item.params["assessment_id"])  # lock order: by id
            self.waiting = rest
            self.drafts |= ids
            self.in_flight += 1
            task = asyncio.ensure_future(self._send(pool, batch, ids))
            self.tasks.add(task)  # kept until done (the loop holds tasks weakly)
            task.add_done_callback(self.tasks.discard)

    async def _send(self, pool: AsyncConnectionPool[Any], batch: list[_Save],
                    ids: set[int]) -> None:
        try:
            await self._answer(pool, batch)
        finally:
            self.drafts -= ids
            self.in_flight -= 1
            self._start(pool)

    async def _answer(self, pool: AsyncConnectionPool[Any], batch: list[_Save]) -> None:
        try:
            async with pool.connection() as conn:
                try:
                    _settle_all(batch, await _rows(conn, batch))
                except Exception:
                    if len(batch) == 1:
                        raise
                    for item in batch:  # one save's error must stay its own: one at a time
                        try:
                            _settle_all([item], await _rows(conn, [item]))
                        except Exception as own:
                            _fail([item], own)
        except BaseException as exc:  # its error; no connection (PoolTimeout: 503); cancelled
            _fail(batch, exc)
            if not isinstance(exc, Exception):
                raise


async def _rows(conn: Any, batch: list[_Save]) -> list[tuple[Any, ...]]:
    """The statement for these saves: a row per save the guards let through."""
    return await autosave.pg_rows(conn, _PG_SAVE, _arrays(batch))


def _settle_all(batch: list[_Save], rows: list[tuple[Any, ...]]) -> None:
    """Each save its row (by its place in the batch), or None."""
    for i, *row in rows:
        if not batch[i].done.done():
            batch[i].done.set_result(tuple(row))
    _fail(batch, None)


def _fail(batch: list[_Save], exc: BaseException | None) -> None:
    """The saves not answered yet: `exc` (None: no row, the guards did not hold)."""
    for item in batch:
        if not item.done.done():
            if exc is None:
                item.done.set_result(None)
            else:
                item.done.set_exception(exc)


def _arrays(batch: Sequence[_Save]) -> dict[str, list[Any]]:
    """The batch's parameters as one array per column (`_PG_SAVE`'s)."""
    out: dict[str, list[Any]] = {"i": list(range(len(batch)))}
    for name in _COLUMNS:
        out[name] = [item.params[name] for item in batch]
    return out


_batchers: weakref.WeakKeyDictionary[AsyncConnectionPool[Any], Batcher] = (
    weakref.WeakKeyDictionary())


def batcher(pool: AsyncConnectionPool[Any]) -> Batcher:
    """The batcher of `pool` (one per pool, hence per event loop)."""
    found = _batchers.get(pool)
    if found is None:
        found = _batchers[pool] = Batcher()
    return found


async def save(pool: AsyncConnectionPool[Any], params: dict[str, Any]) -> Any:
    """One save on `pool`, sent with the others waiting (`Batcher.save`)."""
    return await batcher(pool).save(pool, params)
