"""Like-for-like position of a structure: its percentile among structures of the same
sector and size band (groups under MIN_GROUP are not shown). The structure is placed with
the result shown (its latest submission, or an older one the reader is looking at) among the
other structures' latest submissions."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from types import SimpleNamespace
from typing import Any

from sqlalchemy import (
    ColumnElement,
    and_,
    case,
    func,
    select,
    true,
)
from sqlmodel import Session

from app.dashboard.bands import (
    sector_label,
    size_band,
    size_band_label,
)
from app.dashboard.stats import percentile_rank, questionnaire_of
from app.dashboard.tables import ADS, LDS, LR, A
from app.questionnaires import Registry
from app.reference import finess_categories
from app.reference import sector_of_category as reference_sector
from app.structures.models import Structure

MIN_GROUP = 5  # like-for-like groups smaller than this are not shown


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
    submitted_at: datetime | None = None  # of the result placed
    latest: bool = True  # False: an older submission than the structure's latest


def like_for_like(session: Session, registry: Registry, structure: Structure,
                  assessment_id: int | None = None) -> LikeForLike:
    """Percentile of the structure's result (its latest submission; `assessment_id`: one of
    its submitted assessments) in global and domain scores among open structures of the same
    category (or, if that group has fewer than MIN_GROUP, the same sector) and the same size
    band, answering the same questionnaire version, in its region and nationally: the other
    structures with their latest submission, this one with the result placed. Anonymous: only
    counts and percentiles leave this function. The caller has checked that the actor may see
    the structure and that the assessment is a submitted one of this structure."""
    # Long: the two scopes' groups and their fallbacks are one reading of the same sums.
    row = session.execute(select(LR).where(LR.c.structure_id == structure.id)).first()
    band = row.size_band if row else size_band(structure.capacity)
    sector = reference_sector(structure.category_code)
    if row is None:
        return LikeForLike(structure, False, band, size_band_label(band), sector, None, None,
                           [])
    me, my_domains = _placed(session, row, assessment_id)
    q = questionnaire_of(registry, me.questionnaire_id, me.questionnaire_version)
    domain_labels = {d.id: d.label for d in q.domains} if q else {}
    category = finess_categories().get(me.category_code)
    cat_label = category.label if category else structure.category_label
    found = LikeForLike(structure, True, band, size_band_label(band), sector,
                        me.questionnaire_version, me.global_score, [], me.submitted_at,
                        me.assessment_id == row.assessment_id)
    if band is None or (sector is None and me.category_code is None):
        for scope in ("region", "national"):
            found.positions.append(GroupPosition(scope, None, "", 0, None, []))
        return found

    g = me.global_score
    scored = {d: v for d, v in my_domains.items() if v is not None}
    # Global score: the four candidate groups in one pass, the structure itself added.
    sums = session.execute(select(*_groups(LR, g, me))
                           .where(*_same(LR, me, sector, band))).one()
    glob = [int(v or 0) + _self(k, g is not None) for k, v in enumerate(sums)]
    drows = _domain_counts(session, me, _same(LDS, me, sector, band), scored) if scored else {}

    # Offsets in the 12 sums: category+region, sector+region, category+nation, sector+nation.
    for scope, cat_at, sec_at in (("region", 0, 3), ("national", 6, 9)):
        if glob[cat_at] >= MIN_GROUP:
            basis, at = "category", cat_at
        elif sector and glob[sec_at] >= MIN_GROUP:
            basis, at = "sector", sec_at
        else:
            found.positions.append(GroupPosition(
                scope, None, "", max(glob[cat_at], glob[sec_at]), None, []))
            continue
        what = cat_label if basis == "category" else sector_label(sector)
        where = "dans la région" if scope == "region" else "en France"
        label = f"{what}, {size_band_label(band).lower()}, {where}"
        n, below, equal = glob[at:at + 3]
        pct = percentile_rank(below, equal, n) if g is not None else None
        domains = _domain_positions(at, domain_labels, my_domains, scored, drows)
        found.positions.append(GroupPosition(scope, basis, label, n, pct, domains))
    return found


def _placed(session: Session, latest: Any, assessment_id: int | None
            ) -> tuple[Any, dict[str, float | None]]:
    """The result placed (the latest row, or its values replaced by an older submission's)
    and its domain scores."""
    if assessment_id is None or assessment_id == latest.assessment_id:
        return latest, dict(session.execute(
            select(LDS.c.domain_id, LDS.c.score).where(LDS.c.structure_id == latest.structure_id)
        ).all())
    a = session.execute(select(A.c.questionnaire_id, A.c.questionnaire_version,
                               A.c.global_score, A.c.submitted_at)
                        .where(A.c.id == assessment_id)).one()
    me = SimpleNamespace(**{**latest._mapping, **a._mapping, "assessment_id": assessment_id})
    return me, dict(session.execute(
        select(ADS.c.domain_id, ADS.c.score).where(ADS.c.assessment_id == assessment_id)).all())


def _self(k: int, scored: bool) -> int:
    """The structure's own place in sum `k` of (n, below, equal) x 4 groups: in every group,
    equal to itself when it has a score."""
    return 1 if k % 3 == 0 or (k % 3 == 2 and scored) else 0


def _counts(t: Any, value: Any, *conds: ColumnElement[bool]) -> list[Any]:
    """(n, below, equal) sums for one group, as SQL aggregates."""
    both = and_(*conds) if conds else true()
    score = t.c.global_score if t is LR else t.c.score
    return [func.sum(case((both, 1), else_=0)),
            func.sum(case((and_(both, score < value), 1), else_=0)),
            func.sum(case((and_(both, score == value), 1), else_=0))]


def _groups(t: Any, value: Any, me: Any) -> list[Any]:
    """The 12 sums over the `_same` rows: category+region, sector+region, category+nation,
    sector+nation."""
    is_cat, in_region = t.c.category_code == me.category_code, t.c.region == me.region
    return [*_counts(t, value, is_cat, in_region), *_counts(t, value, in_region),
            *_counts(t, value, is_cat), *_counts(t, value)]


def _same(t: Any, me: Any, sector: str | None, band: str | None) -> list[ColumnElement[bool]]:
    """The widest comparable group: same sector (or category), size band and version."""
    group = t.c.sector == sector if sector else t.c.category_code == me.category_code
    return [group, t.c.size_band == band, t.c.questionnaire_id == me.questionnaire_id,
            t.c.questionnaire_version == me.questionnaire_version,
            t.c.structure_id != me.structure_id]  # the structure: added with the result placed


def _domain_counts(session: Session, me: Any, same: list[ColumnElement[bool]],
                   scored: dict[str, float]) -> dict[str, list[int]]:
    """Domain scores: the distribution of each domain in the widest group, with the counts of
    the narrower groups, in one pass; (n, below, equal) per group are summed here."""
    drows: dict[str, list[int]] = {}
    is_cat, in_region = LDS.c.category_code == me.category_code, LDS.c.region == me.region
    hist = session.execute(
        select(LDS.c.domain_id, LDS.c.score,
               func.sum(case((and_(is_cat, in_region), 1), else_=0)),
               func.sum(case((in_region, 1), else_=0)),
               func.sum(case((is_cat, 1), else_=0)), func.count())
        .where(*same, LDS.c.score.is_not(None))
        .group_by(LDS.c.domain_id, LDS.c.score)
    ).all()
    for did in scored:  # the structure itself, equal to its own score in every group
        drows[did] = [1, 0, 1] * 4
    for did, score, *group_counts in hist:
        if did not in scored:
            continue
        acc = drows[did]
        for k, count in enumerate(group_counts):
            count = int(count or 0)
            acc[3 * k] += count
            acc[3 * k + 1] += count if score < scored[did] else 0
            acc[3 * k + 2] += count if score == scored[did] else 0
    return drows


def _domain_positions(at: int, domain_labels: dict[str, str],
                      my_domains: dict[str, float | None], scored: dict[str, float],
                      drows: dict[str, list[int]]) -> list[dict[str, Any]]:
    """The structure's domains in one group (sums at offset `at`), in questionnaire order."""
    domains = []
    for did in (list(domain_labels) or sorted(my_domains)):
        if did not in my_domains:
            continue
        dn, dbelow, dequal = (drows.get(did) or [0] * 12)[at:at + 3]
        domains.append({"id": did, "label": domain_labels.get(did, did),
                        "score": my_domains[did], "n": dn,
                        "percentile": percentile_rank(dbelow, dequal, dn)
                        if dn >= MIN_GROUP and did in scored else None})
    return domains
