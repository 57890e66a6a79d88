"""The regional summary: participation, tiers, domain scores against the national figures,
breakdowns by department, sector and size band, trend by quarter."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field, replace
from typing import Any

from sqlalchemy import ColumnElement, and_, false, func, select
from sqlmodel import Session

from app.assessments.models import AssessmentStatus
from app.dashboard import cache
from app.dashboard.bands import (
    SIZE_BANDS,
    size_band_label,
)
from app.dashboard.filters import (
    Filters,
    check_region,
    latest_of,
    result_conds,
    review_counts,
    structure_band,
    structure_conds,
)
from app.dashboard.read_model import quarter_label
from app.dashboard.stats import (
    DEFAULT_QUESTIONNAIRE,
    distribution_stats,
    questionnaire_of,
    tier_labels,
)
from app.dashboard.tables import DS, LDS, LR, A, S
from app.errors import Forbidden
from app.permissions import Action, Actor, can, structure_scope
from app.questionnaires import Registry, version_key
from app.reference import SECTOR_LABELS, departments, regions
from app.reference import sector_of_category as reference_sector
from scoring import Questionnaire

# ---- the summary ---------------------------------------------------------------------------


@dataclass
class TierCount:
    level: int
    id: str
    label: str
    count: int
    national: int = 0


@dataclass
class DomainStat:
    id: str
    label: str
    n: int
    mean: float | None
    median: float | None
    national_n: int
    national_mean: float | None
    national_median: float | None


@dataclass
class BreakdownRow:
    key: str
    label: str
    structures: int = 0
    submitted: int = 0
    drafts: int = 0
    tiers: dict[int, int] = field(default_factory=dict)
    score_sum: float = 0.0
    score_n: int = 0

    @property
    def participation(self) -> float | None:
        return 100.0 * self.submitted / self.structures if self.structures else None

    @property
    def mean_score(self) -> float | None:
        return self.score_sum / self.score_n if self.score_n else None


@dataclass
class TrendRow:
    quarter: str
    label: str
    tiers: dict[int, int]

    @property
    def total(self) -> int:
        return sum(self.tiers.values())


@dataclass
class Summary:
    region: str
    region_name: str
    filters: Filters
    structures: int
    submitted: int
    drafts: int
    tiers: list[TierCount]
    questionnaire_id: str
    reference_version: str | None
    versions: dict[str, int]  # questionnaire version -> latest results counted
    global_n: int
    global_mean: float | None
    global_median: float | None
    domains: list[DomainStat]
    by_department: list[BreakdownRow]
    by_sector: list[BreakdownRow]
    by_size_band: list[BreakdownRow]
    trend: list[TrendRow]
    reviews: dict[str, int] = field(default_factory=dict)  # review status -> latest results

    @property
    def participation(self) -> float | None:
        return 100.0 * self.submitted / self.structures if self.structures else None

    @property
    def other_versions(self) -> int:
        return sum(n for v, n in self.versions.items() if v != self.reference_version)

    def to_dict(self) -> dict[str, Any]:
        """The API's JSON (`GET /api/v1/regions/{code}/summary`)."""
        def rows(items: list[BreakdownRow]) -> list[dict[str, Any]]:
            return [{"key": r.key, "label": r.label, "structures": r.structures,
                     "submitted": r.submitted, "drafts": r.drafts,
                     "tiers": {self._tier_id(k): v for k, v in sorted(r.tiers.items())},
                     "mean_global_score": _round(r.mean_score)} for r in items]

        return {
            "region": self.region,
            "filters": self.filters.query(),
            "structures": self.structures,
            "submitted": self.submitted,
            "drafts": self.drafts,
            "participation": _round(self.participation),
            "tiers": {t.id: t.count for t in self.tiers},
            "questionnaire": {"id": self.questionnaire_id,
                              "reference_version": self.reference_version,
                              "versions": self.versions,
                              "other_versions": self.other_versions},
            "global_score": {"n": self.global_n, "mean": _round(self.global_mean),
                             "median": _round(self.global_median)},
            "domains": [{"id": d.id, "label": d.label, "n": d.n, "mean": _round(d.mean),
                         "median": _round(d.median),
                         "national": {"n": d.national_n, "mean": _round(d.national_mean),
                                      "median": _round(d.national_median)}}
                        for d in self.domains],
            "by_department": rows(self.by_department),
            "by_sector": rows(self.by_sector),
            "by_size_band": rows(self.by_size_band),
            "reviews": {"validee": self.reviews.get("validee", 0),
                        "a_revoir": self.reviews.get("a_revoir", 0)},
            "trend": [{"quarter": t.quarter,
                       "tiers": {self._tier_id(k): v for k, v in sorted(t.tiers.items())}}
                      for t in self.trend],
        }

    def _tier_id(self, level: int) -> str:
        return next((t.id for t in self.tiers if t.level == level), f"palier-{level}")


def _round(x: float | None, places: int = 2) -> float | None:
    return None if x is None else round(x, places)


