"""The outcome of scoring one answer set (`Result`), built by the generated `run` of a
questionnaire (scoring/scoregen.py). `to_dict()` is the contract's JSON.

What a caller needs first is decided when the Result is built: placement (`tier_level`),
the global score, completeness, the number of applicable questions. Everything else
(domain dicts, the per-requirement trace `tiers`, `next_steps`, `gap`, `funding`,
`unknown`) is laid out on first access by the questionnaire's generated layout functions
(scoring/layoutgen.py), from the values the Result keeps.
"""

from __future__ import annotations

from fractions import Fraction
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from scoring.layoutgen import Layout

Exact = int | Fraction
UNSET: Any = object()  # a part not laid out yet (where None is a value)


def global_exact(
    earned: tuple[Exact, ...] | list[Exact],
    maxs: tuple[Exact, ...] | list[Exact],
    weights: tuple[Exact, ...],
) -> Fraction | None:
    """The exact global score (weighted mean of the domains that have a maximum)."""
    num = Fraction(0)
    den: Exact = 0
    for e, m, w in zip(earned, maxs, weights, strict=True):
        if m:
            num += w * Fraction(100 * e) / m
            den += w
    return num / den if den else None


class EvalContext:
    """Exact domain sums and the placed tier, as interpreted conditions read them
    (`meet.evaluate`, for the gap's `to_meet`)."""

    __slots__ = ("_global", "_index", "earned", "maxs", "tier_level", "weights")

    def __init__(
        self,
        earned: list[Exact],
        maxs: list[Exact],
        weights: tuple[Exact, ...],
        index: dict[str, int] | None = None,
    ):
        self.earned = earned
        self.maxs = maxs
        self.weights = weights
        self.tier_level: int | None = None
        self._global: Fraction | bool | None = False
        self._index = index or {}

    def domain_index(self, domain: str) -> int:
        return self._index[domain]

    def global_exact(self) -> Fraction | None:
        if self._global is False:
            self._global = global_exact(self.earned, self.maxs, self.weights)
        return self._global  # type: ignore[return-value]


class Result:
    """One scored answer set. A requirement's flag is True (met), False (unmet) or None (it
    does not apply: its applies_if is false). Laid-out parts are cached: each access
    returns the same object, as `to_dict()` does."""

    __slots__ = (
        "_L",
        "_domains",
        "_ds",
        "_e",
        "_flags",
        "_funding",
        "_gap",
        "_m",
        "_next_steps",
        "_tier",
        "_tiers",
        "_unknown",
        "_vals",
        "applicable",
        "global_score",
        "missing_required",
        "tier_level",
    )
    _domains: list[dict[str, Any]] | None
    _funding: list[dict[str, Any]] | None
    _gap: dict[str, Any] | None
    _next_steps: list[dict[str, Any]] | None
    _tiers: list[dict[str, Any]] | None
    _unknown: list[str] | None

    def __init__(
        self,
        layout: Layout,
        vals: tuple[Any, ...],
        flags: tuple[bool | None, ...],
        level: int | None,
        earned: tuple[Exact, ...],
        maxs: tuple[Exact, ...],
        domain_scores: tuple[float | None, ...],
        global_score: float | None,
        missing: list[str],
        applicable: int,
    ) -> None:
        self._L = layout
        self._vals = vals  # effective value of each question (None: not applicable/answered)
        self._flags = flags
        self.tier_level = level
        self._e = earned
        self._m = maxs
        self._ds = domain_scores
        self.global_score = global_score
        self.missing_required = missing
        self.applicable = applicable
        self._domains = self._funding = self._unknown = self._tiers = None
        self._next_steps = self._gap = None
        self._tier: Any = UNSET

    def _part(self, name: str) -> Any:
        """A part laid out on first access (by the layout function `name`), then kept."""
        slot = "_" + name
        part = getattr(self, slot)
        if part is None:
            part = self._L.fns[name](self)
            setattr(self, slot, part)
        return part

    @property
    def questionnaire(self) -> dict[str, str]:
        return {"id": self._L.qid, "version": self._L.qversion}

    @property
    def complete(self) -> bool:
        return not self.missing_required

    @property
    def answered(self) -> int:
        vals = self._vals
        return len(vals) - vals.count(None)

    @property
    def effective(self) -> dict[str, Any]:
        """The answers that count: applicable and answered questions, in order."""
        return {qid: v for qid, v in zip(self._L.ids, self._vals, strict=True) if v is not None}

    @property
    def domains(self) -> list[dict[str, Any]]:
        part: list[dict[str, Any]] = self._part("domains")
        return part

    @property
    def domain_scores(self) -> dict[str, float | None]:
        return dict(zip(self._L.domain_ids, self._ds, strict=True))

    @property
    def tier(self) -> dict[str, Any] | None:
        if self._tier is UNSET:
            lvl = self.tier_level
            self._tier = None if lvl is None else dict(self._L.tier_heads[lvl])
        return self._tier  # type: ignore[no-any-return]

    @property
    def unknown(self) -> list[str]:
        """Questions answered "je ne sais pas", in questionnaire order."""
        part: list[str] = self._part("unknown")
        return part

    @property
    def funding(self) -> list[dict[str, Any]]:
        part: list[dict[str, Any]] = self._part("funding")
        return part

    @property
    def tiers(self) -> list[dict[str, Any]]:
        """Every tier in order, each requirement with its flag and the answers it read."""
        part: list[dict[str, Any]] = self._part("tiers")
        return part

    @property
    def next_steps(self) -> list[dict[str, Any]]:
        """Unmet applicable requirements of every tier above the placed one, nearest first."""
        part: list[dict[str, Any]] = self._part("next_steps")
        return part

    @property
    def tiers_met_above(self) -> list[str]:
        """Ids of the tiers above the placed one whose own requirements are all met."""
        above: list[str] = self._L.fns["met_above"](self)
        return above

    @property
    def gap(self) -> dict[str, Any]:
        """What separates the structure from the next tier: that tier and its unmet
        applicable requirements, each with the answers that decided it and `to_meet`, a
        condition that would meet it (null where no exact answer says it)."""
        part: dict[str, Any] = self._part("gap")
        return part

    def to_dict(self) -> dict[str, Any]:
        """The contract's JSON, laid out fresh in one generated function."""
        return self._L.to_dict(self)
