"""ARS campaigns: open one for a region, follow the targeted structures' participation,
remind the late ones by e-mail.

Rights: `Action.run_campaign` (ARS referents, for their own region; admins anywhere).
Another region's campaign is NotFound; a role without the right, Forbidden. A campaign
targets the open structures of its region whose FINESS category is among its categories.
A structure has "taken part" when it submitted an assessment on or after the start day
(Europe/Paris).

Reminders: the preview lists who would be e-mailed (structures not yet submitted with at
least one active director, not already reminded today by any campaign); sending writes one
`CampaignReminder` per structure (unique per structure and day, so never twice the same
day), one audit event per structure ("campaign_reminder"), and e-mails at most
`MAX_PER_SEND` structures, `THROTTLE_SECONDS` apart.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from datetime import time as day_start
from enum import StrEnum

from sqlalchemy import func
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from app import textcheck
from app.accounts.models import DirectorStructure, User
from app.assessments.models import Assessment, AssessmentStatus
from app.audit import record
from app.campaigns.models import Campaign, CampaignReminder
from app.config import Settings
from app.email import send_email
from app.errors import Forbidden, InvalidFields, NotFound
from app.formatting import PARIS, date_fr
from app.permissions import Action, Actor, Role, can, can_in_region
from app.reference import finess_categories, regions
from app.structures.models import Structure

MAX_NAME = 200
MAX_PER_SEND = 200
THROTTLE_SECONDS = 0.2


class InvalidCampaign(InvalidFields):
    message = "La campagne n’a pas pu être créée : corrigez les champs signalés."


class Progress(StrEnum):
    not_started = "non_commencee"
    in_progress = "en_cours"
    submitted = "transmise"


PROGRESS_LABELS = {Progress.not_started: "Pas commencée", Progress.in_progress: "En cours",
                   Progress.submitted: "Transmise"}


def today() -> date:
    return datetime.now(PARIS).date()


def _since(d: date) -> datetime:
    return datetime.combine(d, day_start(), PARIS).astimezone(UTC)


def check_region(actor: Actor | None, region: str) -> str:
    if actor is None or not can(actor, Action.run_campaign):
        raise Forbidden()
    if region not in regions() or not can_in_region(actor, Action.run_campaign, region):
        raise NotFound("Région introuvable.")
    return region


def get_campaign(session: Session, actor: Actor | None, campaign_id: int) -> Campaign:
    if actor is None or not can(actor, Action.run_campaign):
        raise Forbidden()
    c = session.get(Campaign, campaign_id)
    if c is None:
        raise NotFound("Campagne introuvable.")
    try:
        check_region(actor, c.region)
    except NotFound:
        raise NotFound("Campagne introuvable.") from None
    return c


# ---- creation -------------------------------------------------------------------------------


def _day(raw: str, label: str, errors: dict[str, str], key: str) -> date | None:
    try:
        return date.fromisoformat(raw.strip())
    except ValueError:
        errors[key] = f"Indiquez la {label} au format JJ/MM/AAAA."
        return None


def create(session: Session, actor: Actor | None, region: str, form: Mapping[str, str],
           categories: Iterable[str], ip: str | None = None) -> Campaign:
    """Open a campaign (form: nom, debut, echeance as AAAA-MM-JJ). Raises InvalidCampaign."""
    check_region(actor, region)
    assert actor is not None
    errors: dict[str, str] = {}
    name = " ".join((form.get("nom") or "").split())
    if not name:
        errors["nom"] = "Donnez un nom à la campagne, par exemple « Autodiagnostic 2027 »."
    elif (bad := textcheck.problem(name, MAX_NAME)) is not None:
        errors["nom"] = f"Nom : {bad}."
    start = _day(form.get("debut") or "", "date de début", errors, "debut")
    deadline = _day(form.get("echeance") or "", "date limite", errors, "echeance")
    if start and deadline and deadline < start:
        errors["echeance"] = "La date limite doit suivre la date de début."
    known = finess_categories()
    chosen = [c for c in dict.fromkeys(categories) if c in known]
    if not chosen:
        errors["categories"] = "Cochez au moins une catégorie d’établissement visée."
    if errors:
        raise InvalidCampaign(errors)
    assert start is not None and deadline is not None
    c = Campaign(region=region, name=name, starts_on=start, deadline=deadline,
                 categories=chosen, created_by=actor.id)
    session.add(c)
    session.flush()
    record(session, actor, "campaign_created", "campaign", c.id,
           {"region": region, "name": name, "starts_on": start.isoformat(),
            "deadline": deadline.isoformat(), "categories": chosen}, ip)
    session.commit()
    session.refresh(c)
    return c


# ---- participation --------------------------------------------------------------------------


@dataclass
class Target:
    structure: Structure
    progress: Progress
    directors: int
    reminded_today: bool

    @property
    def label(self) -> str:
        return PROGRESS_LABELS[self.progress]


@dataclass
class Participation:
    campaign: Campaign
    targets: list[Target]

    def count(self, p: Progress) -> int:
        return sum(1 for t in self.targets if t.progress == p)

    @property
    def rate(self) -> float | None:
        return 100.0 * self.count(Progress.submitted) / len(self.targets) \
            if self.targets else None

    @property
    def late(self) -> list[Target]:
        return [t for t in self.targets if t.progress != Progress.submitted]


def participation(session: Session, c: Campaign) -> Participation:
    """The campaign's targeted structures, by name, with their progress (no permission
    check: callers got the campaign through get_campaign or list_for)."""
    structures = session.exec(select(Structure).where(
        Structure.region == c.region, col(Structure.closed).is_(False),
        col(Structure.category_code).in_(c.categories)).order_by(col(Structure.name))).all()
    ids = [s.id for s in structures]
    submitted = set(session.exec(select(Assessment.structure_id).where(
        col(Assessment.structure_id).in_(ids), Assessment.status == AssessmentStatus.submitted,
        col(Assessment.submitted_at) >= _since(c.starts_on))).all())
    drafts = set(session.exec(select(Assessment.structure_id).where(
        col(Assessment.structure_id).in_(ids),
        Assessment.status == AssessmentStatus.draft)).all())
    directors = dict(session.exec(
        select(DirectorStructure.structure_id, func.count())
        .join(User, col(User.id) == DirectorStructure.user_id)
        .where(col(DirectorStructure.structure_id).in_(ids), col(User.active).is_(True),
               User.role == Role.director.value)
        .group_by(col(DirectorStructure.structure_id))).all())
    reminded = set(session.exec(select(CampaignReminder.structure_id).where(
        col(CampaignReminder.structure_id).in_(ids),
        CampaignReminder.sent_on == today())).all())
    targets = []
    for s in structures:
        p = Progress.submitted if s.id in submitted else \
            Progress.in_progress if s.id in drafts else Progress.not_started
        targets.append(Target(s, p, int(directors.get(s.id or 0, 0)), s.id in reminded))
    return Participation(c, targets)


def list_for(session: Session, actor: Actor | None, region: str) -> list[Participation]:
    """The region's campaigns, newest deadline first, with their participation."""
    check_region(actor, region)
    campaigns = session.exec(select(Campaign).where(Campaign.region == region)
                             .order_by(col(Campaign.deadline).desc(),
                                       col(Campaign.id).desc())).all()
    return [participation(session, c) for c in campaigns]


