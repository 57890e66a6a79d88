"""Results of an assessment (stored snapshot or live score) and a structure's history of
submissions with deltas, read through `service` (which checks the actor)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlmodel import Session

from app.assessments.models import Assessment, AssessmentStatus
from app.assessments.service import get_structure, questionnaire_of, submitted_assessments
from app.permissions import Actor
from app.questionnaires import Registry
from scoring import Result, score


def result_of(registry: Registry, a: Assessment) -> dict[str, Any]:
    """The stored snapshot of a submitted assessment; a live score of a draft."""
    if a.status == AssessmentStatus.submitted and a.result:
        return dict(a.result)
    q = questionnaire_of(registry, a)
    answers = dict(a.answers or {})
    return score(q, answers).to_dict()


def live_result(registry: Registry, a: Assessment) -> Result:
    return score(questionnaire_of(registry, a), dict(a.answers or {}))


@dataclass
class HistoryEntry:
    assessment: Assessment
    tier_label: str | None
    global_score: float | None
    global_delta: float | None
    domains: list[dict[str, Any]]  # id, label, score, delta


def history(session: Session, actor: Actor | None, finess: str) -> list[HistoryEntry]:
    """Submitted assessments, newest first, with deltas against the previous submission."""
    s = get_structure(session, actor, finess)
    assert s.id is not None
    subs = submitted_assessments(session, s.id)
    out: list[HistoryEntry] = []
    for i, a in enumerate(subs):
        r = a.result or {}
        prev = (subs[i + 1].result or {}) if i + 1 < len(subs) else None
        prev_scores = {d["id"]: d["score"] for d in (prev or {}).get("domains", [])}
        domains = []
        for d in r.get("domains", []):
            before = prev_scores.get(d["id"])
            delta = None if prev is None or d["score"] is None or before is None \
                else d["score"] - before
            domains.append({"id": d["id"], "label": d["label"], "score": d["score"],
                            "delta": delta})
        g, pg = r.get("global_score"), (prev or {}).get("global_score")
        out.append(HistoryEntry(
            assessment=a,
            tier_label=(r.get("tier") or {}).get("label"),
            global_score=g,
            global_delta=None if prev is None or g is None or pg is None else g - pg,
            domains=domains,
        ))
    return out
