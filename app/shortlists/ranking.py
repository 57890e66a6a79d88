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

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence

from app.shortlists.ranking_candidates import (
    Candidate,
    InfeasibleQuotas,
    Row,
    Selection,
    exclusion_reason,
    in_population,
    key_of,
    key_value,
    rank,
    sort_key,
)
from app.shortlists.ranking_criteria import (
    DIMENSION_LABELS,
    DIMENSION_PLURALS,
    DIMENSIONS,
    EXCLUSION_REASONS,
    KEY_DECIMALS,
    NOT_REVIEWED,
    REVIEW_STATUS_LABELS,
    RULE_RANK,
    SIZE_BAND_LABELS,
    SIZE_BANDS,
    UNKNOWN_SIZE,
    Criteria,
    Dimension,
    Quota,
    Weights,
    eligible_funding,
    readiness_from_tiers,
    size_band,
)
from app.shortlists.ranking_freeze import (
    FROZEN_KEYS,
    Diff,
    canonical_json,
    diff_rows,
    frozen_row,
    frozen_values_json,
    rows_json_and_hash,
    shortlist_hash,
    text_hash,
)

__all__ = [
    "DIMENSIONS",
    "DIMENSION_LABELS",
    "DIMENSION_PLURALS",
    "EXCLUSION_REASONS",
    "FROZEN_KEYS",
    "KEY_DECIMALS",
    "NOT_REVIEWED",
    "REVIEW_STATUS_LABELS",
    "RULE_RANK",
    "SIZE_BANDS",
    "SIZE_BAND_LABELS",
    "UNKNOWN_SIZE",
    "Candidate",
    "Criteria",
    "Diff",
    "Dimension",
    "InfeasibleQuotas",
    "Quota",
    "Row",
    "Selection",
    "Weights",
    "canonical_json",
    "check_feasible",
    "choose",
    "diff_rows",
    "eligible_funding",
    "exclusion_reason",
    "frozen_row",
    "frozen_values_json",
    "group_universe",
    "in_population",
    "key_of",
    "key_value",
    "rank",
    "readiness_from_tiers",
    "rows_json_and_hash",
    "select",
    "short_warnings",
    "shortlist_hash",
    "size_band",
    "sort_key",
    "sorted_groups",
    "text_hash",
]

# ---- selection ------------------------------------------------------------------------------


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
        groups[dimension] = sorted_groups(
            Counter(g for c in eligible if (g := c.group(dimension)) is not None))
    versions = sorted({c.questionnaire for c in eligible if c.questionnaire})

    rows = _apply_quotas(ranked, population, criteria, groups)
    warnings = short_warnings(len(eligible), criteria.size, len(rows))
    return Selection(rows=rows, eligible=len(eligible), population=len(population),
                     excluded={r: excluded[r] for r in EXCLUSION_REASONS if excluded[r]},
                     groups=groups, versions=versions, warnings=warnings)


def check_feasible(population: Sequence[Candidate], criteria: Criteria,
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
    universes = check_feasible(population, criteria, groups)
    chosen = choose(list(enumerate(c for c, _ in ranked)), criteria, universes)
    dims = criteria.quota_dimensions
    rows = []
    for position, index in enumerate(sorted(chosen), start=1):
        c, value = ranked[index]
        rows.append(Row(rank=position, eligible_rank=index + 1, candidate=c, key=value,
                        rule=chosen[index], group=c.groups_label(dims)))
    return rows


class _Taken:
    """How many structures each group has in the selection so far."""

    def __init__(self, criteria: Criteria) -> None:
        self.maximums = criteria.maximums
        self.counts: dict[str, Counter[str]] = {d: Counter() for d in DIMENSIONS}
        self.chosen: dict[int, str] = {}  # index in the ranked list -> rule

    def at_max(self, c: Candidate) -> str | None:
        for dimension, limit in self.maximums.items():
            g = c.group(dimension)
            if g is not None and self.counts[dimension][g] >= limit:
                return dimension
        return None

    def take(self, index: int, c: Candidate, rule: str) -> None:
        self.chosen[index] = rule
        for dimension in DIMENSIONS:
            g = c.group(dimension)
            if g is not None:
                self.counts[dimension][g] += 1


def choose(ranked: Iterable[tuple[int, Candidate]], criteria: Criteria,
           universes: dict[str, list[str]]) -> dict[int, str]:
    """Step 4 of the module docstring over `ranked` [(index, candidate)] in rank order,
    iterable twice (the fill pass re-reads its start): index -> rule. Raises
    InfeasibleQuotas."""
    minimums = criteria.minimums
    taken = _Taken(criteria)
    if minimums:
        _take_minimums(ranked, criteria, universes, taken)
    # 2. Fill up to N in rank order, skipping groups at their maximum.
    skipped = 0
    for index, c in ranked:
        if len(taken.chosen) >= criteria.size:
            break
        if index in taken.chosen:
            continue
        if taken.at_max(c) is not None:
            skipped += 1
            continue
        taken.take(index, c, RULE_RANK)
    if len(taken.chosen) < criteria.size and skipped:
        raise InfeasibleQuotas([
            f"Les maximums ne permettent de retenir que {len(taken.chosen)} structures sur les "
            f"{criteria.size} demandées ({skipped} structures éligibles écartées parce que "
            "leur groupe avait atteint son maximum)."])
    return taken.chosen


def _take_minimums(ranked: Iterable[tuple[int, Candidate]], criteria: Criteria,
                   universes: dict[str, list[str]], taken: _Taken) -> None:
    """1. Minimums: one walk down the ranked list; a structure is taken when one of its
    groups is still below its minimum (the first such quota names the rule)."""
    minimums, counts = criteria.minimums, taken.counts
    dims = [d for d in criteria.quota_dimensions if d in minimums]  # in the quotas' order
    wanted = {d: set(universes[d]) for d in dims}

    def short() -> bool:  # a group still below its minimum
        return any(counts[d][g] < m for d, m in minimums.items() for g in universes[d])

    below = short()
    for index, c in ranked:
        if not below:
            break  # nothing more can be taken by this pass
        need = next((d for d in dims if (g := c.group(d)) in wanted[d]
                     and counts[d][g] < minimums[d]), None)
        if need is not None and taken.at_max(c) is None:
            taken.take(index, c, f"min:{need}")
            below = short()
    problems = []
    for dimension, minimum in minimums.items():
        for group in universes[dimension]:
            if counts[dimension][group] < minimum:
                problems.append(
                    f"{_group_label(dimension, group).capitalize()} ne peut pas atteindre "
                    f"son minimum de {minimum} sans dépasser un maximum.")
    if len(taken.chosen) > criteria.size:
        problems.append(f"Ensemble, les minimums retiennent {len(taken.chosen)} structures, "
                        f"plus que les {criteria.size} demandées.")
    if problems:
        raise InfeasibleQuotas(problems)


def sorted_groups(counts: Mapping[str, int]) -> dict[str, int]:
    """Group -> count, numbers first in numeric order, then names."""
    return {g: counts[g] for g in sorted(counts, key=_group_sort)}


def short_warnings(eligible: int, size: int, selected: int) -> list[str]:
    """The warning when fewer structures than asked are selected."""
    if selected >= size:
        return []
    return [f"Seulement {_noun(eligible, 'structure éligible', 'structures éligibles')} "
            f"pour {size} demandée{'s' if size > 1 else ''} : la sélection "
            f"compte {_noun(selected, 'structure', 'structures')}."]
