"""What the review panel, the evidence page and the include hooks show (no HTTP here)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import object_session
from sqlmodel import Session

from app.assessments import results
from app.assessments import service as svc
from app.assessments.models import Assessment, AssessmentStatus
from app.assessments.question_form import question_of
from app.assessments.views import NOT_ASKED, answer_text, user_names
from app.permissions import Action, Actor, can_on_structure
from app.questionnaires import Registry
from app.reviews import service
from app.reviews.models import REVIEW_LABELS, Evidence
from app.structures.models import Structure
from scoring import Question, Questionnaire, applicable


def filesize_fr(size: int | None) -> str:
    """1536 -> '1,5 ko'; 2_500_000 -> '2,4 Mo' (binary units, French decimal comma)."""
    if size is None:
        return "—"
    if size < 1024:
        return f"{size} octet{'s' if size > 1 else ''}"
    for unit, factor in (("ko", 1024), ("Mo", 1024**2), ("Go", 1024**3)):
        value = size / factor
        if value < 1024 or unit == "Go":
            text = f"{value:.1f}".rstrip("0").rstrip(".").replace(".", ",")
            return f"{text} {unit}"
    return str(size)  # pragma: no cover


# ---- include hooks (template globals; read through the object's own session) ----------------


@dataclass
class ReviewInfo:
    status: str
    label: str
    comment: str
    at: Any
    reviewer: str


def review_of(assessment: Assessment | None) -> ReviewInfo | None:
    """The latest review of an assessment shown on a page, or None. Reads through the session
    the assessment was loaded in (so the include hooks need nothing from the page's route)."""
    if assessment is None or assessment.id is None:
        return None
    session = object_session(assessment)
    if session is None:
        return None
    r = service.latest_review(session, assessment.id)  # type: ignore[arg-type]
    if r is None:
        return None
    names = user_names(session, [r.reviewer_id])  # type: ignore[arg-type]
    return ReviewInfo(r.status, REVIEW_LABELS.get(r.status, r.status), r.comment, r.created_at,
                      names.get(r.reviewer_id or 0, "l’ARS"))


def evidence_of(assessment: Assessment | None) -> dict[str, list[Evidence]]:
    """{question id: [evidence]} of an assessment shown on a page ({} when unknown)."""
    if assessment is None or assessment.id is None:
        return {}
    session = object_session(assessment)
    if session is None:
        return {}
    return service.evidence_by_question(session, assessment.id)  # type: ignore[arg-type]


# ---- review panel ---------------------------------------------------------------------------


@dataclass
class AnswerEvidence:
    question_id: str
    label: str
    answer: str
    evidence: list[Evidence]
    requirements: list[str] = field(default_factory=list)


@dataclass
class ReviewPanel:
    assessment: Assessment
    structure: Structure
    current: service.ReviewEntry | None
    history: list[service.ReviewEntry]
    can_review: bool
    can_fill: bool
    decisive: list[AnswerEvidence]  # answers that decided the palier reached
    others: list[AnswerEvidence]  # other answers with evidence
    evidence_count: int
    tier_label: str | None
    names: dict[int, str]


def _answer(q: Questionnaire | None, shown: dict[str, bool], answers: dict[str, Any],
            qid: str) -> tuple[str, str]:
    question: Question | None = q.questions.get(qid) if q else None
    label = question.label if question else qid
    empty = NOT_ASKED if not shown.get(qid, True) else "Sans réponse"
    return label, answer_text(question, answers.get(qid), empty)


def review_panel(session: Session, registry: Registry, actor: Actor, a: Assessment,
                 s: Structure) -> ReviewPanel:
    assert a.id is not None and s.id is not None
    q = registry.get(a.questionnaire_id, a.questionnaire_version)
    answers = dict(a.answers or {})
    shown = applicable(q, answers) if q else {}
    result = results.result_of(registry, a) if q else dict(a.result or {})
    reached = (result.get("tier") or {}).get("level")
    evidence = service.evidence_by_question(session, a.id)

    decisive: dict[str, AnswerEvidence] = {}
    for tier in result.get("tiers", []):
        if reached is None or tier.get("level", 0) > reached:
            continue
        for req in tier.get("requirements", []):
            for qid in (req.get("answers") or {}):
                if qid not in decisive:
                    label, text = _answer(q, shown, answers, qid)
                    decisive[qid] = AnswerEvidence(qid, label, text, evidence.get(qid, []))
                decisive[qid].requirements.append(req.get("label", req.get("id", "")))
    order = {qid: i for i, qid in enumerate(q.questions)} if q else {}
    others = []
    for qid, items in evidence.items():
        if qid not in decisive:
            label, text = _answer(q, shown, answers, qid)
            others.append(AnswerEvidence(qid, label, text, items))
    others.sort(key=lambda x: order.get(x.question_id, len(order)))

    entries = service.history(session, a.id)
    uploaders = [e.uploaded_by for items in evidence.values() for e in items]
    return ReviewPanel(
        assessment=a, structure=s, current=entries[0] if entries else None, history=entries,
        can_review=a.status == AssessmentStatus.submitted
        and can_on_structure(actor, Action.review_assessment, s.id, s.region),
        can_fill=can_on_structure(actor, Action.fill_assessment, s.id, s.region),
        decisive=sorted(decisive.values(), key=lambda x: order.get(x.question_id, len(order))),
        others=others, evidence_count=sum(len(v) for v in evidence.values()),
        tier_label=(result.get("tier") or {}).get("label"),
        names=user_names(session, uploaders),
    )


# ---- evidence page --------------------------------------------------------------------------


@dataclass
class EvidencePage:
    assessment: Assessment
    structure: Structure
    questionnaire: Questionnaire
    question: Question
    section_id: str
    answer: str
    decisive: bool
    items: list[Evidence]
    editable: bool
    names: dict[int, str]


def _read_questions(condition: Any) -> Iterator[str]:
    """The question ids a requirement's condition reads (all / any / not nested)."""
    if isinstance(condition, dict):
        if isinstance(condition.get("question"), str):
            yield condition["question"]
        for value in condition.values():
            yield from _read_questions(value)
    elif isinstance(condition, list):
        for item in condition:
            yield from _read_questions(item)


_PALIER_QUESTIONS: dict[tuple[str, str], frozenset[str]] = {}


def palier_questions(q: Questionnaire | None) -> frozenset[str]:
    """Questions some palier requirement reads: the answers a palier depends on (template
    global: the questionnaire's evidence links recommend a proof for these)."""
    if q is None:
        return frozenset()
    key = (q.id, q.version)
    found = _PALIER_QUESTIONS.get(key)
    if found is None:
        found = frozenset(qid for t in q.tiers for r in t.requires
                          for qid in _read_questions(r.condition))
        _PALIER_QUESTIONS[key] = found
    return found


def evidence_page(session: Session, registry: Registry, actor: Actor, assessment_id: int,
                  question_id: str) -> EvidencePage:
    a, s = svc.get_assessment(session, actor, assessment_id)
    assert a.id is not None and s.id is not None
    q = svc.questionnaire_of(registry, a)
    question, section = question_of(q, question_id)
    answers = dict(a.answers or {})
    _, text = _answer(q, applicable(q, answers), answers, question_id)
    items = service.evidence_by_question(session, a.id).get(question_id, [])
    return EvidencePage(
        assessment=a, structure=s, questionnaire=q, question=question, section_id=section.id,
        answer=text, decisive=question_id in palier_questions(q),
        items=items,
        editable=a.status == AssessmentStatus.draft
        and can_on_structure(actor, Action.fill_assessment, s.id, s.region),
        names=user_names(session, [e.uploaded_by for e in items]),
    )
