"""Display parts of a result (contract revision 2), shared by the result page, the print view,
the declaration PDF and the exports: the gap to the next palier, the paliers above whose own
requirements are met, the tier trace without contradictions, "je ne sais pas" answers and the
funding entries read with the programme catalogue.

Pure functions of (questionnaire, catalogue, stored result, answers): results stored before
revision 2 (2026.1 submissions) lack `gap`, `kind`, `conditions`...; every key is read with a
default (kind `funding`, no conditions, no gap computed here).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from app.formatting import date_fr, number_fr
from scoring import Catalogue, Question, Questionnaire

STATUS_LABELS = {"open": "Ouvert", "closed": "Fermé", "ended": "Terminé", "announced": "Annoncé"}
STATUS_BADGES = {"open": "success", "closed": "warning", "ended": "error", "announced": "info"}
KIND_LABELS = {"funding": "Financement", "resource": "Ressource"}
NOT_APPLICABLE = "Non applicable à cette structure"
TO_VERIFY = "À vérifier auprès de votre éditeur ou prestataire"
INCOMPLETE_ELIGIBILITY = "Éligibilité non évaluée : évaluation incomplète"
RESOURCE = "Ressource mobilisable"
ELIGIBLE = "Éligible d’après les réponses"
NOT_ELIGIBLE = "Non éligible en l’état"
ELIGIBLE_NO_CALL = {
    "ended": "Conditions remplies d’après les réponses, mais le programme est terminé",
    "closed": "Conditions remplies d’après les réponses, mais le programme est fermé",
}
STALE_DAYS = 183  # "older than 6 months" on the admin page


def _labels(question: Question | None, value: Any) -> list[str]:
    if question is None:
        return [str(value)]
    if question.type in ("single_choice", "multiple_choice"):
        by_value = {o.value: o.label for o in question.options or []}
        values = value if isinstance(value, list) else [value]
        return [by_value.get(v, str(v)) for v in values]
    if isinstance(value, bool):
        return ["oui" if value else "non"]
    if isinstance(value, (int, float)):
        return [number_fr(value)]
    return [str(value)]


def question_answer(q: Questionnaire, qid: str, value: Any, *, shown: bool = True) -> str:
    """« question ? réponse », the way a requirement or a programme reads an answer."""
    question = q.questions.get(qid)
    label = (question.label if question else qid).rstrip()
    if value is None or value == []:
        answer = "sans réponse" if shown else "question non posée"
    else:
        answer = ", ".join(_labels(question, value))
    sep = " " if label.endswith("?") else " ? "
    return f"« {label}{sep}{answer} »"


def _domain_label(q: Questionnaire, did: str) -> str:
    if did == "global":
        return "score global"
    return next((f"score « {d.label} »" for d in q.domains if d.id == did), did)


def to_meet_text(q: Questionnaire, cond: Mapping[str, Any] | None) -> str | None:
    """A `to_meet` condition said plainly; None when no exact answer expresses it."""
    if not cond:
        return None
    if "all" in cond:
        parts = [to_meet_text(q, c) for c in cond["all"]]
        return " et ".join(p for p in parts if p) or None
    if "any" in cond:
        parts = [to_meet_text(q, c) for c in cond["any"]]
        return " ou ".join(p for p in parts if p) or None
    if "not" in cond:
        inner = to_meet_text(q, cond["not"])
        return f"pas {inner}" if inner else None
    if "score" in cond:
        what = _domain_label(q, cond["score"])
        if "at_least" in cond:
            return f"{what} d’au moins {number_fr(cond['at_least'])} sur 100"
        if "at_most" in cond:
            return f"{what} d’au plus {number_fr(cond['at_most'])} sur 100"
        return None
    if "tier_at_least" in cond:
        return f"palier {cond['tier_at_least']} atteint"
    qid = cond.get("question")
    if qid is None:
        return None
    question = q.questions.get(qid)
    label = (question.label if question else qid).rstrip()
    sep = " " if label.endswith("?") else " ? "

    def said(text: str) -> str:
        return f"« {label}{sep}{text} »"

    def alternatives(values: Any) -> str:
        return " ou ".join(_labels(question, values))

    if "in" in cond or "equals" in cond:
        return said(alternatives(cond["in"] if "in" in cond else [cond["equals"]]))
    if "includes" in cond:
        return said(alternatives([cond["includes"]]))
    if "includes_all" in cond:
        return said(" et ".join(_labels(question, cond["includes_all"])))
    if "includes_any" in cond:
        return said(alternatives(cond["includes_any"]))
    if "not_in" in cond or "not_equals" in cond:
        values = cond["not_in"] if "not_in" in cond else [cond["not_equals"]]
        return said("autre que " + alternatives(values))
    if "at_least" in cond:
        return said(f"au moins {number_fr(cond['at_least'])}")
    if "at_most" in cond:
        return said(f"au plus {number_fr(cond['at_most'])}")
    if "count_at_least" in cond:
        return said(f"au moins {cond['count_at_least']} choix")
    if "answered" in cond:
        return said("une réponse" if cond["answered"] else "sans réponse")
    return None


def _points(n: int, tier_level: Any, neutral: bool) -> str:
    if n == 1:
        verb = "sépare la structure" if neutral else "vous sépare"
        return f"Un seul point {verb} du palier {tier_level}"
    verb = "séparent la structure" if neutral else "vous séparent"
    return f"{n} points {verb} du palier {tier_level}"


def _decisive(q: Questionnaire, answers: Mapping[str, Any] | None,
              shown: Mapping[str, bool]) -> list[str]:
    return [question_answer(q, qid, v, shown=shown.get(qid, True))
            for qid, v in (answers or {}).items()]


def gap_view(q: Questionnaire, r: Mapping[str, Any], shown: Mapping[str, bool], *,
             neutral: bool = False) -> dict[str, Any] | None:
    """What separates the structure from the next palier, and the paliers above already met.
    None when the stored result has no `gap` (results stored before revision 2)."""
    if "gap" not in r:
        return None
    gap = r.get("gap") or {}
    nxt = gap.get("next_tier")
    tiers = r.get("tiers") or []
    levels = {t["id"]: t.get("level") for t in tiers}
    reqs = []
    for req in gap.get("requirements") or []:
        reqs.append({
            "id": req.get("id"), "label": req.get("label"),
            "decisive": _decisive(q, req.get("answers"), shown),
            "scores": [f"{_domain_label(q, d)} : {number_fr(s, 1) if s is not None else '—'}"
                       " sur 100" for d, s in (req.get("scores") or {}).items()],
            "to_meet": to_meet_text(q, req.get("to_meet")),
            "to_verify": bool(req.get("to_verify")),
        })
    placed = (r.get("tier") or {}).get("level")
    above = []
    for tid in r.get("tiers_met_above") or []:
        level = levels.get(tid)
        # Points between the placed palier and this one: unmet applicable requirements of
        # the paliers in between (its own are all met).
        n = sum(1 for t in tiers
                if t.get("level") is not None and level is not None
                and (placed is None or t["level"] > placed) and t["level"] < level
                for req in t.get("requirements") or []
                if req.get("applies", True) and req.get("met") is False)
        label = next((t.get("label") for t in tiers if t["id"] == tid), tid)
        above.append({"id": tid, "level": level, "label": label, "points": n,
                      "text": _points(n, level, neutral) + " : ses exigences propres sont "
                      "déjà remplies."})
    headline = None
    if nxt:
        headline = _points(len(reqs), nxt.get("level"), neutral) + "." if reqs else None
    return {"next_tier": nxt, "requirements": reqs, "above": above, "headline": headline,
            "top": nxt is None}


def trace_status(r: Mapping[str, Any], t: Mapping[str, Any]) -> str:
    """A palier's line in the trace: never "atteint" above the placed palier."""
    placed = (r.get("tier") or {}).get("level")
    level = t.get("level")
    if placed is not None and level is not None and level <= placed:
        return "atteint"
    if t.get("met"):
        blocker = ((r.get("gap") or {}).get("next_tier") or {}).get("level")
        if blocker is None:
            blocker = min((x.get("level") for x in r.get("tiers") or []
                           if not x.get("met") and x.get("level") is not None), default=None)
        if blocker is not None:
            return f"exigences propres remplies — bloqué par le palier {blocker}"
        return "exigences propres remplies"
    return "non atteint"


