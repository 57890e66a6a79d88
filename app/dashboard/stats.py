"""Labels and statistics shared by the dashboard pages: tier labels from the questionnaire,
exact distribution statistics and percentile ranks."""

from __future__ import annotations

import math
from collections.abc import Sequence

from app.questionnaires import Registry
from scoring import Questionnaire

DEFAULT_QUESTIONNAIRE = "esms-maturite-numerique"


# ---- questionnaire labels ------------------------------------------------------------------


def questionnaire_of(registry: Registry, qid: str, version: str | None) -> Questionnaire | None:
    q = registry.get(qid, version) if version else None
    return q or registry.latest(qid)


def tier_labels(registry: Registry, qid: str = DEFAULT_QUESTIONNAIRE,
                version: str | None = None) -> dict[int, tuple[str, str]]:
    """level -> (tier id, label) from the questionnaire (else "palier-N", "Palier N")."""
    q = questionnaire_of(registry, qid, version)
    out = {t.level: (t.id, t.label) for t in q.tiers} if q else {}
    for level in range(5):
        out.setdefault(level, (f"palier-{level}", f"Palier {level}"))
    return out


def short_tier(label: str) -> str:
    """'Palier 2 — Dossier usager…' -> 'Palier 2'."""
    return label.split(" — ")[0]


# ---- statistics ----------------------------------------------------------------------------


def distribution_stats(hist: Sequence[tuple[float, int]]) -> tuple[int, float | None,
                                                                      float | None]:
    """(n, mean, median) of a distribution given as (value, count) pairs (any order)."""
    pairs = sorted((v, c) for v, c in hist if v is not None and c)
    n = sum(c for _, c in pairs)
    if n == 0:
        return 0, None, None
    mean = math.fsum(v * c for v, c in pairs) / n

    def nth(k: int) -> float:  # 0-based
        seen = 0
        for v, c in pairs:
            seen += c
            if k < seen:
                return v
        raise IndexError(k)  # pragma: no cover

    median = nth(n // 2) if n % 2 else (nth(n // 2 - 1) + nth(n // 2)) / 2
    return n, mean, median


def percentile_rank(below: int, equal: int, n: int) -> float | None:
    """Share of the group below the value, ties counted half (the structure itself is in
    the group): 100 × (below + equal / 2) / n."""
    if n <= 0:
        return None
    return 100.0 * (below + equal / 2) / n
