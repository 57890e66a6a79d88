"""The compiled plan of a questionnaire: per question, requirement, tier and funding rule
what scoring needs, the generated scoring function `run` (scoregen.py, with the Result's
layout of layoutgen.py) and the all-valid check `valid`; compiled once per questionnaire,
cached on it by `plan_of`. Used by `engine.py` and `answers.py`."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction
from typing import TYPE_CHECKING, Any, Protocol

from scoring import conditions as C
from scoring.codegen import Gen, compile_one, read_all, targets
from scoring.errors import Loc
from scoring.layoutgen import Layout
from scoring.scoregen import NUMBER, RunFn, compile_run, fractional
from scoring.text import FORBIDDEN, MAX_TEXT_ANSWER

if TYPE_CHECKING:
    from scoring.model import Funding, Question, Questionnaire, Tier


Exact = int | Fraction
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
    show_ast: C.Cond | None = None


@dataclass(frozen=True, slots=True)
class ReqPlan:
    id: str
    label: str
    tier_id: str
    title: str  # its next step's title, detail, effort and funding ids
    detail: str
    effort: str
    funding: tuple[str, ...]
    questions: tuple[str, ...]
    scores: tuple[str, ...]
    condition: C.Cond
    unknown: tuple[tuple[str, str], ...]  # (question, "je ne sais pas" value) it reads
    applies: C.Cond | None = None  # its applies_if (None: always applies)


@dataclass(frozen=True, slots=True)
class TierPlan:
    id: str
    level: int
    label: str
    requirements: tuple[ReqPlan, ...]


@dataclass(frozen=True, slots=True)
class FundPlan:
    id: str
    kind: str
    questions: tuple[str, ...]  # read by eligible_if (none for a resource)
    eligible: C.Cond  # its eligible_if (any: [] for a resource)
    applies: C.Cond | None = None  # its applies_if (None: always applies)


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
    run: RunFn  # the generated scoring function: answers -> Result
    valid: Callable[[dict[str, Any]], bool]  # True: every answer valid (may raise TypeError)
    fweights: tuple[float, ...]
    fundings: tuple[FundPlan, ...]
    unknown: tuple[tuple[str, str], ...]  # (question, its "je ne sais pas" value)


def _pairs(points: dict[str, int | float], index: dict[str, int]) -> Pairs:
    return tuple((index[d], C.exact(p)) for d, p in points.items() if p)


def _max_pairs(candidates: list[Pairs], ndom: int, additive: bool) -> Pairs:
    best: list[Exact] = [0] * ndom
    for pairs in candidates:
        for di, p in pairs:
            best[di] = best[di] + p if additive else max(best[di], p)
    return tuple((di, m) for di, m in enumerate(best) if m)


def _question_infos(q: Questionnaire) -> tuple[dict[str, C.QuestionInfo], dict[str, str]]:
    """What the condition checker knows of each question, and the value of each question's
    "je ne sais pas" option (where it has one)."""
    infos: dict[str, C.QuestionInfo] = {}
    unknown: dict[str, str] = {}
    for i, qu in enumerate(q.questions.values()):
        u = next((o.value for o in qu.options or [] if o.unknown), None)
        if u is not None:
            unknown[qu.id] = u
        infos[qu.id] = C.QuestionInfo(i, qu.type, frozenset(o.value for o in qu.options or []), u)
    return infos, unknown


class _Compile(Protocol):
    def __call__(self, raw: dict[str, Any], usage: C.Usage, owner: str = "") -> C.Cond: ...


def _condition_compiler(q: Questionnaire, infos: dict[str, C.QuestionInfo]) -> _Compile:
    """A function turning a raw condition of the (validated) questionnaire into its AST."""
    errors: list[str] = []
    env = C.CheckEnv(
        questions=infos,
        domains=frozenset(d.id for d in q.domains),
        levels=frozenset(t.level for t in q.tiers),
        report=lambda loc, msg: errors.append(msg),
    )

    def compiled(raw: dict[str, Any], usage: C.Usage, owner: str = "") -> C.Cond:
        from scoring.yamlsrc import to_located

        env.usage, env.owner_id = usage, owner
        env.owner_index = infos[owner].index if owner else 0
        ast = C.check(to_located(raw), ZERO_LOC, env)
        if ast is None:  # pragma: no cover - validated before
            raise ValueError("; ".join(errors))
        return ast

    return compiled


def _question_plan(
    qu: Question, index: dict[str, int], unknown: dict[str, str], compiled: _Compile
) -> QPlan:
    """One question's plan: its show_if compiled, its points per option or band, their most."""
    ndom = len(index)
    show_ast = compiled(qu.show_if, "show_if", qu.id) if qu.show_if is not None else None
    show_if = compile_one(show_ast, index, unknown) if show_ast is not None else None
    choice_points: dict[str, Pairs] = {}
    band_from: tuple[float, ...] = ()
    band_points: tuple[Pairs, ...] = ()
    if qu.options is not None:
        choice_points = {o.value: _pairs(o.points, index) for o in qu.options}
        max_pairs = _max_pairs(
            list(choice_points.values()), ndom, additive=qu.type == "multiple_choice"
        )
    elif qu.bands:
        band_from = tuple(b.from_ for b in qu.bands)
        band_points = tuple(_pairs(b.points, index) for b in qu.bands)
        max_pairs = _max_pairs(list(band_points), ndom, additive=False)
    else:
        max_pairs = ()
    touched = {di for pairs in (*choice_points.values(), *band_points) for di, _ in pairs}
    domain = next(iter(touched)) if len(touched) == 1 else -1
    flat = (
        {v: sum(p for _, p in pairs) for v, pairs in choice_points.items()}
        if domain >= 0 and qu.type == "single_choice"
        else {}
    )
    return QPlan(
        domain=domain,
        flat=flat,
        show_ast=show_ast,
        id=qu.id,
        type=qu.type,
        required=qu.required,
        show_if=show_if,
        max_pairs=max_pairs,
        choice_points=choice_points,
        band_from=band_from,
        band_points=band_points,
        values=frozenset(choice_points),
        exclusive=frozenset(o.value for o in qu.options or [] if o.exclusive),
        min=qu.min,
        max=qu.max,
        options=tuple(o.value for o in qu.options or []),
    )


