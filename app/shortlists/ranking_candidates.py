"""Shortlist candidates, pure: population, eligibility, ranking key, tie-breaks, rows."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from app.shortlists.ranking_criteria import (
    KEY_DECIMALS,
    Criteria,
    Weights,
    size_band,
)

# ---- candidates -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Candidate:
    """A structure with the values of its latest submitted assessment (None without one)."""

    structure_id: int
    finess: str
    name: str
    department: str
    region: str
    category_code: str
    sector: str | None
    capacity: int | None
    assessment_id: int | None = None
    submitted_at: datetime | None = None
    questionnaire: str | None = None  # "id@version"
    tier_level: int | None = None
    global_score: float | None = None
    domain_scores: Mapping[str, float | None] = field(default_factory=dict)
    readiness: int | None = None  # unmet requirements of the palier above; None at the top
    funding: frozenset[str] = frozenset()  # eligible funding programmes
    review_status: str | None = None

    @property
    def size_band(self) -> str:
        return size_band(self.capacity)

    def group(self, dimension: str) -> str | None:
        if dimension == "department":
            return self.department
        if dimension == "sector":
            return self.sector or "inconnu"
        return None if self.tier_level is None else str(self.tier_level)

    def groups_label(self, dimensions: Sequence[str]) -> str | None:
        """Its groups on the quota dimensions, " / "-joined (None without quotas): a row's
        `group`."""
        return " / ".join(self.group(d) or "—" for d in dimensions) if dimensions else None


def in_population(c: Candidate, criteria: Criteria) -> bool:
    """The structural criteria: region, departments, categories or sectors, size bands."""
    if criteria.region is not None and c.region != criteria.region:
        return False
    if criteria.departments and c.department not in criteria.departments:
        return False
    if criteria.categories and not (c.category_code in criteria.categories
                                    or (c.sector is not None and c.sector in criteria.categories)):
        return False
    return not criteria.size_bands or c.size_band in criteria.size_bands


def exclusion_reason(c: Candidate, criteria: Criteria) -> str | None:
    """The first eligibility filter `c` fails (a key of EXCLUSION_REASONS), or None."""
    if c.assessment_id is None or c.submitted_at is None:
        return "no_submission"
    if criteria.submitted_after is not None and c.submitted_at.date() < criteria.submitted_after:
        return "submitted_before"
    if criteria.tiers is not None:
        low, high = criteria.tiers
        if c.tier_level is None or not low <= c.tier_level <= high:
            return "tier"
    if criteria.eligible_for is not None and criteria.eligible_for not in c.funding:
        return "funding"
    if criteria.review_status and c.review_status not in criteria.review_status:
        return "review_status"
    return None


def key_value(c: Candidate, rank_by: str | Weights) -> float | None:
    """The ranking key of `c`, rounded to KEY_DECIMALS; None when it has no value."""
    return key_of(rank_by, c.global_score, c.readiness, c.domain_scores)


def key_of(rank_by: str | Weights, global_score: float | None, readiness: int | None,
           domain_scores: Mapping[str, float | None]) -> float | None:
    """`key_value` of a candidate with these values."""
    value: float | None
    if isinstance(rank_by, Weights):
        total = weight = 0.0
        for domain, w in rank_by.weights.items():
            score = domain_scores.get(domain)
            if score is not None:
                total += w * score
                weight += w
        value = total / weight if weight else None  # domains without a score are left out
    elif rank_by == "global":
        value = global_score
    elif rank_by == "readiness":
        value = None if readiness is None else float(readiness)
    else:
        value = domain_scores.get(rank_by.removeprefix("domain:"))
    return None if value is None else round(value, KEY_DECIMALS)


def sort_key(c: Candidate, value: float | None, order: str) -> tuple[Any, ...]:
    """Total order: key (None last), fewer unmet requirements (None last), earlier
    submission, FINESS."""
    signed = 0.0 if value is None else (-value if order == "desc" else value)
    return (value is None, signed, c.readiness is None, c.readiness or 0,
            c.submitted_at or datetime.max, c.finess)


def rank(eligible: Iterable[Candidate], criteria: Criteria) -> list[tuple[Candidate, float | None]]:
    order = criteria.order or "desc"
    valued = [(c, key_value(c, criteria.rank_by)) for c in eligible]
    valued.sort(key=lambda cv: sort_key(cv[0], cv[1], order))
    return valued


class InfeasibleQuotas(ValueError):
    """The quotas cannot be met: every problem, in French, for the committee."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__(" ".join(problems))
        self.problems = problems


@dataclass(frozen=True, slots=True)
class Row:
    rank: int  # position in the shortlist, from 1
    eligible_rank: int  # position among all eligible structures, from 1
    candidate: Candidate
    key: float | None
    rule: str  # "min:<dimension>" or "rank"
    group: str | None  # `Candidate.groups_label` of the quota dimensions


@dataclass
class Selection:
    rows: list[Row]
    eligible: int
    population: int
    excluded: dict[str, int]  # reason -> count (only reasons that occurred)
    groups: dict[str, dict[str, int]]  # dimension -> group -> eligible count
    versions: list[str]  # questionnaire "id@version" of the eligible assessments
    warnings: list[str] = field(default_factory=list)
