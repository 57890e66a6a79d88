"""Assessments: start or resume the draft, autosave with optimistic concurrency, submit.

Concurrency: a save carries the version the client last saw. A question changed since that
version (by another tab or person) to a different value is a conflict (nothing is written);
changes to other questions merge. Writes are compare-and-swap on the row's version, so two
concurrent requests never lose each other's answers, on SQLite and PostgreSQL alike.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import bindparam, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.attributes import set_committed_value
from sqlmodel import Session, col, select

from app.accounts.models import User
from app.assessments import pdf
from app.assessments.answers_merge import merge_answers
from app.assessments.carry_over import migrate
from app.assessments.lifecycle import editable, transition
from app.assessments.models import Assessment, AssessmentDomainScore, AssessmentStatus
from app.assessments.receipt import receipt_number, send_receipt
from app.audit import AuditEvent, record
from app.config import Settings
from app.dashboard.read_model import record_submission
from app.db import begin_read, begin_write, kept_loaded, utcnow
from app.errors import (
    Conflict,
    Forbidden,
    Incomplete,
    InvalidAnswers,
    NotEditable,
    NotFound,
    QuestionnaireUnavailable,
)
from app.permissions import Action, Actor, can_on_structure, can_read_assessment
from app.questionnaires import Registry
from app.structures.finess import normalize
from app.structures.models import Structure
from scoring import Questionnaire, score, validate_answers

DEFAULT_QUESTIONNAIRE = "esms-maturite-numerique"
CAS_ATTEMPTS = 20
DRAFT_HIDDEN = ("Cette évaluation est en cours : ses réponses restent celles du directeur "
                "jusqu’à sa transmission.")


# ---- lookups through the actor -------------------------------------------------------------


def check_structure(actor: Actor | None, structure_id: int | None, region: str,
                    action: Action, missing: str, *, submitted: bool | None = None) -> None:
    """NotFound(missing) unless the actor sees the structure (out of scope reads as absent);
    Forbidden unless they may read its assessment (when `submitted` is given) and do
    `action`."""
    if structure_id is None or not can_on_structure(actor, Action.view_structure,
                                                    structure_id, region):
        raise NotFound(missing)
    if submitted is not None and not can_read_assessment(actor, structure_id, region,
                                                         submitted=submitted):
        raise Forbidden(DRAFT_HIDDEN)
    if action != Action.view_structure and not can_on_structure(actor, action, structure_id,
                                                                region):
        raise Forbidden()


def _checked(actor: Actor | None, s: Structure | None, action: Action, missing: str, *,
             submitted: bool | None = None) -> Structure:
    """`s` if the actor sees it, may read its assessment (when `submitted` is given) and may
    do `action` (`check_structure`)."""
    if s is None:
        raise NotFound(missing)
    check_structure(actor, s.id, s.region, action, missing, submitted=submitted)
    return s


def get_structure(session: Session, actor: Actor | None, finess: str,
                  action: Action = Action.view_structure) -> Structure:
    """The structure if the actor may see it (else NotFound) and do `action` (else Forbidden)."""
    return _checked(actor, session.exec(select(Structure).where(
        Structure.finess == normalize(finess))).first(), action, "Structure introuvable.")


def get_assessment(session: Session, actor: Actor | None, assessment_id: int,
                   action: Action = Action.view_structure) -> tuple[Assessment, Structure]:
    a = session.get(Assessment, assessment_id)
    if a is None:
        raise NotFound("Évaluation introuvable.")
    return a, _checked(actor, session.get(Structure, a.structure_id), action,
                       "Évaluation introuvable.", submitted=a.status == AssessmentStatus.submitted)


def questionnaire_of(registry: Registry, a: Assessment) -> Questionnaire:
    q = registry.get(a.questionnaire_id, a.questionnaire_version)
    if q is None:
        raise QuestionnaireUnavailable()
    return q


def _lock(session: Session, a: Assessment) -> None:
    """Re-read the row as a writer: BEGIN IMMEDIATE on SQLite, FOR UPDATE on PostgreSQL."""
    begin_write(session)
    session.exec(select(Assessment).where(Assessment.id == a.id).with_for_update()
                 .execution_options(populate_existing=True)).one()


def _lock_editable(session: Session, a: Assessment) -> None:
    """`_lock`, then NotEditable (rolled back) unless the assessment is still a draft."""
    _lock(session, a)
    if not editable(a):
        session.rollback()
        raise NotEditable()


def current_draft(session: Session, structure_id: int) -> Assessment | None:
    return session.exec(
        select(Assessment).where(Assessment.structure_id == structure_id,
                                 Assessment.status == AssessmentStatus.draft)
    ).first()


def submitted_assessments(session: Session, structure_id: int) -> list[Assessment]:
    """Submitted assessments of a structure, newest first."""
    return list(session.exec(
        select(Assessment)
        .where(Assessment.structure_id == structure_id,
               Assessment.status == AssessmentStatus.submitted)
        .order_by(col(Assessment.submitted_at).desc(), col(Assessment.id).desc())
    ).all())


# ---- start / resume -------------------------------------------------------------------------


@dataclass
class Prefill:
    """What a new draft copied from the last submission, and what did not carry over."""

    source_id: int | None = None
    source_version: str | None = None
    carried: list[str] = field(default_factory=list)
    dropped: list[str] = field(default_factory=list)


def carry_over(old_q: Questionnaire | None, new_q: Questionnaire,
               answers: dict[str, Any], registry: Registry | None = None,
               ) -> tuple[dict[str, Any], list[str], list[str]]:
    """(answers, carried ids, dropped ids) of a submission in a newer version: through the
    migration map from the old version to the new one when the registry has it (renamed
    questions and options follow; dropped ids are the old questions removed and the new
    ones to answer again), else the answers whose question id and type still exist (and
    whose value is still valid)."""
    m = registry.migrations.get((new_q.id, old_q.version)) if registry and old_q else None
    if m is not None and m.to_version == new_q.version:
        out = migrate(answers, m, new_q)
        return out.answers, list(out.answers), out.removed + out.ask_again
    kept: dict[str, Any] = {}
    dropped: list[str] = []
    for qid, value in answers.items():
        new = new_q.questions.get(qid)
        old_type = old_q.questions[qid].type if old_q and qid in old_q.questions else None
        same_type = new is not None and (old_type is None or old_type == new.type)
        if same_type and not validate_answers(new_q, {qid: value}):
            kept[qid] = value
        else:
            dropped.append(qid)
    return kept, list(kept), dropped


def start_or_resume(session: Session, actor: Actor, registry: Registry, finess: str,
                    questionnaire_id: str = DEFAULT_QUESTIONNAIRE,
                    ) -> tuple[Assessment, Prefill | None]:
    """The structure's one draft: the existing one, or a new one prefilled from the last
    submission (answers whose question still exists in the newest questionnaire version)."""
    s = get_structure(session, actor, finess, Action.fill_assessment)
    assert s.id is not None
    existing = current_draft(session, s.id)
    if existing is not None:
        carry_over_draft(session, actor, registry, existing)
        return existing, None
    q = registry.latest(questionnaire_id)
    if q is None:
        raise QuestionnaireUnavailable("Aucune version valide du questionnaire n'est chargée.")
    prefill: Prefill | None = None
    answers: dict[str, Any] = {}
    meta: dict[str, Any] = {}
    previous = submitted_assessments(session, s.id)
    if previous:
        last = previous[0]
        old_q = registry.get(last.questionnaire_id, last.questionnaire_version)
        answers, carried, dropped = carry_over(old_q, q, dict(last.answers or {}),
                                              registry)
        now = utcnow().isoformat()
        meta = {qid: {"by": actor.id, "at": now, "revision": 0, "from": last.id}
                for qid in answers}
        prefill = Prefill(last.id, last.questionnaire_version, carried, dropped)
    now_dt = utcnow()
    draft = Assessment(
        structure_id=s.id, questionnaire_id=q.id, questionnaire_version=q.version,
        status=AssessmentStatus.draft, answers=answers, answer_meta=meta, version=0,
        created_by=actor.id, created_at=now_dt, updated_at=now_dt,
    )
    session.add(draft)
    try:
        session.flush()
    except IntegrityError:  # another request created the draft first
        session.rollback()
        existing = current_draft(session, s.id)
        if existing is None:  # pragma: no cover
            raise
        return existing, None
    record(session, actor.id, "draft_created", "assessment", str(draft.id),
           {"finess": s.finess, "questionnaire": f"{q.id} {q.version}",
            "prefilled_from": prefill.source_id if prefill else None})
    session.commit()
    session.refresh(draft)
    return draft, prefill


# ---- carrying an open draft over to the newest version --------------------------------------

CARRIED_OVER = "draft_carried_over"  # the audit action; its details are the draft's notice


def carry_over_draft(session: Session, actor: Actor | None, registry: Registry,
                     a: Assessment) -> dict[str, Any] | None:
    """Move an open draft on an older questionnaire version to the newest one when a
    migration map leads there and the actor may fill it (its director opening it): answers
    mapped (`carry_over.migrate`), questionnaire_version changed and version counter bumped
    in one compare-and-swap write, audited (`draft_carried_over`, whose details are the
    notice). Returns those details, or None when nothing moved. Submitted assessments and
    readers (an ARS referent) never trigger it."""
    if a.status != AssessmentStatus.draft or actor is None:
        return None
    m = registry.migration(a.questionnaire_id, a.questionnaire_version)
    if m is None:
        return None
    s = session.get(Structure, a.structure_id)
    if s is None or s.id is None or not can_on_structure(actor, Action.fill_assessment, s.id,
                                                          s.region):
        return None
    new_q = registry.get(m.questionnaire_id, m.to_version)
    assert new_q is not None
    for _ in range(CAS_ATTEMPTS):
        _lock(session, a)
        if a.status != AssessmentStatus.draft or a.questionnaire_version != m.from_version:
            session.rollback()
            return None
        out = migrate(dict(a.answers or {}), m, new_q)
        new_version = a.version + 1
        now = utcnow()
        old_meta = dict(a.answer_meta or {})
        # Unchanged answers keep their history; moved ones are written by this carry-over.
        meta = {qid: old_meta[qid] for qid in out.kept if qid in old_meta}
        for mv in out.moved:
            meta[mv.to] = {"by": actor.id, "at": now.isoformat(), "revision": new_version,
                           "carried_from": m.from_version}
        res = session.exec(
            update(Assessment)
            .where(col(Assessment.id) == a.id, col(Assessment.version) == a.version,
                   col(Assessment.status) == AssessmentStatus.draft,
                   col(Assessment.questionnaire_version) == m.from_version)
            .values(answers=out.answers, answer_meta=meta, version=new_version,
                    questionnaire_version=m.to_version, updated_at=now)
        )
        if res.rowcount != 1:
            session.rollback()
            continue
        details = {
            "finess": s.finess, "from": m.from_version, "to": m.to_version,
            "version": new_version,
            "moved": [[mv.question, mv.to] for mv in out.moved],
            "ask_again": out.ask_again, "added": out.added, "removed": out.removed,
            "kept": len(out.kept), "notes": out.notes,
        }
        record(session, actor.id, CARRIED_OVER, "assessment", str(a.id), details)
        session.commit()
        session.refresh(a)
        return details
    raise Conflict([], a.version)  # pragma: no cover - only under extreme contention


def carried_over(session: Session, a: Assessment) -> dict[str, Any] | None:
    """The details of the carry-over that brought this draft to its version, if any."""
    if a.status != AssessmentStatus.draft:
        return None
    row = session.execute(_CARRIED_OVER, {"object_id": str(a.id)}).first()
    details = (row[0] or {}) if row is not None else {}
    if row is None or details.get("to") != a.questionnaire_version:
        return None
    return {**details, "at": row[1]}


# Built once (read on every view of a draft's section): the last carry-over of a draft.
_CARRIED_OVER = (select(AuditEvent.details, AuditEvent.at)
                 .where(AuditEvent.action == CARRIED_OVER,
                        AuditEvent.object_type == "assessment",
                        AuditEvent.object_id == bindparam("object_id"))
                 .order_by(col(AuditEvent.id).desc()).limit(1))


# ---- autosave -------------------------------------------------------------------------------


@dataclass
class Saved:
    assessment: Assessment
    version: int
    saved: list[str]
    structure: Structure | None = None


def save_answers(session: Session, actor: Actor, registry: Registry, assessment_id: int,
                 base_version: int, changes: dict[str, Any]) -> Saved:
    """Save some answers of a draft (None clears an answer). Raises Conflict, InvalidAnswers,
    NotEditable, NotFound, Forbidden.

    One read (no lock), then one compare-and-swap `UPDATE ... WHERE version = <read>`: on
    SQLite the write lock (BEGIN IMMEDIATE) covers only that UPDATE and its commit; when the
    row changed in between, it is read again and the changes merged again."""
    begin_read(session)
    a, s = get_assessment(session, actor, assessment_id, Action.fill_assessment)
    q = questionnaire_of(registry, a)
    errors = validate_answers(q, changes)
    if errors:
        raise InvalidAnswers(errors)
    for _ in range(CAS_ATTEMPTS):
        if not editable(a):
            session.rollback()
            raise NotEditable()
        read_version = a.version  # what was merged
        try:
            written = merge_answers(a.answers, a.answer_meta, read_version, actor.id,
                                    base_version, changes)
        except Conflict:
            session.rollback()
            raise
        new_version = written["version"]
        with kept_loaded(session):  # begin_write's commit (SQLite) and ours keep `a`, `s`
            begin_write(session)  # SQLite: ends the read, BEGIN IMMEDIATE (PostgreSQL: nothing)
            res = session.exec(
                update(Assessment)
                .where(col(Assessment.id) == assessment_id,
                       col(Assessment.version) == read_version,
                       col(Assessment.status) == AssessmentStatus.draft)
                .values(**written)
                .execution_options(synchronize_session=False)
            )
            if res.rowcount == 1:
                session.commit()
                for key, value in written.items():  # what the UPDATE wrote: no re-read
                    set_committed_value(a, key, value)
                return Saved(a, new_version, list(changes), s)
        session.rollback()  # someone saved in between: re-read and merge again
        begin_read(session)
        a = session.exec(select(Assessment).where(Assessment.id == assessment_id)
                         .execution_options(populate_existing=True)).one()
    raise Conflict([], a.version)  # pragma: no cover - only under extreme contention


# ---- submit ---------------------------------------------------------------------------------


def submit(session: Session, actor: Actor, registry: Registry, assessment_id: int, *,
           settings: Settings | None = None, declared: bool = False) -> Assessment:
    """Submit a complete draft: store the Result snapshot and aggregatable scores.

    `declared`: the director ticked the declaration of accuracy (the page requires it; the
    API accepts it). With `settings`, the acknowledgement (receipt number, palier, link to
    the PDF declaration) is e-mailed to the submitting user after the commit; the audit
    event holds the receipt number, the declaration and the recipient."""
    a, s = get_assessment(session, actor, assessment_id, Action.fill_assessment)
    q = questionnaire_of(registry, a)
    user = session.get(User, actor.id)
    recipient = user.email if settings is not None and user is not None and user.email else None
    for _ in range(CAS_ATTEMPTS):
        _lock_editable(session, a)
        answers = dict(a.answers or {})
        errors = validate_answers(q, answers)
        if errors:  # saves are validated; answers stored before a stricter rule was added
            session.rollback()
            raise InvalidAnswers(errors)
        result = score(q, answers)
        if not result.complete:
            session.rollback()
            raise Incomplete(result.missing_required)
        now = utcnow()
        moved = transition(session, a, AssessmentStatus.submitted, submitted_by=actor.id,
                           submitted_at=now, updated_at=now, result=result.to_dict(),
                           tier_id=result.tier["id"] if result.tier else None,
                           tier_level=result.tier_level, global_score=result.global_score,
                           complete=True)
        if not moved:
            session.rollback()
            continue
        for d in result.domains:
            session.add(AssessmentDomainScore(assessment_id=assessment_id, domain_id=d["id"],
                                              score=d["score"], earned=float(d["earned"]),
                                              max=float(d["max"])))
        record_submission(session, assessment_id)  # the dashboards' latest result, same transaction
        record(session, actor.id, "submit", "assessment", str(a.id),
               {"finess": s.finess, "tier": result.tier["id"] if result.tier else None,
                "global_score": result.global_score,
                "questionnaire": f"{q.id} {q.version}",
                "receipt": receipt_number(a), "declaration": declared,
                "receipt_to": recipient})
        session.commit()
        session.refresh(a)
        if settings is not None and recipient is not None:
            send_receipt(settings, recipient, a, s)
        if settings is not None:
            pdf.prebuild(settings, a, actor.id)
        return a
    raise Conflict([], a.version)  # pragma: no cover
