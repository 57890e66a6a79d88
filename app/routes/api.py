"""JSON API v1: the same services as the pages."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException
from pydantic import BaseModel

from app.questionnaires import RegistryDep
from scoring import score, validate_answers

router = APIRouter(prefix="/api/v1", tags=["api"])


class QuestionnaireSummary(BaseModel):
    id: str
    version: str
    title: str
    questions: int
    latest: bool


class ScoreRequest(BaseModel):
    questionnaire: str
    version: str | None = None
    answers: dict[str, Any]


@router.get("/questionnaires")
def list_questionnaires(registry: RegistryDep) -> list[QuestionnaireSummary]:
    """Les questionnaires chargés (toutes versions valides)."""
    out = []
    for q in registry.all():
        latest = registry.latest(q.id)
        out.append(QuestionnaireSummary(id=q.id, version=q.version, title=q.title,
                                        questions=len(q.questions),
                                        latest=latest is not None and latest.key == q.key))
    return out


@router.get("/questionnaires/{qid}/{version}")
def get_questionnaire(qid: str, version: str, registry: RegistryDep) -> dict[str, Any]:
    """Un questionnaire, avec les mêmes clés que son fichier YAML."""
    q = registry.get(qid, version)
    if q is None:
        raise HTTPException(404, "Questionnaire introuvable.")
    return q.to_yaml_dict()


@router.post("/score")
def score_answers(body: ScoreRequest, registry: RegistryDep) -> dict[str, Any]:
    """Calculer un résultat sans rien enregistrer."""
    q = registry.get(body.questionnaire, body.version) if body.version \
        else registry.latest(body.questionnaire)
    if q is None:
        raise HTTPException(404, "Questionnaire introuvable.")
    errors = validate_answers(q, body.answers)
    if errors:
        raise HTTPException(422, [e.to_dict() for e in errors])
    return score(q, body.answers).to_dict()
