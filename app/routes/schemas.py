"""Public JSON shapes of the API (v1)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from app.assessments.models import Assessment
from app.reference import sector_of_category
from app.structures.models import Structure


class StructureOut(BaseModel):
    finess: str
    finess_ej: str | None
    name: str
    category: str
    category_label: str
    sector: str | None
    department: str
    region: str
    city: str | None
    capacity: int | None
    closed: bool

    @classmethod
    def of(cls, s: Structure) -> StructureOut:
        return cls(finess=s.finess, finess_ej=s.finess_ej, name=s.name,
                   category=s.category_code, category_label=s.category_label,
                   sector=sector_of_category(s.category_code), department=s.department,
                   region=s.region, city=s.city, capacity=s.capacity, closed=s.closed)


class QuestionnaireRef(BaseModel):
    id: str
    version: str


class AssessmentOut(BaseModel):
    id: int
    finess: str
    status: str
    version: int
    questionnaire: QuestionnaireRef
    answers: dict[str, Any]
    answer_meta: dict[str, Any]
    created_at: datetime
    updated_at: datetime
    submitted_at: datetime | None
    tier: str | None
    tier_level: int | None
    global_score: float | None

    @classmethod
    def of(cls, a: Assessment, s: Structure) -> AssessmentOut:
        assert a.id is not None
        return cls(id=a.id, finess=s.finess, status=a.status, version=a.version,
                   questionnaire=QuestionnaireRef(id=a.questionnaire_id,
                                                  version=a.questionnaire_version),
                   answers=dict(a.answers or {}), answer_meta=dict(a.answer_meta or {}),
                   created_at=a.created_at, updated_at=a.updated_at,
                   submitted_at=a.submitted_at, tier=a.tier_id, tier_level=a.tier_level,
                   global_score=a.global_score)


class AnswersPatch(BaseModel):
    version: int = Field(ge=0, description="La version de l'évaluation vue par le client.")
    answers: dict[str, Any] = Field(description="Réponses à enregistrer ; null efface.")
