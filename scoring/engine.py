"""Scoring: `score(questionnaire, answers)` is the only scoring path of the product.

It runs the questionnaire's generated straight-line function (scoring/scoregen.py:
applicability, domain sums, scores, requirement flags, placement) and returns a `Result`
whose other parts are laid out on first access (scoring/result.py, scoring/layoutgen.py).
It assumes answers that passed `validate_answers`; it ignores what it cannot read.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from scoring.plan import plan_of
from scoring.result import EvalContext, Result

if TYPE_CHECKING:
    from scoring.model import Questionnaire

__all__ = ["EvalContext", "Result", "score"]


def score(q: Questionnaire, answers: dict[str, Any]) -> Result:
    """Score an answer set (validated with validate_answers first)."""
    return plan_of(q).run(answers)
