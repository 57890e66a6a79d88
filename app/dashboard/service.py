"""Regional dashboard: figures, filters, breakdowns, trend, structure list, like-for-like
percentiles and side-by-side comparison, all read from the dashboard read model
(`app.dashboard.models`), never re-scored.

Every figure counts each open structure's LATEST submitted assessment. Domain statistics are
computed on the results of one questionnaire version (the reference: the newest version among
the results shown), so that like is compared with like; results of other versions are counted
and flagged. Aggregates run in SQL (GROUP BY); means and medians come from the exact
distribution of scores (score, count) fetched per domain: SQLite has no percentile function
and the scores take few distinct values, so this is exact and cheap on both backends.

Scope: callers pass the Actor; `check_region` raises Forbidden for a role without dashboards,
NotFound for a region outside the actor's scope; every SQL query on structures also carries
`scope_clause(actor)`.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, ClassVar
from zoneinfo import ZoneInfo

from sqlalchemy import (
    ColumnElement,
    and_,
    case,
    delete,
    false,
    func,
    insert,
    select,
    text,
    true,
    update,
)
from sqlmodel import Session

from app.dashboard import cache
from app.dashboard.bands import (
    SIZE_BANDS,
    categories_of_sector,
    declared_capacity,
    sector_label,
    size_band,
    size_band_label,
    size_band_sql,
)
from app.dashboard.models import DashboardSubmission, LatestDomainScore, LatestResult
from app.models import Assessment, AssessmentDomainScore, AssessmentStatus, Structure
from app.permissions import Action, Actor, can, can_see_region
from app.questionnaires import Registry, version_key
from app.reference import SECTOR_LABELS, departments, finess_categories, regions
from app.reference import sector_of_category as reference_sector
from app.services.errors import Forbidden, NotFound
from app.services.structures import scope_clause
from scoring import Questionnaire

__all__ = [
    "MIN_GROUP",
    "PAGE_SIZE",
    "BadComparison",
    "Comparison",
    "Filters",
    "LikeForLike",
    "StructureListPage",
    "Summary",
    "check_region",
    "compare",
    "distribution_stats",
    "like_for_like",
    "percentile_rank",
    "quarter_label",
    "quarter_of",
    "record_submission",
    "refresh_structures",
    "set_review_status",
    "short_tier",
    "structure_page",
    "summary",
    "tier_labels",
]

PARIS = ZoneInfo("Europe/Paris")
DEFAULT_QUESTIONNAIRE = "esms-maturite-numerique"
PAGE_SIZE = 50
MIN_GROUP = 5  # like-for-like groups smaller than this are not shown
COMPARE_MIN, COMPARE_MAX = 2, 6
CHUNK = 500

LR = LatestResult.__table__  # type: ignore[attr-defined]
LDS = LatestDomainScore.__table__  # type: ignore[attr-defined]
DS = DashboardSubmission.__table__  # type: ignore[attr-defined]
S = Structure.__table__  # type: ignore[attr-defined]
A = Assessment.__table__  # type: ignore[attr-defined]
ADS = AssessmentDomainScore.__table__  # type: ignore[attr-defined]


# ---- the read model ------------------------------------------------------------------------


def quarter_of(moment: datetime) -> str:
    """'2025-T3': the quarter of a moment in Europe/Paris time."""
    local = moment.astimezone(PARIS)
    return f"{local.year}-T{(local.month - 1) // 3 + 1}"


def quarter_label(key: str) -> str:
    year, _, q = key.partition("-T")
    return f"{q}{'er' if q == '1' else 'e'} trimestre {year}"


def _chunks(ids: Sequence[int]) -> Iterable[list[int]]:
    for i in range(0, len(ids), CHUNK):
        yield list(ids[i:i + CHUNK])


def refresh_structures(session: Session, structure_ids: Iterable[int] | None = None) -> int:
    """Rebuild the read model of these structures (None: all) from their assessments, in the
    caller's transaction (the caller commits). Closed structures get no latest result.
    Review statuses of unchanged latest results are kept. Returns the latest rows written.

    Call it after anything that changes a structure's attributes or assessments outside
    `submit()` (bulk imports, admin corrections, demo loads)."""
    ids = None if structure_ids is None else sorted(set(structure_ids))
    batches: list[list[int] | None] = [None] if ids is None else list(_chunks(ids))
    written = 0
    for batch in batches:
        written += _refresh_batch(session, batch)
    # -- shortlists' read model (ranking facts of the latest results), same transaction --
    from app.shortlists import readmodel as shortlist_readmodel

    shortlist_readmodel.refresh(session, ids)
    # -- end shortlists --
    cache.bump(session)  # the national figures' cache: stale from now on
    if ids is None:  # planner statistics for the rebuilt tables
        for table in ("latest_result", "latest_domain_score", "dashboard_submission"):
            session.execute(text(f"ANALYZE {table}"))
    return written


def _where_ids(column: Any, batch: list[int] | None) -> ColumnElement[bool]:
    return true() if batch is None else column.in_(batch)


def _refresh_batch(session: Session, batch: list[int] | None) -> int:
    kept_reviews = {
        aid: status for aid, status in session.execute(
            select(LR.c.assessment_id, LR.c.review_status)
            .where(_where_ids(LR.c.structure_id, batch), LR.c.review_status.is_not(None))
        ).all()
    }
    session.execute(delete(LDS).where(_where_ids(LDS.c.structure_id, batch)))
    session.execute(delete(LR).where(_where_ids(LR.c.structure_id, batch)))
    session.execute(delete(DS).where(_where_ids(DS.c.structure_id, batch)))

    submitted = and_(A.c.status == AssessmentStatus.submitted.value,
                     A.c.submitted_at.is_not(None), _where_ids(A.c.structure_id, batch))
    # The latest submission of each open structure.
    rank = func.row_number().over(partition_by=A.c.structure_id,
                                  order_by=(A.c.submitted_at.desc(), A.c.id.desc()))
    ranked = select(A.c.id.label("aid"), rank.label("rank")).where(submitted).subquery()
    capacite = Assessment.answers["capacite"]  # type: ignore[index]
    latest = session.execute(
        select(A.c.id, A.c.structure_id, A.c.questionnaire_id, A.c.questionnaire_version,
               A.c.tier_level, A.c.global_score, A.c.submitted_at,
               capacite.as_float().label("capacite"), S.c.capacity, S.c.category_code,
               S.c.department, S.c.region)
        .join(ranked, and_(ranked.c.aid == A.c.id, ranked.c.rank == 1))
        .join(S, S.c.id == A.c.structure_id)
        .where(S.c.closed == false())
    ).all()
    lr_rows = []
    for r in latest:
        declared = declared_capacity({"capacite": r.capacite})
        capacity = declared or r.capacity
        lr_rows.append({
            "structure_id": r.structure_id, "assessment_id": r.id,
            "questionnaire_id": r.questionnaire_id,
            "questionnaire_version": r.questionnaire_version, "tier_level": r.tier_level,
            "global_score": r.global_score, "submitted_at": r.submitted_at,
            "capacity_declared": declared, "capacity": capacity,
            "size_band": size_band(capacity), "sector": reference_sector(r.category_code),
            "category_code": r.category_code, "department": r.department,
            "region": r.region, "review_status": kept_reviews.get(r.id),
        })
    for i in range(0, len(lr_rows), 1000):
        session.execute(insert(LR), lr_rows[i:i + 1000])
    # Every submission of those structures (trend by quarter), with their filter columns.
    attrs = {r["structure_id"]: r for r in lr_rows}
    sub_rows = []
    for r in session.execute(
        select(A.c.id, A.c.structure_id, A.c.tier_level, A.c.submitted_at).where(submitted)
    ).all():
        lr = attrs.get(r.structure_id)
        if lr is not None:
            sub_rows.append({
                "assessment_id": r.id, "structure_id": r.structure_id,
                "tier_level": r.tier_level, "submitted_at": r.submitted_at,
                "quarter": quarter_of(r.submitted_at), "size_band": lr["size_band"],
                "sector": lr["sector"], "category_code": lr["category_code"],
                "department": lr["department"], "region": lr["region"]})
    for i in range(0, len(sub_rows), 1000):
        session.execute(insert(DS), sub_rows[i:i + 1000])
    # Domain scores: copied in SQL, with the filter columns of their latest result.
    session.execute(insert(LDS).from_select(
        ["structure_id", "domain_id", "score", "questionnaire_id", "questionnaire_version",
         "tier_level", "submitted_at", "size_band", "sector", "category_code", "department",
         "region"],
        select(LR.c.structure_id, ADS.c.domain_id, ADS.c.score, LR.c.questionnaire_id,
               LR.c.questionnaire_version, LR.c.tier_level, LR.c.submitted_at,
               LR.c.size_band, LR.c.sector, LR.c.category_code, LR.c.department,
               LR.c.region)
        .join(ADS, ADS.c.assessment_id == LR.c.assessment_id)
        .where(_where_ids(LR.c.structure_id, batch)),
    ))
    return len(lr_rows)


def record_submission(session: Session, assessment_id: int) -> None:
    """After a submit, in the same transaction: the structure's latest result is this one."""
    structure_id = session.execute(
        select(A.c.structure_id).where(A.c.id == assessment_id)).scalar_one()
    session.flush()
    refresh_structures(session, [structure_id])


