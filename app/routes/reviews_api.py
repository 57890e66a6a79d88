"""JSON API: reviews of submitted assessments (ARS referents of the region, admins)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from app.assessments import service as svc
from app.deps import IdPath, SessionDep, SettingsDep
from app.reviews import service
from app.reviews.models import AssessmentReview
from app.web.auth_deps import CurrentActor, client_ip

router = APIRouter(prefix="/api/v1", tags=["api"])


class ReviewIn(BaseModel):
    status: Literal["validee", "a_revoir"]
    comment: Annotated[str, Field(max_length=service.MAX_COMMENT)] = ""


class ReviewOut(BaseModel):
    id: int
    assessment_id: int
    status: Literal["validee", "a_revoir"]
    comment: str
    reviewer_id: int | None
    created_at: datetime

    @classmethod
    def of(cls, r: AssessmentReview) -> ReviewOut:
        assert r.id is not None
        return cls(id=r.id, assessment_id=r.assessment_id, status=r.status,  # type: ignore[arg-type]
                   comment=r.comment, reviewer_id=r.reviewer_id, created_at=r.created_at)


@router.post("/assessments/{assessment_id}/review", responses={
    403: {"description": "Rôle non autorisé à réviser (directeur, comité)"},
    404: {"description": "Évaluation inexistante ou hors de votre périmètre"},
    409: {"description": "Évaluation non transmise (brouillon)"},
    422: {"description": "Statut invalide, ou commentaire manquant pour « a_revoir »"},
})
def review_assessment(assessment_id: IdPath, body: ReviewIn, request: Request,
                      actor: CurrentActor, session: SessionDep,
                      settings: SettingsDep) -> ReviewOut:
    """Marquer une évaluation transmise « validee » ou « a_revoir » (commentaire obligatoire
    pour « a_revoir » ; le ou les directeurs de la structure sont alors prévenus par
    courriel). Chaque revue est conservée : le statut courant est la dernière."""
    review = service.record_review(session, settings, actor, assessment_id, body.status,
                                   body.comment, client_ip(request))
    return ReviewOut.of(review)


@router.get("/assessments/{assessment_id}/reviews")
def list_reviews(assessment_id: IdPath, actor: CurrentActor,
                 session: SessionDep) -> list[ReviewOut]:
    """L'historique des revues d'une évaluation, de la plus récente à la plus ancienne."""
    a, _ = svc.get_assessment(session, actor, assessment_id)
    assert a.id is not None
    return [ReviewOut.of(e.review) for e in service.history(session, a.id)]
