"""Pydantic models of a questionnaire, as written in its YAML file.

The loader validates the file by hand (to report every error with its position) and then
builds these models; the engine scores through a compiled plan kept beside them.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr

QuestionType = Literal["single_choice", "multiple_choice", "number", "text"]
Effort = Literal["faible", "moyen", "eleve"]
Number = int | float


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
    next_step: NextStep


class Tier(_Model):
    id: str
    level: int
    label: str
    description: str | None = None
    requires: list[Requirement] = Field(default_factory=list)


class Funding(_Model):
    id: str
    label: str
    description: str | None = None
    url: str | None = None
    eligible_if: dict[str, Any]


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

    @property
    def key(self) -> tuple[str, str]:
        return (self.id, self.version)

    @property
    def source(self) -> str | None:
        """The file the questionnaire was loaded from."""
        return self._source

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
