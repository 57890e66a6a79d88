"""The generated layout of a Result (`Layout`): per questionnaire, straight-line functions
that build the domain dicts, the per-requirement trace, the next steps, the gap to the next
tier, the funding entries and the "je ne sais pas" list from the values a Result keeps
(question values, requirement flags, domain sums). Used by scoring/result.py.

Generated code reads question values from locals `q{i}`, requirement flags from `f{j}`,
domain scores from `s{d}` (see scoregen.py). Questionnaire values (ids, labels, option
values) reach the source only as closure constants (`Gen.const`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from scoring.codegen import Gen, numbered, targets
from scoring.conditions import COMBINATORS, QUESTION_OPS, Combo, Cond, referenced_scores
from scoring.meet import MeetFinder
from scoring.result import EvalContext, Exact, Result, global_exact
from scoring.scoregen import locals_of, tier_met

if TYPE_CHECKING:
    from scoring.plan import FundPlan, QPlan, ReqPlan

MEET_CACHE_SIZE = 20_000
GRAMMAR = frozenset({*QUESTION_OPS, *COMBINATORS, "question", "score", "tier_at_least"})


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


def _copy(x: Any) -> Any:
    """A copy of JSON-like data (the cache never hands out its own dicts)."""
    if x.__class__ is dict:
        return {k: v if v.__class__ is str else _copy(v) for k, v in x.items()}
    if x.__class__ is list:
        return [v if v.__class__ is str else _copy(v) for v in x]
    return x


Part = tuple[list[str], str]  # statements (4-space indented) and the part's expression


class Layout:
    """A questionnaire's layout functions (each `fn(result)`) and what they need at run
    time. `to_dict` is one function laying out every part at once."""

    # Long: one constructor keeping what the generated functions read, then generating them.
    def __init__(
        self,
        qid: str,
        qversion: str,
        qplans: list[QPlan],
        reqs: list[ReqPlan],
        tiers: list[tuple[str, int, str, range]],
        fundings: tuple[FundPlan, ...],
        domain_ids: tuple[str, ...],
        domain_labels: tuple[str, ...],
        weights: tuple[Exact, ...],
        index: dict[str, int],
        unknown: dict[str, str],
        fractional: bool,
    ) -> None:
        self.qid, self.qversion = qid, qversion
        self.ids = tuple(p.id for p in qplans)
        self.position = {qid: i for i, qid in enumerate(self.ids)}
        self.domain_ids, self.domain_labels = domain_ids, domain_labels
        self.weights, self.index, self.unknown_of = weights, index, unknown
        self.options = {p.id: p.options for p in qplans if p.options}
        self.types = {p.id: p.type for p in qplans}
        self.reqs, self.tier_list, self.fundings = tuple(reqs), tiers, fundings
        self.fractional = fractional
        self.tier_heads = {
            level: {"id": tid, "level": level, "label": label} for tid, level, label, _ in tiers
        }
        self.meet_cache: dict[tuple[Any, ...], Any] = {}
        self.local = locals_of(qplans)
        parts: dict[str, Callable[[Gen], Part]] = {
            "domains": self._domains,
            "tier": self._tier,
            "tiers": self._tiers,
            "next_steps": self._next_steps,
            "gap": self._gap,
            "funding": self._funding,
            "unknown": self._unknown,
            "tiers_met_above": self._met_above,
        }
        self.fns: dict[str, Callable[[Result], Any]] = {}
        for name, emit in parts.items():
            gen = self._gen()
            lines, expr = emit(gen)
            self.fns[name] = self._define(gen, name, [*lines, f"    return {expr}"])
        self.to_dict: Callable[[Result], dict[str, Any]] = self._to_dict(parts)
        # This version's Results: the generated to_dict is their method, no call in between.
        self.result_class: type[Result] = type(
            "Result", (Result,), {"__slots__": (), "_L": self, "to_dict": self.to_dict}
        )

    def _gen(self) -> Gen:
        return Gen(self.index, self.unknown_of, self.local)

    def _define(self, gen: Gen, name: str, body: list[str]) -> Any:
        """The function `name(r)`, its body preceded by the unpacking of what it reads."""
        ndom = len(self.domain_ids)
        head = [f"def {name}(r):"]
        if self.local:
            head.append(f"    {targets(self.local.values())}= r._vals")
        if self.reqs:
            head.append(f"    {numbered('f', len(self.reqs))}= r._flags")
        head.append(f"    {numbered('s', ndom)}= r._ds")
        head.append(f"    {numbered('e', ndom)}= r._e")
        head.append(f"    {numbered('m', ndom)}= r._m")
        head += [
            "    lvl = r.tier_level",
            "    gs = r.global_score",
            "    start = 0 if lvl is None else lvl + 1",
        ]
        return gen.define(
            "\n".join([*head, *body]),
            name,
            "<palier-layout>",
            {"to_meet": self.to_meet, "global_exact": global_exact},
        )

    def _to_dict(self, parts: dict[str, Callable[[Gen], Part]]) -> Any:
        gen = self._gen()
        k = gen.const
        body: list[str] = []
        exprs = {}
        for name, emit in parts.items():
            lines, exprs[name] = emit(gen)
            body += lines
        body.append(
            f'    return {{"questionnaire": {{"id": {k(self.qid)}, "version": {k(self.qversion)}}},'
            ' "complete": not r.missing_required, "missing_required": list(r.missing_required),'
            f' "unknown": {exprs["unknown"]}, "global_score": gs, "domains": {exprs["domains"]},'
            f' "tier": {exprs["tier"]}, "gap": {exprs["gap"]},'
            f' "tiers_met_above": {exprs["tiers_met_above"]},'
            f' "tiers": {exprs["tiers"]}, "next_steps": {exprs["next_steps"]},'
            f' "funding": {exprs["funding"]}, "answered": len(r._vals) - r._vals.count(None),'
            ' "applicable": r.applicable}'
        )
        return self._define(gen, "to_dict", body)

    def _domains(self, gen: Gen) -> Part:
        k = gen.const

        def plain(x: str) -> str:
            return f"({x} if {x}.__class__ is int else float({x}))" if self.fractional else x

        items = ", ".join(
            f'{{"id": {k(did)}, "label": {k(label)}, "score": s{d}, '
            f'"earned": {plain(f"e{d}")}, "max": {plain(f"m{d}")}}}'
            for d, (did, label) in enumerate(zip(self.domain_ids, self.domain_labels, strict=True))
        )
        return [], f"[{items}]"

    def _tier(self, gen: Gen) -> Part:
        return [], f"None if lvl is None else {gen.const(self.tier_heads)}[lvl].copy()"

    def _answers(self, k: Callable[[Any], str], questions: tuple[str, ...]) -> str:
        """Source of the dict question id -> its effective value."""
        return "{" + ", ".join(f"{k(q)}: {self.local[q]}" for q in questions) + "}"

    def _scores(self, k: Callable[[Any], str], r: ReqPlan) -> str:
        return (
            "{"
            + ", ".join(
                f"{k(d)}: {'gs' if d == 'global' else f's{self.index[d]}'}" for d in r.scores
            )
            + "}"
        )

    def _to_verify(self, k: Callable[[Any], str], r: ReqPlan) -> str:
        return " or ".join(f"{self.local[q]} == {k(u)}" for q, u in r.unknown) or "False"

    def _tiers(self, gen: Gen) -> Part:
        k = gen.const
        out = []
        for tid, level, label, span in self.tier_list:
            reqs = []
            for j in span:
                r = self.reqs[j]
                scores = f', "scores": {self._scores(k, r)}' if r.scores else ""
                applies = "True" if r.applies is None else f"f{j} is not None"
                reqs.append(
                    f'{{"id": {k(r.id)}, "label": {k(r.label)}, "met": f{j}, '
                    f'"applies": {applies}, "answers": {self._answers(k, r.questions)}'
                    f"{scores}}}"
                )
            out.append(
                f'{{"id": {k(tid)}, "level": {level}, "label": {k(label)}, '
                f'"met": {tier_met(self.reqs, span)}, "requirements": [{", ".join(reqs)}]}}'
            )
        return [], f"[{', '.join(out)}]"

    def _next_steps(self, gen: Gen) -> Part:
        k = gen.const
        lines = ["    steps = []", "    add = steps.append"]
        for i, (tid, _, _, span) in enumerate(self.tier_list):
            if not span:
                continue
            lines.append(f"    if start <= {i}:")
            for j in span:
                r = self.reqs[j]
                # A copy of the step's constant dict is twice as fast as a dict display.
                verify = self._to_verify(k, r)
                step = {
                    "requirement": r.id,
                    "tier": tid,
                    "label": r.label,
                    "title": r.title,
                    "detail": r.detail,
                    "effort": r.effort,
                    "funding": None,
                    "to_verify": False,
                }
                funding = "[" + ", ".join(k(f) for f in r.funding) + "]"
                lines += [
                    f"        if f{j} is False:",
                    f"            d = {k(step)}.copy()",
                    f'            d["funding"] = {funding}',
                    *([f'            d["to_verify"] = {verify}'] if r.unknown else []),
                    "            add(d)",
                ]
        return lines, "steps"

    def _gap(self, gen: Gen) -> Part:
        k = gen.const
        lines = []
        for i, (tid, level, label, span) in enumerate(self.tier_list):
            lines += [f"    {'if' if i == 0 else 'elif'} start == {i}:", "        reqs = []"]
            for j in span:
                r = self.reqs[j]
                scores = f', "scores": {self._scores(k, r)}' if r.scores else ""
                pre, meet = self._meet(gen, j)
                lines += [f"        if f{j} is False:", *pre]
                lines.append(
                    f'            reqs.append({{"id": {k(r.id)}, "label": {k(r.label)}, '
                    f'"answers": {self._answers(k, r.questions)}, '
                    f'"to_verify": {self._to_verify(k, r)}, '
                    f'"to_meet": {meet}{scores}}})'
                )
            lines.append(
                f'        gap = {{"next_tier": {{"id": {k(tid)}, "level": {level}, '
                f'"label": {k(label)}}}, "requirements": reqs}}'
            )
        lines += [
            "    else:",
            '        gap = {"next_tier": None, "requirements": []}',
        ]  # past the top
        return lines, "gap"

    def _meet(self, gen: Gen, j: int) -> tuple[list[str], str]:
        """Statements and expression building requirement j's `to_meet`: a fresh literal
        when it reads no answer; for a conjunction of such items, the literals of the items
        that do not hold (as `MeetFinder.meet`); else a call to `to_meet` (cached)."""
        r = self.reqs[j]
        if _static(r.condition):
            return [], self._literal(gen.const, self._finder_of_nothing().meet(r.condition))
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
            found = self._finder_of_nothing().meet(c)
            lines += [
                f"{ind}if not {gen.expr(c)}:",
                f"{ind}    tm.append({self._literal(gen.const, found)})",
            ]
        lines.append(f'{ind}tm = None if None in tm else tm[0] if len(tm) == 1 else {{"all": tm}}')
        return lines, "tm"

    def _finder_of_nothing(self) -> MeetFinder:
        return MeetFinder({}, None, self.unknown_of, self.options, self.types)

    @staticmethod
    def _literal(k: Callable[[Any], str], x: Any) -> str:
        """Source of a fresh copy of JSON-like `x`."""
        if isinstance(x, dict):  # keys: words of the grammar, written as literals
            return (
                "{"
                + ", ".join(
                    f"{key!r}: {Layout._literal(k, v)}"
                    if key in GRAMMAR
                    else f"{k(key)}: {Layout._literal(k, v)}"
                    for key, v in x.items()
                )
                + "}"
            )
        if isinstance(x, list):
            return "[" + ", ".join(Layout._literal(k, v) for v in x) + "]"
        return k(x)

    def _funding(self, gen: Gen) -> Part:
        k = gen.const
        lines = ["    funding = []", "    complete = not r.missing_required"]
        if any("global" in referenced_scores(f.eligible) for f in self.fundings):
            lines.append(f"    gx = global_exact(r._e, r._m, {k(self.weights)})")
        for f in self.fundings:
            ind = "    "
            if f.applies is not None:
                lines.append(f"    if {gen.expr(f.applies)}:")
                ind = "        "
            eligible = "None"
            if f.kind == "funding":
                eligible = f"{gen.expr(f.eligible)} if complete else None"
            lines.append(
                f'{ind}funding.append({{"id": {k(f.id)}, "kind": {k(f.kind)}, '
                f'"eligible": {eligible}, "conditions": {self._answers(k, f.questions)}}})'
            )
        return lines, "funding"

    def _unknown(self, gen: Gen) -> Part:
        k = gen.const
        lines = ["    unknown = []"]
        for qid, u in self.unknown_of.items():
            lines += [f"    if {self.local[qid]} == {k(u)}:", f"        unknown.append({k(qid)})"]
        return lines, "unknown"

    def _met_above(self, gen: Gen) -> Part:
        lines = ["    above = []"]
        for i, (tid, _, _, span) in enumerate(self.tier_list):
            lines += [
                f"    if start <= {i} and {tier_met(self.reqs, span)}:",
                f"        above.append({gen.const(tid)})",
            ]
        return lines, "above"

    # ---- to_meet of a requirement whose answer depends on the answers ----------------

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
        cache = self.meet_cache
        try:
            found = cache.get(key, cache)
        except TypeError:  # an odd, unvalidated answer: not cached
            return self.finder(result).meet(r.condition)
        if found is cache:
            found = self.finder(result).meet(r.condition)
            if len(cache) >= MEET_CACHE_SIZE:  # bounded: past it, compute every time
                return found
            cache[key] = found
        copied: dict[str, Any] | None = _copy(found)
        return copied
