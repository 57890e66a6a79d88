"""Next steps of submitted assessments as rows (migration 0011), so that an export of 34,000
structures reads ~500,000 narrow rows instead of decoding as many result snapshots.

`store` extracts them from the stored result snapshots once per assessment (a submitted
assessment never changes): called by the shortlists' read model at every submission and by
`palier dashboard refresh`. The distinct texts (`next_step_text`: a few dozen per
questionnaire) are kept once; `assessment_next_step` says which, in order. `of` reads them
back and falls back to the snapshot of an assessment stored before 0011 (or without any
next step: a result at the top palier has none, and no row says so).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from itertools import groupby
from operator import itemgetter
from typing import Any

from sqlalchemy import exists, func, insert, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session

from app.assessments.models import Assessment
from app.db import id_chunk, in_ids
from app.shortlists.models import AssessmentNextStep, NextStepText

CHUNK = 500
A = Assessment.__table__  # type: ignore[attr-defined]
T = NextStepText.__table__  # type: ignore[attr-defined]
ANS = AssessmentNextStep.__table__  # type: ignore[attr-defined]


@dataclass(frozen=True, slots=True)
class Text:
    """What an export shows of a step (hashable: exports lay its cells out once)."""

    tier: int | None  # the level of the palier it leads to
    label: str | None
    title: str | None
    effort: str | None
    funding: tuple[str, ...]

    @property
    def key(self) -> str:
        data = [self.tier, self.label, self.title, self.effort, list(self.funding)]
        return hashlib.sha256(json.dumps(data, ensure_ascii=False).encode()).hexdigest()


Step = tuple[Text, bool]  # (texts, to verify with the software vendor)


def _level(tier: Any, levels: dict[Any, Any]) -> int | None:
    if isinstance(tier, int) and not isinstance(tier, bool):
        return tier
    return levels.get(tier) if isinstance(tier, str) else None


def parse(steps: Any, tiers: Any) -> list[Step]:
    """The steps of a stored result (`next_steps`, `tiers` for the palier levels)."""
    levels = {t.get("id"): t.get("level") for t in tiers or [] if isinstance(t, dict)}
    out = []
    for s in steps or []:
        if not isinstance(s, dict):
            continue
        funding = tuple(str(f) for f in s.get("funding") or [])
        out.append((Text(_level(s.get("tier"), levels), s.get("label"), s.get("title"),
                         s.get("effort"), funding), bool(s.get("to_verify"))))
    return out


def _text_ids(session: Session, texts: set[Text]) -> dict[Text, int]:
    """Ids of these texts, inserting the new ones (another writer may insert them too)."""
    by_key = {t.key: t for t in texts}
    ids: dict[Text, int] = {}

    def known() -> None:
        keys = [k for k, t in by_key.items() if t not in ids]
        for start in range(0, len(keys), CHUNK):
            for i, key in session.execute(select(T.c.id, T.c.key).where(
                    T.c.key.in_(keys[start:start + CHUNK]))).all():
                ids[by_key[key]] = i

    known()
    new = [{"key": k, "tier": t.tier, "label": t.label, "title": t.title, "effort": t.effort,
            "funding": "|".join(t.funding)} for k, t in by_key.items() if t not in ids]
    if new:
        dialect = session.get_bind().dialect.name
        upsert = postgresql.insert if dialect == "postgresql" else sqlite.insert
        session.execute(upsert(T).values(new).on_conflict_do_nothing(index_elements=["key"]))
        known()
    return ids


def store(session: Session, assessment_ids: Sequence[int]) -> None:
    """In the caller's (write) transaction: the rows of these assessments that have none
    yet, from their result snapshots."""
    ids = sorted(set(assessment_ids))
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start:start + CHUNK]
        found = session.execute(
            select(A.c.id, A.c.result["next_steps"], A.c.result["tiers"])
            .where(A.c.id.in_(chunk), ~exists().where(ANS.c.assessment_id == A.c.id))).all()
        parsed = {aid: parse(steps, tiers) for aid, steps, tiers in found}
        text_ids = _text_ids(session, {t for steps in parsed.values() for t, _ in steps})
        rows = [{"assessment_id": aid, "position": i, "text_id": text_ids[t], "to_verify": v}
                for aid, steps in parsed.items() for i, (t, v) in enumerate(steps)]
        for i in range(0, len(rows), 1000):
            session.execute(insert(ANS), rows[i:i + 1000])


def texts(session: Session) -> dict[int, Text]:
    return {r.id: Text(r.tier, r.label, r.title, r.effort,
                       tuple(f for f in r.funding.split("|") if f))
            for r in session.execute(select(T)).all()}


def of(session: Session, assessment_ids: Sequence[int],
       known: dict[int, Text] | None = None) -> Iterator[tuple[int, list[Step]]]:
    """(assessment id, its steps in order) for these assessments, in chunks; `known`: the
    texts already read (`texts`), completed as needed."""
    table = known if known is not None else texts(session)
    size = id_chunk(session)
    read = _grouped if session.get_bind().dialect.name == "postgresql" else _ungrouped
    for start in range(0, len(assessment_ids), size):
        chunk = list(assessment_ids[start:start + size])
        steps: dict[int, list[Step]] = {}
        for aid, text_ids, verify in read(session, chunk):
            if not all(t in table for t in text_ids):
                table.update(texts(session))
            steps[aid] = [(table[t], v) for t, v in zip(text_ids, verify, strict=True)]
        missing = [a for a in chunk if a not in steps]
        if missing:  # stored before migration 0011, or no step at all
            steps.update(_from_snapshots(session, missing))
        for aid in chunk:
            yield aid, steps.get(aid, [])


def _grouped(session: Session, ids: list[int]) -> Any:
    """PostgreSQL: (assessment id, its text ids in order, their to_verify), one row per
    assessment (a national export: ~34,000 rows instead of ~480,000)."""
    return session.execute(
        select(ANS.c.assessment_id,
               func.array_agg(postgresql.aggregate_order_by(ANS.c.text_id, ANS.c.position)),
               func.array_agg(postgresql.aggregate_order_by(ANS.c.to_verify,
                                                                  ANS.c.position)))
        .where(in_ids(session, ANS.c.assessment_id, ids))
        .group_by(ANS.c.assessment_id)).all()


def _ungrouped(session: Session, ids: list[int]) -> Iterator[tuple[int, list[int], list[bool]]]:
    """The same from one row per step (SQLite)."""
    rows = session.execute(
        select(ANS.c.assessment_id, ANS.c.text_id, ANS.c.to_verify)
        .where(in_ids(session, ANS.c.assessment_id, ids))
        .order_by(ANS.c.assessment_id, ANS.c.position)).all()
    for aid, group in groupby(rows, key=itemgetter(0)):
        steps = list(group)
        yield aid, [r[1] for r in steps], [r[2] for r in steps]


def _from_snapshots(session: Session, ids: list[int]) -> dict[int, list[Step]]:
    """Steps read from the result snapshots; the tiers (for the levels) only of the
    results that have steps (those without any are most of the calls)."""
    raw = {aid: s for aid, s in session.execute(
        select(A.c.id, A.c.result["next_steps"]).where(in_ids(session, A.c.id, ids))).all()}
    with_steps = [aid for aid, s in raw.items() if s]
    tiers = dict(session.execute(select(A.c.id, A.c.result["tiers"])
                                 .where(in_ids(session, A.c.id, with_steps))).all()
                 ) if with_steps else {}
    return {aid: parse(s, tiers.get(aid)) for aid, s in raw.items()}
