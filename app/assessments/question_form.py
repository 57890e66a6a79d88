"""The question form of the director's pages: the questions of a section as rendered (slots),
saving a section post or one autosaved question (through `service.save_answers`), conflict
and error messages, the notices of a draft prefilled or carried over."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlmodel import Session

from app.assessments import service as svc
from app.assessments.lifecycle import ensure_editable
from app.assessments.models import Assessment
from app.assessments.views import (
    NOT_APPLICABLE_ERROR,
    answer_text,
    parse_value,
    section_index,
    sentence,
    user_names,
)
from app.errors import Conflict, InvalidAnswers, NotFound
from app.formatting import date_fr
from app.numbers_fr import NUMBER_ERROR
from app.permissions import Action, Actor
from app.questionnaires import Registry
from scoring import Question, Questionnaire, applicable, validate_answers
from scoring.model import Section

# ---- the question form ----------------------------------------------------------------------


@dataclass
class Slot:
    """One question of a section as the page renders it."""

    question: Question
    visible: bool
    value: Any
    error: str | None = None


def question_of(q: Questionnaire, question_id: str) -> tuple[Question, Section]:
    """A question of the questionnaire and its section, else NotFound."""
    question = q.questions.get(question_id)
    section = q.section_of(question_id)
    if question is None or section is None:
        raise NotFound("Question introuvable.")
    return question, section


def section_slots(q: Questionnaire, section: Section, answers: Mapping[str, Any],
                  values: Mapping[str, Any] | None = None,
                  errors: Mapping[str, str] | None = None,
                  only: Iterable[str] | None = None,
                  shown: Mapping[str, bool] | None = None) -> list[Slot]:
    """The questions of a section; hidden ones (show_if false) are placeholders.

    `values` overrides the stored answers (what the user typed, after a refused post);
    `shown`: `scoring.applicable` of the answers, when the caller has it."""
    shown = applicable(q, dict(answers)) if shown is None else shown
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
    question, section = question_of(q, question_id)
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
