"""The compiled plan of a questionnaire: per question, requirement, tier and funding rule
what scoring needs, and the generated `core` function (compiled once per questionnaire,
cached on it by `plan_of`). Used by `engine.py`."""

from __future__ import annotations

import bisect
import math
import operator
from collections.abc import Callable
from dataclasses import dataclass, field
from fractions import Fraction
from typing import TYPE_CHECKING, Any

from scoring import conditions as C
from scoring.codegen import Gen, compile_group, compile_one
from scoring.errors import Loc
from scoring.text import FORBIDDEN, MAX_TEXT_ANSWER

if TYPE_CHECKING:
    from scoring.engine import EvalContext
    from scoring.model import Questionnaire


Exact = int | Fraction
# core(answers, eff, earned, maxs, missing) -> number of applicable questions
CoreFn = Callable[[dict[str, Any], dict[str, Any], list[Any], list[Any], list[str]], int]
Pairs = tuple[tuple[int, Exact], ...]  # (domain index, points)


# ---- the compiled plan -------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class QPlan:
    id: str
    type: str
    required: bool
    show_if: C.CondFn | None
    max_pairs: Pairs
    choice_points: dict[str, Pairs]  # single/multiple choice: value -> points
    band_from: tuple[float, ...]
    band_points: tuple[Pairs, ...]
    values: frozenset[str]
    exclusive: frozenset[str]
    min: float | None
    max: float | None
    domain: int  # the one domain all its points go to, or -1
    flat: dict[str, Exact]  # single_choice with one domain: value -> points
    options: tuple[str, ...] = ()  # option values in declared order


@dataclass(frozen=True, slots=True)
class ReqPlan:
    id: str
    label: str
    tier_id: str
    questions: tuple[str, ...]
    scores: tuple[str, ...]
    title: str
    detail: str
    effort: str
    funding: tuple[str, ...]
    condition: C.Cond
    unknown: tuple[tuple[str, str], ...]  # (question, "je ne sais pas" value) it reads


Group = Callable[[dict[str, Any], "EvalContext | None"], list[bool]]


@dataclass(frozen=True, slots=True)
class TierPlan:
    id: str
    level: int
    label: str
    requirements: tuple[ReqPlan, ...]
    group: Group
    applies: Group | None  # applies_if of its requirements (True when absent); None: all apply


@dataclass(frozen=True, slots=True)
class FundPlan:
    id: str
    kind: str
    questions: tuple[str, ...]  # read by eligible_if (none for a resource)


@dataclass(frozen=True, slots=True)
class Plan:
    qid: str
    qversion: str
    domain_ids: tuple[str, ...]
    domain_labels: tuple[str, ...]
    weights: tuple[Exact, ...]
    questions: tuple[QPlan, ...]
    by_id: dict[str, QPlan]
    tiers: tuple[TierPlan, ...]
    funding: tuple[str, ...]
    funding_group: Group
    core: CoreFn
    valid: Callable[[dict[str, Any]], bool]  # True: every answer valid (may raise TypeError)
    base_max: tuple[Exact, ...]  # maxima of the questions that always apply
    fweights: tuple[float, ...]
    fundings: tuple[FundPlan, ...] = ()
    funding_applies: Group | None = None
    unknown: tuple[tuple[str, str], ...] = ()  # (question, its "je ne sais pas" value)
    domain_index: dict[str, int] | None = None
    options: dict[str, tuple[str, ...]] | None = None
    types: dict[str, str] | None = None
    meet_cache: dict[tuple[Any, ...], Any] = field(default_factory=dict)


def _pairs(points: dict[str, int | float], index: dict[str, int]) -> Pairs:
    return tuple((index[d], C.exact(p)) for d, p in points.items() if p)


def _max_pairs(candidates: list[Pairs], ndom: int, additive: bool) -> Pairs:
    best: list[Exact] = [0] * ndom
    for pairs in candidates:
        for di, p in pairs:
            best[di] = best[di] + p if additive else max(best[di], p)
    return tuple((di, m) for di, m in enumerate(best) if m)


