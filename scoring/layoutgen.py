"""The generated layout of a Result (`Layout`): per questionnaire, straight-line functions
that build the domain dicts, the per-requirement trace, the next steps, the gap to the next
tier, the funding entries and the "je ne sais pas" list from the values a Result keeps
(question values, requirement flags, domain sums). Used by scoring/result.py.

Generated code reads question values from locals `q{i}`, requirement flags from `f{j}`,
domain scores from `s{d}` (see scoregen.py). Questionnaire values (ids, labels, option
values) reach the source only as named constants (`Gen.const`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from scoring.codegen import Gen, numbered, targets
from scoring.conditions import (
    Cond,
    reads_answers_only,
    referenced_questions,
    referenced_scores,
)
from scoring.frozen import choices, freeze, keep, plain_number, room
from scoring.meetgen import Meets
from scoring.result import Exact, Result, global_exact
from scoring.scoregen import locals_of, tier_met

if TYPE_CHECKING:
    from scoring.plan import FundPlan, QPlan, ReqPlan



def _filled(k: Callable[[Any], str], var: str, template: dict[str, Any], exprs: dict[str, str]
            ) -> list[str]:
    """Statements making `var` a copy of the constant dict `template` (every key, in order)
    with the keys of `exprs` set to those expressions: from five keys on, a copy of a
    constant dict and a few stores cost about half a dict display."""
    sets = [f"    {var}[{key!r}] = {x}" for key, x in exprs.items()]
    return [f"    {var} = {k(template)}.copy()", *sets]


def _looked_up(ind: str, hit: str, miss: list[str]) -> list[str]:
    """Statements running `hit` (a lookup in a cache of shared lines), and `miss` when the
    key is not there yet (KeyError) or cannot be one (TypeError: an unhashable answer)."""
    return [f"{ind}try:", f"{ind}    {hit}", f"{ind}except (KeyError, TypeError):",
            *(f"{ind}    {x}" for x in miss)]


def _levels(level: str, key: str) -> str:
    """Source of the keys that `keep` or `store` nest: the class level of `_key`, if any
    (`[q.__class__]`), then the key."""
    return f"{level[1:-1]}, ({key})" if level else f"({key})"


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
            level: freeze({"id": tid, "level": level, "label": label})
            for tid, level, label, _ in tiers
        }
        # Requirement j's shared lines in `tiers`, by the answers it reads, then by its flag.
        self.trace_cache: list[dict[Any, dict[bool | None, Any]]] = [{} for _ in reqs]
        self.meets = Meets(self.reqs, self.position, unknown, self.options, self.types, weights,
                           index)
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
            {
                "to_meet": self.meets.to_meet,
                "trace_line": self.trace_line,
                "keep": keep,
                "choices": choices,
                "plain_number": plain_number,
                "global_exact": global_exact,
            },
        )

    def _to_dict(self, parts: dict[str, Callable[[Gen], Part]]) -> Any:
        gen = self._gen()
        k = gen.const
        body: list[str] = []
        exprs = {}
        for name, emit in parts.items():
            lines, exprs[name] = emit(gen)
            body += lines
        head = freeze({"id": self.qid, "version": self.qversion})
        body.append(
            f'    return {{"questionnaire": {k(head)},'
            ' "complete": not r.missing_required, "missing_required": list(r.missing_required),'
            f' "unknown": {exprs["unknown"]}, "global_score": gs, "domains": {exprs["domains"]},'
            f' "tier": {exprs["tier"]}, "gap": {exprs["gap"]},'
            f' "tiers_met_above": {exprs["tiers_met_above"]},'
            f' "tiers": {exprs["tiers"]}, "next_steps": {exprs["next_steps"]},'
            f' "funding": {exprs["funding"]}, "answered": r.answered,'
            ' "applicable": r.applicable}'
        )
        return self._define(gen, "to_dict", body)

    def _domains(self, gen: Gen) -> Part:
        """Without fractional points, a domain's dict is looked up by its sums (ints: its
        score is theirs, 100 * e / m or None): one shared dict for each pair that occurs."""
        k = gen.const

        def plain(x: str) -> str:
            return f"({x} if {x}.__class__ is int else float({x}))" if self.fractional else x

        lines: list[str] = []
        for d, (did, label) in enumerate(zip(self.domain_ids, self.domain_labels, strict=True)):
            head = {"id": did, "label": label}
            exprs = {"score": f"s{d}", "earned": plain(f"e{d}"), "max": plain(f"m{d}")}
            if self.fractional:
                lines += _filled(k, f"dm{d}", {**head, **dict.fromkeys(exprs)}, exprs)
                continue
            cache = k({})
            line = (
                f'{{"id": {k(did)}, "label": {k(label)}, "score": s{d}, "earned": e{d},'
                f' "max": m{d}}}'
            )
            ints = f"e{d}.__class__ is int and m{d}.__class__ is int"
            miss = f"dm{d} = keep({cache}, {line}, {ints}, m{d}, e{d})"
            lines += _looked_up("    ", f"dm{d} = {cache}[m{d}][e{d}]", [miss])
        return lines, f"[{numbered('dm', len(self.domain_ids))}]"

    def _tier(self, gen: Gen) -> Part:
        return [], f"None if lvl is None else {gen.const(self.tier_heads)}[lvl]"

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
        lines: list[str] = []
        for i, (tid, level, label, span) in enumerate(self.tier_list):
            for j in span:
                lines += self._trace_line(k, j)
            head = {"id": tid, "level": level, "label": label}
            if not span:  # no requirement: met, and reads no answer
                lines.append(f"    tr{i} = {k(freeze({**head, 'met': True, 'requirements': []}))}")
                continue
            lines += _filled(
                k,
                f"tr{i}",
                {**head, "met": None, "requirements": None},
                {
                    "met": tier_met(self.reqs, span),
                    "requirements": f"[{targets(f'rq{j}' for j in span)}]",
                },
            )
        return lines, f"[{numbered('tr', len(self.tier_list))}]"

    def _trace_line(self, k: Callable[[Any], str], j: int) -> list[str]:
        """Statements setting `rq{j}`, requirement j's line in `tiers`. When it reads only
        single-choice answers (and at most one number) and no score, that line is shared:
        looked up by those answers and its flag in its cache (`trace_line` fills it)."""
        r = self.reqs[j]
        if r.questions and not r.scores and self._keyable(r.questions):
            values, key, level, ok = self._key(r.questions)
            hit = f"rq{j} = {k(self.trace_cache[j])}{level}[{key}][f{j}]"
            miss = f"rq{j} = trace_line({j}, f{j}, ({values}), {ok}, {_levels(level, key)})"
            return _looked_up("    ", hit, [miss])
        fixed = {"id": r.id, "label": r.label, "met": None, "applies": True}
        exprs = {"met": f"f{j}", "answers": self._answers(k, r.questions)}
        if r.applies is not None:
            exprs["applies"] = f"f{j} is not None"
        if r.scores:
            exprs["scores"] = self._scores(k, r)
        return _filled(k, f"rq{j}", {**fixed, **dict.fromkeys(exprs)}, exprs)

    def _next_steps(self, gen: Gen) -> Part:
        """A step reads no answer but its `to_verify`: each is one of two shared dicts."""
        k = gen.const
        lines = ["    steps = []", "    add = steps.append"]
        for i, (tid, _, _, span) in enumerate(self.tier_list):
            if not span:
                continue
            lines.append(f"    if start <= {i}:")
            for j in span:
                r = self.reqs[j]
                step = {
                    "requirement": r.id,
                    "tier": tid,
                    "label": r.label,
                    "title": r.title,
                    "detail": r.detail,
                    "effort": r.effort,
                    "funding": list(r.funding),
                    "to_verify": False,
                }
                shared = k(freeze(step))
                if r.unknown:
                    checked = k(freeze({**step, "to_verify": True}))
                    shared = f"({checked} if {self._to_verify(k, r)} else {shared})"
                lines += [f"        if f{j} is False:", f"            add({shared})"]
        return lines, "steps"

    def _gap(self, gen: Gen) -> Part:
        k = gen.const
        lines = []
        for i, (tid, level, label, span) in enumerate(self.tier_list):
            lines += [f"    {'if' if i == 0 else 'elif'} start == {i}:", "        reqs = []"]
            for j in span:
                lines += [f"        if f{j} is False:", *self._gap_line(gen, j)]
            head = freeze({"id": tid, "level": level, "label": label})
            lines.append(f'        gap = {{"next_tier": {k(head)}, "requirements": reqs}}')
        top = freeze({"next_tier": None, "requirements": []})
        lines += ["    else:", f"        gap = {k(top)}"]  # past the top
        return lines, "gap"

    def _gap_line(self, gen: Gen, j: int) -> list[str]:
        """Statements appending requirement j's line of the gap to `reqs`. When everything
        in it reads only single-choice answers of the requirement, the line is shared:
        looked up by those answers, built and kept on their first occurrence (at most one
        of them may be a number: `_key`)."""
        k = gen.const
        r = self.reqs[j]
        scores = f', "scores": {self._scores(k, r)}' if r.scores else ""
        pre, meet = self.meets.emit(gen, j)
        line = (
            f'{{"id": {k(r.id)}, "label": {k(r.label)}, '
            f'"answers": {self._answers(k, r.questions)}, '
            f'"to_verify": {self._to_verify(k, r)}, '
            f'"to_meet": {meet}{scores}}}'
        )
        if not self._by_choices(r.questions, r.condition) or r.scores:
            return [*pre, f"            reqs.append({line})"]
        if not {q for q, _ in r.unknown} <= set(r.questions):
            return [*pre, f"            reqs.append({line})"]
        cache, (_, key, level, ok) = k({}), self._key(r.questions)
        miss = [*(x.removeprefix(" " * 12) for x in pre),  # _looked_up indents them again
                f"reqs.append(keep({cache}, {line}, {ok}, {_levels(level, key)}))"]
        return _looked_up("            ", f"reqs.append({cache}{level}[{key}])", miss)

    def _key(self, questions: tuple[str, ...]) -> tuple[str, str, str, str]:
        """Sources for a cache of lines read from these questions' answers: the answers as
        the items of a tuple display; the key (the answer itself for a single question); the
        level before it, `[q.__class__]` for a number `q` (equal numbers of one class print
        alike, 1 and 1.0 do not); whether the answers can be a key (`choices`,
        `plain_number`)."""
        values = targets(self.local[q] for q in questions)
        key = self.local[questions[0]] if len(questions) == 1 else values
        num = [self.local[q] for q in questions if self.types[q] == "number"]
        text = targets(self.local[q] for q in questions if self.types[q] != "number")
        ok = [f"choices(({text}))"] if text else []
        ok += [f"plain_number({n})" for n in num]
        return values, key, "".join(f"[{n}.__class__]" for n in num), " and ".join(ok)

    def _keyable(self, questions: tuple[str, ...]) -> bool:
        """Whether these are single-choice questions and at most one number (`_key`)."""
        types = [self.types[q] for q in questions]
        return set(types) <= {"single_choice", "number"} and types.count("number") <= 1

    def _by_choices(self, questions: tuple[str, ...], cond: Cond) -> bool:
        """Whether `questions` can key a cache (`_keyable`) and `cond` reads only them."""
        return (
            bool(questions)
            and self._keyable(questions)
            and reads_answers_only(cond)
            and set(referenced_questions(cond)) <= set(questions)
        )

    def _funding(self, gen: Gen) -> Part:
        """A programme's entry reads no answer (a resource without conditions: one shared
        dict) or, when its eligibility reads only single-choice answers, is looked up by
        them and completeness (shared, kept on first occurrence)."""
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
            entry = (
                f'{{"id": {k(f.id)}, "kind": {k(f.kind)}, '
                f'"eligible": {eligible}, "conditions": {self._answers(k, f.questions)}}}'
            )
            if f.kind != "funding" and not f.questions:
                static: dict[str, Any] = {"id": f.id, "kind": f.kind, "eligible": None}
                static["conditions"] = {}
                lines.append(f"{ind}funding.append({k(freeze(static))})")
            elif f.kind == "funding" and self._by_choices(f.questions, f.eligible):
                cache, (values, _, level, ok) = k({}), self._key(f.questions)
                kept = f"keep({cache}, {entry}, {ok}, {_levels(level, f'complete, {values}')})"
                miss = f"funding.append({kept})"
                hit = f"funding.append({cache}{level}[complete, {values}])"
                lines += _looked_up(ind, hit, [miss])
            else:
                lines.append(f"{ind}funding.append({entry})")
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

    def trace_line(self, j: int, flag: bool | None, values: tuple[Any, ...], cacheable: bool,
                   *keys: Any) -> dict[str, Any]:
        """Requirement j's line in `tiers` (it reads only single-choice answers, at most one
        number, and no score), kept in its cache under `keys` with the line of every other
        flag when `cacheable` (see `_key`: equal keys must not mix 1, 1.0 and True); else
        only this flag's line, this result's own."""
        r = self.reqs[j]
        level = room(self.trace_cache[j], keys) if cacheable else None

        def line(f: bool | None) -> dict[str, Any]:
            applies = True if r.applies is None else f is not None
            answers = dict(zip(r.questions, values, strict=True))
            return {"id": r.id, "label": r.label, "met": f, "applies": applies, "answers": answers}

        if level is None:
            return line(flag)
        flags = (False, True) if r.applies is None else (None, False, True)
        lines = level[keys[-1]] = {f: freeze(line(f)) for f in flags}
        return lines[flag]  # type: ignore[no-any-return]
