"""The result page's view-model: palier, domain scores, labelled answers, trace and steps."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlmodel import Session

from app.assessments import result_parts as parts
from app.assessments import results
from app.assessments import service as svc
from app.assessments.models import Assessment, AssessmentStatus
from app.assessments.views import (
    EFFORT_LABELS,
    NO_ANSWER,
    NOT_ASKED,
    Progress,
    answer_text,
    progress,
    user_names,
)
from app.questionnaires import Registry
from app.structures.models import Structure
from scoring import Questionnaire, applicable

# ---- results --------------------------------------------------------------------------------


@dataclass
class ResultView:
    assessment: Assessment
    structure: Structure
    questionnaire: Questionnaire
    provisional: bool
    result: dict[str, Any]
    tier: dict[str, Any] | None  # id, level, label, description
    domain_scores: list[tuple[str, float | None]]  # (label, score rounded like the table)
    trace: list[dict[str, Any]]
    steps_by_tier: list[dict[str, Any]]
    funding: list[dict[str, Any]]
    answers: list[dict[str, Any]]  # sections with their questions and labelled answers
    progress: Progress
    names: dict[int, str]
    gap: dict[str, Any] | None = None  # result_parts.gap_view (None on pre-revision-2 results)
    unknown: list[str] = field(default_factory=list)  # « question ? Je ne sais pas »
    neutral: bool = False  # read by an ARS referent / committee: "la structure", not "vous"


def _tier_info(q: Questionnaire, tier: Mapping[str, Any] | None) -> dict[str, Any] | None:
    if not tier:
        return None
    model = next((t for t in q.tiers if t.id == tier.get("id")), None)
    return {"id": tier.get("id"), "level": tier.get("level"), "label": tier.get("label"),
            "description": model.description if model else None}


def result_view(session: Session, registry: Registry, a: Assessment,
                s: Structure, *, neutral: bool = False) -> ResultView:
    """The result page's content, from the stored snapshot (or a live score of a draft).
    `neutral`: wording for readers other than the structure's director."""
    q = svc.questionnaire_of(registry, a)
    r = results.result_of(registry, a)
    answers = dict(a.answers or {})
    shown = applicable(q, answers)
    provisional = a.status != AssessmentStatus.submitted
    trace = _trace(q, r, shown)
    groups = _steps_by_tier(q, r)

    funding = parts.funding_view(q, registry.catalogue, r, answers,
                                 current=registry.latest(q.id))

    # Rounded half up like the table (number_fr), so chart and table show the same figures.
    domain_scores = [(d["label"], _round1(d["score"])) for d in r.get("domains", [])]

    meta = dict(a.answer_meta or {})
    names = user_names(session, [m.get("by") for m in meta.values() if isinstance(m, dict)]
                       + [a.submitted_by, a.created_by])
    answer_sections = []
    for section in q.sections:
        items = []
        for qu in section.questions:
            if not shown[qu.id]:
                continue
            items.append({"question": qu, "answer": answer_text(qu, answers.get(qu.id)),
                          "answered": qu.id in answers and answers[qu.id] not in (None, [])})
        answer_sections.append({"section": section, "questions": items})

    return ResultView(
        assessment=a, structure=s, questionnaire=q, provisional=provisional, result=r,
        tier=_tier_info(q, r.get("tier")), domain_scores=domain_scores, trace=trace,
        steps_by_tier=list(groups.values()), funding=funding, answers=answer_sections,
        progress=progress(q, answers), names=names,
        gap=parts.gap_view(q, r, shown, neutral=neutral),
        unknown=parts.unknown_view(q, r, answers), neutral=neutral,
    )


def _trace(q: Questionnaire, r: dict[str, Any], shown: Mapping[str, bool]
           ) -> list[dict[str, Any]]:
    """Each palier of the result with its requirements, their decisive answers (labelled)
    and domain scores, and how many applicable requirements are met."""
    trace = []
    for t in r.get("tiers", []):
        reqs = []
        for req in t.get("requirements", []):
            decisive = []
            for qid, value in (req.get("answers") or {}).items():
                question = q.questions.get(qid)
                empty = NO_ANSWER if shown.get(qid, True) else NOT_ASKED
                decisive.append({"qid": qid,
                                 "label": question.label if question else qid,
                                 "answer": answer_text(question, value, empty),
                                 "answered": value is not None})
            scores = [{"id": did, "label": _domain_label(q, did), "score": sc}
                      for did, sc in (req.get("scores") or {}).items()]
            reqs.append({**req, "decisive": decisive, "score_list": scores,
                         "applies": req.get("applies", True) is not False})
        info = _tier_info(q, t) or {}
        applicable_reqs = [x for x in reqs if x["applies"]]
        trace.append({**t, "requirements": reqs, "description": info.get("description"),
                      "status": parts.trace_status(r, t),
                      "n_met": sum(1 for x in applicable_reqs if x.get("met")),
                      "n_applicable": len(applicable_reqs)})
    return trace


def _steps_by_tier(q: Questionnaire, r: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The next steps grouped by palier, with effort labels and funding references."""
    funding_models = {f.id: f for f in q.funding}

    def funding_ref(fid: str) -> dict[str, Any]:
        f = funding_models.get(fid)
        return {"id": fid, "label": f.label if f else fid, "url": f.url if f else None,
                "description": f.description if f else None}

    tier_labels = {t["id"]: t["label"] for t in r.get("tiers", [])}
    groups: dict[str, dict[str, Any]] = {}
    for step in r.get("next_steps", []):
        g = groups.setdefault(step["tier"], {"tier": step["tier"],
                                             "label": tier_labels.get(step["tier"],
                                                                      step["tier"]),
                                             "steps": []})
        g["steps"].append({**step, "effort_label": EFFORT_LABELS.get(step["effort"],
                                                                     step["effort"]),
                           "to_verify": bool(step.get("to_verify")),
                           "funding_refs": [funding_ref(f) for f in step.get("funding", [])]})
    return groups


def _round1(x: float | None) -> float | None:
    if x is None:
        return None
    return float(Decimal(str(x)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP))


def _domain_label(q: Questionnaire, did: str) -> str:
    if did == "global":
        return "Score global"
    return next((d.label for d in q.domains if d.id == did), did)