def set_review_status(session: Session, assessment_id: int, status: str | None) -> None:
    """Show a review status (validee, a_revoir) on dashboards if this assessment is the
    structure's latest result (the review workflow calls this; the caller commits)."""
    session.execute(update(LR).where(LR.c.assessment_id == assessment_id)
                    .values(review_status=status))


# ---- scope and filters ---------------------------------------------------------------------


def check_region(actor: Actor | None, code: str) -> str:
    """The region code if the actor may see its dashboard: Forbidden for roles without
    dashboards, NotFound for an unknown region or one outside the actor's scope."""
    if actor is None or not can(actor, Action.view_dashboard):
        raise Forbidden()
    if code not in regions() or not can_see_region(actor, code):
        raise NotFound("Région introuvable.")
    return code


def _day(raw: str | None) -> date | None:
    try:
        return date.fromisoformat((raw or "").strip()) if raw and raw.strip() else None
    except ValueError:
        return None


@dataclass(frozen=True)
class Filters:
    """The dashboard filters, as the URL query string carries them (French names)."""

    department: str | None = None
    category: str | None = None
    sector: str | None = None
    size_band: str | None = None
    tier: int | None = None
    after: date | None = None  # submitted on or after this day (Europe/Paris)
    before: date | None = None  # submitted on or before this day

    PARAMS: ClassVar[dict[str, str]] = {
        "department": "departement", "category": "categorie", "sector": "secteur",
        "size_band": "taille", "tier": "palier", "after": "du", "before": "au"}

    @classmethod
    def parse(cls, params: Mapping[str, str | None], region: str | None = None) -> Filters:
        """Lenient: an unknown or malformed value is ignored (treated as no filter)."""
        def get(name: str) -> str:
            return (params.get(cls.PARAMS[name]) or "").strip()

        dep = get("department").upper()
        if dep not in departments() or (region and departments()[dep].region_code != region):
            dep = ""
        cat = get("category")
        sector = get("sector")
        band = get("size_band")
        tier = get("tier")
        return cls(
            department=dep or None,
            category=cat if cat in finess_categories() else None,
            sector=sector if sector in SECTOR_LABELS else None,
            size_band=band if band in {b.key for b in SIZE_BANDS} else None,
            tier=int(tier) if tier.isdigit() and len(tier) < 3 else None,
            after=_day(get("after")),
            before=_day(get("before")),
        )

    def query(self, **overrides: Any) -> dict[str, str]:
        """The non-empty filters as query parameters (for links)."""
        out: dict[str, str] = {}
        for name, param in self.PARAMS.items():
            value = overrides.get(name, getattr(self, name))
            if value is not None and value != "":
                out[param] = value.isoformat() if isinstance(value, date) else str(value)
        return out

    @property
    def active(self) -> bool:
        return bool(self.query())

    @property
    def result_only(self) -> bool:
        """Filters that only a submitted result can match (palier, dates)."""
        return self.tier is not None or self.after is not None or self.before is not None

    def since(self) -> datetime | None:
        return None if self.after is None else \
            datetime.combine(self.after, time(), PARIS).astimezone(UTC)

    def until(self) -> datetime | None:
        return None if self.before is None else \
            datetime.combine(self.before + timedelta(days=1), time(), PARIS).astimezone(UTC)


