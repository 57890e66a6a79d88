"""A deliberately naive, independent reading of the questionnaire contract.

Written straight from questionnaire-format.md with exact rationals and no compilation, to
cross-check the engine on generated answers. Slow and simple on purpose.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any


def _answered(qtype: str, v: Any) -> bool:
    if v is None:
        return False
    if qtype == "multiple_choice":
        return len(v) > 0
    if qtype == "text":
        return v.strip() != ""
    return True


def _questions(doc: dict[str, Any]) -> list[dict[str, Any]]:
    return [q for s in doc["sections"] for q in s["questions"]]


def _unknown_values(doc: dict[str, Any]) -> dict[str, str]:
    """Question id -> the value of its `unknown: true` option ("je ne sais pas")."""
    return {q["id"]: o["value"] for q in _questions(doc) for o in q.get("options", [])
            if o.get("unknown")}


UNKNOWN: dict[str, str] = {}  # set by reference_score for the document being read


def _leaf(c: dict[str, Any], eff: dict[str, Any], scores: dict[str, Any], tier: Any) -> bool:
    if "all" in c:
        return all(_leaf(x, eff, scores, tier) for x in c["all"])
    if "any" in c:
        return any(_leaf(x, eff, scores, tier) for x in c["any"])
    if "not" in c:
        return not _leaf(c["not"], eff, scores, tier)
    if "tier_at_least" in c:
        return tier is not None and tier >= c["tier_at_least"]
    if "score" in c:
        s = scores[c["score"]]
        if s is None:
            return False
        if "at_least" in c:
            return s >= Fraction(str(c["at_least"]))
        return s <= Fraction(str(c["at_most"]))
    qid = c["question"]
    if "answered" in c:
        return (qid in eff) == c["answered"]
    if qid not in eff:
        return False
    a = eff[qid]
    (op, v), = ((k, val) for k, val in c.items() if k != "question")
    # Revision 2: "je ne sais pas" makes a leaf false unless the leaf names that value.
    if qid in UNKNOWN and a == UNKNOWN[qid]:
        named = v == a if isinstance(v, str) else a in v
        if not named:
            return False
    return {
        "equals": lambda: a == v,
        "not_equals": lambda: a != v,
        "in": lambda: a in v,
        "not_in": lambda: a not in v,
        "includes": lambda: v in a,
        "includes_all": lambda: all(x in a for x in v),
        "includes_any": lambda: any(x in a for x in v),
        "count_at_least": lambda: len(a) >= v,
        "at_least": lambda: a >= v,
        "at_most": lambda: a <= v,
    }[op]()


def reference_score(doc: dict[str, Any], answers: dict[str, Any]) -> dict[str, Any]:
    UNKNOWN.clear()
    UNKNOWN.update(_unknown_values(doc))
    domains = [d["id"] for d in doc["domains"]]
    eff: dict[str, Any] = {}
    applicable: list[dict[str, Any]] = []
    for q in _questions(doc):
        cond = q.get("show_if")
        if cond is None or _leaf(cond, eff, {}, None):
            applicable.append(q)
            v = answers.get(q["id"])
            if _answered(q["type"], v):
                eff[q["id"]] = v
    earned = {d: Fraction(0) for d in domains}
    maxs = {d: Fraction(0) for d in domains}
    for q in applicable:
        for d in domains:
            if q["type"] in ("single_choice", "multiple_choice"):
                pts = [Fraction(str(o.get("points", {}).get(d, 0))) for o in q["options"]]
                maxs[d] += sum(pts) if q["type"] == "multiple_choice" else max(pts)
            elif q["type"] == "number" and q.get("bands"):
                maxs[d] += max(Fraction(str(b.get("points", {}).get(d, 0))) for b in q["bands"])
        if q["id"] not in eff:
            continue
        a = eff[q["id"]]
        for d in domains:
            if q["type"] == "single_choice":
                o = next(o for o in q["options"] if o["value"] == a)
                earned[d] += Fraction(str(o.get("points", {}).get(d, 0)))
            elif q["type"] == "multiple_choice":
                for o in q["options"]:
                    if o["value"] in a:
                        earned[d] += Fraction(str(o.get("points", {}).get(d, 0)))
            elif q["type"] == "number" and q.get("bands"):
                fitting = [b for b in q["bands"] if b["from"] <= a]
                if fitting:
                    earned[d] += Fraction(str(fitting[-1].get("points", {}).get(d, 0)))
    scores: dict[str, Any] = {d: (100 * earned[d] / maxs[d] if maxs[d] else None) for d in domains}
    weights = {d["id"]: Fraction(str(d["weight"])) for d in doc["domains"]}
    counted = [d for d in domains if scores[d] is not None]
    total = sum(weights[d] for d in counted)
    scores["global"] = (sum(weights[d] * scores[d] for d in counted) / total
                        if counted else None)
    met: dict[int, list[bool | None]] = {}
    for t in doc["tiers"]:
        # Revision 2: a requirement whose applies_if is false is met: None (never blocks).
        met[t["level"]] = [
            _leaf(r["condition"], eff, scores, None)
            if _leaf(r.get("applies_if", {"all": []}), eff, scores, None) else None
            for r in t["requires"]]
    tier = None
    for t in doc["tiers"]:
        if all(m is not False for m in met[t["level"]]):
            tier = t["level"]
        else:
            break
    steps = [r["id"] for t in doc["tiers"] if tier is None or t["level"] > tier
             for r, ok in zip(t["requires"], met[t["level"]], strict=True) if ok is False]
    missing = [q["id"] for q in applicable if q.get("required") and q["id"] not in eff]
    # Revision 2: entries whose applies_if is false are left out; a resource is never
    # eligible; no eligibility on an incomplete assessment.
    funding = {
        f["id"]: (_leaf(f["eligible_if"], eff, scores, tier)
                  if not missing and f.get("kind", "funding") == "funding" else None)
        for f in doc.get("funding", [])
        if _leaf(f.get("applies_if", {"all": []}), eff, scores, None)}
    unknown = [q["id"] for q in applicable
               if q["id"] in UNKNOWN and eff.get(q["id"]) == UNKNOWN[q["id"]]]
    return {"scores": scores, "tier": tier, "next_steps": steps, "funding": funding,
            "missing": missing, "unknown": unknown}
