"""JSON API: the message thread of a submitted assessment (app/reviews/messages.py), the
same as the page /evaluations/{id}/messages: the structure's directors and the ARS
referents of its region (`Action.message_assessment`)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from app.deps import IdPath, SessionDep, SettingsDep
from app.reviews import messages
from app.web.auth_deps import CurrentActor, client_ip

router = APIRouter(prefix="/api/v1", tags=["api"])

ERRORS: dict[int | str, dict[str, str]] = {
    403: {"description": "Rôle sans accès à la messagerie (comité, administrateur)"},
    404: {"description": "Évaluation inexistante ou hors de votre périmètre"},
    409: {"description": "Évaluation non transmise (brouillon) : pas de messagerie"},
}


class MessageIn(BaseModel):
    body: Annotated[str, Field(max_length=messages.MAX_MESSAGE * 2, description=(
        f"Le texte du message ({messages.MAX_MESSAGE} caractères au plus une fois les espaces "
        "de début et de fin retirés ; vide : 422)."))]


class MessageOut(BaseModel):
    id: int
    assessment_id: int
    author: str = Field(description="Nom (ou adresse) de l'auteur.")
    author_role: Literal["director", "ars"] = Field(
        description="« director » : la direction de la structure ; « ars » : le référent ARS.")
    body: str
    created_at: datetime

    @classmethod
    def of(cls, entry: messages.MessageEntry) -> MessageOut:
        m = entry.message
        assert m.id is not None
        return cls(id=m.id, assessment_id=m.assessment_id, author=entry.author,
                   author_role="ars" if entry.from_ars else "director", body=m.body,
                   created_at=m.created_at)


@router.get("/assessments/{assessment_id}/messages", responses=ERRORS)
def list_messages(assessment_id: IdPath, actor: CurrentActor,
                  session: SessionDep) -> list[MessageOut]:
    """Les messages échangés entre la direction de la structure et les référents ARS de sa
    région au sujet d'une évaluation transmise, du plus ancien au plus récent."""
    return [MessageOut.of(e) for e in messages.thread(session, actor, assessment_id).entries]


@router.post("/assessments/{assessment_id}/messages", status_code=201, responses={
    **ERRORS, 422: {"description": "Message vide, trop long ou contenant des caractères "
                                   "interdits"}})
def post_message(assessment_id: IdPath, body: MessageIn, request: Request,
                 actor: CurrentActor, session: SessionDep,
                 settings: SettingsDep) -> MessageOut:
    """Écrire dans le fil d'une évaluation transmise (jeton en lecture et écriture). Le
    message est consigné dans le journal d'audit et envoyé par courriel aux autres
    participants (directeurs de la structure, référents ARS de la région)."""
    return MessageOut.of(messages.post(session, settings, actor, assessment_id, body.body,
                                       client_ip(request)))
