"""View-models of the director's pages: answers parsed and labelled, section progress, the
structures overview. The question form is `question_form.py` (the only writer, through
`assessments.save_answers`), the result page `result_page.py`.

Everything here reads through `app.assessments.service` (which owns permissions and
transactions) and the scoring engine.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlmodel import Session

from app.accounts.models import User
from app.assessments import results
from app.assessments import service as svc
from app.assessments.models import Assessment
from app.errors import NotFound
from app.formatting import number_fr
from app.numbers_fr import NumberError, as_answer, parse_number_fr
from app.permissions import Action, Actor, can_on_structure
from app.questionnaires import Registry
from app.structures.directory import list_structures
from app.structures.models import Structure
from scoring import Question, Questionnaire, applicable_and_effective
from scoring.model import Section

NO_ANSWER = "Sans réponse"
NOT_ASKED = "Question non posée (sans objet pour cette structure)"
EFFORT_LABELS = {"faible": "Effort faible", "moyen": "Effort moyen", "eleve": "Effort élevé"}
NOT_APPLICABLE_ERROR = ("Cette question ne s’applique pas à votre structure compte tenu de vos "
                        "autres réponses : elle n’a pas été enregistrée.")


# ---- answers: parsing and labels -----------------------------------------------------------


def parse_value(question: Question, raw: Sequence[str]) -> tuple[Any, str | None]:
    """A posted field (all values of `q_<id>`) as an answer; None clears the answer.

    Returns (value, error): error is a French message when the text is not a number."""
    if question.type == "multiple_choice":
        chosen = {v for v in raw if v}
        order = [o.value for o in question.options or []]
        ordered = [v for v in order if v in chosen] + sorted(chosen - set(order))
        return (ordered or None), None
    text = raw[-1] if raw else ""
    if question.type == "number":
        try:
            number = parse_number_fr(text)
        except NumberError as exc:
            return None, exc.message
        return (None if number is None else as_answer(number)), None
    if question.type == "text":
        text = text.replace("\r\n", "\n")
        return (text if text.strip() else None), None
    return (text.strip() or None), None


def sentence(message: str) -> str:
    """Engine messages are lower-case fragments: make them a sentence."""
    message = message.strip()
    if not message:
        return message
    message = message[0].upper() + message[1:]
    return message if message.endswith((".", "!", "?")) else message + "."


def format_number(value: float | int) -> str:
    return number_fr(value)


def answer_labels(question: Question | None, value: Any) -> list[str]:
    """The answer as the user saw it: option labels, French numbers, the text."""
    if value is None or value == [] or value == "":
        return []
    if question is None:
        return [str(value)]
    labels = {o.value: o.label for o in question.options or []}
    if question.type == "multiple_choice":
        values = value if isinstance(value, list) else [value]
        return [labels.get(str(v), str(v)) for v in values]
    if question.type == "single_choice":
        return [labels.get(str(value), str(value))]
    if question.type == "number" and isinstance(value, int | float):
        return [format_number(value)]
    return [str(value)]


def answer_text(question: Question | None, value: Any, empty: str = NO_ANSWER) -> str:
    labels = answer_labels(question, value)
    return " ; ".join(labels) if labels else empty


def field_anchor(question: Question) -> str:
    """The id of the first focusable control of a question (error summary links)."""
    base = f"q_{question.id}"
    if question.type == "multiple_choice":
        return base + "-1"
    if question.type == "single_choice" and len(question.options or []) <= 5:
        return base + "-1"
    return base


def user_names(session: Session, ids: Iterable[int | None]) -> dict[int, str]:
    out: dict[int, str] = {}
    for uid in {i for i in ids if i is not None}:
        user = session.get(User, uid)
        if user is not None:
            out[uid] = user.name or user.email
    return out


# ---- progress -------------------------------------------------------------------------------


@dataclass
class SectionProgress:
    id: str
    title: str
    number: int
    answered: int
    applicable: int
    missing_required: int

    @property
    def complete(self) -> bool:
        return self.missing_required == 0

    @property
    def done(self) -> bool:
        return self.answered >= self.applicable


@dataclass
class Progress:
    answered: int
    applicable: int
    sections: list[SectionProgress]

    @property
    def percent(self) -> int:
        if not self.applicable:
            return 0
        return int(100 * self.answered / self.applicable)

    @property
    def missing_required(self) -> int:
        return sum(s.missing_required for s in self.sections)


def progress(q: Questionnaire, answers: Mapping[str, Any]) -> Progress:
    """Answered / applicable questions, overall and per section."""
    return progress_of(q, *applicable_and_effective(q, dict(answers)))


def progress_of(q: Questionnaire, shown: Mapping[str, bool],
                eff: Mapping[str, Any]) -> Progress:
    """`progress` from `scoring.applicable_and_effective` of the answers."""
    sections = []
    for i, section in enumerate(q.sections, start=1):
        ids = [qu.id for qu in section.questions if shown[qu.id]]
        answered = sum(1 for qid in ids if qid in eff)
        missing = sum(1 for qu in section.questions
                      if shown[qu.id] and qu.required and qu.id not in eff)
        sections.append(SectionProgress(section.id, section.title, i, answered, len(ids),
                                        missing))
    return Progress(sum(s.answered for s in sections), sum(s.applicable for s in sections),
                    sections)


def missing_questions(q: Questionnaire, answers: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Required questions without an answer, each with its section (for links)."""
    shown, eff = applicable_and_effective(q, dict(answers))
    out = []
    for number, section in enumerate(q.sections, start=1):
        for qu in section.questions:
            if shown[qu.id] and qu.required and qu.id not in eff:
                out.append({"question": qu, "section": section, "number": number})
    return out