def compile_plan(q: Questionnaire) -> Plan:
    # Long: one walk of the questionnaire filling the plan (a dozen shared locals).
    """Compile a validated questionnaire once: conditions become closures, points tuples."""
    index = {d.id: i for i, d in enumerate(q.domains)}
    ndom = len(q.domains)
    infos: dict[str, C.QuestionInfo] = {}
    unknown: dict[str, str] = {}
    for i, qu in enumerate(q.questions.values()):
        u = next((o.value for o in qu.options or [] if o.unknown), None)
        if u is not None:
            unknown[qu.id] = u
        infos[qu.id] = C.QuestionInfo(i, qu.type, frozenset(o.value for o in qu.options or []),
                                      u)

    errors: list[str] = []
    env = C.CheckEnv(questions=infos, domains=frozenset(index),
                     levels=frozenset(t.level for t in q.tiers),
                     report=lambda loc, msg: errors.append(msg))

    def compiled(raw: dict[str, Any], usage: C.Usage, owner: str = "") -> C.Cond:
        from scoring.yamlsrc import to_located

        env.usage, env.owner_id = usage, owner
        env.owner_index = infos[owner].index if owner else 0
        ast = C.check(to_located(raw), ZERO_LOC, env)
        if ast is None:  # pragma: no cover - validated before
            raise ValueError("; ".join(errors))
        return ast

    qplans: list[QPlan] = []
    show_asts: dict[str, C.Cond] = {}
    for qu in q.questions.values():
        show_if = None
        if qu.show_if is not None:
            show_asts[qu.id] = compiled(qu.show_if, "show_if", qu.id)
            show_if = compile_one(show_asts[qu.id], index, unknown)
        choice_points: dict[str, Pairs] = {}
        band_from: tuple[float, ...] = ()
        band_points: tuple[Pairs, ...] = ()
        if qu.options is not None:
            choice_points = {o.value: _pairs(o.points, index) for o in qu.options}
            max_pairs = _max_pairs(list(choice_points.values()), ndom,
                                   additive=qu.type == "multiple_choice")
        elif qu.bands:
            band_from = tuple(b.from_ for b in qu.bands)
            band_points = tuple(_pairs(b.points, index) for b in qu.bands)
            max_pairs = _max_pairs(list(band_points), ndom, additive=False)
        else:
            max_pairs = ()
        touched = {di for pairs in (*choice_points.values(), *band_points) for di, _ in pairs}
        domain = next(iter(touched)) if len(touched) == 1 else -1
        flat = ({v: sum(p for _, p in pairs) for v, pairs in choice_points.items()}
                if domain >= 0 and qu.type == "single_choice" else {})
        qplans.append(QPlan(
            domain=domain, flat=flat,
            id=qu.id, type=qu.type, required=qu.required, show_if=show_if,
            max_pairs=max_pairs, choice_points=choice_points, band_from=band_from,
            band_points=band_points, values=frozenset(choice_points),
            exclusive=frozenset(o.value for o in qu.options or [] if o.exclusive),
            min=qu.min, max=qu.max, options=tuple(o.value for o in qu.options or []),
        ))

    tiers: list[TierPlan] = []
    for t in q.tiers:
        reqs = []
        asts = []
        applies: list[C.Cond] = []
        for r in t.requires:
            ast = compiled(r.condition, "requirement")
            asts.append(ast)
            applies.append(compiled(r.applies_if, "applies_if") if r.applies_if is not None
                           else C.Combo("all"))
            read = tuple(C.referenced_questions(ast))
            reqs.append(ReqPlan(
                id=r.id, label=r.label, tier_id=t.id,
                questions=read,
                scores=tuple(C.referenced_scores(ast)),
                title=r.next_step.title, detail=r.next_step.detail, effort=r.next_step.effort,
                funding=tuple(r.next_step.funding), condition=ast,
                unknown=tuple((qid, unknown[qid]) for qid in read if qid in unknown),
            ))
        any_applies = any(r.applies_if is not None for r in t.requires)
        tiers.append(TierPlan(t.id, t.level, t.label, tuple(reqs),
                              compile_group(asts, index, unknown),
                              compile_group(applies, index, unknown) if any_applies else None))

    funding_asts = [compiled(f.eligible_if, "funding")
                    if f.eligible_if is not None and f.kind == "funding" else C.Combo("any")
                    for f in q.funding]
    funding_applies = [compiled(f.applies_if, "applies_if") if f.applies_if is not None
                       else C.Combo("all") for f in q.funding]
    fundings = tuple(FundPlan(f.id, f.kind, tuple(C.referenced_questions(ast))
                              if f.kind == "funding" else ())
                     for f, ast in zip(q.funding, funding_asts, strict=True))
    base_max: list[Exact] = [0] * ndom
    for qp in qplans:
        if qp.show_if is None:
            for di, m in qp.max_pairs:
                base_max[di] += m
    return Plan(
        qid=q.id, qversion=q.version,
        domain_ids=tuple(d.id for d in q.domains),
        domain_labels=tuple(d.label for d in q.domains),
        weights=tuple(C.exact(d.weight) for d in q.domains),
        questions=tuple(qplans), by_id={p.id: p for p in qplans},
        tiers=tuple(tiers), funding=tuple(f.id for f in q.funding),
        funding_group=compile_group(funding_asts, index, unknown),
        core=_compile_core(qplans, show_asts, index, unknown), base_max=tuple(base_max),
        valid=_compile_valid(qplans),
        fweights=tuple(float(d.weight) for d in q.domains),
        fundings=fundings,
        funding_applies=(compile_group(funding_applies, index, unknown)
                         if any(f.applies_if is not None for f in q.funding) else None),
        unknown=tuple(unknown.items()), domain_index=index,
        options={p.id: p.options for p in qplans if p.options},
        types={p.id: p.type for p in qplans},
    )


