"""The outcome of scoring one answer set (`Result`), built by the generated `run` of a
questionnaire (scoring/scoregen.py). `to_dict()` is the contract's JSON.

What a caller needs first is decided when the Result is built: placement (`tier_level`),
the global score, completeness, the number of applicable questions. Everything else
(domain dicts, `tier`, the per-requirement trace `tiers`, `next_steps`, `gap`, `funding`,
`unknown`, `tiers_met_above`) is laid out on first access by the questionnaire's generated
layout functions (scoring/layoutgen.py), from the values the Result keeps.
"""

from __future__ import annotations

from fractions import Fraction
from typing import TYPE_CHECKING, Any, ClassVar, Generic, TypeVar, overload

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


T = TypeVar("T")


class _Part(Generic[T]):
    """A part of a Result laid out on first access by the questionnaire's layout function of
    the same name (layoutgen.py), then kept in the Result's `_parts`: each access returns the
    same object."""

    def __init__(self, doc: str = "") -> None:
        self.__doc__ = doc

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    @overload
    def __get__(self, r: None, owner: type) -> _Part[T]: ...
    @overload
    def __get__(self, r: Result, owner: type) -> T: ...
    def __get__(self, r: Result | None, owner: type) -> _Part[T] | T:
        if r is None:
            return self
        parts = r._parts
        if parts is None:
            parts = r._parts = {}
        part = parts.get(self.name, UNSET)
        if part is UNSET:
            part = parts[self.name] = r._L.fns[self.name](r)
        return part  # type: ignore[no-any-return]


class Result:
    """One scored answer set. A requirement's flag is True (met), False (unmet) or None (it
    does not apply: its applies_if is false). Laid-out parts (the `_Part` attributes) are kept
    once read;
    `to_dict()` lays every part out afresh.

    Each questionnaire version's Results are instances of its own subclass, made by its
    `Layout` (`Layout.result_class`): the subclass carries the layout (`_L`) and has the
    generated `to_dict` as its method."""

    __slots__ = (
        "_ds",
        "_e",
        "_flags",
        "_m",
        "_parts",
        "_vals",
        "answered",
        "applicable",
        "global_score",
        "missing_required",
        "tier_level",
    )
    _L: ClassVar[Layout]

    def __init__(
        self,
        vals: tuple[Any, ...],
        flags: tuple[bool | None, ...],
        level: int | None,
        earned: tuple[Exact, ...],
        maxs: tuple[Exact, ...],
        domain_scores: tuple[float | None, ...],
        global_score: float | None,
        missing: list[str],
        applicable: int,
        answered: int,
    ) -> None:
        self._vals = vals  # effective value of each question (None: not applicable/answered)
        self._flags = flags
        self.tier_level = level
        self._e = earned
        self._m = maxs
        self._ds = domain_scores
        self.global_score = global_score
        self.missing_required = missing
        self.applicable = applicable
        self.answered = answered  # questions whose value is not None (vals.count(None) is slow)
        self._parts: dict[str, Any] | None = None  # the parts laid out so far

    @property
    def questionnaire(self) -> dict[str, str]:
        return {"id": self._L.qid, "version": self._L.qversion}

    @property
    def complete(self) -> bool:
        return not self.missing_required

    @property
    def effective(self) -> dict[str, Any]:
        """The answers that count: applicable and answered questions, in order."""
        return {qid: v for qid, v in zip(self._L.ids, self._vals, strict=True) if v is not None}

    @property
    def domain_scores(self) -> dict[str, float | None]:
        return dict(zip(self._L.domain_ids, self._ds, strict=True))

    domains = _Part[list[dict[str, Any]]]()
    tier = _Part[dict[str, Any] | None]("The placed tier (id, level, label), None below the first.")
    unknown = _Part[list[str]]('Questions answered "je ne sais pas", in questionnaire order.')
    funding = _Part[list[dict[str, Any]]]()
    tiers = _Part[list[dict[str, Any]]](
        "Every tier in order, each requirement with its flag and the answers it read."
    )
    next_steps = _Part[list[dict[str, Any]]](
        "Unmet applicable requirements of every tier above the placed one, nearest first."
    )
    tiers_met_above = _Part[list[str]](
        "Ids of the tiers above the placed one whose own requirements are all met."
    )
    gap = _Part[dict[str, Any]](
        "What separates the structure from the next tier: that tier and its unmet applicable"
        " requirements, each with the answers that decided it and `to_meet`, a condition that"
        " would meet it (null where no exact answer says it)."
    )

    def to_dict(self) -> dict[str, Any]:
        """The contract's JSON, laid out fresh in one generated function (the subclass of
        each questionnaire has that function itself as its `to_dict`)."""
        return self._L.to_dict(self)