def _result_conds(t: Any, f: Filters, *, department: bool = True,
                  dates: bool = True, tier: bool = True) -> list[ColumnElement[bool]]:
    """Conditions on a read-model table (latest_result or latest_domain_score)."""
    conds: list[ColumnElement[bool]] = []
    if department and f.department:
        conds.append(t.c.department == f.department)
    if f.category:
        conds.append(t.c.category_code == f.category)
    if f.sector:
        conds.append(t.c.sector == f.sector)
    if f.size_band:
        conds.append(t.c.size_band == f.size_band)
    if tier and f.tier is not None:
        conds.append(t.c.tier_level == f.tier)
    if dates and f.after is not None:
        conds.append(t.c.submitted_at >= f.since())
    if dates and f.before is not None:
        conds.append(t.c.submitted_at < f.until())
    return conds


def _latest_of(region: str) -> ColumnElement[bool]:
    """Join condition structure -> its latest result (the region lets PostgreSQL read only
    the region's rows through their index)."""
    return and_(LR.c.structure_id == S.c.id, LR.c.region == region)


def _structure_band() -> ColumnElement[Any]:
    """A structure's size band: its latest result's, else from its own capacity."""
    return func.coalesce(LR.c.size_band, size_band_sql(S.c.capacity))


def _structure_conds(actor: Actor | None, region: str, f: Filters) -> list[ColumnElement[bool]]:
    """Open structures of the region the actor may see, with the structure-level filters
    (the latest_result table must be LEFT JOINed when a size band is asked)."""
    conds: list[ColumnElement[bool]] = [scope_clause(actor), S.c.region == region,
                                        S.c.closed == false()]
    if f.department:
        conds.append(S.c.department == f.department)
    if f.category:
        conds.append(S.c.category_code == f.category)
    if f.sector:
        conds.append(S.c.category_code.in_(categories_of_sector(f.sector)))
    if f.size_band:
        conds.append(_structure_band() == f.size_band)
    return conds