def _compile_core(qplans: list[QPlan], show_asts: dict[str, C.Cond],
                  index: dict[str, int], unknown: dict[str, str]) -> CoreFn:
    """Generate the straight-line scoring loop over the questions, in order.

    For each question: apply its show_if, add its maxima when it is conditional, read the
    answer, record it as effective or missing, add the points it earns. Values from the
    questionnaire reach the generated source only through the constants list K.
    """
    gen = Gen(index, unknown)
    k = gen.const
    ndom = len(index)
    always = sum(1 for p in qplans if p.id not in show_asts)
    lines = ["def core(answers, eff, earned, maxs, missing):",
             "    ga = answers.get", "    g = eff.get", f"    n = {always}",
             *(f"    e{i} = 0" for i in range(ndom))]
    for p in qplans:
        ind = "    "
        if p.id in show_asts:
            lines.append(f"    if {gen.expr(show_asts[p.id])}:")
            ind = "        "
            for di, m in p.max_pairs:
                lines.append(f"{ind}maxs[{int(di)}] += {k(m)}")
            lines.append(f"{ind}n += 1")
        qk = k(p.id)
        lines.append(f"{ind}v = ga({qk})")
        if p.type == "multiple_choice":
            unanswered = "not v or v.__class__ is not list"
        elif p.type == "text":
            unanswered = "v is None or v.__class__ is not str or not v.strip()"
        else:
            unanswered = "v is None"
        lines.append(f"{ind}if {unanswered}:")
        lines.append(f"{ind}    {'missing.append(' + qk + ')' if p.required else 'pass'}")
        lines.append(f"{ind}else:")
        body = ind + "    "
        lines.append(f"{body}eff[{qk}] = v")
        if p.type == "single_choice" and p.max_pairs:
            if p.flat:
                lines.append(f"{body}e{int(p.domain)} += {k(p.flat)}.get(v, 0)")
            else:
                lines.append(f"{body}for di, pts in {k(p.choice_points)}.get(v, ()):")
                lines.append(f"{body}    earned[di] += pts")
        elif p.type == "multiple_choice" and p.max_pairs:
            lines.append(f"{body}cp = {k(p.choice_points)}")
            lines.append(f"{body}for item in v:")
            lines.append(f"{body}    for di, pts in cp.get(item, ()):")
            lines.append(f"{body}        earned[di] += pts")
        elif p.type == "number" and p.band_from and p.max_pairs:
            lines.append(f"{body}if v.__class__ is int or v.__class__ is float:")
            lines.append(f"{body}    i = bisect_right({k(p.band_from)}, v) - 1")
            lines.append(f"{body}    if i >= 0:")
            lines.append(f"{body}        for di, pts in {k(p.band_points)}[i]:")
            lines.append(f"{body}            earned[di] += pts")
    lines.extend(f"    earned[{i}] += e{i}" for i in range(ndom))
    lines.append("    return n")
    fn: CoreFn = gen.define("\n".join(lines), "core", "<palier-score>",
                            {"bisect_right": bisect.bisect_right})
    return fn