def campaign_participation(session: Session, actor: Actor | None,
                           region: str) -> list[Participation] | None:
    """The region dashboard's "participation by campaign" (None: not the actor's to see)."""
    try:
        return list_for(session, actor, region)
    except (Forbidden, NotFound):
        return None


def open_for_structure(session: Session, s: Structure) -> list[Campaign]:
    """Campaigns under way today that target the structure (its directors see them)."""
    d = today()
    return [c for c in session.exec(select(Campaign).where(
        Campaign.region == s.region, col(Campaign.starts_on) <= d,
        col(Campaign.deadline) >= d).order_by(col(Campaign.deadline))).all()
        if s.category_code in c.categories]


# ---- reminders ------------------------------------------------------------------------------


@dataclass
class Preview:
    participation: Participation
    to_remind: list[Target]
    already_today: list[Target]
    without_director: list[Target]
    subject: str
    body: str  # the e-mail as the first structure's directors would read it


def reminder_text(settings: Settings, c: Campaign, s: Structure) -> tuple[str, str]:
    subject = f"Palier : rappel – autodiagnostic attendu avant le {date_fr(c.deadline)}"
    body = (f"Bonjour,\n\nDans le cadre de la campagne « {c.name} », l’ARS "
            f"{regions()[c.region].name} attend l’autodiagnostic de maturité numérique de "
            f"« {s.name} » (FINESS {s.finess}) avant le {date_fr(c.deadline)}.\n\n"
            f"Il n’a pas encore été transmis. Vous pouvez le commencer ou le reprendre ici : "
            f"{settings.public_url}/structures/{s.finess}\n"
            f"Vos réponses sont enregistrées au fur et à mesure.\n"
            f"\n-- \nPalier, autodiagnostic de maturité numérique des ESMS\n")
    return subject, body


