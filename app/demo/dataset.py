"""Synthetic demo dataset: structures, accounts and assessments scored by the real engine.

`load_demo(session, ...)` fills an EMPTY database (it refuses otherwise) with:

- structures (FINESS ET) across several regions (or, above `NATIONAL_THRESHOLD`, all 18
  regions weighted by population), grouped under organismes gestionnaires (FINESS EJ with
  1 to 15 ET), with a category mix dominated by EHPAD, plausible names, cities and
  capacities; every FINESS number is well-formed with a valid Luhn check digit;
- one director account per organisme gestionnaire, plus the four demo accounts
  (`DEMO_ACCOUNTS`), all with the same password (hashed once);
- assessments: most structures have a submitted one (some 2 or 3 successive submissions
  showing progress), some a draft in progress, some nothing. Drafts and each structure's
  latest submission use the current questionnaire version; older submissions the previous
  version when one is given (`history`), with the same structure profile.

Answers are built per target palier (`AnswerBuilder`): a random answer set biased by a
maturity level, then every requirement of the target palier and of the lower ones is made
true and some requirements of the palier above are made false, by reading the tier
conditions of the questionnaire (no question id is hard-coded there). The answers pass
`validate_answers`, are scored once with `score`, and a set whose placed palier is not the
target is regenerated. Submitted rows hold exactly what `assessments.service.submit`
stores (Result snapshot, tier, global and per-domain scores).

Inserts go through SQLAlchemy Core in batches, so 40,000 structures load in minutes.
"""

from __future__ import annotations

import math
import random
import time
from collections import Counter
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import Table, insert
from sqlalchemy.engine import Connection
from sqlmodel import Session

from app.accounts.models import DirectorStructure, User
from app.accounts.passwords import hash_password
from app.assessments.models import Assessment, AssessmentDomainScore, AssessmentStatus
from app.audit import AuditEvent
from app.dashboard.read_model import refresh_structures
from app.db import begin_write, utcnow
from app.demo.answers import AnswerBuilder, CannotBuild
from app.demo.plan import (
    DEMO_GROUP,
    DemoReport,
    campaign_quarters,
    database_is_empty,
    plan_sites,
    plan_states,
    submission_dates,
    tier_quotas,
    working_time,
)
from app.demo.profile_answers import fit_profile, profile_answers
from app.demo.profiles import (
    BATCH,
    DEFAULT_SEED,
    DEFAULT_STRUCTURES,
    DEMO_ACCOUNTS,
    DEMO_PASSWORD,
    IMPORTED_AT,
    JSON_BATCH,
    NATIONAL_THRESHOLD,
    DatabaseNotEmpty,
    finess_number,
)
from app.permissions import Role
from app.reference import finess_categories, regions
from app.structures.models import Structure
from scoring import Questionnaire, Result, validate_answers

__all__ = [
    "DEFAULT_SEED",
    "DEFAULT_STRUCTURES",
    "DEMO_ACCOUNTS",
    "DEMO_PASSWORD",
    "AnswerBuilder",
    "DatabaseNotEmpty",
    "DemoReport",
    "database_is_empty",
    "finess_number",
    "fit_profile",
    "load_demo",
    "profile_answers",
    "tier_quotas",
]


# ---- loading -----------------------------------------------------------------------------


def _table(model: type[Any]) -> Table:
    return cast(Table, model.__table__)


def _insert(conn: Connection, model: type[Any], rows: Sequence[dict[str, Any]],
            batch: int = BATCH, returning: bool = False) -> list[int]:
    table = _table(model)
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


