"""Writing the demo's assessments: a structure's successive submissions and its draft, built
by `AnswerBuilder` and buffered by `AssessmentWriter`, which inserts them in batches with their
domain scores and audit events (SQLAlchemy Core)."""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Sequence
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any, cast

from sqlalchemy import Table, insert
from sqlalchemy.engine import Connection

from app.assessments.models import Assessment, AssessmentDomainScore, AssessmentStatus
from app.audit import AuditEvent
from app.demo.answers import AnswerBuilder, CannotBuild
from app.demo.plan import submission_dates, working_time
from app.demo.profile_answers import fit_profile, profile_answers
from app.demo.profiles import BATCH, JSON_BATCH
from scoring import Result, validate_answers

if TYPE_CHECKING:
    from app.demo.plan import _Site

# (row, answers, submitted_at) of a structure's latest written submission
_Last = tuple[dict[str, Any], dict[str, Any], datetime]


def table_of(model: type[Any]) -> Table:
    return cast(Table, model.__table__)


def insert_rows(conn: Connection, model: type[Any], rows: Sequence[dict[str, Any]],
            batch: int = BATCH, returning: bool = False) -> list[int]:
    table = table_of(model)
    ids: list[int] = []
    stmt = insert(table)
    if returning:
        stmt = stmt.returning(table.c.id, sort_by_parameter_order=True)
    for i in range(0, len(rows), batch):
        chunk = list(rows[i:i + batch])
        if not chunk:
            continue
        res = conn.execute(stmt, chunk)
        if returning:
            ids.extend(res.scalars().all())
    return ids