# ---- reviews (app.reviews owns them) -------------------------------------------------------


def review_statuses(session: Session, assessment_ids: Iterable[int]) -> dict[int, str]:
    """{assessment id: "validee" | "a_revoir"} for the reviewed ones (the ARS review)."""
    from app.reviews.service import review_status

    return review_status(session, assessment_ids)


def _review_counts(session: Session, conds: list[ColumnElement[bool]]) -> dict[str, int]:
    """Latest results under `conds` by the status of their latest review."""
    from app.reviews.service import latest_review_subquery

    latest = latest_review_subquery()
    return {status: int(n) for status, n in session.execute(
        select(latest.c.status, func.count())
        .select_from(LR).join(latest, latest.c.assessment_id == LR.c.assessment_id)
        .where(*conds).group_by(latest.c.status)
    ).all()}


# ---- questionnaire labels ------------------------------------------------------------------


def _questionnaire(registry: Registry, qid: str, version: str | None) -> Questionnaire | None:
    q = registry.get(qid, version) if version else None
    return q or registry.latest(qid)


def tier_labels(registry: Registry, qid: str = DEFAULT_QUESTIONNAIRE,
                version: str | None = None) -> dict[int, tuple[str, str]]:
    """level -> (tier id, label) from the questionnaire (else "palier-N", "Palier N")."""
    q = _questionnaire(registry, qid, version)
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

    # Population and drafts: one GROUP BY over the region's open structures.
    draft = A.alias("draft")
    per_structure = (
        select(S.c.department, S.c.category_code, _structure_band().label("band"),
               draft.c.id.label("draft_id"))
        .select_from(S)
        .outerjoin(LR, _latest_of(region))
        .outerjoin(draft, and_(draft.c.structure_id == S.c.id,
                               draft.c.status == AssessmentStatus.draft.value))
        .where(*_structure_conds(actor, region, f))
    ).subquery()
    pop = session.execute(
        select(per_structure.c.department, per_structure.c.category_code,
               per_structure.c.band, func.count().label("n"),
               func.count(per_structure.c.draft_id).label("drafts"))
        .group_by(per_structure.c.department, per_structure.c.category_code,
                  per_structure.c.band)
    ).all()

    # Latest results: one GROUP BY over the region's latest_result rows.
    res = session.execute(
        select(LR.c.department, LR.c.sector, LR.c.size_band, LR.c.tier_level,
               LR.c.questionnaire_version, func.count().label("n"),
               func.sum(LR.c.global_score).label("score_sum"),
               func.count(LR.c.global_score).label("score_n"))
        .where(LR.c.region == region, *_result_conds(LR, f))
        .group_by(LR.c.department, LR.c.sector, LR.c.size_band, LR.c.tier_level,
                  LR.c.questionnaire_version)
    ).all()

    versions: dict[str, int] = defaultdict(int)
    for r in res:
        versions[r.questionnaire_version] += r.n
    latest_q = registry.latest(qid)
    reference = max(versions, key=version_key) if versions else \
        (latest_q.version if latest_q else None)
    labels = tier_labels(registry, qid, reference)
    q = _questionnaire(registry, qid, reference)

    deps = {code: BreakdownRow(code, f"{d.name} ({code})")
            for code, d in departments().items() if d.region_code == region
            and (f.department is None or code == f.department)}
    sectors = {key: BreakdownRow(key, label) for key, label in SECTOR_LABELS.items()}
    bands = {b.key: BreakdownRow(b.key, b.label) for b in SIZE_BANDS}
    bands[""] = BreakdownRow("inconnue", size_band_label(None))
    structures = drafts = 0  # the population ignores the palier and date filters
    for department, category_code, band, n, n_drafts in pop:
        sector = reference_sector(category_code) or ""
        for row in (deps.get(department), sectors.get(sector), bands.get(band or "")):
            if row is not None:
                row.structures += n
                row.drafts += n_drafts
        structures += n
        drafts += n_drafts
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

    # Global score (reference version), region: the mean from the sums above, the median in
    # SQL (the middle one or two values, in the order of the covering index).
    global_mean = global_sum / global_n if global_n else None
    global_median = _median(session, LR.c.global_score, global_n, [
        LR.c.region == region, LR.c.questionnaire_id == qid,
        LR.c.questionnaire_version == reference, *_result_conds(LR, f)])

    domains = _domain_stats(session, q, qid, reference, region, f, national=national)

    # National distribution over the paliers (same filters but the department).
    national_tiers: dict[int, int] = {}
    if national:
        national_tiers = cache.cached(session, ("tiers", replace(f, department=None)),
                                      lambda: dict(session.execute(
                                          select(LR.c.tier_level, func.count())
                                          .where(*_result_conds(LR, f, department=False))
                                          .group_by(LR.c.tier_level)).all()))

    trend = _trend(session, region, f)
    reviews = _review_counts(session, [LR.c.region == region, *_result_conds(LR, f)])
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

    here = hist([LDS.c.region == region, *_result_conds(LDS, f)])
    there = cache.cached(session, ("domains", qid, version, replace(f, department=None)),
                         lambda: hist(_result_conds(LDS, f, department=False))) \
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
        .where(DS.c.region == region, *_result_conds(DS, f, tier=False))
        .group_by(DS.c.quarter, DS.c.tier_level)
    ).all()
    by_quarter: dict[str, dict[int, int]] = defaultdict(dict)
    for quarter, level, count in rows:
        if level is not None:
            by_quarter[quarter][level] = count
    return [TrendRow(k, quarter_label(k), v) for k, v in sorted(by_quarter.items())]


