"""Random valid answer sets for a questionnaire (benchmarks, property tests, demo data).

`maturity` in [0, 1] biases choices toward options (and numbers) that earn more points,
so that a population of generated structures spreads over the tiers.
"""

from __future__ import annotations

import random
from typing import Any

from scoring.model import Question, Questionnaire


def _option_rank(q: Question) -> list[str]:
    """Option values from least to most points (ties keep declared order)."""
    opts = q.options or []
    return [o.value for o in sorted(opts, key=lambda o: sum(o.points.values()))]


def _pick_index(n: int, rng: random.Random, maturity: float) -> int:
    if n <= 1:
        return 0
    x = min(1.0, max(0.0, rng.gauss(maturity, 0.25)))
    return min(n - 1, int(x * n))


def generate_answers(
    q: Questionnaire,
    rng: random.Random,
    *,
    maturity: float | None = None,
    skip: float = 0.1,
    fixed: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """One answer set that passes validate_answers. `fixed` answers are kept as given."""
    level = rng.random() if maturity is None else maturity
    out: dict[str, Any] = {}
    for qu in q.questions.values():
        if fixed and qu.id in fixed:
            out[qu.id] = fixed[qu.id]
            continue
        if rng.random() < skip:
            continue
        if qu.type == "single_choice":
            ranked = _option_rank(qu)
            out[qu.id] = ranked[_pick_index(len(ranked), rng, level)]
        elif qu.type == "multiple_choice":
            opts = qu.options or []
            plain = [o.value for o in opts if not o.exclusive]
            exclusive = [o.value for o in opts if o.exclusive]
            chosen = [v for v in plain if rng.random() < level]
            if not chosen and exclusive and rng.random() < 0.5:
                chosen = [rng.choice(exclusive)]
            out[qu.id] = chosen
        elif qu.type == "number":
            lo = qu.min if qu.min is not None else 0
            hi = qu.max if qu.max is not None else max(lo + 100, 100)
            x = min(1.0, max(0.0, rng.gauss(level, 0.25)))
            value = lo + (hi - lo) * x
            out[qu.id] = round(value) if rng.random() < 0.8 else round(value, 1)
            if out[qu.id] < lo or out[qu.id] > hi:
                out[qu.id] = lo
        else:
            out[qu.id] = rng.choice(["", "RAS", "Projet en cours avec le GCSMS."])
    return out