def _meta(answers: dict[str, Any], user_id: int | None, start: datetime, end: datetime,
          rng: random.Random, source: int | None = None) -> tuple[dict[str, Any], int]:
    """answer_meta as autosave writes it (one save per answer, in questionnaire order), or
    as a prefill from assessment `source` writes it (revision 0)."""
    if source is not None:
        at = start.isoformat()
        return {qid: {"by": user_id, "at": at, "revision": 0, "from": source}
                for qid in answers}, 0
    # A few working sessions between start and end, answers saved ~40 s apart in each.
    days = max(0, (end.date() - start.date()).days)
    sessions = sorted({min(end, max(start, working_time(
        start.date() + timedelta(days=rng.randint(0, days)), rng))) for _ in range(3)})
    sessions[0] = start
    qids = list(answers)
    size = math.ceil(len(qids) / len(sessions)) if qids else 1
    meta = {}
    for revision, qid in enumerate(qids, start=1):
        session_start = sessions[(revision - 1) // size]
        saved = min(end, session_start + timedelta(seconds=40 * ((revision - 1) % size)
                                                   + rng.randint(5, 35)))
        meta[qid] = {"by": user_id, "at": saved.isoformat(), "revision": revision}
    return meta, len(answers)


class AssessmentWriter:
    """Buffers assessments and writes them in batches with their domain scores and audit
    events; a draft prefilled from a submission gets the submission's id once written."""

    def __init__(self, conn: Connection, say: Callable[[str], None]) -> None:
        self.conn = conn
        self.say = say
        self.subs: list[tuple[dict[str, Any], Result, str]] = []
        self.drafts: list[tuple[dict[str, Any], str, dict[str, Any] | None]] = []
        self.n_submitted = 0
        self.n_drafts = 0

    def submitted(self, row: dict[str, Any], result: Result, finess: str) -> None:
        self.subs.append((row, result, finess))

    def draft(self, row: dict[str, Any], finess: str, source: dict[str, Any] | None) -> None:
        self.drafts.append((row, finess, source))

    def maybe_flush(self) -> None:
        if len(self.subs) >= 4 * JSON_BATCH:
            self.flush()

    def flush(self) -> None:
        ids = insert_rows(self.conn, Assessment, [r for r, _, _ in self.subs], batch=JSON_BATCH,
                      returning=True)
        written = {id(row): aid for (row, _, _), aid in zip(self.subs, ids, strict=True)}
        insert_rows(self.conn, AssessmentDomainScore, [
            {"assessment_id": aid, "domain_id": d["id"], "score": d["score"],
             "earned": float(d["earned"]), "max": float(d["max"])}
            for aid, (_, result, _) in zip(ids, self.subs, strict=True) for d in result.domains
        ])
        audit = [
            {"at": row["submitted_at"], "user_id": row["submitted_by"], "action": "submit",
             "object_type": "assessment", "object_id": str(aid),
             "details": {"finess": finess, "tier": row["tier_id"],
                         "global_score": row["global_score"],
                         "questionnaire": _label(row)},
             "ip": None}
            for aid, (row, _, finess) in zip(ids, self.subs, strict=True)
        ]
        sources: list[int | None] = []
        for row, _, source in self.drafts:
            source_id = None if source is None else written[id(source)]
            for m in row["answer_meta"].values():
                if "from" in m:
                    m["from"] = source_id
            sources.append(source_id)
        draft_ids = insert_rows(self.conn, Assessment, [r for r, _, _ in self.drafts],
                            returning=True)
        for aid, (row, finess, _), source_id in zip(draft_ids, self.drafts, sources,
                                                     strict=True):
            audit.append({
                "at": row["created_at"], "user_id": row["created_by"],
                "action": "draft_created", "object_type": "assessment", "object_id": str(aid),
                "details": {"finess": finess, "questionnaire": _label(row),
                            "prefilled_from": source_id},
                "ip": None,
            })
        insert_rows(self.conn, AuditEvent, audit)
        before = self.n_submitted
        self.n_submitted += len(self.subs)
        self.n_drafts += len(self.drafts)
        self.subs, self.drafts = [], []
        if self.n_submitted // 5000 > before // 5000:
            self.say(f"{self.n_submitted} évaluations soumises écrites…")


def _label(row: dict[str, Any]) -> str:
    return f"{row['questionnaire_id']} {row['questionnaire_version']}"


def write_site(writer: AssessmentWriter, s: _Site, uid: int | None, builder: AnswerBuilder,
               old_builder: AnswerBuilder, quarters: list[date], now: datetime,
               rng: random.Random) -> None:
    """Queue the structure's submissions (the older ones on `old_builder`'s version) and its
    draft, if it has one."""
    target = s.targets[-1] if s.targets else rng.choice((0, 1, 1, 2))
    base_profile = profile_answers(s.kind, s.capacity, s.group_size > 1, target, rng)
    last: _Last | None = None
    dates = submission_dates(s.submissions, quarters, now, rng) if s.submissions else []
    previous_global = -1.0
    for nth, (target_now, submitted_at) in enumerate(zip(s.targets, dates, strict=True)):
        older = nth < len(dates) - 1
        used = old_builder if older else builder  # history on the older version
        profile = fit_profile(used.q, base_profile)
        if older and profile["regroupement"] == "oui" and rng.random() < 0.4:
            profile["regroupement"] = "en_cours"  # the grappe formed since
        for _ in range(5):  # progress: successive global scores should not drop
            answers, result = used.build(profile, target_now, rng)
            if (result.global_score or 0) >= previous_global:
                break
        previous_global = result.global_score or 0
        created = working_time((submitted_at - timedelta(days=rng.randint(1, 25))).date(),
                               rng)
        meta, saves = _meta(answers, uid, created, submitted_at, rng)
        row = {
            "structure_id": s.id, "questionnaire_id": used.q.id,
            "questionnaire_version": used.q.version,
            "status": AssessmentStatus.submitted.value,
            "answers": answers, "answer_meta": meta, "version": saves + 1,
            "created_by": uid, "created_at": created, "updated_at": submitted_at,
            "submitted_by": uid, "submitted_at": submitted_at, "result": result.to_dict(),
            "tier_id": result.tier["id"] if result.tier else None,
            "tier_level": result.tier_level, "global_score": result.global_score,
            "complete": True,
        }
        writer.submitted(row, result, s.finess)
        last = (row, answers, submitted_at)
    if s.draft:
        _write_draft(writer, s, uid, builder, base_profile, target, last, now, rng)


def _write_draft(writer: AssessmentWriter, s: _Site, uid: int | None, builder: AnswerBuilder,
                 base_profile: dict[str, Any], target: int, last: _Last | None,
                 now: datetime, rng: random.Random) -> None:
    """A draft in progress: a first assessment filled in section by section, or a new one
    prefilled from the last submission with a few changes."""
    q = builder.q
    earliest = now - timedelta(days=120)
    if last is not None:
        earliest = max(earliest, last[2] + timedelta(hours=1))
    created = earliest + (now - earliest) * rng.uniform(0.0, 0.9)
    created = min(max(working_time(created.date(), rng), earliest), now)
    updated = created + (now - created) * rng.uniform(0.05, 0.95)
    target = min(builder.top, s.targets[-1] + 1) if s.targets else target
    fresh, _ = builder.build(fit_profile(q, base_profile), target, rng)
    if last is None:  # a first assessment, filled in section by section
        answers = builder.partial(fresh, rng)
        meta, saves = _meta(answers, uid, created, updated, rng)
    else:  # "Nouvelle évaluation": prefilled from the last submission, a few changes
        previous = last[1]
        answers = dict(previous)
        meta, _ = _meta(answers, uid, created, created, rng, source=0)
        changed = [qid for qid in fresh
                   if fresh[qid] != previous.get(qid) and qid not in builder.fixed]
        saves = 0
        for qid in rng.sample(changed, min(len(changed), rng.randint(1, 8))):
            saves += 1
            answers[qid] = fresh[qid]
            meta[qid] = {"by": uid, "at": (created + (updated - created) * saves / 9)
                         .isoformat(), "revision": saves}
    errors = validate_answers(q, answers)
    if errors:  # a bug in this module
        raise CannotBuild(f"invalid draft answers: {errors}")
    writer.draft({
        "structure_id": s.id, "questionnaire_id": q.id,
        "questionnaire_version": q.version, "status": AssessmentStatus.draft.value,
        "answers": answers, "answer_meta": meta, "version": saves, "created_by": uid,
        "created_at": created, "updated_at": updated, "submitted_by": None,
        "submitted_at": None, "result": None, "tier_id": None, "tier_level": None,
        "global_score": None, "complete": False,
    }, s.finess, None if last is None else last[0])