def preview(session: Session, settings: Settings, actor: Actor | None,
            campaign_id: int) -> Preview:
    c = get_campaign(session, actor, campaign_id)
    part = participation(session, c)
    late = part.late
    to_remind = [t for t in late if t.directors and not t.reminded_today][:MAX_PER_SEND]
    example = to_remind[0].structure if to_remind else (late[0].structure if late else None)
    subject, body = reminder_text(settings, c, example) if example else ("", "")
    return Preview(part, to_remind, [t for t in late if t.reminded_today],
                   [t for t in late if not t.directors], subject, body)


def _directors(session: Session, structure_id: int) -> list[User]:
    return list(session.exec(
        select(User).join(DirectorStructure, col(DirectorStructure.user_id) == User.id)
        .where(DirectorStructure.structure_id == structure_id, col(User.active).is_(True),
               User.role == Role.director.value).order_by(col(User.email))).all())


def send_reminders(session: Session, settings: Settings, actor: Actor | None,
                   campaign_id: int, ip: str | None = None) -> int:
    """Remind each structure of the preview (one by one, committed before its e-mails so a
    concurrent click cannot send twice). Returns how many structures were reminded."""
    p = preview(session, settings, actor, campaign_id)
    assert actor is not None
    c, sent, day = p.participation.campaign, 0, today()
    for t in p.to_remind:
        s = t.structure
        already = session.exec(select(CampaignReminder.id).where(
            CampaignReminder.structure_id == s.id, CampaignReminder.sent_on == day)).first()
        users = _directors(session, s.id or 0)
        if already is not None or not users:
            continue
        session.add(CampaignReminder(campaign_id=c.id or 0, structure_id=s.id or 0,
                                     sent_on=day, sent_by=actor.id, recipients=len(users)))
        record(session, actor, "campaign_reminder", "campaign", c.id,
               {"finess": s.finess, "to": [u.email for u in users], "day": day.isoformat()},
               ip)
        try:
            session.commit()
        except IntegrityError:  # reminded meanwhile by a concurrent send
            session.rollback()
            continue
        subject, body = reminder_text(settings, c, s)
        for u in users:
            send_email(settings, u.email, subject, body)
        sent += 1
        if THROTTLE_SECONDS:
            time.sleep(THROTTLE_SECONDS)
    return sent


def region_categories(session: Session, region: str) -> list[tuple[str, str, int]]:
    """(code, label, open structures) of the FINESS categories present in the region."""
    known = finess_categories()
    rows = session.exec(select(Structure.category_code, func.count())
                        .where(Structure.region == region, col(Structure.closed).is_(False))
                        .group_by(col(Structure.category_code))).all()
    out = [(code, known[code].label if code in known else code, int(n)) for code, n in rows]
    return sorted(out, key=lambda r: r[1].lower())
