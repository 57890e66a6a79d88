"""The merge of an autosave, pure: which questions conflict with what was saved since the
version the client saw, and the answers and meta a save writes. Used by
`service.save_answers` (the ORM path) and `autosave` (the API's lean path)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from app.db import utcnow
from app.errors import Conflict, ConflictItem


def merge_answers(answers: dict[str, Any] | None, meta: dict[str, Any] | None, version: int,
                  by: int, base_version: int, changes: dict[str, Any]) -> dict[str, Any]:
    """The columns a save of `changes` writes over a draft's `answers` and `answer_meta` read
    at `version` (by a client that last saw `base_version`): answers, answer_meta, version,
    updated_at. Conflict when a changed question was saved since `base_version` to another
    value (nothing merged)."""
    answers = dict(answers or {})
    meta = dict(meta or {})
    check_conflicts(answers, meta, version, base_version, changes)
    new_version = version + 1
    now = utcnow()
    answers.update((qid, value) for qid, value in changes.items() if value is not None)
    for qid in changes:
        if changes[qid] is None:
            answers.pop(qid, None)
    meta.update(new_meta(changes, by, new_version, now))
    return {"answers": answers, "answer_meta": meta, "version": new_version, "updated_at": now}


def check_conflicts(answers: dict[str, Any], meta: dict[str, Any], version: int,
                    base_version: int, changes: dict[str, Any]) -> None:
    """Conflict when a question of `changes` was saved since `base_version` (its meta's
    revision) to another value. `answers` and `meta` need only hold the changed questions."""
    conflicts = []
    for qid, value in changes.items():
        m = meta.get(qid)
        if m and int(m.get("revision", 0)) > base_version and answers.get(qid) != value:
            conflicts.append(ConflictItem(qid, answers.get(qid), value, m.get("by"),
                                          m.get("at")))
    if conflicts:
        raise Conflict(conflicts, version)


def new_meta(changes: dict[str, Any], by: int, new_version: int,
             now: datetime) -> dict[str, Any]:
    """The answer_meta entries a save of `changes` writes."""
    entry = meta_entry(by, new_version, now)
    return {qid: dict(entry) for qid in changes}


def meta_entry(by: int, new_version: int, now: datetime) -> dict[str, Any]:
    """The answer_meta entry of each question a save writes."""
    return {"by": by, "at": now.isoformat(), "revision": new_version}
