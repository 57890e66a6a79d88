"""Benchmark: score a national campaign of generated answer sets.

Measures, in one process and one run:
- floor: a loop that only reads every answer of every set once;
- validate_answers + score (the public path the product uses);
- the same plus Result.to_dict() (the JSON the API and exports serve).
"""

from __future__ import annotations

import json
import platform
import random
import time
from pathlib import Path
from typing import Any

from scoring import load_questionnaire, score, validate_answers
from scoring.generate import generate_answers

ROOT = Path(__file__).resolve().parent.parent
REAL = ROOT / "questionnaires" / "esms-maturite-numerique-2026.1.yaml"


def _best_of(fn: Any, repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def run(n: int = 40_000, repeat: int = 3, path: Path = REAL) -> dict[str, Any]:
    q = load_questionnaire(path)
    rng = random.Random(20261127)
    sets = [generate_answers(q, rng) for _ in range(n)]
    qids = list(q.questions)

    def floor() -> None:
        for answers in sets:
            get = answers.get
            for qid in qids:
                get(qid)

    def validate_and_score() -> None:
        for answers in sets:
            if validate_answers(q, answers):
                raise AssertionError("generated answers must be valid")
            score(q, answers)

    def with_json() -> None:
        for answers in sets:
            validate_answers(q, answers)
            score(q, answers).to_dict()

    t_floor = _best_of(floor, repeat)
    t_score = _best_of(validate_and_score, repeat)
    t_json = _best_of(with_json, repeat)
    return {
        "questionnaire": f"{q.id} {q.version}",
        "questions": len(qids),
        "answer_sets": n,
        "floor_s": round(t_floor, 4),
        "validate_score_s": round(t_score, 4),
        "validate_score_per_s": round(n / t_score),
        "ratio_to_floor": round(t_score / t_floor, 1),
        "with_to_dict_per_s": round(n / t_json),
        "with_to_dict_ratio": round(t_json / t_floor, 1),
        "python": platform.python_version(),
        "machine": f"{platform.machine()}, {platform.processor() or 'cpu'}",
    }


if __name__ == "__main__":
    print(json.dumps(run(), indent=2))