# ---- the structure list --------------------------------------------------------------------

SORTS: dict[str, tuple[str, Any]] = {
    "nom": ("Nom", S.c.name),
    "finess": ("FINESS", S.c.finess),
    "categorie": ("Catégorie", S.c.category_label),
    "departement": ("Département", S.c.department),
    "capacite": ("Capacité", func.coalesce(LR.c.capacity, S.c.capacity)),
    "palier": ("Palier", LR.c.tier_level),
    "score": ("Score global", LR.c.global_score),
    "date": ("Transmis le", LR.c.submitted_at),
}


@dataclass
class ListRow:
    structure_id: int
    finess: str
    name: str
    category_code: str
    category_label: str
    department: str
    capacity: int | None
    assessment_id: int | None
    questionnaire_version: str | None
    tier: dict[str, Any] | None  # {level, label}
    global_score: float | None
    submitted_at: datetime | None
    review_status: str | None


@dataclass
class StructureListPage:
    rows: list[ListRow]
    total: int
    page: int
    pages: int
    sort: str
    order: str
    reference_version: str | None


def structure_page(session: Session, actor: Actor | None, registry: Registry, region: str,
                   f: Filters, *, sort: str = "nom", order: str = "asc",
                   page: int = 1, page_size: int | None = None) -> StructureListPage:
    """One page of the region's open structures with their latest result."""
    check_region(actor, region)
    page_size = page_size or PAGE_SIZE
    sort = sort if sort in SORTS else "nom"
    order = "desc" if order == "desc" else "asc"
    conds = _structure_conds(actor, region, f)
    if f.tier is not None:
        conds.append(LR.c.tier_level == f.tier)
    if f.after is not None:
        conds.append(LR.c.submitted_at >= f.since())
    if f.before is not None:
        conds.append(LR.c.submitted_at < f.until())
    base = select(S.c.id).select_from(S).outerjoin(LR, _latest_of(region)) \
        .where(*conds)
    total = session.execute(select(func.count()).select_from(base.subquery())).scalar_one()
    pages = max(1, math.ceil(total / page_size))
    page = min(max(1, page), pages)
    key = SORTS[sort][1]
    ordered = key.desc().nulls_last() if order == "desc" else key.asc().nulls_last()
    rows = session.execute(
        select(S.c.id, S.c.finess, S.c.name, S.c.category_code, S.c.category_label,
               S.c.department, S.c.capacity, LR.c.capacity.label("lr_capacity"),
               LR.c.assessment_id, LR.c.questionnaire_id, LR.c.questionnaire_version,
               LR.c.tier_level, LR.c.global_score, LR.c.submitted_at, LR.c.review_status)
        .select_from(S).outerjoin(LR, _latest_of(region))
        .where(*conds)
        .order_by(ordered, S.c.name, S.c.finess)
        .limit(page_size).offset((page - 1) * page_size)
    ).all()
    label_cache: dict[tuple[str, str], dict[int, tuple[str, str]]] = {}
    out = []
    versions = set()
    for r in rows:
        tier = None
        if r.tier_level is not None:
            k = (r.questionnaire_id, r.questionnaire_version)
            if k not in label_cache:
                label_cache[k] = tier_labels(registry, *k)
            tier = {"level": r.tier_level, "label": label_cache[k][r.tier_level][1]}
            versions.add(r.questionnaire_version)
        out.append(ListRow(r.id, r.finess, r.name, r.category_code, r.category_label,
                           r.department, r.lr_capacity if r.lr_capacity else r.capacity,
                           r.assessment_id, r.questionnaire_version, tier, r.global_score,
                           r.submitted_at, r.review_status))
    reviews = review_statuses(session, [r.assessment_id for r in out if r.assessment_id])
    for row in out:
        row.review_status = reviews.get(row.assessment_id) if row.assessment_id else None
    latest_q = registry.latest(DEFAULT_QUESTIONNAIRE)
    return StructureListPage(out, int(total), page, pages, sort, order,
                             latest_q.version if latest_q else None)


