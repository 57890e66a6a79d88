"""Applicability, answer validation, scoring, tier placement, next steps and funding.

`score(questionnaire, answers)` is the only scoring path of the product. It assumes answers
that passed `validate_answers`; it never raises on odd values but ignores what it cannot read.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction
from typing import TYPE_CHECKING, Any

from scoring.meet import MeetFinder
from scoring.plan import (
    Exact,
    Plan,
    ReqPlan,
    TierPlan,
    plan_of,
)

if TYPE_CHECKING:
    from scoring.model import Questionnaire

# ---- scoring -----------------------------------------------------------------------------


class EvalContext:
    """Exact domain sums and the placed tier, as conditions read them."""

    __slots__ = ("_global", "_index", "earned", "maxs", "tier_level", "weights")

    def __init__(self, earned: list[Exact], maxs: list[Exact], weights: tuple[Exact, ...],
                 index: dict[str, int] | None = None):
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
            num = Fraction(0)
            den: Exact = 0
            for e, m, w in zip(self.earned, self.maxs, self.weights, strict=True):
                if m:
                    num += w * Fraction(100 * e) / m
                    den += w
            self._global = num / den if den else None
        return self._global  # type: ignore[return-value]


def _frozen(v: Any) -> Any:
    return tuple(v) if isinstance(v, list) else v


def _copy(x: Any) -> Any:
    """A copy of JSON-like data (the cache never hands out its own dicts)."""
    if isinstance(x, dict):
        return {k: _copy(v) for k, v in x.items()}
    if isinstance(x, list):
        return [_copy(v) for v in x]
    return x


def _num(x: Exact) -> int | float:
    return x if isinstance(x, int) else float(x)


@dataclass(slots=True)
class Result:
    """The outcome of scoring one answer set. `to_dict()` is the contract's JSON.

    Everything is decided when the Result is built; the per-requirement trace (`tiers`),
    `next_steps` and `gap` are laid out as dicts on first access. A requirement's flag is
    True (met), False (unmet) or None (it does not apply: its applies_if is false).
    """

    questionnaire: dict[str, str]
    complete: bool
    missing_required: list[str]
    global_score: float | None
    domains: list[dict[str, Any]]
    tier: dict[str, Any] | None
    funding: list[dict[str, Any]]
    answered: int
    applicable: int
    _plan: Plan
    _eff: dict[str, Any]
    _flags: list[list[bool | None]]
    _ctx: EvalContext | None = None
    unknown: list[str] = field(default_factory=list)
    _tiers: list[dict[str, Any]] | None = None
    _next_steps: list[dict[str, Any]] | None = None
    _gap: dict[str, Any] | None = None

    @property
    def tier_level(self) -> int | None:
        return None if self.tier is None else int(self.tier["level"])

    @property
    def domain_scores(self) -> dict[str, float | None]:
        return {d["id"]: d["score"] for d in self.domains}

    @property
    def tiers(self) -> list[dict[str, Any]]:
        if self._tiers is None:
            eff = self._eff
            out = []
            for t, flags in zip(self._plan.tiers, self._flags, strict=True):
                reqs = []
                for r, ok in zip(t.requirements, flags, strict=True):
                    item: dict[str, Any] = {"id": r.id, "label": r.label, "met": ok,
                                            "applies": ok is not None,
                                            "answers": {q: eff.get(q) for q in r.questions}}
                    if r.scores:
                        item["scores"] = {d: self._score_of(d) for d in r.scores}
                    reqs.append(item)
                out.append({"id": t.id, "level": t.level, "label": t.label,
                            "met": False not in flags, "requirements": reqs})
            self._tiers = out
        return self._tiers

    def _to_verify(self, r: ReqPlan) -> bool:
        if not r.unknown:
            return False
        eff = self._eff
        return any(eff.get(qid) == u for qid, u in r.unknown)

    def _finder(self) -> MeetFinder:
        plan = self._plan
        return MeetFinder(self._eff, self._ctx, dict(plan.unknown), plan.options or {},
                            plan.types or {})

    def _to_meet(self, r: ReqPlan) -> dict[str, Any] | None:
        """What would meet `r`, cached on the plan by the answers read when its condition
        reads no score (the same answers always give the same answer)."""
        if r.scores:
            return self._finder().meet(r.condition)
        eff = self._eff
        key = (r.id, *[_frozen(eff.get(q)) for q in r.questions])
        cache = self._plan.meet_cache
        try:
            hash(key)
        except TypeError:  # an odd, unvalidated answer: not cached
            return self._finder().meet(r.condition)
        if key not in cache:
            found = self._finder().meet(r.condition)
            if len(cache) >= 20_000:  # bounded: past it, compute every time
                return found
            cache[key] = found
        copied: dict[str, Any] | None = _copy(cache[key])
        return copied

    @property
    def next_steps(self) -> list[dict[str, Any]]:
        """Unmet applicable requirements of every tier above the placed one, nearest first."""
        if self._next_steps is None:
            start = 0 if self.tier is None else int(self.tier["level"]) + 1
            out = []
            for t, flags in zip(self._plan.tiers[start:], self._flags[start:], strict=True):
                for r, ok in zip(t.requirements, flags, strict=True):
                    if ok is False:
                        out.append({"requirement": r.id, "tier": t.id, "label": r.label,
                                    "title": r.title, "detail": r.detail, "effort": r.effort,
                                    "funding": list(r.funding),
                                    "to_verify": self._to_verify(r)})
            self._next_steps = out
        return self._next_steps

    @property
    def tiers_met_above(self) -> list[str]:
        """Ids of the tiers above the placed one whose own requirements are all met."""
        start = 0 if self.tier is None else int(self.tier["level"]) + 1
        return [t.id for t, flags in zip(self._plan.tiers[start:], self._flags[start:],
                                         strict=True) if False not in flags]

    @property
    def gap(self) -> dict[str, Any]:
        """What separates the structure from the next tier: that tier and its unmet
        applicable requirements, each with the answers that decided it and `to_meet`, a
        condition that would meet it (null where no exact answer says it)."""
        if self._gap is None:
            plan = self._plan
            start = 0 if self.tier is None else int(self.tier["level"]) + 1
            if start >= len(plan.tiers):
                self._gap = {"next_tier": None, "requirements": []}
                return self._gap
            t, flags = plan.tiers[start], self._flags[start]
            reqs = []
            for r, ok in zip(t.requirements, flags, strict=True):
                if ok is False:
                    item: dict[str, Any] = {
                        "id": r.id, "label": r.label,
                        "answers": {q: self._eff.get(q) for q in r.questions},
                        "to_verify": self._to_verify(r),
                        "to_meet": self._to_meet(r)}
                    if r.scores:
                        item["scores"] = {d: self._score_of(d) for d in r.scores}
                    reqs.append(item)
            self._gap = {"next_tier": {"id": t.id, "level": t.level, "label": t.label},
                         "requirements": reqs}
        return self._gap

    def _score_of(self, domain: str) -> float | None:
        if domain == "global":
            return self.global_score
        value: float | None = next(d["score"] for d in self.domains if d["id"] == domain)
        return value

    def to_dict(self) -> dict[str, Any]:
        return {
            "questionnaire": dict(self.questionnaire),
            "complete": self.complete,
            "missing_required": list(self.missing_required),
            "unknown": list(self.unknown),
            "global_score": self.global_score,
            "domains": self.domains,
            "tier": self.tier,
            "gap": self.gap,
            "tiers_met_above": self.tiers_met_above,
            "tiers": self.tiers,
            "next_steps": self.next_steps,
            "funding": self.funding,
            "answered": self.answered,
            "applicable": self.applicable,
        }


def score(q: Questionnaire, answers: dict[str, Any]) -> Result:
    # Long: the hot path, straight-line on purpose (domain sums, tiers, funding in one pass).
    """Score an answer set (validated with validate_answers first)."""
    plan = plan_of(q)
    ndom = len(plan.domain_ids)
    earned: list[Exact] = [0] * ndom
    maxs: list[Exact] = list(plan.base_max)
    eff: dict[str, Any] = {}
    missing: list[str] = []
    n_applicable = plan.core(answers, eff, earned, maxs, missing)

    # Domain scores and the global score (floats for display, exact for conditions).
    domains: list[dict[str, Any]] = []
    wsum = 0.0
    wtot = 0.0
    weights = plan.fweights
    for di, (did, label) in enumerate(zip(plan.domain_ids, plan.domain_labels, strict=True)):
        m = maxs[di]
        e = earned[di]
        if m:
            s = 100 * e / m
            if not isinstance(s, float):
                s = float(s)
            w = weights[di]
            wsum += w * s
            wtot += w
            domains.append({"id": did, "label": label, "score": s,
                            "earned": e if e.__class__ is int else float(e),
                            "max": m if m.__class__ is int else float(m)})
        else:
            domains.append({"id": did, "label": label, "score": None,
                            "earned": e if e.__class__ is int else float(e),
                            "max": m if m.__class__ is int else float(m)})
    global_score = wsum / wtot if wtot else None

    ctx = EvalContext(earned, maxs, plan.weights, plan.domain_index)
    flags: list[list[bool | None]] = []
    placed: TierPlan | None = None
    cumulative = True
    for t in plan.tiers:
        tf: list[bool | None] = t.group(eff, ctx)  # type: ignore[assignment]
        if t.applies is not None:
            tf = [ok if applies else None
                  for ok, applies in zip(tf, t.applies(eff, ctx), strict=True)]
        flags.append(tf)
        if cumulative and False not in tf:
            placed = t
        else:
            cumulative = False
    ctx.tier_level = None if placed is None else placed.level
    complete = not missing
    eligible = plan.funding_group(eff, ctx)
    applies = plan.funding_applies(eff, ctx) if plan.funding_applies is not None else None
    funding = []
    for i, f in enumerate(plan.fundings):
        if applies is not None and not applies[i]:
            continue  # not for this kind of structure
        funding.append({"id": f.id, "kind": f.kind,
                        "eligible": eligible[i] if complete and f.kind == "funding" else None,
                        "conditions": {qid: eff.get(qid) for qid in f.questions}})
    return Result(
        questionnaire={"id": plan.qid, "version": plan.qversion},
        complete=complete,
        missing_required=missing,
        global_score=global_score,
        domains=domains,
        tier=None if placed is None else {"id": placed.id, "level": placed.level,
                                          "label": placed.label},
        funding=funding,
        answered=len(eff),
        applicable=n_applicable,
        _plan=plan,
        _eff=eff,
        _flags=flags,
        _ctx=ctx,
        unknown=[qid for qid, u in plan.unknown if eff.get(qid) == u],
    )
