"""Reviews of submitted assessments by the ARS, and evidence attached to answers.

Public helpers for other pages (dashboards, shortlists, structure lists):

    review_status(session, assessment_ids) -> {assessment_id: "validee" | "a_revoir"}
        the current status (latest review) of each reviewed assessment; ids never reviewed
        are absent. Labels: models.REVIEW_LABELS. Template badge:
        {% import "partials/reviews/_macros.html" as rvm %}{{ rvm.review_badge(status) }}
    latest_review_subquery() -> subquery (assessment_id, status, comment, created_at)
        the same as SQL, to join in aggregate queries (one row per reviewed assessment).

Permissions: reviewing is `Action.review_assessment` (ARS of the region, admin); attaching
or deleting evidence is `Action.fill_assessment` on a draft; seeing either is
`Action.view_structure`. Out of scope -> NotFound, in scope but not allowed -> Forbidden.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, BinaryIO

from sqlalchemy import Subquery, bindparam, func
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from app import textcheck
from app.accounts.models import DirectorStructure, User
from app.assessments.lifecycle import editable, ensure_editable
from app.assessments.models import Assessment, AssessmentStatus
from app.assessments.service import get_assessment
from app.audit import record
from app.config import Settings
from app.db import begin_write
from app.email import send_email
from app.errors import NotFound, Unprocessable, WrongState
from app.formatting import date_fr
from app.permissions import Action, Actor, Role
from app.reviews import storage
from app.reviews.models import (
    REVIEW_LABELS,
    AssessmentReview,
    Evidence,
    EvidenceKind,
    ReviewStatus,
)
from app.structures.models import Structure

log = logging.getLogger("palier.reviews")

MAX_COMMENT = 4000
MAX_NOTE = 2000
MAX_PER_QUESTION = 10
_IN_CHUNK = 500

EVIDENCE_LOCKED = ("Cette évaluation a été transmise : ses preuves ne peuvent plus être "
                   "modifiées.")


class NotReviewable(WrongState):
    message = ("Cette évaluation n’est pas encore transmise : seule une évaluation transmise "
               "peut être revue.")


class InvalidReview(Unprocessable):
    message = "La revue est invalide."

    def __init__(self, message: str, field: str) -> None:
        super().__init__(message)
        self.field = field


class InvalidEvidence(Unprocessable):
    message = "Cette preuve ne peut pas être ajoutée."

    def __init__(self, message: str, field: str = "fichier") -> None:
        super().__init__(message)
        self.field = field


# ---- review status (for every page that lists assessments) ---------------------------------


def latest_review_subquery() -> Subquery:
    """(assessment_id, status, comment, reviewer_id, created_at) of each assessment's latest
    review, as a subquery to join: `.outerjoin(sq, sq.c.assessment_id == Assessment.id)`."""
    latest = (select(func.max(AssessmentReview.id).label("id"))
              .group_by(col(AssessmentReview.assessment_id)))
    return (sa_select(col(AssessmentReview.assessment_id), col(AssessmentReview.status),
                      col(AssessmentReview.comment), col(AssessmentReview.reviewer_id),
                      col(AssessmentReview.created_at))
            .where(col(AssessmentReview.id).in_(latest))
            .subquery("latest_review"))


def review_status(session: Session, assessment_ids: Iterable[int]) -> dict[int, str]:
    """{assessment id: "validee" | "a_revoir"} for the reviewed ones among `assessment_ids`.
    No permission check: pass ids the caller may already see."""
    ids = sorted({int(i) for i in assessment_ids})
    out: dict[int, str] = {}
    for start in range(0, len(ids), _IN_CHUNK):
        chunk = ids[start:start + _IN_CHUNK]
        latest = (select(func.max(AssessmentReview.id))
                  .where(col(AssessmentReview.assessment_id).in_(chunk))
                  .group_by(col(AssessmentReview.assessment_id)))
        rows = session.exec(select(AssessmentReview.assessment_id, AssessmentReview.status)
                            .where(col(AssessmentReview.id).in_(latest))).all()
        out.update({aid: status for aid, status in rows})
    return out


def latest_review(session: Session, assessment_id: int) -> AssessmentReview | None:
    return session.exec(select(AssessmentReview)
                        .where(AssessmentReview.assessment_id == assessment_id)
                        .order_by(col(AssessmentReview.id).desc()).limit(1)).first()


@dataclass
class ReviewEntry:
    review: AssessmentReview
    label: str
    reviewer: str


def history(session: Session, assessment_id: int) -> list[ReviewEntry]:
    """Every review of an assessment, newest first, with the reviewer's name."""
    rows = session.exec(select(AssessmentReview, User)
                        .outerjoin(User, col(User.id) == AssessmentReview.reviewer_id)
                        .where(AssessmentReview.assessment_id == assessment_id)
                        .order_by(col(AssessmentReview.id).desc())).all()
    return [ReviewEntry(r, REVIEW_LABELS.get(r.status, r.status),
                        (u.name or u.email) if u is not None else "—") for r, u in rows]


