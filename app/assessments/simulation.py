"""The what-if simulator: score answers the director is trying out, never saving them.

Stateless: the simulated answers are the saved ones with the posted fields in place of the
questions the simulator shows; they are scored with the pure engine and compared with the
assessment's own result (its stored snapshot once submitted, a live score of a draft).
Nothing here writes: no session is touched beyond reading through the service.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from app.assessments import result_parts as parts
from app.assessments import results
from app.assessments import service as svc
from app.assessments.models import Assessment
from app.assessments.views import parse_value, sentence
from app.questionnaires import Registry
from scoring import Question, Questionnaire, applicable, score, validate_answers

SIMULATED_TYPES = ("single_choice", "multiple_choice", "number")


def simulated_questions(q: Questionnaire) -> list[Question]:
    """The questions the simulator offers: those that can move a score or a condition
    (free text never does)."""
    return [qu for section in q.sections for qu in section.questions
            if qu.type in SIMULATED_TYPES]


@dataclass
class FundingMove:
    label: str
    before: str
    after: str
    state: str

    @property
    def changed(self) -> bool:
        return self.before != self.after


@dataclass
class Simulation:
    questionnaire: Questionnaire
    answers: dict[str, Any]  # the simulated answers (saved ones, posted ones in place)
    shown: dict[str, bool]
    tier: dict[str, Any] | None
    before_tier: dict[str, Any] | None
    global_score: float | None
    before_global: float | None
    gap: dict[str, Any] | None
    funding: list[FundingMove]
    changed: list[str]  # labels of the questions whose simulated answer differs
    errors: dict[str, str] = field(default_factory=dict)  # question id -> French message

    @property
    def moved(self) -> int:
        """+1 up, -1 down, 0 same palier."""
        after = (self.tier or {}).get("level")
        before = (self.before_tier or {}).get("level")
        if after is None or before is None or after == before:
            return 0
        return 1 if after > before else -1


def _tier(r: Mapping[str, Any]) -> dict[str, Any] | None:
    t = r.get("tier")
    return {"id": t.get("id"), "level": t.get("level"), "label": t.get("label")} if t else None


def simulate(registry: Registry, a: Assessment, form: Mapping[str, Sequence[str]] | None,
             *, neutral: bool = False) -> Simulation:
    """Score `a`'s answers with the posted fields in place (None: the saved answers)."""
    q = svc.questionnaire_of(registry, a)
    saved = dict(a.answers or {})
    answers = dict(saved)
    errors: dict[str, str] = {}
    if form is not None:
        for qu in simulated_questions(q):
            value, error = parse_value(qu, form.get(f"q_{qu.id}", []))
            if error:
                errors[qu.id] = error
            elif value is None:
                answers.pop(qu.id, None)
            else:
                answers[qu.id] = value
        for e in validate_answers(q, answers):
            errors.setdefault(e.question, sentence(e.message))
        for qid in errors:  # a refused value leaves the saved answer in place
            if qid in saved:
                answers[qid] = saved[qid]
            else:
                answers.pop(qid, None)
    shown = applicable(q, answers)
    after = score(q, answers).to_dict()
    before = results.result_of(registry, a)
    current = registry.latest(q.id)
    fund_after = parts.funding_view(q, registry.catalogue, after, answers, current=current)
    fund_before = {f["id"]: f for f in parts.funding_view(q, registry.catalogue, before, saved,
                                                          current=current)}
    funding = [FundingMove(f["label"], fund_before.get(f["id"], {}).get("eligibility", "—"),
                           f["eligibility"], f["eligibility_state"]) for f in fund_after]
    changed = [qu.label for qu in simulated_questions(q)
               if shown.get(qu.id) and answers.get(qu.id) != saved.get(qu.id)]
    return Simulation(
        questionnaire=q, answers=answers, shown=shown, tier=_tier(after),
        before_tier=_tier(before), global_score=after.get("global_score"),
        before_global=before.get("global_score"),
        gap=parts.gap_view(q, after, shown, neutral=neutral), funding=funding,
        changed=changed, errors=errors)