def _tier_plan(t: Tier, unknown: dict[str, str], compiled: _Compile) -> TierPlan:
    """One tier's plan: each requirement's condition compiled, with what it reads."""
    reqs = []
    for r in t.requires:
        ast = compiled(r.condition, "requirement")
        read = tuple(C.referenced_questions(ast))
        reqs.append(
            ReqPlan(
                id=r.id,
                label=r.label,
                tier_id=t.id,
                questions=read,
                scores=tuple(C.referenced_scores(ast)),
                title=r.next_step.title,
                detail=r.next_step.detail,
                effort=r.next_step.effort,
                funding=tuple(r.next_step.funding),
                condition=ast,
                unknown=tuple((qid, unknown[qid]) for qid in read if qid in unknown),
                applies=(
                    compiled(r.applies_if, "applies_if") if r.applies_if is not None else None
                ),
            )
        )
    return TierPlan(t.id, t.level, t.label, tuple(reqs))


def _fund_plan(f: Funding, compiled: _Compile) -> FundPlan:
    """One funding's plan (a resource is always eligible: `any: []`)."""
    ast = (
        compiled(f.eligible_if, "funding")
        if f.eligible_if is not None and f.kind == "funding"
        else C.Combo("any")
    )
    return FundPlan(
        f.id,
        f.kind,
        tuple(C.referenced_questions(ast)) if f.kind == "funding" else (),
        eligible=ast,
        applies=(compiled(f.applies_if, "applies_if") if f.applies_if is not None else None),
    )


def _base_max(qplans: list[QPlan], ndom: int) -> tuple[Exact, ...]:
    """Each domain's most points from the questions always shown (no show_if)."""
    base_max: list[Exact] = [0] * ndom
    for qp in qplans:
        if qp.show_if is None:
            for di, m in qp.max_pairs:
                base_max[di] += m
    return tuple(base_max)


def _layout(
    q: Questionnaire,
    qplans: list[QPlan],
    tiers: list[TierPlan],
    fundings: tuple[FundPlan, ...],
    index: dict[str, int],
    unknown: dict[str, str],
) -> Layout:
    """What the generated layout functions of a Result read (requirements flat, each tier's
    span of them)."""
    flat_reqs = [r for tp in tiers for r in tp.requirements]
    spans, at = [], 0
    for tp in tiers:
        spans.append((tp.id, tp.level, tp.label, range(at, at + len(tp.requirements))))
        at += len(tp.requirements)
    return Layout(
        q.id,
        q.version,
        qplans,
        flat_reqs,
        spans,
        fundings,
        tuple(d.id for d in q.domains),
        tuple(d.label for d in q.domains),
        tuple(C.exact(d.weight) for d in q.domains),
        index,
        unknown,
        fractional(qplans),
    )


