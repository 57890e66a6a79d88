"""Dashboard scope and filters: the region an actor may see, the filter form's values and
their SQL conditions (on results and on structures), review statuses."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, ClassVar

from sqlalchemy import (
    ColumnElement,
    and_,
    false,
    func,
    select,
)
from sqlmodel import Session

from app.dashboard.bands import (
    SIZE_BANDS,
    categories_of_sector,
    size_band_sql,
)
from app.dashboard.tables import LR, S
from app.errors import Forbidden, NotFound
from app.formatting import PARIS
from app.permissions import Action, Actor, can, can_see_region
from app.reference import SECTOR_LABELS, departments, finess_categories, regions
from app.reviews.service import latest_review_subquery, review_status
from app.structures.directory import scope_clause

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


def _place_conds(f: Filters, department: Any | None, category: Any,
                 in_sector: Callable[[str], ColumnElement[bool]],
                 band: Any) -> list[ColumnElement[bool]]:
    """The department (unless None), category, sector and size-band filters on the given
    columns; `in_sector` makes the sector condition."""
    conds: list[ColumnElement[bool]] = []
    if department is not None and f.department:
        conds.append(department == f.department)
    if f.category:
        conds.append(category == f.category)
    if f.sector:
        conds.append(in_sector(f.sector))
    if f.size_band:
        conds.append(band == f.size_band)
    return conds


def result_conds(t: Any, f: Filters, *, department: bool = True,
                  dates: bool = True, tier: bool = True) -> list[ColumnElement[bool]]:
    """Conditions on a read-model table (latest_result or latest_domain_score)."""
    conds = _place_conds(f, t.c.department if department else None, t.c.category_code,
                         lambda sector: t.c.sector == sector, t.c.size_band)
    if tier and f.tier is not None:
        conds.append(t.c.tier_level == f.tier)
    if dates and f.after is not None:
        conds.append(t.c.submitted_at >= f.since())
    if dates and f.before is not None:
        conds.append(t.c.submitted_at < f.until())
    return conds


def latest_of(region: str) -> ColumnElement[bool]:
    """Join condition structure -> its latest result (the region lets PostgreSQL read only
    the region's rows through their index)."""
    return and_(LR.c.structure_id == S.c.id, LR.c.region == region)


def structure_band() -> ColumnElement[Any]:
    """A structure's size band: its latest result's, else from its own capacity."""
    return func.coalesce(LR.c.size_band, size_band_sql(S.c.capacity))


def structure_conds(actor: Actor | None, region: str, f: Filters) -> list[ColumnElement[bool]]:
    """Open structures of the region the actor may see, with the structure-level filters
    (the latest_result table must be LEFT JOINed when a size band is asked)."""
    return [scope_clause(actor), S.c.region == region, S.c.closed == false(),
            *_place_conds(f, S.c.department, S.c.category_code,
                          lambda sector: S.c.category_code.in_(categories_of_sector(sector)),
                          structure_band())]


# ---- reviews (app.reviews owns them) -------------------------------------------------------


def review_statuses(session: Session, assessment_ids: Iterable[int]) -> dict[int, str]:
    """{assessment id: "validee" | "a_revoir"} for the reviewed ones (the ARS review)."""
    return review_status(session, assessment_ids)


def review_counts(session: Session, conds: list[ColumnElement[bool]]) -> dict[str, int]:
    """Latest results under `conds` by the status of their latest review."""
    latest = latest_review_subquery()
    return {status: int(n) for status, n in session.execute(
        select(latest.c.status, func.count())
        .select_from(LR).join(latest, latest.c.assessment_id == LR.c.assessment_id)
        .where(*conds).group_by(latest.c.status)
    ).all()}
