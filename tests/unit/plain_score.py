"""A plain reading of the engine: the full result JSON (`to_dict()`) computed with loops over
the compiled plan's data and the interpreted conditions of `scoring.meet.evaluate`, no
generated code. The property tests check the generated path against it on random answers.
"""

from __future__ import annotations

import bisect
from fractions import Fraction
from typing import Any

from scoring import Questionnaire
from scoring.meet import MeetFinder, evaluate
from scoring.plan import Plan, QPlan, ReqPlan, plan_of
from scoring.result import EvalContext


def _unanswered(p: QPlan, v: Any) -> bool:
    if p.type == "multiple_choice":
        return not v or type(v) is not list
    if p.type == "text":
        return v is None or type(v) is not str or not v.strip()
    return v is None


def _earn(p: QPlan, v: Any, earned: list[Any]) -> None:
    pairs: list[tuple[int, Any]] = []
    if p.type == "single_choice":
        pairs = list(p.choice_points.get(v, ()))
    elif p.type == "multiple_choice":
        pairs = [pair for item in v for pair in p.choice_points.get(item, ())]
    elif p.type == "number" and p.band_from and type(v) in (int, float):
        i = bisect.bisect_right(p.band_from, v) - 1
        pairs = list(p.band_points[i]) if i >= 0 else []
    for di, pts in pairs:
        earned[di] += pts


def _num(x: Any) -> Any:
    return x if type(x) is int else float(x)


def plain_to_dict(q: Questionnaire, answers: dict[str, Any]) -> dict[str, Any]:
    # Long: the whole contract in one plain pass, mirroring the order of the result's keys.
    plan = plan_of(q)
    ndom = len(plan.domain_ids)
    earned: list[Any] = [0] * ndom
    maxs: list[Any] = [0] * ndom
    eff: dict[str, Any] = {}
    missing: list[str] = []
    applicable = 0
    unknown = dict(plan.unknown)
    for p in plan.questions:
        if p.show_ast is not None and not evaluate(p.show_ast, eff, None, unknown):
            continue
        applicable += 1
        for di, m in p.max_pairs:
            maxs[di] += m
        v = answers.get(p.id)
        if _unanswered(p, v):
            if p.required:
                missing.append(p.id)
            continue
        eff[p.id] = v
        _earn(p, v, earned)
    scores: list[float | None] = [
        float(Fraction(100 * e) / m) if m else None for e, m in zip(earned, maxs, strict=True)
    ]
    wsum, wtot = 0.0, 0.0
    for s, w in zip(scores, plan.fweights, strict=True):
        if s is not None:
            wsum += w * s
            wtot += w
    global_score = wsum / wtot if wtot else None
    ctx = EvalContext(earned, maxs, plan.weights, {d: i for i, d in enumerate(plan.domain_ids)})
    flags = [[_flag(r, eff, ctx, unknown) for r in t.requirements] for t in plan.tiers]
    level = None
    for t, tf in zip(plan.tiers, flags, strict=True):
        if False in tf:
            break
        level = t.level
    ctx.tier_level = level
    start = 0 if level is None else level + 1
    score_of = dict(zip(plan.domain_ids, scores, strict=True)) | {"global": global_score}
    options = {p.id: p.options for p in plan.questions if p.options}
    finder = MeetFinder(eff, ctx, unknown, options, {p.id: p.type for p in plan.questions})

    def answers_of(r: ReqPlan) -> dict[str, Any]:
        return {qid: eff.get(qid) for qid in r.questions}

    def to_verify(r: ReqPlan) -> bool:
        return any(eff.get(qid) == u for qid, u in r.unknown)

    tiers = []
    for t, tf in zip(plan.tiers, flags, strict=True):
        reqs = []
        for r, ok in zip(t.requirements, tf, strict=True):
            item = {
                "id": r.id,
                "label": r.label,
                "met": ok,
                "applies": ok is not None,
                "answers": answers_of(r),
            }
            if r.scores:
                item["scores"] = {d: score_of[d] for d in r.scores}
            reqs.append(item)
        tiers.append(
            {
                "id": t.id,
                "level": t.level,
                "label": t.label,
                "met": False not in tf,
                "requirements": reqs,
            }
        )
    gap: dict[str, Any] = {"next_tier": None, "requirements": []}
    if start < len(plan.tiers):
        t = plan.tiers[start]
        reqs = []
        for r, ok in zip(t.requirements, flags[start], strict=True):
            if ok is False:
                item = {
                    "id": r.id,
                    "label": r.label,
                    "answers": answers_of(r),
                    "to_verify": to_verify(r),
                    "to_meet": finder.meet(r.condition),
                }
                if r.scores:
                    item["scores"] = {d: score_of[d] for d in r.scores}
                reqs.append(item)
        gap = {"next_tier": {"id": t.id, "level": t.level, "label": t.label}, "requirements": reqs}
    return {
        "questionnaire": {"id": plan.qid, "version": plan.qversion},
        "complete": not missing,
        "missing_required": missing,
        "unknown": [qid for qid, u in plan.unknown if eff.get(qid) == u],
        "global_score": global_score,
        "domains": [
            {"id": did, "label": label, "score": s, "earned": _num(e), "max": _num(m)}
            for did, label, s, e, m in zip(
                plan.domain_ids, plan.domain_labels, scores, earned, maxs, strict=True
            )
        ],
        "tier": (
            None
            if level is None
            else {"id": plan.tiers[level].id, "level": level, "label": plan.tiers[level].label}
        ),
        "gap": gap,
        "tiers_met_above": [
            t.id for t, tf in zip(plan.tiers[start:], flags[start:], strict=True) if False not in tf
        ],
        "tiers": tiers,
        "next_steps": [
            {
                "requirement": r.id,
                "tier": t.id,
                "label": r.label,
                "title": r.title,
                "detail": r.detail,
                "effort": r.effort,
                "funding": list(r.funding),
                "to_verify": to_verify(r),
            }
            for t, tf in zip(plan.tiers[start:], flags[start:], strict=True)
            for r, ok in zip(t.requirements, tf, strict=True)
            if ok is False
        ],
        "funding": _funding(plan, eff, ctx, not missing, unknown),
        "answered": len(eff),
        "applicable": applicable,
    }


def _flag(
    r: ReqPlan, eff: dict[str, Any], ctx: EvalContext, unknown: dict[str, str]
) -> bool | None:
    ok = evaluate(r.condition, eff, ctx, unknown)
    if r.applies is not None and not evaluate(r.applies, eff, ctx, unknown):
        return None
    return ok


def _funding(
    plan: Plan, eff: dict[str, Any], ctx: EvalContext, complete: bool, unknown: dict[str, str]
) -> list[dict[str, Any]]:
    out = []
    for f in plan.fundings:
        if f.applies is not None and not evaluate(f.applies, eff, ctx, unknown):
            continue
        eligible = evaluate(f.eligible, eff, ctx, unknown)
        out.append(
            {
                "id": f.id,
                "kind": f.kind,
                "eligible": eligible if complete and f.kind == "funding" else None,
                "conditions": {qid: eff.get(qid) for qid in f.questions},
            }
        )
    return out
