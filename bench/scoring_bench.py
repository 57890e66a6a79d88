"""Benchmark: score a national campaign of generated answer sets.

Measures, in one process and one run:
- floor: a loop that only reads every answer of every set once;
- validate_answers + score (the public path the product uses);
- the same plus Result.to_dict() (the JSON the API and exports serve).
"""

from __future__ import annotations

import json
import os
import platform
import random
import time
from pathlib import Path
from typing import Any

from scoring import load_questionnaire, score, validate_answers
from scoring.generate import generate_answers

ROOT = Path(__file__).resolve().parent.parent
REAL = ROOT / "questionnaires" / "esms-maturite-numerique-2026.1.yaml"


def _time(fn: Any) -> tuple[float, float]:
    """(wall, CPU) seconds of one call. CPU time (this process only) is what counts on a
    shared machine: it leaves out the time other jobs hold the cores."""
    w0, c0 = time.perf_counter(), time.process_time()
    fn()
    return time.perf_counter() - w0, time.process_time() - c0


def run(n: int = 40_000, repeat: int = 5, path: Path = REAL) -> dict[str, Any]:
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

    # Rounds interleave the three loops so they see the same machine load; best of `repeat`.
    best = {name: [float("inf"), float("inf")] for name in ("floor", "score", "json")}
    for _ in range(repeat):
        for name, fn in (("floor", floor), ("score", validate_and_score), ("json", with_json)):
            wall, cpu = _time(fn)
            best[name] = [min(best[name][0], wall), min(best[name][1], cpu)]
    (t_floor, c_floor), (t_score, c_score), (t_json, c_json) = (
        best["floor"],
        best["score"],
        best["json"],
    )
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
        "cpu_floor_s": round(c_floor, 4),
        "cpu_ratio_to_floor": round(c_score / c_floor, 1),
        "cpu_with_to_dict_ratio": round(c_json / c_floor, 1),
        "load_average": [round(x, 1) for x in os.getloadavg()],
        "python": platform.python_version(),
        "machine": f"{platform.machine()}, {platform.processor() or 'cpu'}",
    }


if __name__ == "__main__":
    import argparse

    argparse.ArgumentParser(description=__doc__).parse_args()
    print(json.dumps(run(), indent=2))