# ---- like for like -------------------------------------------------------------------------


@dataclass
class GroupPosition:
    """Where a structure stands among comparable ones in one scope (region or nation)."""

    scope: str  # "region" | "national"
    basis: str | None  # "category" | "sector" | None (group too small)
    group_label: str
    n: int
    global_percentile: float | None
    domains: list[dict[str, Any]]  # {id, label, score, percentile}


@dataclass
class LikeForLike:
    structure: Structure
    has_result: bool
    size_band: str | None
    size_band_label: str
    sector: str | None
    questionnaire_version: str | None
    global_score: float | None
    positions: list[GroupPosition]


def like_for_like(session: Session, registry: Registry, structure: Structure) -> LikeForLike:
    """Percentile of the structure's latest global and domain scores among open structures
    of the same category (or, if that group has fewer than MIN_GROUP, the same sector) and
    the same size band, answering the same questionnaire version, in its region and
    nationally. Anonymous: only counts and percentiles leave this function. The caller has
    checked that the actor may see the structure."""
    me = session.execute(select(LR).where(LR.c.structure_id == structure.id)).first()
    band = me.size_band if me else size_band(structure.capacity)
    sector = reference_sector(structure.category_code)
    if me is None:
        return LikeForLike(structure, False, band, size_band_label(band), sector, None, None,
                           [])
    my_domains = dict(session.execute(
        select(LDS.c.domain_id, LDS.c.score).where(LDS.c.structure_id == structure.id)
    ).all())
    q = _questionnaire(registry, me.questionnaire_id, me.questionnaire_version)
    domain_labels = {d.id: d.label for d in q.domains} if q else {}
    category = finess_categories().get(me.category_code)
    cat_label = category.label if category else structure.category_label
    positions = []
    if band is None or (sector is None and me.category_code is None):
        for scope in ("region", "national"):
            positions.append(GroupPosition(scope, None, "", 0, None, []))
        return LikeForLike(structure, True, band, size_band_label(band), sector,
                           me.questionnaire_version, me.global_score, positions)

    g = me.global_score
    scored = {d: v for d, v in my_domains.items() if v is not None}

    def counts(t: Any, value: Any, *conds: ColumnElement[bool]) -> list[Any]:
        """(n, below, equal) sums for one group, as SQL aggregates."""
        both = and_(*conds) if conds else true()
        score = t.c.global_score if t is LR else t.c.score
        return [func.sum(case((both, 1), else_=0)),
                func.sum(case((and_(both, score < value), 1), else_=0)),
                func.sum(case((and_(both, score == value), 1), else_=0))]

    def groups(t: Any, value: Any) -> list[Any]:
        is_cat, in_region = t.c.category_code == me.category_code, t.c.region == me.region
        return [*counts(t, value, is_cat, in_region), *counts(t, value, in_region),
                *counts(t, value, is_cat), *counts(t, value)]

    def same(t: Any) -> list[ColumnElement[bool]]:
        group = t.c.sector == sector if sector else t.c.category_code == me.category_code
        return [group, t.c.size_band == band, t.c.questionnaire_id == me.questionnaire_id,
                t.c.questionnaire_version == me.questionnaire_version]

    # Global score: the four candidate groups in one pass.
    row = session.execute(select(*groups(LR, g)).where(*same(LR))).one()
    glob = [int(v or 0) for v in row]
    # Domain scores: the distribution of each domain in the widest group, with the counts of
    # the narrower groups, in one pass; (n, below, equal) per group are summed here.
    drows: dict[str, list[int]] = {}
    if scored:
        is_cat, in_region = LDS.c.category_code == me.category_code, LDS.c.region == me.region
        hist = session.execute(
            select(LDS.c.domain_id, LDS.c.score,
                   func.sum(case((and_(is_cat, in_region), 1), else_=0)),
                   func.sum(case((in_region, 1), else_=0)),
                   func.sum(case((is_cat, 1), else_=0)), func.count())
            .where(*same(LDS), LDS.c.score.is_not(None))
            .group_by(LDS.c.domain_id, LDS.c.score)
        ).all()
        for did, score, *group_counts in hist:
            if did not in scored:
                continue
            acc = drows.setdefault(did, [0] * 12)
            for k, count in enumerate(group_counts):
                count = int(count or 0)
                acc[3 * k] += count
                acc[3 * k + 1] += count if score < scored[did] else 0
                acc[3 * k + 2] += count if score == scored[did] else 0

    # Offsets in the 12 sums: category+region, sector+region, category+nation, sector+nation.
    for scope, cat_at, sec_at in (("region", 0, 3), ("national", 6, 9)):
        if glob[cat_at] >= MIN_GROUP:
            basis, at = "category", cat_at
        elif sector and glob[sec_at] >= MIN_GROUP:
            basis, at = "sector", sec_at
        else:
            positions.append(GroupPosition(scope, None, "", max(glob[cat_at], glob[sec_at]),
                                           None, []))
            continue
        what = cat_label if basis == "category" else sector_label(sector)
        where = "dans la région" if scope == "region" else "en France"
        label = f"{what}, {size_band_label(band).lower()}, {where}"
        n, below, equal = glob[at:at + 3]
        pct = percentile_rank(below, equal, n) if g is not None else None
        domains = []
        for did in (list(domain_labels) or sorted(my_domains)):
            if did not in my_domains:
                continue
            dn, dbelow, dequal = (drows.get(did) or [0] * 12)[at:at + 3]
            domains.append({"id": did, "label": domain_labels.get(did, did),
                            "score": my_domains[did], "n": dn,
                            "percentile": percentile_rank(dbelow, dequal, dn)
                            if dn >= MIN_GROUP and did in scored else None})
        positions.append(GroupPosition(scope, basis, label, n, pct, domains))
    return LikeForLike(structure, True, band, size_band_label(band), sector,
                       me.questionnaire_version, me.global_score, positions)


