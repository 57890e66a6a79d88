"""Shortlist selection, pure: criteria, eligibility, ranking key, tie-breaks, quotas, hash.

No database and no clock here: the service loads `Candidate`s (one per structure, with the
values of its latest submitted assessment, read from stored columns and the stored result
snapshot) and calls `select`. The algorithm is documented with a worked example in
docs/shortlists.md; in short:

1. Population: the candidates matching the structural criteria (region, departments,
   categories or sectors, size bands).
2. Eligibility: each member of the population is eligible or excluded for the first failing
   reason of `EXCLUSION_REASONS` (in that order), so the counts add up.
3. Ranking: by the key (global score, a domain's score, readiness, or a weighted mean of
   domain scores) in the chosen order, then fewer unmet requirements to the next palier,
   then earlier submission, then FINESS. Structures without a value for the key come last
   (whatever the order). Key values are rounded to 6 decimals before comparing.
4. Quotas: first every group with a minimum takes its best-ranked eligible structures up to
   the minimum (walking the ranked list once, never exceeding a maximum); then the list is
   filled up to N in rank order, skipping structures whose group is at its maximum.
   Infeasible quotas raise `InfeasibleQuotas` (every problem listed), never a short list.
5. The result is listed in rank order; each row says which rule put it in.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from app.dashboard import bands as _bands

Dimension = Literal["department", "sector", "tier"]
DIMENSIONS: tuple[str, ...] = ("department", "sector", "tier")
DIMENSION_LABELS = {"department": "département", "sector": "secteur", "tier": "palier"}
DIMENSION_PLURALS = {"department": "départements", "sector": "secteurs", "tier": "paliers"}

# Size bands on the capacity (places): the dashboard's bands (app/dashboard/bands.py).
SIZE_BANDS: tuple[tuple[str, str, int, int | None], ...] = tuple(
    (b.key, b.label, b.low, b.high) for b in _bands.SIZE_BANDS)
UNKNOWN_SIZE = "inconnue"
SIZE_BAND_LABELS = dict(_bands.SIZE_BAND_LABELS) | {UNKNOWN_SIZE: "Capacité inconnue"}

# Checked in this order; a structure is counted under its first failing reason.
EXCLUSION_REASONS: dict[str, str] = {
    "no_submission": "Aucune évaluation transmise",
    "submitted_before": "Dernière évaluation transmise avant la date demandée",
    "tier": "Palier hors de la plage demandée",
    "funding": "Non éligible au financement demandé",
    "review_status": "Statut de revue non retenu",
}

# Review statuses (app.reviews): "validee", "a_revoir"; an assessment never reviewed is
# "non_revue" here.
NOT_REVIEWED = "non_revue"
REVIEW_STATUS_LABELS = {"validee": "Validée", "a_revoir": "À revoir",
                        NOT_REVIEWED: "Non revue"}

RULE_RANK = "rank"
KEY_DECIMALS = 6


def size_band(capacity: int | None) -> str:
    return _bands.size_band(capacity) or UNKNOWN_SIZE


def readiness_from_tiers(tiers: Sequence[Mapping[str, Any]] | None,
                         placed_level: int | None) -> int | None:
    """Unmet requirements of the palier just above the placed one, from a stored result's
    `tiers`; None when the structure is on the top palier (nothing above). A requirement
    that does not apply to the structure (`applies: false`, `met: null`) is not unmet."""
    above = [t for t in tiers or [] if placed_level is None or t["level"] > placed_level]
    if not above:
        return None
    nxt = min(above, key=lambda t: t["level"])
    return sum(1 for r in nxt.get("requirements") or []
               if r.get("applies", True) is not False and r.get("met") is not True)


def eligible_funding(funding: Sequence[Mapping[str, Any]] | None) -> list[str]:
    """The funding programmes a stored result says the structure is eligible to:
    `eligible: true` only (`null` on an incomplete assessment or a resource is not)."""
    return sorted(f["id"] for f in funding or [] if f.get("eligible") is True)


# ---- criteria -------------------------------------------------------------------------------


class Quota(BaseModel):
    """At most `max` or at least `min` structures per group of the `by` dimension."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    by: Dimension
    max: int | None = Field(default=None, ge=1)
    min: int | None = Field(default=None, ge=1)

    @model_validator(mode="after")
    def _one_bound(self) -> Quota:
        if (self.max is None) == (self.min is None):
            raise ValueError("un quota donne soit « max », soit « min »")
        return self


