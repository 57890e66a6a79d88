"""The notices of a draft shown once on its section pages: prefilled from a submission,
carried over to a newer questionnaire version, a section saved, new questions appeared;
and their French texts."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlmodel import Session

from app.assessments import service as svc
from app.assessments.models import Assessment, AssessmentStatus
from app.errors import NotFound
from app.formatting import date_fr
from app.permissions import Actor
from app.questionnaires import Registry
from scoring import Questionnaire, applicable, effective_answers


def saved_message(q: Questionnaire, saved: str | None) -> list[dict[str, Any]]:
    """"Section « … » enregistrée" after a section post redirected here (`?enregistre=`)."""
    title = next((sec.title for sec in q.sections if sec.id == saved), None) if saved else None
    return [{"level": "success", "text": f"Section « {title} » enregistrée."}] if title else []


def section_messages(session: Session, actor: Actor, registry: Registry, a: Assessment, *,
                     saved: str | None, new_questions: bool,
                     reprise: str | None) -> list[dict[str, Any]]:
    """One-time messages of a section page, carried by the query string after a redirect
    (`enregistre`, `nouvelles`, `reprise`), and the carry-over notice."""
    prefill = (prefill_notice(session, actor, registry, a, int(reprise))
               if reprise and reprise.isdigit() else None)
    return page_messages(svc.questionnaire_of(registry, a), a.answers or {}, saved=saved,
                         new_questions=new_questions, reprise=reprise, prefill=prefill,
                         carried=svc.carried_over(session, a))


def page_messages(q: Questionnaire, answers: Mapping[str, Any], *, saved: str | None,
                  new_questions: bool, reprise: str | None,
                  prefill: Mapping[str, Any] | None,
                  carried: Mapping[str, Any] | None) -> list[dict[str, Any]]:
    """`section_messages` from what it read: the prefill notice (`prefill_notice`, when
    `reprise` is a submission's id) and the draft's carry-over (`service.carried_over`)."""
    out = saved_message(q, saved)
    if new_questions:
        out.append({"level": "info", "text": "Vos réponses font apparaître de nouvelles "
                    "questions dans cette section : complétez-les puis enregistrez."})
    if reprise == "brouillon":
        out.append({"level": "info", "text": "Vous reprenez l’évaluation en cours de votre "
                    "structure : vos réponses déjà enregistrées sont conservées."})
    elif prefill is not None:
        out.append({"level": "info", "title": "Évaluation préremplie",
                    "text": prefill_text(prefill)})
    moved = carry_over_details(q, answers, carried) if carried is not None else None
    if moved is not None:
        out.append({"level": "info", "title": "Questionnaire mis à jour",
                    "text": carry_over_text(moved)})
    return out


def prefill_text(notice: Mapping[str, Any]) -> str:
    """The message of a new draft prefilled from a submission (`prefill_notice`)."""
    when = date_fr(notice["source"].submitted_at)
    n = notice["carried"]
    text = (f"Cette nouvelle évaluation reprend {n} réponse{'s' if n > 1 else ''} de "
            f"l’évaluation transmise le {when}. Vérifiez-les dans chaque section avant "
            "de transmettre.")
    if notice["dropped"]:
        text += (" Les réponses aux questions suivantes n’ont pas été reprises, car "
                 "ces questions ont changé ou n’existent plus : "
                 + _quoted(notice["dropped"]) + ".")
    else:
        text += " Toutes les réponses ont été reprises."
    return text


def _quoted(labels: list[str]) -> str:
    return " ; ".join(f"« {label} »" for label in labels)


def carry_over_text(notice: Mapping[str, Any]) -> str:
    """The notice of a draft carried over to a newer questionnaire version."""
    text = (f"Cette évaluation en cours est passée de la version {notice['from']} à la "
            f"version {notice['to']} du questionnaire ; vos réponses ont été reprises.")
    if notice["moved"]:
        text += (" Ces réponses ont été reprises sous une question ou un choix modifié, "
                 "vérifiez-les : " + _quoted(notice["moved"]) + ".")
    if notice["ask_again"]:
        text += " Répondez de nouveau à : " + _quoted(notice["ask_again"]) + "."
    if notice["added"]:
        text += " Nouvelles questions : " + _quoted(notice["added"]) + "."
    for note in notice["notes"]:
        text += " " + note
    return text


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


def carry_over_details(q: Questionnaire, stored: Mapping[str, Any],
                       details: Mapping[str, Any]) -> dict[str, Any] | None:
    """The carry-over notice from the audited `details` (`service.carried_over`): the answers
    that moved (labels in the new version), the questions to answer again and the new
    questions still without an answer, with the map's notes; None when none is left to
    answer."""
    answers = dict(stored)
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