def summary(session: Session, actor: Actor | None, registry: Registry, region: str,
            f: Filters, *, national: bool = True) -> Summary:
    """The regional dashboard's figures under filters `f` (region already checked)."""
    check_region(actor, region)
    qid = DEFAULT_QUESTIONNAIRE

    pop = _population(session, actor, region, f)
    res = _latest_results(session, region, f)

    versions: dict[str, int] = defaultdict(int)
    for r in res:
        versions[r.questionnaire_version] += r.n
    latest_q = registry.latest(qid)
    reference = max(versions, key=version_key) if versions else \
        (latest_q.version if latest_q else None)
    labels = tier_labels(registry, qid, reference)
    q = questionnaire_of(registry, qid, reference)

    deps = {code: BreakdownRow(code, f"{d.name} ({code})")
            for code, d in departments().items() if d.region_code == region
            and (f.department is None or code == f.department)}
    sectors = {key: BreakdownRow(key, label) for key, label in SECTOR_LABELS.items()}
    bands = {b.key: BreakdownRow(b.key, b.label) for b in SIZE_BANDS}
    bands[""] = BreakdownRow("inconnue", size_band_label(None))
    structures, drafts = _add_population(pop, deps, sectors, bands)
    tier_counts, submitted, global_sum, global_n = _add_results(res, reference, deps, sectors,
                                                                bands)

    # Global score (reference version), region: the mean from the sums above, the median in
    # SQL (the middle one or two values, in the order of the covering index).
    global_mean = global_sum / global_n if global_n else None
    global_median = _median(session, LR.c.global_score, global_n, [
        LR.c.region == region, LR.c.questionnaire_id == qid,
        LR.c.questionnaire_version == reference, *result_conds(LR, f)])

    domains = _domain_stats(session, q, qid, reference, region, f, national=national)

    national_tiers = _national_tiers(session, f) if national else {}
    trend = _trend(session, region, f)
    reviews = review_counts(session, [LR.c.region == region, *result_conds(LR, f)])
    return Summary(
        region=region, region_name=regions()[region].name, filters=f,
        structures=structures, submitted=submitted, drafts=drafts,
        tiers=[TierCount(level, labels[level][0], labels[level][1],
                         tier_counts.get(level, 0), national_tiers.get(level, 0))
               for level in sorted(labels)],
        questionnaire_id=qid, reference_version=reference, versions=dict(versions),
        global_n=global_n, global_mean=global_mean, global_median=global_median,
        domains=domains,
        by_department=sorted(deps.values(), key=lambda r: r.key),
        by_sector=[r for r in sectors.values() if r.structures or r.submitted],
        by_size_band=[r for r in bands.values() if r.structures or r.submitted],
        trend=trend, reviews=reviews,
    )


def _population(session: Session, actor: Actor | None, region: str, f: Filters) -> list[Any]:
    """Population and drafts: one GROUP BY over the region's open structures (department,
    category, size band, count, drafts)."""
    draft = A.alias("draft")
    per_structure = (
        select(S.c.department, S.c.category_code, structure_band().label("band"),
               draft.c.id.label("draft_id"))
        .select_from(S)
        .outerjoin(LR, latest_of(region))
        .outerjoin(draft, and_(draft.c.structure_id == S.c.id,
                               draft.c.status == AssessmentStatus.draft.value))
        .where(*structure_conds(actor, region, f))
    ).subquery()
    return list(session.execute(
        select(per_structure.c.department, per_structure.c.category_code,
               per_structure.c.band, func.count().label("n"),
               func.count(per_structure.c.draft_id).label("drafts"))
        .group_by(per_structure.c.department, per_structure.c.category_code,
                  per_structure.c.band)
    ).all())


def _latest_results(session: Session, region: str, f: Filters) -> list[Any]:
    """Latest results: one GROUP BY over the region's latest_result rows."""
    return list(session.execute(
        select(LR.c.department, LR.c.sector, LR.c.size_band, LR.c.tier_level,
               LR.c.questionnaire_version, func.count().label("n"),
               func.sum(LR.c.global_score).label("score_sum"),
               func.count(LR.c.global_score).label("score_n"))
        .where(LR.c.region == region, *result_conds(LR, f))
        .group_by(LR.c.department, LR.c.sector, LR.c.size_band, LR.c.tier_level,
                  LR.c.questionnaire_version)
    ).all())


_Rows = dict[str, BreakdownRow]


def _add_population(pop: list[Any], deps: _Rows, sectors: _Rows, bands: _Rows
                    ) -> tuple[int, int]:
    """Count structures and drafts into the breakdown rows; (structures, drafts) in all (the
    population ignores the palier and date filters)."""
    structures = drafts = 0
    for department, category_code, band, n, n_drafts in pop:
        sector = reference_sector(category_code) or ""
        for row in (deps.get(department), sectors.get(sector), bands.get(band or "")):
            if row is not None:
                row.structures += n
                row.drafts += n_drafts
        structures += n
        drafts += n_drafts
    return structures, drafts


