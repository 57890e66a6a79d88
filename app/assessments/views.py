"""View-models of the director's pages: structures overview, section progress, the question
form (parsing posted values, errors, conflicts), results with labelled answers.

Everything here reads through `app.assessments.service` (which owns permissions and
transactions) and the scoring engine; nothing writes except `save_section` and
`save_question`, which call `assessments.save_answers`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlmodel import Session

from app.accounts.models import User
from app.assessments import result_parts as parts
from app.assessments import service as svc
from app.assessments.lifecycle import ensure_editable
from app.assessments.models import Assessment, AssessmentStatus
from app.errors import Conflict, InvalidAnswers, NotFound
from app.formatting import date_fr, number_fr
from app.numbers_fr import NUMBER_ERROR, NumberError, as_answer, parse_number_fr
from app.permissions import Action, Actor, can_on_structure
from app.questionnaires import Registry
from app.structures.directory import list_structures
from app.structures.models import Structure
from scoring import Question, Questionnaire, applicable, effective_answers, validate_answers
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
    shown = applicable(q, dict(answers))
    eff = effective_answers(q, dict(answers))
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
    shown = applicable(q, dict(answers))
    eff = effective_answers(q, dict(answers))
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
    shown = applicable(q, dict(answers))
    eff = effective_answers(q, dict(answers))
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


# ---- the question form ----------------------------------------------------------------------


@dataclass
class Slot:
    """One question of a section as the page renders it."""

    question: Question
    visible: bool
    value: Any
    error: str | None = None


def section_slots(q: Questionnaire, section: Section, answers: Mapping[str, Any],
                  values: Mapping[str, Any] | None = None,
                  errors: Mapping[str, str] | None = None,
                  only: Iterable[str] | None = None) -> list[Slot]:
    """The questions of a section; hidden ones (show_if false) are placeholders.

    `values` overrides the stored answers (what the user typed, after a refused post)."""
    shown = applicable(q, dict(answers))
    values = values or {}
    errors = errors or {}
    wanted = set(only) if only is not None else None
    out = []
    for qu in section.questions:
        if wanted is not None and qu.id not in wanted:
            continue
        value = values[qu.id] if qu.id in values else answers.get(qu.id)
        out.append(Slot(qu, shown[qu.id], value, errors.get(qu.id)))
    return out


def conflict_message(q: Questionnaire, item: Any, names: Mapping[int, str], actor: Actor,
                     ) -> dict[str, Any]:
    """What to show for one conflicting question: both values, who, when."""
    question = q.questions.get(item.question)
    when = None
    if item.at:
        try:
            when = date_fr(datetime.fromisoformat(item.at))
        except ValueError:
            when = None
    if item.by == actor.id:
        who = "vous-même (dans un autre onglet ou une autre fenêtre)"
    else:
        who = (names.get(item.by) if item.by is not None else None) or "une autre personne"
    return {
        "question": question,
        "qid": item.question,
        "yours": answer_text(question, item.yours),
        "theirs": answer_text(question, item.theirs),
        "by": who,
        "at": when,
    }


def conflict_error_text(c: Mapping[str, Any]) -> str:
    at = f" le {c['at']}" if c["at"] else ""
    return (f"Cette réponse a été modifiée entre-temps par {c['by']}{at} : valeur enregistrée "
            f"« {c['theirs']} ». Votre saisie « {c['yours']} » n’a pas été enregistrée. "
            "Enregistrez de nouveau pour la conserver, ou rechargez la section pour reprendre "
            "la valeur enregistrée.")


@dataclass
class SectionPost:
    """Outcome of a whole-section post (the form without JavaScript)."""

    saved: bool
    version: int
    values: dict[str, Any] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)
    conflicts: list[dict[str, Any]] = field(default_factory=list)
    appeared: list[str] = field(default_factory=list)  # questions newly shown in the section


def save_section(session: Session, actor: Actor, registry: Registry, assessment_id: int,
                 section_id: str, form: Mapping[str, list[str]], base_version: int,
                 ) -> SectionPost:
    """Save the posted fields of one section: the questions the page showed (applicable
    before the post) that are still applicable after it. An absent field clears the answer;
    unchanged answers are not re-saved."""
    a, _ = svc.get_assessment(session, actor, assessment_id, Action.fill_assessment)
    ensure_editable(a)
    q = svc.questionnaire_of(registry, a)
    section = q.sections[section_index(q, section_id)]
    stored = dict(a.answers or {})
    before = applicable(q, stored)
    posted: dict[str, Any] = {}
    errors: dict[str, str] = {}
    raw_values: dict[str, Any] = {}
    for qu in section.questions:
        if not before[qu.id]:
            continue
        raw = form.get(f"q_{qu.id}", [])
        value, error = parse_value(qu, raw)
        if error:
            errors[qu.id] = error
            raw_values[qu.id] = raw[-1] if raw else None
        else:
            posted[qu.id] = value
    after = applicable(q, {**stored, **posted})
    changes = {qid: v for qid, v in posted.items()
               if after[qid] and stored.get(qid) != v}
    for e in validate_answers(q, changes):
        errors[e.question] = sentence(e.message)
    appeared = [qu.id for qu in section.questions if after[qu.id] and not before[qu.id]]
    values = {**posted, **raw_values}
    if errors:
        return SectionPost(False, a.version, values, errors)
    if not changes:
        return SectionPost(True, a.version, values, appeared=appeared)
    try:
        saved = svc.save_answers(session, actor, registry, assessment_id, base_version, changes)
    except InvalidAnswers as exc:  # pragma: no cover - validated above
        return SectionPost(False, a.version, values,
                           {e.question: sentence(e.message) for e in exc.errors})
    except Conflict as exc:
        names = user_names(session, [i.by for i in exc.items])
        conflicts = [conflict_message(q, i, names, actor) for i in exc.items]
        return SectionPost(False, exc.version, values,
                           {c["qid"]: conflict_error_text(c) for c in conflicts}, conflicts)
    return SectionPost(True, saved.version, values, appeared=appeared)


@dataclass
class QuestionSave:
    """Outcome of saving one question (autosave)."""

    assessment: Assessment
    questionnaire: Questionnaire
    section: Section
    version: int
    saved_at: datetime | None
    refresh: list[Slot]  # questions of the section to re-render on the page
    shown: int = 0  # questions of the section that this save made appear
    hidden: int = 0  # ... and disappear


def save_question(session: Session, actor: Actor, registry: Registry, assessment_id: int,
                  question_id: str, raw: Sequence[str], base_version: int,
                  seen_version: int) -> QuestionSave:
    """Autosave one question. Raises InvalidAnswers (bad value, or a question that does not
    apply), Conflict, NotEditable, NotFound, Forbidden.

    `refresh` holds the questions of the saved question's section whose visibility changed
    with this save, and, when someone else saved in this section since `seen_version`, every
    other question of the section (their values changed under the page)."""
    a, _ = svc.get_assessment(session, actor, assessment_id, Action.fill_assessment)
    ensure_editable(a)
    q = svc.questionnaire_of(registry, a)
    question = q.questions.get(question_id)
    if question is None:
        raise NotFound("Question introuvable.")
    value, error = parse_value(question, raw)
    if error:
        from scoring import AnswerError

        raise InvalidAnswers([AnswerError(question_id, raw[-1] if raw else None, error)])
    stored = dict(a.answers or {})
    before = applicable(q, stored)
    if not before[question_id]:
        from scoring import AnswerError

        raise InvalidAnswers([AnswerError(question_id, value, NOT_APPLICABLE_ERROR)])
    saved = svc.save_answers(session, actor, registry, assessment_id, base_version,
                             {question_id: value})
    a = saved.assessment
    answers = dict(a.answers or {})
    after = applicable(q, answers)
    section = q.section_of(question_id)
    assert section is not None
    meta = dict(a.answer_meta or {})
    others = any(int((meta.get(qu.id) or {}).get("revision", 0)) > seen_version
                 for qu in section.questions if qu.id != question_id)
    refresh_ids = [qu.id for qu in section.questions
                   if qu.id != question_id and (others or before[qu.id] != after[qu.id])]
    shown = sum(1 for qu in section.questions if after[qu.id] and not before[qu.id])
    hidden = sum(1 for qu in section.questions if before[qu.id] and not after[qu.id])
    return QuestionSave(a, q, section, saved.version, a.updated_at,
                        section_slots(q, section, answers, only=refresh_ids), shown, hidden)


def invalid_slot(q: Questionnaire, a: Assessment, exc: InvalidAnswers,
                 raw: Sequence[str]) -> tuple[Slot, str]:
    """The question re-rendered with the refused value and its error."""
    err = exc.errors[0]
    question = q.questions[err.question]
    shown = applicable(q, dict(a.answers or {}))
    value: Any = list(raw) if question.type == "multiple_choice" else (raw[-1] if raw else None)
    message = err.message if err.message in (NUMBER_ERROR, NOT_APPLICABLE_ERROR) \
        else sentence(err.message)
    return Slot(question, shown[question.id], value, message), message


def prefill_notice(session: Session, actor: Actor, registry: Registry, draft: Assessment,
                   source_id: int) -> dict[str, Any] | None:
    """What a new draft took from the submission it was prefilled from (for the message
    shown once after "Nouvelle évaluation"): recomputed, since carrying over is pure."""
    try:
        src, _ = svc.get_assessment(session, actor, source_id)
    except NotFound:
        return None
    if src.structure_id != draft.structure_id or src.status != AssessmentStatus.submitted:
        return None
    old_q = registry.get(src.questionnaire_id, src.questionnaire_version)
    new_q = svc.questionnaire_of(registry, draft)
    _, carried, dropped = svc.carry_over(old_q, new_q, dict(src.answers or {}), registry)
    labels = []
    for qid in dropped:
        question = new_q.questions.get(qid) or (old_q.questions.get(qid) if old_q else None)
        labels.append(question.label if question else qid)
    return {"source": src, "carried": len(carried), "dropped": labels,
            "same_version": src.questionnaire_version == draft.questionnaire_version}


def carry_over_notice(session: Session, registry: Registry, a: Assessment,
                      ) -> dict[str, Any] | None:
    """The notice of a draft carried over to a newer questionnaire version
    (`assessments.service.carry_over_draft`), while some answers it asks for are still to be
    given: the answers that moved (labels in the new version), the questions to answer again
    and the new questions still without an answer, with the map's notes."""
    details = svc.carried_over(session, a)
    if details is None:
        return None
    q = svc.questionnaire_of(registry, a)
    answers = dict(a.answers or {})
    shown = applicable(q, answers)
    eff = effective_answers(q, answers)

    def label(qid: str) -> str:
        question = q.questions.get(qid)
        return question.label if question else qid

    def open_(qid: str) -> bool:
        return qid in q.questions and shown[qid] and qid not in eff

    ask_again = [qid for qid in details.get("ask_again", []) if open_(qid)]
    added = [qid for qid in details.get("added", []) if open_(qid)]
    if not ask_again and not added:
        return None
    order = list(q.questions)
    moved = sorted({to for _, to in details.get("moved", []) if to in q.questions},
                   key=order.index)
    notes = details.get("notes") or {}
    return {"from": details.get("from"), "to": details.get("to"), "at": details.get("at"),
            "moved": [label(qid) for qid in moved],
            "ask_again": [label(qid) for qid in ask_again],
            "added": [label(qid) for qid in added],
            "notes": [notes[qid] for qid in [*moved, *ask_again] if qid in notes]}


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
    history: list[svc.HistoryEntry]
    domains: list[dict[str, str]]  # id, label of the columns of the history table


def structure_detail(session: Session, actor: Actor | None, registry: Registry,
                     finess: str) -> StructureDetail:
    s = svc.get_structure(session, actor, finess)
    assert actor is not None
    entries = svc.history(session, actor, finess)
    domains: list[dict[str, str]] = []
    seen: set[str] = set()
    for e in entries:
        for d in e.domains:
            if d["id"] not in seen:
                seen.add(d["id"])
                domains.append({"id": d["id"], "label": d["label"]})
    return StructureDetail(structure_card(session, actor, registry, s), entries, domains)


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
    r = svc.result_of(registry, a)
    answers = dict(a.answers or {})
    shown = applicable(q, answers)
    provisional = a.status != AssessmentStatus.submitted
    funding_models = {f.id: f for f in q.funding}

    def funding_ref(fid: str) -> dict[str, Any]:
        f = funding_models.get(fid)
        return {"id": fid, "label": f.label if f else fid, "url": f.url if f else None,
                "description": f.description if f else None}

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


def _round1(x: float | None) -> float | None:
    if x is None:
        return None
    return float(Decimal(str(x)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP))


def _domain_label(q: Questionnaire, did: str) -> str:
    if did == "global":
        return "Score global"
    return next((d.label for d in q.domains if d.id == did), did)
