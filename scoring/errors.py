"""Error types of the scoring engine."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, NamedTuple


class Loc(NamedTuple):
    """A 1-based position in a source file."""

    line: int
    col: int


@dataclass(frozen=True, slots=True)
class SourceError:
    """One problem in a questionnaire file, printed as FILE:LINE:COL: message."""

    file: str
    line: int
    col: int
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.col}: {self.message}"


class QuestionnaireError(Exception):
    """A questionnaire file (or a set of files) has errors; `errors` lists every one."""

    def __init__(self, errors: list[SourceError]) -> None:
        self.errors = sorted(errors, key=lambda e: (e.file, e.line, e.col))
        super().__init__("\n".join(str(e) for e in self.errors))


@dataclass(frozen=True, slots=True)
class AnswerError:
    """An invalid answer: names the question and the value."""

    question: str
    value: Any
    message: str

    def __str__(self) -> str:
        return f"{self.question}: {self.message} (valeur : {self.value!r})"

    def to_dict(self) -> dict[str, Any]:
        return {"question": self.question, "value": self.value, "message": self.message}
