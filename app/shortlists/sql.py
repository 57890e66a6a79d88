"""Shortlists computed in the database: the same selection as `ranking.select` (the
specification; tests/integration/test_shortlist_sql_vs_pure.py checks both agree), read
from the read models (`latest_result`, `latest_domain_score`, `shortlist_candidate`)
instead of loading every candidate.

- Population and eligibility: one GROUP BY over the structures of the criteria with the
  first failing reason as a SQL CASE (counts, groups, feasibility).
- Ranking: the key, its rounding to 6 decimals and every tie-break in ORDER BY; the ranked
  eligible structures (narrow rows: id and quota groups) are read once per generation of
  the read model for the same filters and ranking and kept (app.dashboard.cache), so that
  a refresh of the builder (other size or quotas) sorts nothing again. Criteria on review
  statuses (outside the read model) are never kept: their ranked list is streamed.
- Quotas: the minimums pass walks the ranked list only until every minimum is met, the fill
  stops at N; streamed without quotas, the query has a LIMIT N.
- Only the selected structures are then loaded in full (`detail` of them at most: the
  builder's preview shows the first rows).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Generator, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, time
from functools import lru_cache
from typing import Any

from sqlalchemy import Float, Numeric, and_, case, cast, func, literal, null, select, text
from sqlalchemy.sql import ColumnElement
from sqlmodel import Session, col

from app.dashboard import cache
from app.dashboard.bands import size_band_sql
from app.dashboard.tables import LDS, LR, S
from app.permissions import Actor, structure_scope
from app.reference import finess_categories
from app.shortlists import ranking, sql_rows
from app.shortlists.ranking import (
    DIMENSIONS,
    Candidate,
    Criteria,
    Row,
    Selection,
    Weights,
)
from app.shortlists.readmodel import SC
from app.structures.directory import scope_clause
from app.structures.models import Structure

STREAM = 500


@dataclass
class SqlSelection(Selection):
    selected: int = 0  # rows selected; `rows` may detail only the first ones


def structure_conditions(actor: Actor | None, criteria: Criteria) -> list[Any]:
    conds: list[Any] = [scope_clause(actor), col(Structure.closed).is_(False)]
    if criteria.region is not None:
        conds.append(col(Structure.region) == criteria.region)
    if criteria.departments:
        conds.append(col(Structure.department).in_(criteria.departments))
    if criteria.categories:
        wanted = set(criteria.categories)
        codes = {c.code for c in finess_categories().values() if c.sector in wanted} | wanted
        conds.append(col(Structure.category_code).in_(sorted(codes)))
    return conds


class _Query:
    """The FROM clause, population conditions and expressions of one criteria."""

    def __init__(self, session: Session, actor: Actor | None, criteria: Criteria) -> None:

        self.criteria = criteria
        self.dialect = session.get_bind().dialect.name
        self.conds: list[Any] = structure_conditions(actor, criteria)
        joined: Any = (S.outerjoin(LR, LR.c.structure_id == S.c.id)
                       .outerjoin(SC, SC.c.structure_id == S.c.id))
        if criteria.size_bands:
            band = func.coalesce(LR.c.size_band, size_band_sql(S.c.capacity),
                                 literal(ranking.UNKNOWN_SIZE))
            self.conds.append(band.in_(criteria.size_bands))
        self.review: Any = null()
        if criteria.review_status:
            latest = sql_rows.reviews()
            if latest is not None:
                joined = joined.outerjoin(latest, latest.c.assessment_id == LR.c.assessment_id)
                self.review = func.coalesce(latest.c.status, literal(ranking.NOT_REVIEWED))
        self.key, joined = self._key(joined)
        self.joined = joined
        self.reason = self._reason()

    def _key(self, joined: Any) -> tuple[ColumnElement[Any], Any]:
        rank_by = self.criteria.rank_by
        raw: Any
        if isinstance(rank_by, Weights):
            weights = rank_by.weights
            scored = LDS.c.score.is_not(None)
            total = sum((case((and_(LDS.c.domain_id == d, scored), LDS.c.score * w), else_=0.0)
                         for d, w in weights.items()), start=literal(0.0))
            weight = sum((case((and_(LDS.c.domain_id == d, scored), literal(w)), else_=0.0)
                          for d, w in weights.items()), start=literal(0.0))
            means = (select(LDS.c.structure_id.label("sid"),
                            (func.sum(total) / func.nullif(func.sum(weight), 0.0)).label("v"))
                     .where(LDS.c.domain_id.in_(sorted(weights)), scored)
                     .group_by(LDS.c.structure_id).subquery("weighted"))
            joined = joined.outerjoin(means, means.c.sid == S.c.id)
            raw = means.c.v
        elif rank_by == "global":
            raw = LR.c.global_score
        elif rank_by == "readiness":
            raw = cast(SC.c.readiness, Float)
        else:
            domain = LDS.alias("ranked_domain")
            joined = joined.outerjoin(domain, and_(
                domain.c.structure_id == S.c.id,
                domain.c.domain_id == rank_by.removeprefix("domain:")))
            raw = domain.c.score
        if self.dialect == "postgresql":
            return func.round(cast(raw, Numeric), ranking.KEY_DECIMALS), joined
        return func.round(raw, ranking.KEY_DECIMALS), joined

    def _reason(self) -> ColumnElement[Any]:
        c = self.criteria
        whens: list[tuple[Any, Any]] = [(LR.c.structure_id.is_(None), literal("no_submission"))]
        if c.submitted_after is not None:
            start = datetime.combine(c.submitted_after, time(0), UTC)
            whens.append((LR.c.submitted_at < start, literal("submitted_before")))
        if c.tiers is not None:
            whens.append((~func.coalesce(LR.c.tier_level, -1).between(*c.tiers),
                          literal("tier")))
        if c.eligible_for is not None:
            whens.append((~func.coalesce(SC.c.funding, "|").contains(
                f"|{c.eligible_for}|", autoescape=True), literal("funding")))
        if c.review_status:
            whens.append((~func.coalesce(self.review, "").in_(c.review_status),
                          literal("review_status")))
        return case(*whens, else_=null())

    def order_by(self) -> list[Any]:
        key = self.key.desc() if self.criteria.order == "desc" else self.key.asc()
        finess = S.c.finess.collate("C") if self.dialect == "postgresql" else S.c.finess
        return [case((self.key.is_(None), 1), else_=0), key,
                case((SC.c.readiness.is_(None), 1), else_=0),
                func.coalesce(SC.c.readiness, 0), LR.c.submitted_at, finess]


def _ranked_query(q: _Query) -> Any:
    return (select(S.c.id, S.c.department, S.c.category_code, LR.c.tier_level)
            .select_from(q.joined).where(*q.conds, q.reason.is_(None))
            .order_by(*q.order_by()))


def _stream(session: Session, q: _Query, limit: int | None
            ) -> Generator[tuple[int, Candidate], None, None]:
    """(structure id, a Candidate with its quota groups only), in rank order."""
    query = _ranked_query(q)
    if limit is not None:  # a few rows: fetched at once
        result = session.execute(query.limit(limit))
    else:  # read as the quotas need it; planned for the whole list (a sort is needed
        # anyway), not for the first rows as PostgreSQL plans a cursor by default
        if q.dialect == "postgresql":
            session.execute(text("SET LOCAL cursor_tuple_fraction = 1.0"))
        result = session.execute(query.execution_options(yield_per=STREAM))
    try:
        for sid, department, category, tier in result:
            yield sid, _stub(department, category, tier)
    finally:
        result.close()


@lru_cache(maxsize=1 << 16)  # distinct (department, category, tier): ~30,000 nationally
def _stub(department: str, category: str, tier: int | None) -> Candidate:
    return Candidate(structure_id=0, finess="", name="", department=department, region="",
                     category_code=category, sector=sql_rows.sector(category), capacity=None,
                     tier_level=tier)


class _Ranked:
    """The ranked stream, read lazily and kept (the fill pass re-reads its start)."""

    def __init__(self, stream: Iterator[tuple[int, Candidate]],
                 rows: list[tuple[int, Candidate]] | None = None) -> None:
        self.stream = stream
        self.rows: list[tuple[int, Candidate]] = [] if rows is None else rows  # never
        # appended to when given (the stream is then empty)

    def __iter__(self) -> Iterator[tuple[int, Candidate]]:
        i = 0
        while True:
            if i == len(self.rows):
                nxt = next(self.stream, None)
                if nxt is None:
                    return
                self.rows.append(nxt)
            yield i, self.rows[i][1]
            i += 1


def select_shortlist(session: Session, actor: Actor | None, criteria: Criteria, *,
                     detail: int | None = None) -> Selection:
    """`ranking.select` over the database (same rows, order, rules, counts, errors); the
    rows carry full candidates for the first `detail` of them (None: all)."""
    selection, chosen = _select(session, actor, criteria)
    selection.rows = _rows(session, criteria, chosen if detail is None else chosen[:detail])
    return selection


def select_frozen(session: Session, actor: Actor | None, criteria: Criteria
                  ) -> tuple[Selection, str, list[sql_rows.Brief]]:
    """`select_shortlist` without rows, the canonical JSON of its frozen rows
    (`ranking.frozen_row` of each) written straight from the read models, and their
    `sql_rows.Brief`."""
    selection, chosen = _select(session, actor, criteria)
    return selection, *sql_rows.frozen(session, criteria, chosen)


def _select(session: Session, actor: Actor | None, criteria: Criteria
            ) -> tuple[SqlSelection, sql_rows.Chosen]:
    """The selection without its rows, and the chosen structures."""
    q = _Query(session, actor, criteria)
    p = _population(session, actor, criteria, q)
    chosen = _walk(session, actor, q, criteria, p.stubs, p.groups)
    warnings = ranking.short_warnings(p.eligible, criteria.size, len(chosen))
    return SqlSelection(rows=[], selected=len(chosen), eligible=p.eligible,
                        population=p.total, excluded=dict(p.excluded),
                        groups={d: dict(g) for d, g in p.groups.items()},
                        versions=list(p.versions), warnings=warnings), chosen


@dataclass(frozen=True)
class _Population:
    """What `ranking.select` tells of the population: counts and groups."""

    stubs: list[Candidate]  # one per distinct (department, category, tier)
    excluded: dict[str, int]
    groups: dict[str, dict[str, int]]
    versions: list[str]
    eligible: int
    total: int


def _population(session: Session, actor: Actor | None, criteria: Criteria,
                q: _Query) -> _Population:
    """Counts by reason and quota groups, in one pass over the structures of the criteria;
    kept per generation of the read model (app.dashboard.cache: a submission or a refresh
    starts a new one) for the same scope and filters, so that changing the ranking, the
    size or the quotas in the builder does not scan them again. Review statuses change
    outside the read model: criteria on them are never cached."""
    def compute() -> _Population:
        combos = session.execute(
            select(S.c.department, S.c.category_code, LR.c.tier_level,
                   LR.c.questionnaire_id, LR.c.questionnaire_version, q.reason, func.count())
            .select_from(q.joined).where(*q.conds)
            .group_by(S.c.department, S.c.category_code, LR.c.tier_level,
                      LR.c.questionnaire_id, LR.c.questionnaire_version, q.reason)).all()
        excluded: Counter[str] = Counter()
        stubs: dict[tuple[str, str, int | None], Candidate] = {}
        counts = {d: Counter[str]() for d in DIMENSIONS}
        versions: set[str] = set()
        eligible = total = 0
        for department, category, tier, qid, version, reason, n in combos:
            stub = stubs.get((department, category, tier))
            if stub is None:
                stub = stubs[(department, category, tier)] = _stub(department, category, tier)
            total += n
            if reason is not None:
                excluded[reason] += n
                continue
            eligible += n
            versions.add(f"{qid}@{version}")
            for d in DIMENSIONS:
                if (g := stub.group(d)) is not None:
                    counts[d][g] += n
        return _Population(
            list(stubs.values()),
            {r: excluded[r] for r in ranking.EXCLUSION_REASONS if excluded[r]},
            {d: ranking.sorted_groups(counts[d]) for d in DIMENSIONS}, sorted(versions),
            eligible, total)

    key = _filters_key(actor, criteria)
    if key is None:
        return compute()
    return cache.cached(session, ("shortlist-population", key), compute)


def _filters_key(actor: Actor | None, criteria: Criteria) -> tuple[Any, ...] | None:
    """The scope and filters of `criteria`, as a cache key; None when they cannot be cached
    (review statuses change outside the read model)."""
    if criteria.review_status:
        return None
    scope = structure_scope(actor)
    c = criteria
    return (scope.all, scope.region, scope.structure_ids, c.region, tuple(c.departments),
            tuple(c.categories), tuple(c.size_bands), c.submitted_after,
            tuple(c.tiers) if c.tiers else None, c.eligible_for)


def _ranked_list(session: Session, actor: Actor | None, criteria: Criteria,
                 q: _Query) -> list[tuple[int, Candidate]] | None:
    """Every eligible structure in rank order [(id, its quota groups)], kept per generation
    of the read model for the same filters and ranking (a refresh of the builder reads only
    what its size and quotas need from it); None when it cannot be cached."""
    key = _filters_key(actor, criteria)
    if key is None or not cache.enabled:
        return None
    rank_by = ranking.canonical_json(criteria.canonical()["rank_by"])

    def compute() -> list[tuple[int, Candidate]]:
        return [(sid, _stub(department, category, tier)) for sid, department, category, tier
                in session.execute(_ranked_query(q)).all()]

    return cache.cached(session, ("shortlist-ranked", key, rank_by, criteria.order),
                        compute, large=True)


def _walk(session: Session, actor: Actor | None, q: _Query, criteria: Criteria,
          population: list[Candidate],
          groups: dict[str, dict[str, int]]) -> sql_rows.Chosen:
    """`ranking.choose` over the stream: [(eligible index, structure id, groups,
    rule)] in rank order."""
    universes = ranking.check_feasible(population, criteria, groups)
    ranked = _ranked_list(session, actor, criteria, q)
    if ranked is not None:
        return _apply(_Ranked(iter(()), ranked), criteria, universes)
    plain = not criteria.quotas
    stream = _stream(session, q, criteria.size if plain else None)
    try:
        return _apply(_Ranked(stream), criteria, universes)
    finally:
        stream.close()  # the rest of the ranked list is never read


def _apply(ranked: _Ranked, criteria: Criteria, universes: dict[str, list[str]]
           ) -> sql_rows.Chosen:
    chosen = ranking.choose(ranked, criteria, universes)
    return [(index, ranked.rows[index][0], ranked.rows[index][1], chosen[index])
            for index in sorted(chosen)]


def _rows(session: Session, criteria: Criteria, shown: sql_rows.Chosen) -> list[Row]:
    candidates = sql_rows.load(session, [sid for _, sid, _, _ in shown])
    dims = criteria.quota_dimensions
    return [Row(rank=position, eligible_rank=index + 1, candidate=candidates[sid],
                key=ranking.key_value(candidates[sid], criteria.rank_by), rule=rule,
                group=candidates[sid].groups_label(dims))
            for position, (index, sid, _, rule) in enumerate(shown, start=1)]
