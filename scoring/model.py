"""Pydantic models of a questionnaire, as written in its YAML file.

The loader validates the file by hand (to report every error with its position) and then
builds these models; the engine scores through a compiled plan kept beside them.
"""

from __future__ import annotations

from datetime import date
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr

QuestionType = Literal["single_choice", "multiple_choice", "number", "text"]
Effort = Literal["faible", "moyen", "eleve"]
Number = int | float
FundingKind = Literal["funding", "resource"]
ProgrammeStatus = Literal["open", "closed", "ended", "announced"]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class Domain(_Model):
    id: str
    label: str
    weight: Number = 1


class Option(_Model):
    value: str
    label: str
    points: dict[str, Number] = Field(default_factory=dict)
    exclusive: bool = False
    unknown: bool = False  # "Je ne sais pas": an answer that earns 0 and meets nothing


class Band(_Model):
    from_: Number = Field(alias="from")
    points: dict[str, Number] = Field(default_factory=dict)


class Question(_Model):
    id: str
    type: QuestionType
    label: str
    help: str | None = None
    required: bool = False
    show_if: dict[str, Any] | None = None
    options: list[Option] | None = None
    min: Number | None = None
    max: Number | None = None
    bands: list[Band] | None = None


class Section(_Model):
    id: str
    title: str
    description: str | None = None
    questions: list[Question]


class NextStep(_Model):
    title: str
    detail: str = ""
    effort: Effort
    funding: list[str] = Field(default_factory=list)


class Requirement(_Model):
    id: str
    label: str
    condition: dict[str, Any]
    applies_if: dict[str, Any] | None = None
    next_step: NextStep


class Tier(_Model):
    id: str
    level: int
    label: str
    description: str | None = None
    requires: list[Requirement] = Field(default_factory=list)


class Source(_Model):
    url: str
    title: str


class Funding(_Model):
    id: str
    label: str
    kind: FundingKind = "funding"
    description: str | None = None
    url: str | None = None
    eligible_if: dict[str, Any] | None = None  # required unless kind is resource
    applies_if: dict[str, Any] | None = None
    sources: list[Source] = Field(default_factory=list)


class Window(_Model):
    from_: date | None = Field(default=None, alias="from")
    until: date | None = None


class Programme(_Model):
    """One entry of the programme catalogue (programmes.yaml): status changes with time."""

    id: str
    label: str
    status: ProgrammeStatus
    as_of: date
    window: Window | None = None
    summary: str
    sources: list[Source]


class Catalogue(_Model):
    """The programme catalogue read from programmes.yaml beside the questionnaires."""

    programmes: list[Programme]

    _source: str | None = PrivateAttr(default=None)

    @property
    def source(self) -> str | None:
        return self._source

    def get(self, programme_id: str) -> Programme | None:
        return next((p for p in self.programmes if p.id == programme_id), None)


class Questionnaire(_Model):
    id: str
    version: str
    title: str
    description: str | None = None
    domains: list[Domain]
    sections: list[Section]
    tiers: list[Tier]
    funding: list[Funding] = Field(default_factory=list)

    _plan: Any = PrivateAttr(default=None)
    _source: str | None = PrivateAttr(default=None)
    _id_line: tuple[int, int] = PrivateAttr(default=(1, 1))
    _questions: dict[str, Question] = PrivateAttr(default_factory=dict)
    _catalogue: Catalogue | None = PrivateAttr(default=None)

    @property
    def key(self) -> tuple[str, str]:
        return (self.id, self.version)

    @property
    def source(self) -> str | None:
        """The file the questionnaire was loaded from."""
        return self._source

    @property
    def catalogue(self) -> Catalogue | None:
        """The programme catalogue checked at load (None when parsed without one)."""
        return self._catalogue

    @property
    def questions(self) -> dict[str, Question]:
        """Every question by id, in questionnaire order."""
        if not self._questions:
            self._questions = {q.id: q for s in self.sections for q in s.questions}
        return self._questions

    def section_of(self, question_id: str) -> Section | None:
        for section in self.sections:
            if any(q.id == question_id for q in section.questions):
                return section
        return None

    def to_yaml_dict(self) -> dict[str, Any]:
        """The questionnaire with the same keys as its YAML file."""
        return self.model_dump(by_alias=True, exclude_unset=True)
