"""The message thread of a submitted assessment, between the structure's directors and the
ARS referents of its region (`Action.message_assessment`; anybody else: NotFound out of
scope, Forbidden in scope). Each message is audited ("message") and e-mailed to the other
participants; the "à revoir" review it usually answers follows the director into the
correction draft (`correction_of`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam
from sqlalchemy import select as sa_select
from sqlalchemy.engine import Connection
from sqlmodel import Session, col, func, select

from app import textcheck
from app.accounts.models import User
from app.assessments.models import Assessment, AssessmentStatus
from app.assessments.service import get_assessment
from app.audit import record
from app.config import Settings
from app.email import send_email
from app.errors import Unprocessable, WrongState
from app.formatting import date_fr
from app.permissions import Action, Actor, Role, writes_for_region
from app.reviews.models import AssessmentMessage, AssessmentReview, ReviewStatus
from app.reviews.service import structure_directors
from app.structures.models import Structure

MAX_MESSAGE = 4000


class NotSubmitted(WrongState):
    message = ("La messagerie avec l’ARS concerne une évaluation transmise : transmettez "
               "d’abord l’autodiagnostic.")


class InvalidMessage(Unprocessable):
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
                            writes_for_region(m.author_role)) for m, u in rows]
    return Thread(a, s, entries)


def region_referents(session: Session, region: str) -> list[User]:
    return list(session.exec(select(User).where(User.role == Role.ars.value,
                                                User.region == region,
                                                col(User.active).is_(True))
                             .order_by(col(User.email))).all())


def post(session: Session, settings: Settings, actor: Actor, assessment_id: int,
         body: str | None, ip: str | None = None) -> MessageEntry:
    """Add a message, audit it and e-mail the other participants (the structure's directors
    and the region's ARS referents, the author excepted); the new entry of the thread.
    Raises NotFound, Forbidden, NotSubmitted, InvalidMessage."""
    a, s = _checked(session, actor, assessment_id)
    text, refused = textcheck.typed_text(body, MAX_MESSAGE, label="Message", noun="Le message")
    if not text:
        raise InvalidMessage("Écrivez votre message avant de l’envoyer.")
    if refused:
        raise InvalidMessage(refused)
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
    for_region = writes_for_region(actor.role)
    side = "votre référent ARS" if for_region else "la direction de la structure"
    link = f"{settings.public_url}/evaluations/{a.id}/messages"
    for user in recipients:
        send_email(settings, user.email, f"Palier : nouveau message sur « {s.name} »", (
            f"Bonjour,\n\n{name} ({side}) a écrit au sujet de l’autodiagnostic de "
            f"« {s.name} » (FINESS {s.finess}) transmis le {date_fr(a.submitted_at)} :\n\n"
            f"{text}\n\nLire et répondre : {link}\n"
            f"\n-- \nPalier, autodiagnostic de maturité numérique des ESMS\n"))
    return MessageEntry(message, name, for_region)


# ---- the "à revoir" review following the director --------------------------------------------


@dataclass(frozen=True)
class Submission:
    """What the correction notice shows of the submission under review."""

    id: int
    submitted_at: datetime | None


@dataclass
class Correction:
    """The latest submission of a draft's structure, when the ARS marked it "à revoir"."""

    source: Submission
    comment: str
    at: datetime
    questions: frozenset[str]
    messages: int


def _correction_query() -> Any:
    a, r, m = Assessment, AssessmentReview, AssessmentMessage
    latest = (select(func.max(r.id)).where(r.assessment_id == a.id)
              .correlate(a).scalar_subquery())
    count = (select(func.count()).select_from(m).where(m.assessment_id == a.id)
             .correlate(a).scalar_subquery())
    return (sa_select(col(a.id), col(a.submitted_at), col(r.status), col(r.comment),
                      col(r.created_at), col(r.questions), count)
            .outerjoin(r, col(r.id) == latest)
            .where(col(a.structure_id) == bindparam("structure_id"),
                   col(a.status) == AssessmentStatus.submitted.value)
            .order_by(col(a.submitted_at).desc(), col(a.id).desc()).limit(1))


# Built once (a section page reads it on every view): the structure's latest submission, its
# latest review and its number of messages, columns only (no answers or result decoded).
_CORRECTION = _correction_query()


def correction_of(session: Session, draft: Assessment) -> Correction | None:
    """What the ARS asked to revise, for a draft (no permission check: the caller shows the
    draft to its director). One query (`_CORRECTION`)."""
    if draft.status == AssessmentStatus.submitted:
        return None
    return structure_correction(session, draft.structure_id)


def structure_correction(session: Session | Connection,
                         structure_id: int) -> Correction | None:
    """`correction_of` the draft of the structure `structure_id`."""
    row = session.execute(_CORRECTION, {"structure_id": structure_id}).first()
    if row is None or row[0] is None or row[2] != ReviewStatus.a_revoir.value:
        return None
    source_id, submitted_at, _, comment, at, questions, messages = row
    return Correction(Submission(source_id, submitted_at), comment, at,
                      frozenset(questions or []), messages)
