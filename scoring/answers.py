"""Answers: validation (`validate_answers`) and applicability (`effective_answers`,
`applicable`). Validation first runs the plan's generated check (`Plan.valid`, straight-line
code that only says "all valid"); on any doubt the per-value checks below say what is wrong.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from scoring import conditions as C
from scoring.errors import AnswerError
from scoring.plan import QPlan, plan_of
from scoring.text import MAX_TEXT_ANSWER, text_problem

if TYPE_CHECKING:
    from scoring.model import Questionnaire

# ---- answers -----------------------------------------------------------------------------


def _answered(p: QPlan, value: Any) -> bool:
    if value is None:
        return False
    if p.type == "multiple_choice" or p.type == "text":
        if isinstance(value, str):
            return bool(value.strip())
        return bool(value)
    return True


def validate_answers(q: Questionnaire, answers: dict[str, Any]) -> list[AnswerError]:
    """Every problem in `answers` (empty when valid). Hidden questions are validated too."""
    plan = plan_of(q)
    if answers.__class__ is dict:
        try:
            if plan.valid(answers):
                return []
        except TypeError:  # an unhashable value where an option is expected: see below
            pass
    errors: list[AnswerError] = []
    if not isinstance(answers, dict):
        return [AnswerError("*", answers, "les réponses doivent former un dictionnaire")]
    for qid, value in answers.items():
        p = plan.by_id.get(qid)
        if p is None:
            errors.append(AnswerError(str(qid), value, "question inconnue"))
            continue
        if value is None:
            continue
        if p.type == "single_choice" and value.__class__ is str and value in p.values:
            continue
        problem = _check_value(p, value)
        if problem:
            errors.append(AnswerError(qid, value, problem))
    return errors


def _check_value(p: QPlan, value: Any) -> str | None:
    t = p.type
    if t == "single_choice":
        if not isinstance(value, str):
            return "une valeur d'option (chaîne) est attendue"
        if value not in p.values:
            return "option inconnue"
        return None
    if t == "multiple_choice":
        if not isinstance(value, list):
            return "une liste de valeurs d'options est attendue"
        seen: set[str] = set()
        for v in value:
            if not isinstance(v, str):
                return f"valeur d'option invalide {v!r}"
            if v not in p.values:
                return f"option inconnue « {v} »"
            if v in seen:
                return f"option « {v} » répétée"
            seen.add(v)
        if len(seen) > 1 and seen & p.exclusive:
            excl = ", ".join(sorted(seen & p.exclusive))
            return f"l'option « {excl} » exclut les autres"
        return None
    if t == "number":
        if not C.is_number(value):
            return "un nombre est attendu"
        if p.min is not None and value < p.min:
            return f"le nombre doit être supérieur ou égal à {_fr(p.min)}"
        if p.max is not None and value > p.max:
            return f"le nombre doit être inférieur ou égal à {_fr(p.max)}"
        return None
    if not isinstance(value, str):
        return "un texte est attendu"
    return text_problem(value, MAX_TEXT_ANSWER)


def _fr(x: float) -> str:
    """A bound the French way, like the page's hint: 10000 -> '10 000', 0.5 -> '0,5'."""
    text = f"{x:,.6f}".rstrip("0").rstrip(".")
    return text.replace(",", "\u202f").replace(".", ",")


def effective_answers(q: Questionnaire, answers: dict[str, Any]) -> dict[str, Any]:
    """The answers that count: applicable and answered questions only, in order."""
    return applicable_and_effective(q, answers)[1]


def applicable(q: Questionnaire, answers: dict[str, Any]) -> dict[str, bool]:
    """Question id -> whether it applies given the answers (show_if), in questionnaire order."""
    return applicable_and_effective(q, answers)[0]


def applicable_and_effective(q: Questionnaire, answers: dict[str, Any],
                             ) -> tuple[dict[str, bool], dict[str, Any]]:
    """`applicable` and `effective_answers` in one pass over the questions."""
    eff: dict[str, Any] = {}
    out: dict[str, bool] = {}
    for p in plan_of(q).questions:
        ok = p.show_if is None or p.show_if(eff, None)
        out[p.id] = ok
        if ok:
            v = answers.get(p.id)
            if v is not None and _answered(p, v):
                eff[p.id] = v
    return out, eff