class Weights(BaseModel):
    """A weighted mean of domain scores: {domain id: weight}."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    weights: dict[str, float]

    @field_validator("weights")
    @classmethod
    def _positive(cls, value: dict[str, float]) -> dict[str, float]:
        if any(w < 0 for w in value.values()):
            raise ValueError("les poids sont positifs ou nuls")
        if not any(w > 0 for w in value.values()):
            raise ValueError("au moins un domaine doit avoir un poids positif")
        return {k: float(value[k]) for k in sorted(value) if value[k] > 0}


class Criteria(BaseModel):
    """What a committee asks for (the API request without its name)."""

    model_config = ConfigDict(extra="forbid")

    region: str | None = None
    departments: list[str] = Field(default_factory=list)
    # FINESS category codes ("500") or sector keys ("personnes_agees"), mixed freely.
    categories: list[str] = Field(default_factory=list)
    size_bands: list[str] = Field(default_factory=list)
    tiers: tuple[int, int] | None = None  # [min, max] palier levels, inclusive
    eligible_for: str | None = None  # a funding programme id of the questionnaire
    review_status: list[str] = Field(default_factory=list)
    submitted_after: date | None = None  # latest submission on or after this day (UTC)
    rank_by: str | Weights = "global"  # "global" | "readiness" | "domain:<id>" | weights
    order: Literal["desc", "asc"] | None = None  # default: asc for readiness, else desc
    size: int = Field(ge=1, le=100_000)
    quotas: list[Quota] = Field(default_factory=list)

    @field_validator("region")
    @classmethod
    def _region(cls, value: str | None) -> str | None:
        return value.strip() or None if value is not None else None

    @field_validator("departments")
    @classmethod
    def _departments(cls, value: list[str]) -> list[str]:
        return sorted({v.strip().upper() for v in value if v.strip()})

    @field_validator("categories", "review_status")
    @classmethod
    def _codes(cls, value: list[str]) -> list[str]:
        return sorted({v.strip() for v in value if v.strip()})

    @field_validator("size_bands")
    @classmethod
    def _bands(cls, value: list[str]) -> list[str]:
        unknown = [v for v in value if v not in SIZE_BAND_LABELS]
        if unknown:
            raise ValueError(f"tranche de taille inconnue : {', '.join(unknown)}")
        return sorted(set(value))

    @field_validator("tiers")
    @classmethod
    def _tiers(cls, value: tuple[int, int] | None) -> tuple[int, int] | None:
        if value is not None and not 0 <= value[0] <= value[1]:
            raise ValueError("la plage de paliers est [min, max] avec 0 ≤ min ≤ max")
        return value

    @field_validator("eligible_for")
    @classmethod
    def _funding(cls, value: str | None) -> str | None:
        return value.strip() or None if value is not None else None

    @field_validator("rank_by")
    @classmethod
    def _rank_by(cls, value: str | Weights) -> str | Weights:
        if isinstance(value, Weights):
            return value
        if value in ("global", "readiness") or (value.startswith("domain:") and value[7:]):
            return value
        raise ValueError("rank_by : « global », « readiness », « domain:<id> » ou "
                         "{\"weights\": {...}}")

    @model_validator(mode="after")
    def _resolve(self) -> Criteria:
        if self.order is None:
            self.order = "asc" if self.rank_by == "readiness" else "desc"
        bounds: dict[tuple[str, str], int] = {}
        for quota in self.quotas:
            kind = "max" if quota.max is not None else "min"
            if (quota.by, kind) in bounds:
                raise ValueError(f"deux quotas « {kind} » par {DIMENSION_LABELS[quota.by]}")
            bounds[(quota.by, kind)] = quota.max if quota.max is not None else quota.min or 0
        return self

    def canonical(self) -> dict[str, Any]:
        """JSON-ready, normalized (sorted lists, resolved order): what is stored and hashed."""
        data = self.model_dump(mode="json", exclude_none=False)
        data["quotas"] = [{k: v for k, v in q.items() if v is not None} for q in data["quotas"]]
        data["tiers"] = list(self.tiers) if self.tiers is not None else None
        return data

    @property
    def minimums(self) -> dict[str, int]:
        return {q.by: q.min for q in self.quotas if q.min is not None}

    @property
    def maximums(self) -> dict[str, int]:
        return {q.by: q.max for q in self.quotas if q.max is not None}

    @property
    def quota_dimensions(self) -> list[str]:
        """The dimensions with a quota, in the order of the quotas."""
        return list(dict.fromkeys(q.by for q in self.quotas))


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
    value: float | None
    if isinstance(rank_by, Weights):
        total = weight = 0.0
        for domain, w in rank_by.weights.items():
            score = c.domain_scores.get(domain)
            if score is not None:
                total += w * score
                weight += w
        value = total / weight if weight else None  # domains without a score are left out
    elif rank_by == "global":
        value = c.global_score
    elif rank_by == "readiness":
        value = None if c.readiness is None else float(c.readiness)
    else:
        value = c.domain_scores.get(rank_by.removeprefix("domain:"))
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


# ---- selection ------------------------------------------------------------------------------


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
    group: str | None  # the structure's groups on the quota dimensions, " / "-joined


@dataclass
class Selection:
    rows: list[Row]
    eligible: int
    population: int
    excluded: dict[str, int]  # reason -> count (only reasons that occurred)
    groups: dict[str, dict[str, int]]  # dimension -> group -> eligible count
    versions: list[str]  # questionnaire "id@version" of the eligible assessments
    warnings: list[str] = field(default_factory=list)


def _group_label(dimension: str, group: str) -> str:
    return f"le {DIMENSION_LABELS[dimension]} {group}"


def group_universe(population: Sequence[Candidate], criteria: Criteria,
                   dimension: str) -> list[str]:
    """The groups a minimum applies to: every group present in the population (for paliers,
    every level of the requested range), plus the departments asked for by name."""
    if dimension == "tier" and criteria.tiers is not None:
        return [str(level) for level in range(criteria.tiers[0], criteria.tiers[1] + 1)]
    found = {g for c in population if (g := c.group(dimension)) is not None}
    if dimension == "department":
        found |= set(criteria.departments)
    return sorted(found, key=_group_sort)


def _group_sort(group: str) -> tuple[int, str]:
    return (0, f"{int(group):09d}") if group.isdigit() else (1, group)


def _noun(n: int, singular: str, plural: str) -> str:
    return f"{n} {singular if n <= 1 else plural}"


def select(candidates: Iterable[Candidate], criteria: Criteria) -> Selection:
    """The shortlist for `criteria` (see the module docstring); raises InfeasibleQuotas."""
    population = [c for c in candidates if in_population(c, criteria)]
    excluded: Counter[str] = Counter()
    eligible: list[Candidate] = []
    for c in population:
        reason = exclusion_reason(c, criteria)
        if reason is None:
            eligible.append(c)
        else:
            excluded[reason] += 1
    ranked = rank(eligible, criteria)

    groups: dict[str, dict[str, int]] = {}
    for dimension in DIMENSIONS:
        counts = Counter(g for c in eligible if (g := c.group(dimension)) is not None)
        groups[dimension] = {g: counts[g] for g in sorted(counts, key=_group_sort)}
    versions = sorted({c.questionnaire for c in eligible if c.questionnaire})

    rows = _apply_quotas(ranked, population, criteria, groups)
    warnings = []
    if len(rows) < criteria.size:
        warnings.append(
            f"Seulement {_noun(len(eligible), 'structure éligible', 'structures éligibles')} "
            f"pour {criteria.size} demandée{'s' if criteria.size > 1 else ''} : la sélection "
            f"compte {_noun(len(rows), 'structure', 'structures')}.")
    return Selection(rows=rows, eligible=len(eligible), population=len(population),
                     excluded={r: excluded[r] for r in EXCLUSION_REASONS if excluded[r]},
                     groups=groups, versions=versions, warnings=warnings)


def _check_feasible(population: Sequence[Candidate], criteria: Criteria,
                    groups: dict[str, dict[str, int]]) -> dict[str, list[str]]:
    """Raise InfeasibleQuotas for what can be told before selecting; return the groups of
    each dimension with a minimum."""
    problems: list[str] = []
    universes: dict[str, list[str]] = {}
    maximums = criteria.maximums
    for dimension, minimum in criteria.minimums.items():
        label = DIMENSION_LABELS[dimension]
        if dimension in maximums and maximums[dimension] < minimum:
            problems.append(f"Le minimum par {label} ({minimum}) dépasse le maximum par "
                            f"{label} ({maximums[dimension]}).")
        universe = group_universe(population, criteria, dimension)
        universes[dimension] = universe
        needed = minimum * len(universe)
        if needed > criteria.size:
            problems.append(
                f"Les minimums demandent au moins {needed} structures ({minimum} par {label} "
                f"× {_noun(len(universe), label, DIMENSION_PLURALS[dimension])}) pour une "
                f"sélection de {criteria.size}.")
        for group in universe:
            have = groups[dimension].get(group, 0)
            if have < minimum:
                problems.append(
                    f"{_group_label(dimension, group).capitalize()} ne compte que "
                    f"{_noun(have, 'structure éligible', 'structures éligibles')} pour un "
                    f"minimum de {minimum}.")
    if problems:
        raise InfeasibleQuotas(problems)
    return universes


def _apply_quotas(ranked: list[tuple[Candidate, float | None]],
                  population: Sequence[Candidate], criteria: Criteria,
                  groups: dict[str, dict[str, int]]) -> list[Row]:
    universes = _check_feasible(population, criteria, groups)
    minimums, maximums = criteria.minimums, criteria.maximums
    taken: dict[str, Counter[str]] = {d: Counter() for d in DIMENSIONS}
    chosen: dict[int, str] = {}  # index in `ranked` -> rule

    def at_max(c: Candidate) -> str | None:
        for dimension, limit in maximums.items():
            g = c.group(dimension)
            if g is not None and taken[dimension][g] >= limit:
                return dimension
        return None

    def take(index: int, c: Candidate, rule: str) -> None:
        chosen[index] = rule
        for dimension in DIMENSIONS:
            g = c.group(dimension)
            if g is not None:
                taken[dimension][g] += 1

    # 1. Minimums: one walk down the ranked list; a structure is taken when one of its
    #    groups is still below its minimum (the first such quota names the rule).
    if minimums:
        for index, (c, _) in enumerate(ranked):
            need = next((d for d in criteria.quota_dimensions if d in minimums
                         and (g := c.group(d)) in universes[d]
                         and taken[d][g] < minimums[d]), None)
            if need is not None and at_max(c) is None:
                take(index, c, f"min:{need}")
        problems = []
        for dimension, minimum in minimums.items():
            for group in universes[dimension]:
                if taken[dimension][group] < minimum:
                    problems.append(
                        f"{_group_label(dimension, group).capitalize()} ne peut pas atteindre "
                        f"son minimum de {minimum} sans dépasser un maximum.")
        if len(chosen) > criteria.size:
            problems.append(f"Ensemble, les minimums retiennent {len(chosen)} structures, plus "
                            f"que les {criteria.size} demandées.")
        if problems:
            raise InfeasibleQuotas(problems)

    # 2. Fill up to N in rank order, skipping groups at their maximum.
    skipped = 0
    for index, (c, _) in enumerate(ranked):
        if len(chosen) >= criteria.size:
            break
        if index in chosen:
            continue
        if at_max(c) is not None:
            skipped += 1
            continue
        take(index, c, RULE_RANK)
    if len(chosen) < criteria.size and skipped:
        raise InfeasibleQuotas([
            f"Les maximums ne permettent de retenir que {len(chosen)} structures sur les "
            f"{criteria.size} demandées ({skipped} structures éligibles écartées parce que "
            "leur groupe avait atteint son maximum)."])

    dims = criteria.quota_dimensions
    rows = []
    for position, index in enumerate(sorted(chosen), start=1):
        c, value = ranked[index]
        label = " / ".join(c.group(d) or "—" for d in dims) if dims else None
        rows.append(Row(rank=position, eligible_rank=index + 1, candidate=c, key=value,
                        rule=chosen[index], group=label))
    return rows


# ---- freezing, hashing, comparing ------------------------------------------------------------


def frozen_row(row: Row) -> dict[str, Any]:
    """A shortlist row with every value used, JSON-ready (what is stored and hashed)."""
    c = row.candidate
    return {
        "rank": row.rank,
        "eligible_rank": row.eligible_rank,
        "finess": c.finess,
        "name": c.name,
        "structure_id": c.structure_id,
        "assessment_id": c.assessment_id,
        "questionnaire": c.questionnaire,
        "submitted_at": c.submitted_at.isoformat() if c.submitted_at else None,
        "region": c.region,
        "department": c.department,
        "category": c.category_code,
        "sector": c.sector,
        "capacity": c.capacity,
        "size_band": c.size_band,
        "tier": c.tier_level,
        "global_score": c.global_score,
        "domain_scores": {k: c.domain_scores[k] for k in sorted(c.domain_scores)},
        "readiness": c.readiness,
        "funding": sorted(c.funding),
        "review_status": c.review_status,
        "key": row.key,
        "group": row.group,
        "rule": row.rule,
    }


def canonical_json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      allow_nan=False)


def shortlist_hash(criteria: Mapping[str, Any], versions: Sequence[str],
                   rows: Sequence[Mapping[str, Any]]) -> str:
    """sha256 of the canonical JSON of criteria, questionnaire versions and rows (never the
    id, name, date or author)."""
    payload = {"criteria": criteria, "questionnaire_versions": list(versions),
               "rows": list(rows)}
    return hashlib.sha256(canonical_json(payload).encode("utf-8")).hexdigest()


@dataclass
class Diff:
    added: list[dict[str, Any]]  # rows of the new list not in the old one
    removed: list[dict[str, Any]]  # rows of the old list not in the new one
    moved: list[tuple[dict[str, Any], dict[str, Any]]]  # (old, new) with another rank
    changed: list[tuple[dict[str, Any], dict[str, Any]]]  # same rank, other values

    @property
    def same(self) -> bool:
        return not (self.added or self.removed or self.moved or self.changed)


def diff_rows(old: Sequence[Mapping[str, Any]], new: Sequence[Mapping[str, Any]]) -> Diff:
    """What changed between two frozen lists, by FINESS."""
    before = {r["finess"]: dict(r) for r in old}
    after = {r["finess"]: dict(r) for r in new}
    added = [r for f, r in after.items() if f not in before]
    removed = [r for f, r in before.items() if f not in after]
    moved, changed = [], []
    for f, r in after.items():
        if f in before:
            o = before[f]
            if o["rank"] != r["rank"]:
                moved.append((o, r))
            elif o != r:
                changed.append((o, r))
    return Diff(added, removed, moved, changed)