def _add_results(res: list[Any], reference: str | None, deps: _Rows, sectors: _Rows,
                 bands: _Rows) -> tuple[dict[int, int], int, float, int]:
    """Count submissions, paliers and global scores (reference version only) into the
    breakdown rows; (tier counts, submitted, global score sum and count) in all."""
    tier_counts: dict[int, int] = defaultdict(int)
    submitted = global_n = 0
    global_sum = 0.0
    for department, sector, band, tier, version, n, score_sum, score_n in res:
        submitted += n
        if tier is not None:
            tier_counts[tier] += n
        current = version == reference and score_n
        if current:
            global_sum += float(score_sum)
            global_n += score_n
        for row in (deps.get(department), sectors.get(sector or ""), bands.get(band or "")):
            if row is None:
                continue
            row.submitted += n
            if tier is not None:
                row.tiers[tier] = row.tiers.get(tier, 0) + n
            if current:
                row.score_sum += float(score_sum)
                row.score_n += score_n

    return tier_counts, submitted, global_sum, global_n


def _national_tiers(session: Session, f: Filters) -> dict[int, int]:
    """National distribution over the paliers (same filters but the department), cached."""
    return cache.cached(session, ("tiers", replace(f, department=None)),
                        lambda: dict(session.execute(
                            select(LR.c.tier_level, func.count())
                            .where(*result_conds(LR, f, department=False))
                            .group_by(LR.c.tier_level)).all()))


def _median(session: Session, column: Any, n: int,
            conds: list[ColumnElement[bool]]) -> float | None:
    """The median of `column` over the `n` non-null rows matching `conds`."""
    if n <= 0:
        return None
    values = session.execute(
        select(column).where(*conds, column.is_not(None)).order_by(column)
        .offset((n - 1) // 2).limit(1 if n % 2 else 2)
    ).scalars().all()
    if not values:  # pragma: no cover - n was counted in the same transaction
        return None
    return float(values[0]) if n % 2 or len(values) < 2 else (values[0] + values[1]) / 2


def _domain_stats(session: Session, q: Questionnaire | None, qid: str, version: str | None,
                  region: str, f: Filters, *, national: bool) -> list[DomainStat]:
    """Mean and median of each domain score, region and nation, for one version."""
    if version is None:
        return []

    def hist(conds: list[ColumnElement[bool]]) -> dict[str, list[tuple[float, int]]]:
        out: dict[str, list[tuple[float, int]]] = defaultdict(list)
        rows = session.execute(
            select(LDS.c.domain_id, LDS.c.score, func.count())
            .where(LDS.c.questionnaire_id == qid, LDS.c.questionnaire_version == version,
                   LDS.c.score.is_not(None), *conds)
            .group_by(LDS.c.domain_id, LDS.c.score)
        ).all()
        for domain_id, score, count in rows:
            out[domain_id].append((score, count))
        return dict(out)

    here = hist([LDS.c.region == region, *result_conds(LDS, f)])
    there = cache.cached(session, ("domains", qid, version, replace(f, department=None)),
                         lambda: hist(result_conds(LDS, f, department=False))) \
        if national else {}
    order = [(d.id, d.label) for d in q.domains] if q else [(d, d) for d in sorted(here)]
    out = []
    for did, label in order:
        n, mean, median = distribution_stats(here.get(did, []))
        nn, nmean, nmedian = distribution_stats(there.get(did, []))
        out.append(DomainStat(did, label, n, mean, median, nn, nmean, nmedian))
    return out


def _trend(session: Session, region: str, f: Filters) -> list[TrendRow]:
    """Submissions per quarter and palier (every submission of the structures shown)."""
    rows = session.execute(
        select(DS.c.quarter, DS.c.tier_level, func.count())
        .where(DS.c.region == region, *result_conds(DS, f, tier=False))
        .group_by(DS.c.quarter, DS.c.tier_level)
    ).all()
    by_quarter: dict[str, dict[int, int]] = defaultdict(dict)
    for quarter, level, count in rows:
        if level is not None:
            by_quarter[quarter][level] = count
    return [TrendRow(k, quarter_label(k), v) for k, v in sorted(by_quarter.items())]


def regions_overview(session: Session, actor: Actor | None,
                     ) -> tuple[str | None, list[dict[str, Any]]]:
    """For the regions page: (the actor's own region, []) for a regional actor, else (None,
    every region with its open structures and latest results, by name). Forbidden for a
    role without dashboards."""
    if not can(actor, Action.view_dashboard):
        raise Forbidden()
    scope = structure_scope(actor)
    if not scope.all:
        if scope.region is None:
            raise Forbidden()
        return scope.region, []
    structures = dict(session.execute(
        select(S.c.region, func.count()).where(S.c.closed == false()).group_by(S.c.region)
    ).all())
    submitted = dict(session.execute(
        select(LR.c.region, func.count()).group_by(LR.c.region)).all())
    rows = [{"code": code, "name": r.name, "structures": structures.get(code, 0),
             "submitted": submitted.get(code, 0)} for code, r in regions().items()]
    rows.sort(key=lambda r: r["name"])
    return None, rows