def unknown_view(q: Questionnaire, r: Mapping[str, Any],
                 answers: Mapping[str, Any]) -> list[str]:
    return [question_answer(q, qid, answers.get(qid)) for qid in r.get("unknown") or []]


def programme_of(catalogue: Catalogue | None, fid: str) -> Any:
    return catalogue.get(fid) if catalogue is not None else None


def funding_view(q: Questionnaire, catalogue: Catalogue | None, r: Mapping[str, Any],
                 answers: Mapping[str, Any], current: Questionnaire | None = None
                 ) -> list[dict[str, Any]]:
    """Each funding entry of the result with its kind, current status (catalogue), as_of,
    eligibility (only on a complete assessment; never "éligible" for a resource), reasons and
    sources.

    A result stored before revision 2 has no `kind`: it takes the kind that `current` (the
    newest version of the questionnaire) gives the same programme, so that a 2026.1 result
    never reads "éligible" to what is today known to be a resource (CaRE for an ESMS). The
    stored result itself is never changed."""
    models = {f.id: f for f in q.funding}
    current_kinds = {f.id: f.kind for f in current.funding} if current is not None else {}
    cat = catalogue or q.catalogue
    complete = bool(r.get("complete", True))
    out = []
    for entry in r.get("funding") or []:
        fid = entry.get("id")
        model = models.get(fid)
        prog = programme_of(cat, fid)
        kind = (entry.get("kind") or current_kinds.get(fid)
                or (model.kind if model else "funding") or "funding")
        eligible = entry.get("eligible")
        if kind == "resource":
            eligibility, state = RESOURCE, "resource"
        elif not complete or eligible is None:
            eligibility, state = INCOMPLETE_ELIGIBILITY, "unknown"
        elif eligible and prog is not None and prog.status in ("ended", "closed"):
            # Never "éligible" to a programme that takes no more applications.
            eligibility, state = ELIGIBLE_NO_CALL[prog.status], "no_call"
        elif eligible:
            eligibility, state = ELIGIBLE, "eligible"
        else:
            eligibility, state = NOT_ELIGIBLE, "not_eligible"
        sources: list[dict[str, str]] = []
        for s in [*(model.sources if model else []), *(prog.sources if prog else [])]:
            if all(x["url"] != s.url for x in sources):
                sources.append({"url": s.url, "title": s.title})
        if not sources and model and model.url:
            sources.append({"url": model.url, "title": model.label})
        status = prog.status if prog else None
        out.append({
            "id": fid,
            "label": prog.label if prog else (model.label if model else fid),
            "url": model.url if model else None,
            "description": (prog.summary if prog else None) or (model.description
                                                                if model else None),
            "kind": kind, "kind_label": KIND_LABELS.get(kind, kind),
            "status": status, "status_label": STATUS_LABELS.get(status or ""),
            "status_badge": STATUS_BADGES.get(status or "", ""),
            "as_of": prog.as_of if prog else None,
            "as_of_fr": date_fr(prog.as_of) if prog else None,
            "eligible": eligible if kind != "resource" and complete else None,
            "eligibility": eligibility, "eligibility_state": state,
            "reasons": [question_answer(q, qid, v)
                        for qid, v in (entry.get("conditions") or {}).items()],
            "sources": sources,
        })
    return out


def stale(as_of: date, today: date) -> bool:
    """An entry not re-checked for more than six months."""
    months = (today.year - as_of.year) * 12 + today.month - as_of.month
    return months > 6 or (months == 6 and today.day > as_of.day)


def catalogue_rows(catalogue: Catalogue | None, today: date) -> list[dict[str, Any]]:
    """The admin page's rows."""
    rows = []
    for p in catalogue.programmes if catalogue else []:
        rows.append({
            "id": p.id, "label": p.label, "status": p.status,
            "status_label": STATUS_LABELS.get(p.status, p.status),
            "status_badge": STATUS_BADGES.get(p.status, ""),
            "as_of": p.as_of, "as_of_fr": date_fr(p.as_of),
            "window": ({"from": date_fr(p.window.from_) if p.window.from_ else None,
                        "until": date_fr(p.window.until) if p.window.until else None}
                       if p.window else None),
            "summary": p.summary,
            "sources": [{"url": s.url, "title": s.title} for s in p.sources],
            "stale": stale(p.as_of, today),
        })
    return rows

