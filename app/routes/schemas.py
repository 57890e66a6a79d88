"""Public JSON shapes of the API (v1)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from app.assessments.models import Assessment
from app.deps import MAX_ID
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


# The Assessment columns AssessmentOut shows.
_ASSESSMENT_COLUMNS = ("id", "status", "version", "questionnaire_id", "questionnaire_version",
                       "answers", "answer_meta", "created_at", "updated_at", "submitted_at",
                       "tier_id", "tier_level", "global_score")


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
        return cls.of_columns({**{name: getattr(a, name) for name in _ASSESSMENT_COLUMNS},
                               "finess": s.finess})

    @classmethod
    def of_columns(cls, c: Mapping[str, Any]) -> AssessmentOut:
        """From the assessment's column values (by column name) and its structure's `finess`
        (the lean autosave reads plain columns, not ORM objects)."""
        return cls(id=c["id"], finess=c["finess"], status=c["status"], version=c["version"],
                   questionnaire=QuestionnaireRef(id=c["questionnaire_id"],
                                                  version=c["questionnaire_version"]),
                   answers=dict(c["answers"] or {}), answer_meta=dict(c["answer_meta"] or {}),
                   created_at=c["created_at"], updated_at=c["updated_at"],
                   submitted_at=c["submitted_at"], tier=c["tier_id"],
                   tier_level=c["tier_level"], global_score=c["global_score"])


class AnswersPatch(BaseModel):
    version: int = Field(strict=True, ge=0, le=MAX_ID,
                         description="La version de l'évaluation vue par le client.")
    answers: dict[str, Any] = Field(description="Réponses à enregistrer ; null efface.")


# ---- error bodies (declared for 422 on every route; see app/routes/errors.py) ----------------


class FieldError(BaseModel):
    """A request that does not match its declared shape (FastAPI validation)."""

    loc: list[str | int]
    msg: str
    type: str


class AnswerErrorOut(BaseModel):
    question: str
    value: Any = Field(description="La valeur refusée (les textes longs sont tronqués).")
    message: str


class ConflictOut(BaseModel):
    question: str
    theirs: Any
    yours: Any
    by: int | None
    at: str | None


class ApiError(BaseModel):
    """An error: `detail` is a French message, or the list of fields that do not match the
    declared request shape. The other keys come with some errors only."""

    detail: str | list[FieldError]
    errors: list[AnswerErrorOut] | None = Field(None, description="Réponses refusées.")
    missing: list[str] | None = Field(None, description="Questions obligatoires sans réponse.")
    conflicts: list[ConflictOut] | None = Field(None, description="Réponses modifiées "
                                                "entre-temps (409).")
    version: int | None = Field(None, description="Version courante de l'évaluation (409).")
    problems: list[str] | None = Field(None, description="Critères de sélection refusés.")


def file_responses(*media_types: str, job: bool = False) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses` of a route answering a file (and, with `job`, 202 and the
    background export's JSON when the file is not ready)."""
    binary = {"schema": {"type": "string", "format": "binary"}}
    out: dict[int | str, dict[str, Any]] = {
        200: {"description": "Le fichier", "content": {m: binary for m in media_types}}}
    if job:
        out[202] = {"description": "Export lancé en arrière-plan : suivre `url`",
                    "content": {"application/json": {"schema": {"type": "object"}}}}
    return out
