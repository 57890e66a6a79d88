"""Shortlists as an actor may build and see them: candidates from the database (scoped),
the pure selection (`ranking.select`), frozen shortlists, re-runs.

Who: `Action.build_shortlist` (committees, ARS, admins). A shortlist has a scope: a region,
or national (None). An actor sees a shortlist when its scope is within the actor's (a
regional committee or ARS: its region; national committees and admins: all); anything else
is NotFound. Building a national shortlist needs a national scope (Forbidden otherwise).

Values come from stored columns (tier, global and domain scores) and from each assessment's
stored result snapshot (eligible funding, unmet requirements of the next palier), never from
a new scoring. The snapshot facts are extracted once per submitted assessment into
`AssessmentFacts` (a submitted assessment never changes).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from sqlalchemy import ColumnElement, Select, Text, bindparam, cast, func, insert, true
from sqlalchemy import select as sa_select
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, col, select

from app import textcheck
from app.accounts.models import User
from app.assessments.models import Assessment, AssessmentDomainScore, AssessmentStatus
from app.audit import record
from app.db import begin_write
from app.errors import Forbidden, NotFound, Unprocessable
from app.permissions import Action, Actor, can, can_see_region, structure_scope
from app.reference import (
    SECTOR_LABELS,
    departments,
    finess_categories,
    regions,
    sector_of_category,
)
from app.reviews.service import review_status
from app.shortlists import ranking, sql, sql_rows
from app.shortlists.models import AssessmentFacts, Shortlist
from app.shortlists.ranking import Candidate, Criteria, InfeasibleQuotas, Selection
from app.structures.models import Structure

CHUNK = 500
CAPACITY_QUESTION = "capacite"  # the profile question giving the capacity in places


class InvalidCriteria(Unprocessable):
    message = "Les critères de sélection sont invalides."

    def __init__(self, problems: list[str]) -> None:
        super().__init__(" ".join(problems))
        self.problems = problems


class QuotasInfeasible(InvalidCriteria):
    message = "Les quotas demandés ne peuvent pas être respectés."


# ---- permissions ----------------------------------------------------------------------------


def authorize(actor: Actor | None, region: str | None) -> None:
    """May `actor` build (or see) a shortlist of this scope? Raise otherwise."""
    if not can(actor, Action.build_shortlist):
        raise Forbidden()
    if region is None:
        if not structure_scope(actor).all:
            raise Forbidden("Une sélection nationale est réservée aux comités nationaux et "
                            "aux administrateurs : choisissez votre région.")
        return
    if region not in regions() or not can_see_region(actor, region):
        raise NotFound("Région introuvable.")


def visible_clause(actor: Actor | None) -> ColumnElement[bool]:
    """SQL condition on Shortlist for what the actor may see."""
    if not can(actor, Action.build_shortlist):
        return col(Shortlist.id).is_(None)  # nothing
    scope = structure_scope(actor)
    if scope.all:
        return true()
    if scope.region is not None:
        return col(Shortlist.region) == scope.region
    return col(Shortlist.id).is_(None)


def check_criteria(criteria: Criteria) -> None:
    """What pydantic cannot know: departments of the region, known categories/sectors."""
    problems = []
    if criteria.region is not None:
        outside = [d for d in criteria.departments
                   if d not in departments() or departments()[d].region_code != criteria.region]
        if outside:
            problems.append(f"Départements hors de la région {criteria.region} : "
                            f"{', '.join(outside)}.")
    else:
        unknown = [d for d in criteria.departments if d not in departments()]
        if unknown:
            problems.append(f"Départements inconnus : {', '.join(unknown)}.")
    bad = [c for c in criteria.categories
           if c not in finess_categories() and c not in SECTOR_LABELS]
    if bad:
        problems.append(f"Catégories ou secteurs inconnus : {', '.join(bad)}.")
    if problems:
        raise InvalidCriteria(problems)


# ---- candidates -----------------------------------------------------------------------------


def latest_submitted_ids(structure_filter: Select[Any]) -> Select[Any]:
    """Ids of the latest submitted assessment of each structure of `structure_filter`
    (a select of Structure.id). Latest = greatest submitted_at, then greatest id."""
    rn = func.row_number().over(
        partition_by=col(Assessment.structure_id),
        order_by=(col(Assessment.submitted_at).desc(), col(Assessment.id).desc()))
    inner = (select(col(Assessment.id).label("aid"), rn.label("rn"))
             .where(col(Assessment.status) == AssessmentStatus.submitted.value,
                    col(Assessment.structure_id).in_(structure_filter))
             .subquery())
    return select(inner.c.aid).where(inner.c.rn == 1)


def _chunks(ids: Sequence[int]) -> Iterable[list[int]]:
    for start in range(0, len(ids), CHUNK):
        yield list(ids[start:start + CHUNK])


def ensure_facts(session: Session, ids: Sequence[int]) -> dict[int, tuple[int | None, list[str]]]:
    """{assessment id: (readiness, eligible funding)}, extracting the missing ones from the
    stored result snapshots (and keeping them)."""
    facts: dict[int, tuple[int | None, list[str]]] = {}
    for chunk in _chunks(sorted(ids)):
        for aid, readiness, funding in session.exec(
                select(col(AssessmentFacts.assessment_id), col(AssessmentFacts.readiness),
                       col(AssessmentFacts.funding))
                .where(col(AssessmentFacts.assessment_id).in_(chunk))).all():
            facts[aid] = (readiness, list(funding))
    missing = [i for i in ids if i not in facts]
    if not missing:
        return facts
    rows: list[dict[str, Any]] = []
    for chunk in _chunks(sorted(missing)):
        query = select(col(Assessment.id), col(Assessment.tier_level),
                       col(Assessment.result)["tiers"], col(Assessment.result)["funding"]
                       ).where(col(Assessment.id).in_(chunk))
        for fid, level, tiers, funding in session.exec(query).all():
            aid = fid or 0
            readiness = ranking.readiness_from_tiers(tiers, level)
            eligible = ranking.eligible_funding(funding)
            facts[aid] = (readiness, eligible)
            rows.append({"assessment_id": aid, "readiness": readiness, "funding": eligible})
    _store_facts(session, rows)
    return facts


def _store_facts(session: Session, rows: list[dict[str, Any]]) -> None:
    """Insert, ignoring rows another request stored meanwhile."""
    if not rows:
        return
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    table = AssessmentFacts.__table__  # type: ignore[attr-defined]
    begin_write(session)
    for start in range(0, len(rows), CHUNK):
        session.execute(insert(table).values(rows[start:start + CHUNK])
                        .on_conflict_do_nothing(index_elements=["assessment_id"]))
    session.commit()


def _capacity(value: Any) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
        return None
    return round(value)


def domain_scores(session: Session, ids: Sequence[int]) -> dict[int, dict[str, float | None]]:
    out: dict[int, dict[str, float | None]] = {}
    for chunk in _chunks(sorted(ids)):
        for aid, did, score in session.exec(
                select(col(AssessmentDomainScore.assessment_id),
                       col(AssessmentDomainScore.domain_id), col(AssessmentDomainScore.score))
                .where(col(AssessmentDomainScore.assessment_id).in_(chunk))).all():
            out.setdefault(aid, {})[did] = score
    return out


def needs_domains(criteria: Criteria) -> bool:
    return not isinstance(criteria.rank_by, str) or criteria.rank_by.startswith("domain:")


def load_candidates(session: Session, actor: Actor | None, criteria: Criteria,
                    *, with_domains: bool = True) -> list[Candidate]:
    """One Candidate per visible, open structure matching the structural criteria, with the
    values of its latest submitted assessment (domain scores only `with_domains`)."""
    conds = sql.structure_conditions(actor, criteria)
    structures = session.execute(
        sa_select(col(Structure.id), col(Structure.finess), col(Structure.name),
               col(Structure.department), col(Structure.region), col(Structure.category_code),
               col(Structure.capacity)).where(*conds)).all()
    latest = latest_submitted_ids(select(col(Structure.id)).where(*conds))
    assessments = {
        row[1]: row for row in session.execute(
            sa_select(col(Assessment.id), col(Assessment.structure_id),
                   col(Assessment.submitted_at), col(Assessment.tier_level),
                   col(Assessment.global_score), col(Assessment.questionnaire_id),
                   col(Assessment.questionnaire_version),
                   col(Assessment.answers)[CAPACITY_QUESTION])
            .where(col(Assessment.id).in_(latest))).all()}
    ids = [row[0] for row in assessments.values()]
    domains = domain_scores(session, ids) if with_domains else {}
    facts = ensure_facts(session, ids)
    reviews = review_status(session, ids)
    out = []
    for sid, finess, name, department, region, category, capacity in structures:
        base: dict[str, Any] = {
            "structure_id": sid, "finess": finess, "name": name, "department": department,
            "region": region, "category_code": category,
            "sector": sector_of_category(category), "capacity": capacity}
        a = assessments.get(sid)
        if a is not None:
            aid, _, submitted_at, tier, global_score, qid, version, declared = a
            readiness, funding = facts[aid]
            base.update(
                assessment_id=aid, submitted_at=submitted_at, questionnaire=f"{qid}@{version}",
                tier_level=tier, global_score=global_score,
                domain_scores=domains.get(aid, {}), readiness=readiness,
                funding=frozenset(funding),
                review_status=None if reviews is None else reviews.get(aid,
                                                                       ranking.NOT_REVIEWED))
            base["capacity"] = _capacity(declared) or capacity
        out.append(Candidate(**base))
    return out


# ---- building and saving --------------------------------------------------------------------


def build(session: Session, actor: Actor | None, criteria: Criteria, *,
          detail: int | None = None) -> Selection:
    """The selection for `criteria` now (nothing saved), computed in the database
    (app.shortlists.sql); its rows carry the values of the first `detail` selected (None:
    all). Raises QuotasInfeasible."""
    authorize(actor, criteria.region)
    check_criteria(criteria)
    try:
        return sql.select_shortlist(session, actor, criteria, detail=detail)
    except InfeasibleQuotas as exc:
        raise QuotasInfeasible(exc.problems) from None


def build_pure(session: Session, actor: Actor | None, criteria: Criteria) -> Selection:
    """The same selection by the specification, `ranking.select`, over every candidate
    loaded from the assessments (the reference the SQL path is tested against)."""
    authorize(actor, criteria.region)
    check_criteria(criteria)
    with_domains = needs_domains(criteria)
    candidates = load_candidates(session, actor, criteria, with_domains=with_domains)
    try:
        selection = ranking.select(candidates, criteria)
    except InfeasibleQuotas as exc:
        raise QuotasInfeasible(exc.problems) from None
    if not with_domains:  # the frozen rows keep the domain scores of the selected ones
        scores = domain_scores(session, [r.candidate.assessment_id for r in selection.rows
                                         if r.candidate.assessment_id is not None])
        selection.rows = [replace(r, candidate=replace(
            r.candidate, domain_scores=scores.get(r.candidate.assessment_id or 0, {})))
            for r in selection.rows]
    return selection


@dataclass
class Frozen:
    """A frozen shortlist: what is stored (its rows as canonical JSON, `rows_json`) and
    hashed, and what a re-run compares; `id` once saved (`create`)."""

    criteria: dict[str, Any]
    versions: list[str]
    excluded: dict[str, int]
    hash: str
    rows_json: str  # the rows, canonical JSON (what is stored and hashed)
    brief: list[sql_rows.Brief]  # what an API answer shows of each row
    id: int | None = None
    _rows: list[dict[str, Any]] | None = field(default=None, repr=False)

    @property
    def rows(self) -> list[dict[str, Any]]:
        """The rows (`ranking.frozen_row` of each), decoded from `rows_json` when they were
        written straight from the read models (a re-run's comparison reads them)."""
        if self._rows is None:
            self._rows = json.loads(self.rows_json)
        return self._rows


def _brief(row: dict[str, Any]) -> sql_rows.Brief:
    return (row["rank"], row["finess"], row["name"], row["tier"], row["key"], row["group"],
            row["rule"])


def freeze(selection: Selection, criteria: Criteria) -> Frozen:
    """The frozen shortlist of `selection` (its rows frozen, serialized by the stdlib's
    canonical JSON: the specification of what `build_frozen` writes)."""
    canonical = criteria.canonical()
    rows = [ranking.frozen_row(r) for r in selection.rows]
    text, digest = ranking.rows_json_and_hash(canonical, selection.versions, rows)
    return Frozen(canonical, selection.versions, dict(selection.excluded), digest, text,
                  [_brief(r) for r in rows], _rows=rows)


def build_frozen(session: Session, actor: Actor | None, criteria: Criteria) -> Frozen:
    """`freeze(build(...))`, its rows written straight from the read models as canonical
    JSON (a national list: no object per row). Raises QuotasInfeasible."""
    authorize(actor, criteria.region)
    check_criteria(criteria)
    try:
        selection, text, brief = sql.select_frozen(session, actor, criteria)
    except InfeasibleQuotas as exc:
        raise QuotasInfeasible(exc.problems) from None
    canonical = criteria.canonical()
    digest = ranking.text_hash(canonical, selection.versions, text)
    return Frozen(canonical, selection.versions, dict(selection.excluded), digest, text, brief)


def _insert(session: Session, shortlist: Shortlist, rows_json: str) -> int:
    """Insert `shortlist` with its rows given as JSON text (serialized once, when hashed)."""
    table = Shortlist.__table__  # type: ignore[attr-defined]
    rows: Any = bindparam("rows_json", rows_json, type_=Text)
    if session.get_bind().dialect.name == "postgresql":
        rows = cast(rows, postgresql.JSON)
    values = {c.name: getattr(shortlist, c.name) for c in table.columns
              if c.name not in ("id", "rows")}
    return int(session.execute(insert(table).values(**values, rows=rows)
                               .returning(table.c.id)).scalar_one())


def create(session: Session, actor: Actor, name: str, criteria: Criteria,
           ip: str | None = None) -> Frozen:
    """Build, freeze and save a shortlist; audited as `shortlist_created`. Returns it
    frozen, with its `id` (its rows are never read back)."""
    name = " ".join(name.split())
    if not name:
        raise InvalidCriteria(["Donnez un nom à la sélection."])
    if len(name) > 200:
        raise InvalidCriteria(["Le nom de la sélection dépasse 200 caractères."])
    if (bad := textcheck.problem(name, len(name))) is not None:
        raise InvalidCriteria([f"Nom de la sélection : {bad}."])
    frozen = build_frozen(session, actor, criteria)
    begin_write(session)
    shortlist = Shortlist(name=name, author_id=actor.id, region=criteria.region,
                          criteria=frozen.criteria, questionnaire_versions=frozen.versions,
                          rows=[], row_count=len(frozen.brief), excluded=frozen.excluded,
                          hash=frozen.hash)
    frozen.id = _insert(session, shortlist, frozen.rows_json)  # `rows` from the text
    record(session, actor, "shortlist_created", "shortlist", frozen.id,
           {"name": name, "hash": frozen.hash, "rows": len(frozen.brief),
            "criteria": frozen.criteria, "questionnaire_versions": frozen.versions}, ip)
    session.commit()
    return frozen


def get(session: Session, actor: Actor | None, shortlist_id: int) -> Shortlist:
    shortlist = session.exec(select(Shortlist).where(col(Shortlist.id) == shortlist_id,
                                                     visible_clause(actor))).first()
    if shortlist is None:
        raise NotFound("Sélection introuvable.")
    return shortlist


@dataclass
class ShortlistSummary:
    id: int
    name: str
    region: str | None
    created_at: Any
    author: str
    rows: int
    hash: str


def list_visible(session: Session, actor: Actor | None, limit: int = 200) -> list[ShortlistSummary]:
    query = (sa_select(col(Shortlist.id), col(Shortlist.name), col(Shortlist.region),
                    col(Shortlist.created_at), col(User.name), col(User.email),
                    col(Shortlist.row_count),
                    col(Shortlist.hash))
             .outerjoin(User, col(User.id) == col(Shortlist.author_id))
             .where(visible_clause(actor))
             .order_by(col(Shortlist.created_at).desc(), col(Shortlist.id).desc()).limit(limit))
    return [ShortlistSummary(i, n, r, at, (un or ue or "—"), int(count or 0), h)
            for i, n, r, at, un, ue, count, h in session.execute(query).all()]


@dataclass
class Rerun:
    frozen: Frozen | None
    diff: ranking.Diff | None
    problems: list[str]

    @property
    def same(self) -> bool:
        return self.diff is not None and self.diff.same


def rerun(session: Session, actor: Actor | None, shortlist: Shortlist) -> Rerun:
    """The same criteria against today's data, compared with the frozen rows."""
    criteria = Criteria.model_validate(shortlist.criteria)
    try:
        frozen = build_frozen(session, actor, criteria)
    except InvalidCriteria as exc:
        return Rerun(None, None, exc.problems)
    return Rerun(frozen, ranking.diff_rows(shortlist.rows, frozen.rows), [])
