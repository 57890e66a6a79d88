"""Plain evaluation of a checked condition and "what would meet it" (`MeetFinder`): the gap
to the next tier shown with a result, and the test oracle's plain reading. Used by
scoring/layoutgen.py (`to_meet`, and the answer-independent ones laid out as literals)."""

from __future__ import annotations

from collections.abc import Callable
from fractions import Fraction
from typing import TYPE_CHECKING, Any

from scoring.conditions import Combo, Cond, QLeaf, ScoreLeaf, TierLeaf, names_value

if TYPE_CHECKING:
    from scoring.result import EvalContext


# ---- plain evaluation and "what would meet it" (the gap to the next tier) ------------------


def evaluate(
    cond: Cond, eff: dict[str, Any], ctx: EvalContext | None, unknown: dict[str, str]
) -> bool:
    """The truth of one condition, interpreted (the generated code is the fast path)."""
    if isinstance(cond, Combo):
        if cond.op == "not":
            return not evaluate(cond.items[0], eff, ctx, unknown)
        values = (evaluate(c, eff, ctx, unknown) for c in cond.items)
        return all(values) if cond.op == "all" else any(values)
    if isinstance(cond, TierLeaf):
        return ctx is not None and ctx.tier_level is not None and ctx.tier_level >= cond.n
    if isinstance(cond, ScoreLeaf):
        if ctx is None:
            return False
        if cond.domain == "global":
            s = ctx.global_exact()
            if s is None:
                return False
            return bool(s >= cond.n if cond.op == "at_least" else s <= cond.n)
        i = ctx.domain_index(cond.domain)
        m, e = ctx.maxs[i], ctx.earned[i]
        if not m:
            return False
        return bool(100 * e >= cond.n * m if cond.op == "at_least" else 100 * e <= cond.n * m)
    op, v = cond.op, cond.operand
    if op == "answered":
        return bool((cond.question in eff) == v)
    a = eff.get(cond.question)
    if a is None:
        return False
    u = unknown.get(cond.question)
    if u is not None and a == u and not names_value(cond, u):
        return False
    if op == "equals":
        return bool(a == v)
    if op == "not_equals":
        return bool(a != v)
    if op == "in":
        return a in v
    if op == "not_in":
        return a not in v
    if op == "includes":
        return v in a
    if op == "includes_all":
        return bool(v.issubset(a))
    if op == "includes_any":
        return not v.isdisjoint(a)
    if op == "count_at_least":
        return bool(len(a) >= v)
    return bool(a >= v if op == "at_least" else a <= v)


def _plain(x: Any) -> Any:
    if isinstance(x, Fraction):
        return float(x)
    return x


class MeetFinder:
    """What would make a false condition true, in the condition grammar, with the option
    values of single_choice questions spelled out; None where no exact answer says it."""

    def __init__(
        self,
        eff: dict[str, Any],
        ctx: EvalContext | None,
        unknown: dict[str, str],
        options: dict[str, tuple[str, ...]],
        types: dict[str, str],
    ) -> None:
        self.eff, self.ctx, self.unknown = eff, ctx, unknown
        self.options, self.types = options, types

    def holds(self, cond: Cond) -> bool:
        return evaluate(cond, self.eff, self.ctx, self.unknown)

    def _values(self, qid: str, keep: Callable[[str], bool]) -> dict[str, Any]:
        u = self.unknown.get(qid)
        return {"question": qid, "in": [o for o in self.options.get(qid, ()) if o != u and keep(o)]}

    def _leaf(self, leaf: QLeaf, negate: bool) -> dict[str, Any] | None:
        op, v, qid = leaf.op, leaf.operand, leaf.question
        if op == "answered":
            return {"question": qid, "answered": bool(v) != negate}
        if self.types.get(qid) == "single_choice":
            wanted: set[str] = {v} if isinstance(v, str) else set(v)
            inside = op in ("equals", "in")
            if inside != negate:
                return self._values(qid, lambda o: o in wanted)
            return self._values(qid, lambda o: o not in wanted)
        if negate:
            flip = {"equals": "not_equals", "not_equals": "equals"}
            if op in flip and self.types.get(qid) == "text":
                return {"question": qid, flip[op]: v}
            return None
        operand = sorted(v, key=self._order(qid)) if isinstance(v, frozenset) else _plain(v)
        return {"question": qid, op: operand}

    def _order(self, qid: str) -> Callable[[str], int]:
        order = {o: i for i, o in enumerate(self.options.get(qid, ()))}
        return lambda o: order.get(o, len(order))

    def meet(self, cond: Cond, negate: bool = False) -> dict[str, Any] | None:
        """A condition that, once true, makes `cond` (or `not cond`) true."""
        if isinstance(cond, QLeaf):
            return self._leaf(cond, negate)
        if isinstance(cond, ScoreLeaf):
            if negate:
                return None
            return {"score": cond.domain, cond.op: _plain(cond.n)}
        if isinstance(cond, TierLeaf):
            return None if negate else {"tier_at_least": cond.n}
        if cond.op == "not":
            return self.meet(cond.items[0], not negate)
        conjunctive = (cond.op == "all") != negate
        if conjunctive:  # every item must hold: only the false ones need work
            todo = [c for c in cond.items if self.holds(c) == negate]
            parts = [self.meet(c, negate) for c in todo]
            if any(p is None for p in parts):
                return None
            return parts[0] if len(parts) == 1 else {"all": parts}
        options = [p for p in (self.meet(c, negate) for c in cond.items) if p is not None]
        if not options:
            return None
        return options[0] if len(options) == 1 else {"any": options}