def compile_plan(q: Questionnaire) -> Plan:
    """Compile a validated questionnaire once: conditions become closures, points tuples."""
    index = {d.id: i for i, d in enumerate(q.domains)}
    infos, unknown = _question_infos(q)
    compiled = _condition_compiler(q, infos)
    qplans = [_question_plan(qu, index, unknown, compiled) for qu in q.questions.values()]
    tiers = [_tier_plan(t, unknown, compiled) for t in q.tiers]
    fundings = tuple(_fund_plan(f, compiled) for f in q.funding)
    fweights = tuple(float(d.weight) for d in q.domains)
    layout = _layout(q, qplans, tiers, fundings, index, unknown)
    return Plan(
        qid=q.id,
        qversion=q.version,
        domain_ids=tuple(d.id for d in q.domains),
        domain_labels=tuple(d.label for d in q.domains),
        weights=tuple(C.exact(d.weight) for d in q.domains),
        questions=tuple(qplans),
        by_id={p.id: p for p in qplans},
        tiers=tuple(tiers),
        run=compile_run(qplans, _base_max(qplans, len(q.domains)), fweights, layout),
        valid=_compile_valid(qplans),
        fweights=fweights,
        fundings=fundings,
        unknown=tuple(unknown.items()),
    )


def _invalid(v: str, p: QPlan, k: Callable[[Any], str]) -> str:
    """Source of "the answer in local `v` breaks a rule of `_check_value`" (a multiple choice,
    number or text question; not None)."""
    if p.type == "multiple_choice":
        several = f"len(set({v})) != len({v})"  # a repeated value
        if p.exclusive:
            several += f" or not {k(p.exclusive)}.isdisjoint({v})"
        return (
            f"{v}.__class__ is not list or not {k(p.values)}.issuperset({v})"
            f" or (len({v}) > 1 and ({several}))"
        )
    if p.type == "number":
        ok = [f"{v}.__class__ in NUMBER"]
        if p.min is None or p.max is None or not (math.isfinite(p.min) and math.isfinite(p.max)):
            ok.append(f"isfinite({v})")  # finite bounds leave out inf and nan
        if p.min is not None and p.max is not None:
            ok.append(f"{k(p.min)} <= {v} <= {k(p.max)}")
        elif p.min is not None:
            ok.append(f"{v} >= {k(p.min)}")
        elif p.max is not None:
            ok.append(f"{v} <= {k(p.max)}")
        return f"not ({' and '.join(ok)})"
    return (  # printable text holds no forbidden character (all are C* categories)
        f"{v}.__class__ is not str or len({v}) > {MAX_TEXT_ANSWER}"
        f" or (not {v}.isprintable() and forbidden({v}) is not None)"
    )


SEEN_VALID_SIZE = 1_000  # valid option lists kept per multiple-choice question


def seen_valid(seen: set[tuple[Any, ...]], v: list[Any]) -> None:
    """Keep the option list `v`, found valid, in `seen` while it has room."""
    if len(seen) < SEEN_VALID_SIZE:
        seen.add(tuple(v))


def _valid_choices(v: str, p: QPlan, k: Callable[[Any], str]) -> list[str]:
    """The check of a multiple choice's list: looked up as a tuple among the lists found
    valid before (the full check builds a set; an unhashable item raises TypeError either
    way), checked in full and kept when it is not there."""
    seen = k(set())
    return [
        f"    if {v} is not None:",
        f"        if {v}.__class__ is not list:",
        "            return False",
        f"        if tuple({v}) not in {seen}:",
        f"            if {_invalid(v, p, k)}:",
        "                return False",
        f"            seen_valid({seen}, {v})",
    ]


def _compile_valid(qplans: list[QPlan]) -> Callable[[dict[str, Any]], bool]:
    """Generate the straight-line check "every answer is valid", the common case.

    It answers True only where `answers._check_value` would find no problem (same types,
    options, bounds and text rules); False or a TypeError (an unhashable item) sends
    `validate_answers` to the per-value checks that say what is wrong.
    """
    gen = Gen({})
    k = gen.const
    names = [f"v{i}" for i in range(len(qplans))]
    lines = [
        "def valid(answers):",
        read_all(k, [p.id for p in qplans]),
        f"    if len(answered) != {len(qplans)}:  # a key no question has",
        "        return False",
        f"    {targets(names)}= answered.values()",
    ]
    single = [
        f"{v} in {k(p.values | {None})}"  # an unhashable value: TypeError
        for v, p in zip(names, qplans, strict=True)
        if p.type == "single_choice"
    ]
    if single:
        lines += [f"    if not ({' and '.join(single)}):", "        return False"]
    for v, p in zip(names, qplans, strict=True):
        if p.type == "multiple_choice":
            lines += _valid_choices(v, p, k)
        elif p.type != "single_choice":
            lines += [f"    if {v} is not None and ({_invalid(v, p, k)}):", "        return False"]
    lines.append("    return True")
    fn: Callable[[dict[str, Any]], bool] = gen.define(
        "\n".join(lines),
        "valid",
        "<palier-valid>",
        {"isfinite": math.isfinite, "forbidden": FORBIDDEN.search, "NUMBER": NUMBER,
         "seen_valid": seen_valid},
    )
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