# ---- recording a review ---------------------------------------------------------------------


def parse_status(raw: str | None) -> ReviewStatus:
    try:
        return ReviewStatus((raw or "").strip())
    except ValueError:
        raise InvalidReview("Choisissez « Validée » ou « À revoir ».", "status") from None


def record_review(session: Session, settings: Settings, actor: Actor, assessment_id: int,
                  status: str | ReviewStatus, comment: str | None,
                  ip: str | None = None, questions: Sequence[str] = ()) -> AssessmentReview:
    """Record a review of a submitted assessment. "à revoir" needs a comment and e-mails the
    structure's directors; `questions` (ids the caller checked against the questionnaire)
    are the answers it concerns. Raises NotFound, Forbidden, NotReviewable, InvalidReview."""
    a, s = get_assessment(session, actor, assessment_id, Action.review_assessment)
    if a.status != AssessmentStatus.submitted:
        raise NotReviewable()
    value = parse_status(status if isinstance(status, str) else status.value)
    text, refused = textcheck.typed_text(comment, MAX_COMMENT, label="Commentaire",
                                         noun="Le commentaire")
    if value is ReviewStatus.a_revoir and not text:
        raise InvalidReview("Indiquez ce qui doit être revu : le commentaire est obligatoire "
                            "pour une évaluation « à revoir ».", "comment")
    if refused:
        raise InvalidReview(refused, "comment")
    concerned = (list(dict.fromkeys(questions)) or None) if value is ReviewStatus.a_revoir \
        else None
    review = AssessmentReview(assessment_id=a.id or 0, status=value.value, comment=text,
                              reviewer_id=actor.id, questions=concerned)
    session.add(review)
    record(session, actor.id, "review", "assessment", a.id,
           {"status": value.value, "comment": text, "finess": s.finess,
            "questions": concerned or []}, ip)
    session.commit()
    session.refresh(review)
    if value is ReviewStatus.a_revoir:
        notify_directors(session, settings, a, s, review)
    return review


def structure_directors(session: Session, structure_id: int) -> list[User]:
    return list(session.exec(
        select(User).join(DirectorStructure, col(DirectorStructure.user_id) == User.id)
        .where(DirectorStructure.structure_id == structure_id, col(User.active).is_(True),
               User.role == Role.director.value)
        .order_by(col(User.email))
    ).all())


def notify_directors(session: Session, settings: Settings, a: Assessment, s: Structure,
                     review: AssessmentReview) -> list[str]:
    """E-mail each active director of the structure that the assessment is "à revoir"."""
    base = settings.public_url
    sent = []
    for user in structure_directors(session, s.id or 0):
        body = (
            f"Bonjour,\n\n"
            f"Votre référent ARS a relu l’autodiagnostic de « {s.name} » (FINESS {s.finess}) "
            f"transmis le {date_fr(a.submitted_at)} et l’a marqué « à revoir ».\n\n"
            f"Son commentaire :\n\n{review.comment}\n\n"
            f"Consultez le résultat et le commentaire : {base}/evaluations/{a.id}/resultat\n"
            f"Vous pouvez ensuite commencer une nouvelle évaluation depuis la page de la "
            f"structure ; elle reprend vos réponses précédentes : {base}/structures/{s.finess}\n"
            f"\n-- \nPalier, autodiagnostic de maturité numérique des ESMS\n"
        )
        send_email(settings, user.email, "Palier : votre autodiagnostic est à revoir", body)
        sent.append(user.email)
    return sent


# ---- evidence -------------------------------------------------------------------------------


def evidence_by_question(session: Session, assessment_id: int) -> dict[str, list[Evidence]]:
    """{question id: [evidence, oldest first]} of an assessment (no permission check)."""
    out: dict[str, list[Evidence]] = {}
    for e in session.scalars(_EVIDENCE, {"assessment_id": assessment_id}):
        out.setdefault(e.question_id, []).append(e)
    return out


# Built once (read on every view of a section): an assessment's evidence, oldest first.
_EVIDENCE = (select(Evidence).where(Evidence.assessment_id == bindparam("assessment_id"))
             .order_by(col(Evidence.id)))


