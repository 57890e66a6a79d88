"""Applicability, answer validation, scoring, tier placement, next steps and funding.

`score(questionnaire, answers)` is the only scoring path of the product. It assumes answers
that passed `validate_answers`; it never raises on odd values but ignores what it cannot read.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable
from dataclasses import dataclass, field
from fractions import Fraction
from typing import TYPE_CHECKING, Any

from scoring import conditions as C
from scoring.errors import AnswerError, Loc
from scoring.text import MAX_TEXT_ANSWER, text_problem

if TYPE_CHECKING:
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
        ast = C.check(to_located(raw), _ZERO, env)
        if ast is None:  # pragma: no cover - validated before
            raise ValueError("; ".join(errors))
        return ast

    qplans: list[QPlan] = []
    show_asts: dict[str, C.Cond] = {}
    for qu in q.questions.values():
        show_if = None
        if qu.show_if is not None:
            show_asts[qu.id] = compiled(qu.show_if, "show_if", qu.id)
            show_if = C.compile_one(show_asts[qu.id], index, unknown)
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
                              C.compile_group(asts, index, unknown),
                              C.compile_group(applies, index, unknown) if any_applies else None))

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
        funding_group=C.compile_group(funding_asts, index, unknown),
        core=_compile_core(qplans, show_asts, index, unknown), base_max=tuple(base_max),
        fweights=tuple(float(d.weight) for d in q.domains),
        fundings=fundings,
        funding_applies=(C.compile_group(funding_applies, index, unknown)
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
    gen = C._Gen(index, unknown)
    k = gen.const
    lines = ["def core(answers, eff, earned, maxs, missing):",
             "    ga = answers.get", "    g = eff.get", "    n = 0"]
    for p in qplans:
        ind = "    "
        if p.id in show_asts:
            lines.append(f"    if {gen.expr(show_asts[p.id])}:")
            ind = "        "
            for di, m in p.max_pairs:
                lines.append(f"{ind}maxs[{int(di)}] += {k(m)}")
        qk = k(p.id)
        lines.append(f"{ind}n += 1")
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
                lines.append(f"{body}earned[{int(p.domain)}] += {k(p.flat)}.get(v, 0)")
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
    lines.append("    return n")
    namespace: dict[str, Any] = {"K": tuple(gen.consts), "bisect_right": bisect.bisect_right}
    exec(compile("\n".join(lines) + "\n", "<palier-score>", "exec"), namespace)
    fn: CoreFn = namespace["core"]
    return fn


_ZERO = Loc(0, 0)


def _plan(q: Questionnaire) -> Plan:
    plan: Plan | None = q._plan
    if plan is None:
        plan = q._plan = compile_plan(q)
    return plan


# ---- answers -----------------------------------------------------------------------------


def _answered(p: QPlan, value: Any) -> bool:
    if value is None:
        return False
    if p.type == "multiple_choice" or p.type == "text":
        if isinstance(value, str):
            return bool(value.strip())
        return bool(value)
    return True


def validate_answers(q: Questionnaire, answers: dict[str, Any]) -> list[AnswerError]:
    """Every problem in `answers` (empty when valid). Hidden questions are validated too."""
    plan = _plan(q)
    errors: list[AnswerError] = []
    if not isinstance(answers, dict):
        return [AnswerError("*", answers, "les réponses doivent former un dictionnaire")]
    for qid, value in answers.items():
        p = plan.by_id.get(qid)
        if p is None:
            errors.append(AnswerError(str(qid), value, "question inconnue"))
            continue
        if value is None:
            continue
        if p.type == "single_choice" and value.__class__ is str and value in p.values:
            continue
        problem = _check_value(p, value)
        if problem:
            errors.append(AnswerError(qid, value, problem))
    return errors


def _check_value(p: QPlan, value: Any) -> str | None:
    t = p.type
    if t == "single_choice":
        if not isinstance(value, str):
            return "une valeur d'option (chaîne) est attendue"
        if value not in p.values:
            return "option inconnue"
        return None
    if t == "multiple_choice":
        if not isinstance(value, list):
            return "une liste de valeurs d'options est attendue"
        seen: set[str] = set()
        for v in value:
            if not isinstance(v, str):
                return f"valeur d'option invalide {v!r}"
            if v not in p.values:
                return f"option inconnue « {v} »"
            if v in seen:
                return f"option « {v} » répétée"
            seen.add(v)
        if len(seen) > 1 and seen & p.exclusive:
            excl = ", ".join(sorted(seen & p.exclusive))
            return f"l'option « {excl} » exclut les autres"
        return None
    if t == "number":
        if not C.is_number(value):
            return "un nombre est attendu"
        if p.min is not None and value < p.min:
            return f"le nombre doit être supérieur ou égal à {_fr(p.min)}"
        if p.max is not None and value > p.max:
            return f"le nombre doit être inférieur ou égal à {_fr(p.max)}"
        return None
    if not isinstance(value, str):
        return "un texte est attendu"
    return text_problem(value, MAX_TEXT_ANSWER)


def _fr(x: float) -> str:
    """A bound the French way, like the page's hint: 10000 -> '10 000', 0.5 -> '0,5'."""
    text = f"{x:,.6f}".rstrip("0").rstrip(".")
    return text.replace(",", "\u202f").replace(".", ",")


def effective_answers(q: Questionnaire, answers: dict[str, Any]) -> dict[str, Any]:
    """The answers that count: applicable and answered questions only, in order."""
    eff: dict[str, Any] = {}
    for p in _plan(q).questions:
        if p.show_if is not None and not p.show_if(eff, None):
            continue
        v = answers.get(p.id)
        if v is not None and _answered(p, v):
            eff[p.id] = v
    return eff


def applicable(q: Questionnaire, answers: dict[str, Any]) -> dict[str, bool]:
    """Question id -> whether it applies given the answers (show_if), in questionnaire order."""
    eff: dict[str, Any] = {}
    out: dict[str, bool] = {}
    for p in _plan(q).questions:
        ok = p.show_if is None or p.show_if(eff, None)
        out[p.id] = ok
        if ok:
            v = answers.get(p.id)
            if v is not None and _answered(p, v):
                eff[p.id] = v
    return out


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

    def _finder(self) -> C.MeetFinder:
        plan = self._plan
        return C.MeetFinder(self._eff, self._ctx, dict(plan.unknown), plan.options or {},
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
    """Score an answer set (validated with validate_answers first)."""
    plan = _plan(q)
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