# ---- side by side --------------------------------------------------------------------------


@dataclass
class CompareColumn:
    structure: Structure
    assessment_id: int | None
    submitted_at: datetime | None
    questionnaire_version: str | None
    tier: dict[str, Any] | None
    global_score: float | None
    domains: dict[str, float | None]
    requirements: dict[str, dict[str, Any]]  # requirement id -> {met, answers: [text]}
    next_steps: list[str]
    review_status: str | None = None


@dataclass
class CompareRow:
    id: str
    label: str
    tier_label: str


@dataclass
class Comparison:
    columns: list[CompareColumn]
    domains: list[tuple[str, str]]
    tiers: list[tuple[str, list[CompareRow]]]  # tier label -> requirement rows
    versions: set[str]


class BadComparison(Exception):
    """Fewer than 2 or more than 6 structures asked."""


def compare(session: Session, actor: Actor | None, registry: Registry, region: str,
            finess_list: Sequence[str]) -> Comparison:
    """2 to 6 structures of the region side by side, from their stored result snapshots.
    An unknown FINESS or one outside the region or the actor's scope is NotFound."""
    from app.finess import normalize

    check_region(actor, region)
    wanted: list[str] = []
    for raw in finess_list:
        n = normalize(raw)
        if n and n not in wanted:
            wanted.append(n)
    if not COMPARE_MIN <= len(wanted) <= COMPARE_MAX:
        raise BadComparison()
    found = {s.finess: s for s in session.execute(
        select(Structure).where(Structure.finess.in_(wanted),  # type: ignore[attr-defined]
                                Structure.region == region, scope_clause(actor))
    ).scalars().all()}
    if len(found) != len(wanted):
        raise NotFound("Structure introuvable dans cette région.")
    structures = [found[n] for n in wanted]
    latest = {r.structure_id: r for r in session.execute(
        select(LR).where(LR.c.structure_id.in_([s.id for s in structures]))).all()}
    snapshots = {a.id: a for a in session.execute(
        select(Assessment).where(Assessment.id.in_(  # type: ignore[union-attr]
            [r.assessment_id for r in latest.values()]))
    ).scalars().all()}

    columns: list[CompareColumn] = []
    domain_order: list[tuple[str, str]] = []
    tier_rows: dict[str, list[CompareRow]] = {}
    tier_order: list[str] = []
    versions: set[str] = set()
    my_domains: dict[int, dict[str, float | None]] = defaultdict(dict)
    for sid, did, score in session.execute(
        select(LDS.c.structure_id, LDS.c.domain_id, LDS.c.score)
        .where(LDS.c.structure_id.in_([s.id for s in structures]))
    ).all():
        my_domains[sid][did] = score
    for s in structures:
        lr = latest.get(s.id)
        a = snapshots.get(lr.assessment_id) if lr else None
        if lr is None or a is None:
            columns.append(CompareColumn(s, None, None, None, None, None, {}, {}, []))
            continue
        versions.add(a.questionnaire_version)
        q = registry.get(a.questionnaire_id, a.questionnaire_version)
        # Palier, global and domain scores: the stored columns (as on the dashboard).
        tier = None
        if lr.tier_level is not None:
            label = tier_labels(registry, lr.questionnaire_id, lr.questionnaire_version)
            tier = {"level": lr.tier_level, "label": label.get(
                lr.tier_level, ("", f"Palier {lr.tier_level}"))[1]}
        known = {x for x, _ in domain_order}
        for d in (q.domains if q else []):
            if d.id not in known:
                domain_order.append((d.id, d.label))
                known.add(d.id)
        for did in my_domains[s.id]:
            if did not in known:
                domain_order.append((did, did))
                known.add(did)
        # Requirements, decisive answers and next steps: the stored result snapshot.
        r = a.result or {}
        reqs: dict[str, dict[str, Any]] = {}
        for t in r.get("tiers", []):
            if not t.get("requirements"):
                continue
            tlabel = t.get("label", t.get("id", ""))
            if tlabel not in tier_rows:
                tier_rows[tlabel] = []
                tier_order.append(tlabel)
            for req in t["requirements"]:
                key = f"{t.get('id')}/{req['id']}"
                if key not in {x.id for x in tier_rows[tlabel]}:
                    tier_rows[tlabel].append(CompareRow(key, req.get("label", req["id"]),
                                                        tlabel))
                reqs[key] = {"met": bool(req.get("met")),
                             "answers": [_answer_text(q, qid, v)
                                         for qid, v in (req.get("answers") or {}).items()]}
        steps = [st.get("title") or st.get("label") or "" for st in r.get("next_steps", [])]
        columns.append(CompareColumn(s, a.id, lr.submitted_at, a.questionnaire_version, tier,
                                     lr.global_score, dict(my_domains[s.id]), reqs, steps))
    reviews = review_statuses(session, [c.assessment_id for c in columns if c.assessment_id])
    for c in columns:
        c.review_status = reviews.get(c.assessment_id) if c.assessment_id else None
    return Comparison(columns, domain_order, [(t, tier_rows[t]) for t in tier_order],
                      versions)


def _answer_text(q: Questionnaire | None, qid: str, value: Any) -> str:
    """'Question ? réponse' (or 'Libellé : réponse') with option labels from the
    questionnaire of the snapshot."""
    question = q.questions.get(qid) if q else None
    label = question.label if question else qid
    if value is None:
        shown = "sans réponse"
    else:
        options = {o.value: o.label for o in (getattr(question, "options", None) or [])}
        values = value if isinstance(value, list) else [value]
        shown = ", ".join(options.get(v, str(v)) if isinstance(v, str) else
                          str(v).replace(".", ",") for v in values) or "aucune"
    return f"{label} {shown}" if label.rstrip().endswith("?") else f"{label} : {shown}"
