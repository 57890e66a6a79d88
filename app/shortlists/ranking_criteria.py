"""Shortlist criteria, pure: dimensions, size bands, exclusion reasons, `Criteria`."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
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

    @field_validator("region", "eligible_for")
    @classmethod
    def _blank_is_none(cls, value: str | None) -> str | None:
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
            raise ValueError("le palier minimum doit être inférieur ou égal au palier maximum")
        return value

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


