"""`to_meet` in the gap of a Result (scoring/layoutgen.py): a condition that would meet an
unmet requirement. Read from the questionnaire alone when the requirement's condition reads no
answer (a shared constant); for a conjunction of such items, the items that do not hold,
chosen in the generated code; else found by `MeetFinder` at run time, cached by the answers
the requirement reads."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from scoring.codegen import Gen
from scoring.conditions import Combo, Cond
from scoring.frozen import freeze
from scoring.meet import MeetFinder
from scoring.result import EvalContext, Exact, Result

if TYPE_CHECKING:
    from scoring.plan import ReqPlan

MEET_CACHE_SIZE = 20_000


def _static(cond: Cond, negate: bool = False) -> bool:
    """Whether `MeetFinder.meet(cond)` reads no answer (only conjunctions look at which of
    their items hold)."""
    if not isinstance(cond, Combo):
        return True
    if cond.op == "not":
        return _static(cond.items[0], not negate)
    if (cond.op == "all") != negate:
        return False
    return all(_static(c, negate) for c in cond.items)


def _frozen(v: Any) -> Any:
    return tuple(v) if isinstance(v, list) else v


class Meets:
    """The `to_meet` of a questionnaire's requirements: `emit` writes its source in the
    generated gap, `to_meet(result, j)` is what that source calls when it needs the answers."""

    def __init__(
        self,
        reqs: tuple[ReqPlan, ...],
        position: dict[str, int],
        unknown_of: dict[str, str],
        options: dict[str, Any],
        types: dict[str, str],
        weights: tuple[Exact, ...],
        index: dict[str, int],
    ) -> None:
        self.reqs, self.position, self.unknown_of = reqs, position, unknown_of
        self.options, self.types, self.weights, self.index = options, types, weights, index
        self.cache: dict[tuple[Any, ...], Any] = {}

    def emit(self, gen: Gen, j: int) -> tuple[list[str], str]:
        """Statements and expression building requirement j's `to_meet`: a fresh literal
        when it reads no answer; for a conjunction of such items, the literals of the items
        that do not hold (as `MeetFinder.meet`); else a call to `to_meet` (cached)."""
        r = self.reqs[j]
        if _static(r.condition):
            return [], gen.const(freeze(self._of_nothing().meet(r.condition)))
        cond = r.condition  # a requirement's condition reads no tier (checker)
        if not (
            isinstance(cond, Combo)
            and cond.op == "all"
            and not r.scores
            and all(_static(c) for c in cond.items)
        ):
            return [f"            tm = to_meet(r, {j})"], "tm"
        ind = "            "
        lines = [f"{ind}tm = []"]
        for c in cond.items:
            found = self._of_nothing().meet(c)
            lines += [
                f"{ind}if not {gen.expr(c)}:",
                f"{ind}    tm.append({gen.const(freeze(found))})",
            ]
        lines.append(f'{ind}tm = None if None in tm else tm[0] if len(tm) == 1 else {{"all": tm}}')
        return lines, "tm"

    def _of_nothing(self) -> MeetFinder:
        return MeetFinder({}, None, self.unknown_of, self.options, self.types)

    def finder(self, result: Result) -> MeetFinder:
        ctx = EvalContext(list(result._e), list(result._m), self.weights, self.index)
        ctx.tier_level = result.tier_level
        return MeetFinder(result.effective, ctx, dict(self.unknown_of), self.options, self.types)

    def to_meet(self, result: Result, j: int) -> dict[str, Any] | None:
        """What would meet requirement j, cached by the answers it reads when it reads no
        score (the same answers always give the same answer)."""
        r = self.reqs[j]
        if r.scores:
            return self.finder(result).meet(r.condition)
        vals, at = result._vals, self.position
        key = (j, *[_frozen(vals[at[q]]) for q in r.questions])
        cache = self.cache
        try:
            found = cache.get(key, cache)
        except TypeError:  # an odd, unvalidated answer: not cached
            return self.finder(result).meet(r.condition)
        if found is cache:
            found = freeze(self.finder(result).meet(r.condition))
            if len(cache) < MEET_CACHE_SIZE:  # bounded: past it, compute every time
                cache[key] = found
        shared: dict[str, Any] | None = found  # read-only: Results share it
        return shared