def _compile_valid(qplans: list[QPlan]) -> Callable[[dict[str, Any]], bool]:
    """Generate the straight-line check "every answer is valid", the common case.

    It answers True only where `answers._check_value` would find no problem (same types,
    options, bounds and text rules); False or a TypeError (an unhashable item) sends
    `validate_answers` to the per-value checks that say what is wrong.
    """
    consts: list[Any] = [frozenset(p.id for p in qplans)]

    def k(value: Any) -> str:
        consts.append(value)
        return f"K[{len(consts) - 1}]"

    single = [p for p in qplans if p.type == "single_choice"]
    # Single choices in one C-level pass: each value is None or one of the options.
    lines = ["def valid(answers):", "    if not K[0].issuperset(answers):", "        return False",
             "    ga = answers.get",
             f"    if not all(map(contains, {k(tuple(p.values | {None} for p in single))}, "
             f"map(ga, {k(tuple(p.id for p in single))}))):",
             "        return False"]
    for p in qplans:
        if p.type == "single_choice":
            continue
        lines.append(f"    v = ga({k(p.id)})")
        if p.type == "multiple_choice":
            bad = (f"v.__class__ is not list or not {k(p.values)}.issuperset(v)"
                   " or len(set(v)) != len(v)")
            if p.exclusive:
                bad += f" or (len(v) > 1 and not {k(p.exclusive)}.isdisjoint(v))"
        elif p.type == "number":
            bad = "not ((v.__class__ is int or v.__class__ is float) and isfinite(v))"
            if p.min is not None:
                bad += f" or v < {k(p.min)}"
            if p.max is not None:
                bad += f" or v > {k(p.max)}"
        else:
            bad = (f"v.__class__ is not str or len(v) > {MAX_TEXT_ANSWER}"
                   " or forbidden(v) is not None")
        lines.append(f"    if v is not None and ({bad}):")
        lines.append("        return False")
    lines.append("    return True")
    namespace: dict[str, Any] = {"K": tuple(consts), "isfinite": math.isfinite,
                                 "forbidden": FORBIDDEN.search, "contains": operator.contains}
    exec(compile("\n".join(lines) + "\n", "<palier-valid>", "exec"), namespace)
    fn: Callable[[dict[str, Any]], bool] = namespace["valid"]
    return fn


ZERO_LOC = Loc(0, 0)


def plan_of(q: Questionnaire) -> Plan:
    """The compiled plan of `q`, compiled on first use. Read from pydantic's private-attribute
    dict directly: `q._plan` goes through `BaseModel.__getattr__` (6 µs, as much as validating
    a whole answer set)."""
    plan: Plan | None = q.__pydantic_private__["_plan"]  # type: ignore[index]
    if plan is None:
        plan = q._plan = compile_plan(q)
    return plan
