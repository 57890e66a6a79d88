"""Before starting (issue 10): the estimated time to fill in a questionnaire and the blank
questionnaire to print, with the acronyms of each question (app.assessments.glossary)."""

from __future__ import annotations

from dataclasses import dataclass
from math import ceil

from app.assessments.glossary import Term, question_terms
from scoring import Question, Questionnaire

# Seconds a person takes to answer, by question type (read, find the fact, answer); a
# number may need a look in a file, free text a sentence.
SECONDS = {"single_choice": 25, "multiple_choice": 45, "number": 60, "text": 60}


@dataclass(frozen=True)
class Estimate:
    low: int  # minutes: the questions every structure answers
    high: int  # minutes: every question, follow-up ones included

    @property
    def text(self) -> str:
        if self.low == self.high:
            return f"environ {self.low} minutes"
        return f"entre {self.low} et {self.high} minutes selon votre structure"


def _minutes(questions: list[Question]) -> int:
    seconds = sum(SECONDS.get(qu.type, 30) for qu in questions)
    return max(5, 5 * ceil(seconds / 300))  # rounded up to 5 minutes


def estimate(q: Questionnaire) -> Estimate:
    """Low: the questions asked to everyone (no show_if); high: all of them."""
    every = [qu for s in q.sections for qu in s.questions]
    return Estimate(_minutes([qu for qu in every if not qu.show_if]), _minutes(every))


@dataclass(frozen=True)
class BlankQuestion:
    number: str  # "3.2"
    question: Question
    terms: list[Term]
    conditional: bool  # asked only after some answers


def blank_sections(q: Questionnaire) -> list[tuple[str, list[BlankQuestion]]]:
    """Every section with its numbered questions, for the printable blank questionnaire."""
    out = []
    for i, section in enumerate(q.sections, start=1):
        items = [BlankQuestion(f"{i}.{j}", qu, list(question_terms(qu)), bool(qu.show_if))
                 for j, qu in enumerate(section.questions, start=1)]
        out.append((f"{i}. {section.title}", items))
    return out