def submit_recap(q: Questionnaire, assessment_id: int,
                 answers: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Every applicable question by section, with its answer as the user saw it and a link
    to its field (the recap before submitting)."""
    shown, eff = applicable_and_effective(q, dict(answers))
    out = []
    for number, section in enumerate(q.sections, start=1):
        items = [{"question": qu, "answer": answer_text(qu, eff.get(qu.id)),
                  "answered": qu.id in eff,
                  "href": f"/evaluations/{assessment_id}/sections/{section.id}"
                          f"#{field_anchor(qu)}"}
                 for qu in section.questions if shown[qu.id]]
        if items:
            out.append({"section": section, "number": number, "items": items})
    return out


def section_index(q: Questionnaire, section_id: str) -> int:
    for i, section in enumerate(q.sections):
        if section.id == section_id:
            return i
    raise NotFound("Section introuvable.")


def first_open_section(q: Questionnaire, answers: Mapping[str, Any]) -> Section | None:
    """The first section with an unanswered applicable question (None when all answered)."""
    for sp, section in zip(progress(q, answers).sections, q.sections, strict=True):
        if not sp.done:
            return section
    return None


# ---- structures ----------------------------------------------------------------------------


@dataclass
class DraftSummary:
    assessment: Assessment
    progress: Progress


@dataclass
class LastResult:
    assessment: Assessment
    tier: dict[str, Any] | None
    global_score: float | None


@dataclass
class StructureCard:
    structure: Structure
    draft: DraftSummary | None
    last: LastResult | None
    submissions: int
    can_fill: bool
    can_read_draft: bool = False  # its answers (permissions.Action.read_draft)


def _draft_summary(registry: Registry, a: Assessment | None) -> DraftSummary | None:
    if a is None:
        return None
    q = registry.get(a.questionnaire_id, a.questionnaire_version)
    if q is None:
        return DraftSummary(a, Progress(0, 0, []))
    return DraftSummary(a, progress(q, a.answers or {}))


def _last_result(subs: list[Assessment]) -> LastResult | None:
    if not subs:
        return None
    last = subs[0]
    r = last.result or {}
    return LastResult(last, r.get("tier"), r.get("global_score", last.global_score))


def structure_card(session: Session, actor: Actor, registry: Registry,
                   s: Structure) -> StructureCard:
    assert s.id is not None
    subs = svc.submitted_assessments(session, s.id)
    return StructureCard(
        structure=s,
        draft=_draft_summary(registry, svc.current_draft(session, s.id)),
        last=_last_result(subs),
        submissions=len(subs),
        can_fill=can_on_structure(actor, Action.fill_assessment, s.id, s.region),
        can_read_draft=can_on_structure(actor, Action.read_draft, s.id, s.region),
    )


def my_structures(session: Session, actor: Actor, registry: Registry) -> list[StructureCard]:
    """The director's home: every structure in the actor's scope, with draft and results."""
    page = list_structures(session, actor, limit=1000)
    return [structure_card(session, actor, registry, s) for s in page.items]


@dataclass
class StructureDetail:
    card: StructureCard
    history: list[results.HistoryEntry]
    domains: list[dict[str, str]]  # id, label of the columns of the history table


def structure_detail(session: Session, actor: Actor | None, registry: Registry,
                     finess: str) -> StructureDetail:
    s = svc.get_structure(session, actor, finess)
    assert actor is not None
    entries = results.history(session, actor, finess)
    domains: list[dict[str, str]] = []
    seen: set[str] = set()
    for e in entries:
        for d in e.domains:
            if d["id"] not in seen:
                seen.add(d["id"])
                domains.append({"id": d["id"], "label": d["label"]})
    return StructureDetail(structure_card(session, actor, registry, s), entries, domains)
