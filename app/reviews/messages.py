"""The message thread of a submitted assessment, between the structure's directors and the
ARS referents of its region (`Action.message_assessment`; anybody else: NotFound out of
scope, Forbidden in scope). Each message is audited ("message") and e-mailed to the other
participants; the "à revoir" review it usually answers follows the director into the
correction draft (`correction_of`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlmodel import Session, col, select

from app import textcheck
from app.accounts.models import User
from app.assessments.models import Assessment, AssessmentStatus
from app.assessments.service import get_assessment
from app.audit import record
from app.config import Settings
from app.email import send_email
from app.errors import ServiceError
from app.formatting import date_fr
from app.permissions import Action, Actor, Role
from app.reviews.models import AssessmentMessage, AssessmentReview, ReviewStatus
from app.reviews.service import latest_review, structure_directors
from app.structures.models import Structure

MAX_MESSAGE = 4000


class NotSubmitted(ServiceError):
    status = 409
    message = ("La messagerie avec l’ARS concerne une évaluation transmise : transmettez "
               "d’abord l’autodiagnostic.")


class InvalidMessage(ServiceError):
    status = 422
    message = "Le message est invalide."


@dataclass
class MessageEntry:
    message: AssessmentMessage
    author: str
    from_ars: bool


@dataclass
class Thread:
    assessment: Assessment
    structure: Structure
    entries: list[MessageEntry] = field(default_factory=list)


def _checked(session: Session, actor: Actor | None,
             assessment_id: int) -> tuple[Assessment, Structure]:
    a, s = get_assessment(session, actor, assessment_id, Action.message_assessment)
    if a.status != AssessmentStatus.submitted:
        raise NotSubmitted()
    return a, s


def thread(session: Session, actor: Actor | None, assessment_id: int) -> Thread:
    """The thread, oldest message first. Raises NotFound, Forbidden, NotSubmitted."""
    a, s = _checked(session, actor, assessment_id)
    rows = session.exec(select(AssessmentMessage, User)
                        .outerjoin(User, col(User.id) == AssessmentMessage.author_id)
                        .where(AssessmentMessage.assessment_id == assessment_id)
                        .order_by(col(AssessmentMessage.id))).all()
    entries = [MessageEntry(m, (u.name or u.email) if u is not None else "—",
                            m.author_role == Role.ars.value) for m, u in rows]
    return Thread(a, s, entries)


def region_referents(session: Session, region: str) -> list[User]:
    return list(session.exec(select(User).where(User.role == Role.ars.value,
                                                User.region == region,
                                                col(User.active).is_(True))
                             .order_by(col(User.email))).all())


def post(session: Session, settings: Settings, actor: Actor, assessment_id: int,
         body: str | None, ip: str | None = None) -> AssessmentMessage:
    """Add a message, audit it and e-mail the other participants (the structure's directors
    and the region's ARS referents, the author excepted). Raises NotFound, Forbidden,
    NotSubmitted, InvalidMessage."""
    a, s = _checked(session, actor, assessment_id)
    text = (body or "").strip().replace("\r\n", "\n")
    if not text:
        raise InvalidMessage("Écrivez votre message avant de l’envoyer.")
    if (bad := textcheck.problem(text, len(text))) is not None:
        raise InvalidMessage(f"Message : {bad}.")
    if len(text) > MAX_MESSAGE:
        raise InvalidMessage(f"Le message ne doit pas dépasser {MAX_MESSAGE} caractères "
                             f"(il en compte {len(text)}).")
    message = AssessmentMessage(assessment_id=a.id or 0, author_id=actor.id,
                                author_role=actor.role.value, body=text)
    session.add(message)
    session.flush()
    recipients = [u for u in [*structure_directors(session, s.id or 0),
                              *region_referents(session, s.region)] if u.id != actor.id]
    record(session, actor.id, "message", "assessment", a.id,
           {"message": message.id, "finess": s.finess, "length": len(text),
            "to": [u.email for u in recipients]}, ip)
    session.commit()
    session.refresh(message)
    author = session.get(User, actor.id)
    name = (author.name or author.email) if author else "—"
    side = "votre référent ARS" if actor.role == Role.ars else "la direction de la structure"
    link = f"{settings.public_url}/evaluations/{a.id}/messages"
    for user in recipients:
        send_email(settings, user.email, f"Palier : nouveau message sur « {s.name} »", (
            f"Bonjour,\n\n{name} ({side}) a écrit au sujet de l’autodiagnostic de "
            f"« {s.name} » (FINESS {s.finess}) transmis le {date_fr(a.submitted_at)} :\n\n"
            f"{text}\n\nLire et répondre : {link}\n"
            f"\n-- \nPalier, autodiagnostic de maturité numérique des ESMS\n"))
    return message


# ---- the "à revoir" review following the director --------------------------------------------


@dataclass
class Correction:
    """The latest submission of a draft's structure, when the ARS marked it "à revoir"."""

    source: Assessment
    comment: str
    at: datetime
    questions: frozenset[str]
    messages: int


def last_submitted(session: Session, structure_id: int) -> Assessment | None:
    return session.exec(select(Assessment)
                        .where(Assessment.structure_id == structure_id,
                               Assessment.status == AssessmentStatus.submitted.value)
                        .order_by(col(Assessment.submitted_at).desc(),
                                  col(Assessment.id).desc()).limit(1)).first()


def correction_of(session: Session, draft: Assessment) -> Correction | None:
    """What the ARS asked to revise, for a draft (no permission check: the caller shows the
    draft to its director)."""
    if draft.status == AssessmentStatus.submitted:
        return None
    source = last_submitted(session, draft.structure_id)
    if source is None or source.id is None:
        return None
    review: AssessmentReview | None = latest_review(session, source.id)
    if review is None or review.status != ReviewStatus.a_revoir.value:
        return None
    count = len(session.exec(select(AssessmentMessage.id)
                             .where(AssessmentMessage.assessment_id == source.id)).all())
    return Correction(source, review.comment, review.created_at,
                      frozenset(review.questions or []), count)