def _lock_draft(session: Session, actor: Actor, assessment_id: int) -> Assessment:
    """The draft, re-read as a writer (so a concurrent submit cannot slip in between)."""
    a, _ = get_assessment(session, actor, assessment_id, Action.fill_assessment)
    begin_write(session)
    a = session.exec(select(Assessment).where(Assessment.id == assessment_id)
                     .with_for_update().execution_options(populate_existing=True)).one()
    if not editable(a):
        session.rollback()
        ensure_editable(a, EVIDENCE_LOCKED)
    return a


def _check_room(session: Session, assessment_id: int, question_id: str, adding: int) -> None:
    count = session.exec(select(func.count()).select_from(Evidence)
                         .where(Evidence.assessment_id == assessment_id,
                                Evidence.question_id == question_id)).one()
    if count + adding > MAX_PER_QUESTION:
        raise InvalidEvidence(f"Une question peut recevoir au plus {MAX_PER_QUESTION} preuves : "
                              "supprimez-en une avant d’en ajouter.")


def add_evidence(session: Session, settings: Settings, actor: Actor, assessment_id: int,
                 question_id: str, question_ids: Sequence[str], *,
                 upload: BinaryIO | None = None, filename: str | None = None,
                 note: str | None = None, ip: str | None = None) -> list[Evidence]:
    """Attach a file and/or a note to one answer of a draft. `question_ids`: the questions
    of the assessment's questionnaire. Raises NotFound, Forbidden, NotEditable,
    InvalidEvidence or a storage.EvidenceFileError (then nothing is kept)."""
    a, _ = get_assessment(session, actor, assessment_id, Action.fill_assessment)
    ensure_editable(a, EVIDENCE_LOCKED)
    if question_id not in question_ids:
        raise NotFound("Question introuvable.")
    text, refused = textcheck.typed_text(note, MAX_NOTE, label="Note", noun="La note",
                                         pronoun="elle")
    if refused:
        raise InvalidEvidence(refused, "note")
    if upload is None and not text:
        raise InvalidEvidence("Choisissez un fichier ou écrivez une note.")
    stored = storage.check(upload, filename) if upload is not None else None
    try:
        _lock_draft(session, actor, assessment_id)
        _check_room(session, assessment_id, question_id, (stored is not None) + bool(text))
        added: list[Evidence] = []
        if stored is not None:
            storage.store(session, stored)
            added.append(Evidence(
                assessment_id=assessment_id, question_id=question_id, kind=EvidenceKind.file,
                original_filename=stored.original_filename, stored_name=stored.stored_name,
                content_type=stored.content_type, size=stored.size, sha256=stored.sha256,
                uploaded_by=actor.id))
        if text:
            added.append(Evidence(assessment_id=assessment_id, question_id=question_id,
                                  kind=EvidenceKind.note, note=text, uploaded_by=actor.id))
        for e in added:
            session.add(e)
        session.flush()
        for e in added:
            details: dict[str, Any] = {"question": question_id, "kind": e.kind}
            if e.kind == EvidenceKind.file:
                details.update(filename=e.original_filename, size=e.size, sha256=e.sha256,
                               content_type=e.content_type)
            record(session, actor.id, "evidence_added", "evidence", e.id, details, ip)
        session.commit()
    except BaseException:
        session.rollback()  # the stored file too
        raise
    for e in added:
        session.refresh(e)
    return added


def get_evidence(session: Session, actor: Actor | None, evidence_id: int,
                 action: Action = Action.view_structure) -> tuple[Evidence, Assessment]:
    """Evidence the actor may see (else NotFound) and act on (else Forbidden)."""
    e = session.get(Evidence, evidence_id)
    if e is None:
        raise NotFound("Preuve introuvable.")
    try:
        a, _ = get_assessment(session, actor, e.assessment_id, action)
    except NotFound:
        raise NotFound("Preuve introuvable.") from None
    return e, a


def delete_evidence(session: Session, settings: Settings, actor: Actor, evidence_id: int,
                    ip: str | None = None) -> Evidence:
    """Remove evidence from a draft (the file too). Raises NotFound, Forbidden, NotEditable."""
    _, a = get_evidence(session, actor, evidence_id, Action.fill_assessment)
    _lock_draft(session, actor, a.id or 0)
    e = session.get(Evidence, evidence_id)
    if e is None:  # deleted meanwhile
        session.rollback()
        raise NotFound("Preuve introuvable.")
    stored_name = e.stored_name
    record(session, actor.id, "evidence_deleted", "evidence", e.id,
           {"question": e.question_id, "kind": e.kind, "filename": e.original_filename,
            "sha256": e.sha256}, ip)
    session.delete(e)
    storage.delete(session, stored_name)
    session.commit()
    return e