class _AssessmentWriter:
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
        ids = _insert(self.conn, Assessment, [r for r, _, _ in self.subs], batch=JSON_BATCH,
                      returning=True)
        written = {id(row): aid for (row, _, _), aid in zip(self.subs, ids, strict=True)}
        _insert(self.conn, AssessmentDomainScore, [
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
        draft_ids = _insert(self.conn, Assessment, [r for r, _, _ in self.drafts],
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
        _insert(self.conn, AuditEvent, audit)
        before = self.n_submitted
        self.n_submitted += len(self.subs)
        self.n_drafts += len(self.drafts)
        self.subs, self.drafts = [], []
        if self.n_submitted // 5000 > before // 5000:
            self.say(f"{self.n_submitted} évaluations soumises écrites…")


def _label(row: dict[str, Any]) -> str:
    return f"{row['questionnaire_id']} {row['questionnaire_version']}"


def load_demo(
    session: Session,
    q: Questionnaire,
    *,
    history: Questionnaire | None = None,
    password: str = DEMO_PASSWORD,
    structures: int = DEFAULT_STRUCTURES,
    seed: int = DEFAULT_SEED,
    national: bool | None = None,
    now: datetime | None = None,
    progress: Callable[[str], None] | None = None,
) -> DemoReport:
    """Fill an empty database with the demo dataset (one transaction); raise
    DatabaseNotEmpty if it holds structures or accounts.

    `q` is the current version: drafts and each structure's latest submission use it; the
    older submissions use `history` (an older version, e.g. 2026.1) when given."""
    started = time.perf_counter()
    say = progress or (lambda _msg: None)
    if structures < len(DEMO_GROUP):
        raise ValueError(f"at least {len(DEMO_GROUP)} structures are needed")
    begin_write(session)
    if not database_is_empty(session):
        session.rollback()
        raise DatabaseNotEmpty()
    rng = random.Random(seed)
    now = now or utcnow()
    national = structures > NATIONAL_THRESHOLD if national is None else national

    sites, groups = plan_sites(structures, rng, national)
    plan_states(sites, rng)
    say(f"{len(sites)} structures prévues, génération des évaluations…")

    builder = AnswerBuilder(q)
    old_builder = AnswerBuilder(history) if history is not None else builder
    quarters = campaign_quarters(now)
    conn = session.connection()

    # Accounts (one argon2 hash for all).
    password_hash = hash_password(password)
    user_rows: list[dict[str, Any]] = []
    for email, role, region, name in DEMO_ACCOUNTS[1:]:
        user_rows.append(_user_row(email, name, role, region, password_hash))
    for grp in groups:
        user_rows.append(_user_row(grp.director_email, grp.director_name, Role.director, None,
                                   password_hash))
    user_ids = _insert(conn, User, user_rows, returning=True)
    email_to_id = {row["email"]: uid for row, uid in zip(user_rows, user_ids, strict=True)}
    for grp in groups:
        grp.user_id = email_to_id[grp.director_email]

    # Structures and their directors.
    structure_rows = [{
        "finess": s.finess, "finess_ej": s.finess_ej, "name": s.name,
        "category_code": s.kind.code, "category_label": finess_categories()[s.kind.code].label,
        "department": s.department, "region": s.region, "city": s.city,
        "capacity": s.capacity, "closed": False, "created_at": IMPORTED_AT,
        "updated_at": IMPORTED_AT,
    } for s in sites]
    for s, sid in zip(sites, _insert(conn, Structure, structure_rows, returning=True),
                      strict=True):
        s.id = sid
    _insert(conn, DirectorStructure, [
        {"user_id": groups[s.group].user_id, "structure_id": s.id, "created_at": IMPORTED_AT}
        for s in sites
    ])

    # Assessments, structure by structure, written in batches (bounded memory at 40,000).
    writer = _AssessmentWriter(conn, say)
    tier_counts: Counter[int] = Counter()
    for s in sites:
        uid = groups[s.group].user_id
        target = s.targets[-1] if s.targets else rng.choice((0, 1, 1, 2))
        base_profile = profile_answers(s.kind, s.capacity, s.group_size > 1, target, rng)
        last: tuple[dict[str, Any], dict[str, Any], datetime] | None = None  # row, answers
        dates = submission_dates(s.submissions, quarters, now, rng) if s.submissions else []
        previous_global = -1.0
        for nth, (target, submitted_at) in enumerate(zip(s.targets, dates, strict=True)):
            older = nth < len(dates) - 1
            used = old_builder if older else builder  # history on the older version
            profile = fit_profile(used.q, base_profile)
            if older and profile["regroupement"] == "oui" and rng.random() < 0.4:
                profile["regroupement"] = "en_cours"  # the grappe formed since
            for _ in range(5):  # progress: successive global scores should not drop
                answers, result = used.build(profile, target, rng)
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
        if s.targets:
            tier_counts[s.targets[-1]] += 1
        if s.draft:
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
        writer.maybe_flush()
    writer.flush()

    region_counts = Counter(s.region for s in sites)
    audit_rows = [{
        "at": now, "user_id": None, "action": "demo_loaded", "object_type": None,
        "object_id": None, "ip": None,
        "details": {"structures": len(sites), "regions": len(region_counts),
                    "submitted": writer.n_submitted, "drafts": writer.n_drafts,
                    "seed": seed},
    }]
    _insert(conn, AuditEvent, audit_rows)
    refresh_structures(session)  # the dashboards' read model (latest results)
    say("Validation de la transaction…")
    session.commit()

    demo_sites = [s for s in sites if s.group == 0]
    region_name = regions()[demo_sites[0].region].name
    accounts = [
        (DEMO_ACCOUNTS[0][0], Role.director.value,
         f"{len(demo_sites)} structures ({region_name})"),
        (DEMO_ACCOUNTS[1][0], Role.ars.value, regions()["84"].name),
        (DEMO_ACCOUNTS[2][0], Role.committee.value, "national"),
        (DEMO_ACCOUNTS[3][0], Role.admin.value, "toute la plateforme"),
    ]
    return DemoReport(
        structures=len(sites),
        regions=dict(sorted(region_counts.items())),
        groups=len(groups),
        submitted=writer.n_submitted,
        with_submission=sum(1 for s in sites if s.submissions),
        with_history=sum(1 for s in sites if s.submissions >= 2),
        drafts=writer.n_drafts,
        tiers=dict(sorted(tier_counts.items())),
        accounts=accounts,
        director_accounts=len(groups) - 1,
        password=password,
        seconds=time.perf_counter() - started,
    )


def _user_row(email: str, name: str, role: Role, region: str | None,
              password_hash: str) -> dict[str, Any]:
    return {"email": email.strip().lower(), "name": name, "password_hash": password_hash,
            "role": role.value, "region": region, "active": True, "created_at": IMPORTED_AT,
            "updated_at": IMPORTED_AT}
