"""The director's flow: my structures, a structure, the questionnaire by section (plain form
posts and autosave), submit, result, print view and PDF.

Pages shared with other roles (a structure, an assessment's sections and result) rely on the
permissions module through the assessments service: out of scope -> 404, visible but not
the actor's to change -> 403.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from app.assessments import notices
from app.assessments import question_form as qform
from app.assessments import service as svc
from app.assessments import views as view
from app.assessments.models import Assessment, AssessmentStatus
from app.deps import IdPath, SessionDep
from app.errors import Conflict, InvalidAnswers, NotEditable
from app.formatting import time_fr
from app.permissions import Action, Actor, can_on_structure
from app.questionnaires import RegistryDep
from app.reviews.messages import correction_of
from app.routes import public
from app.structures.models import Structure
from app.web.auth_deps import CurrentActor, OptionalActor, require_permission
from app.web.contention import busy_response
from app.web.navigation import crumbs, main_nav
from app.web.section_render import page_fields
from app.web.templating import render, render_block

router = APIRouter(tags=["directeur"])

FormLists = dict[str, list[str]]


async def form_lists(request: Request) -> FormLists:
    """The posted form as {name: [values]} (read once, in the event loop)."""
    form = await request.form()
    return {key: [v for v in form.getlist(key) if isinstance(v, str)] for key in form}


FormDep = Annotated[FormLists, Depends(form_lists)]


# ---- helpers --------------------------------------------------------------------------------


def _int(form: Mapping[str, list[str]], name: str, default: int | None = None) -> int:
    raw = (form.get(name) or [""])[-1].strip()
    try:
        return int(raw)
    except ValueError:
        if default is not None:
            return default
        raise HTTPException(400, f"Champ « {name} » manquant ou invalide.") from None


def _can_fill(actor: Actor | None, s: Structure) -> bool:
    assert s.id is not None
    return can_on_structure(actor, Action.fill_assessment, s.id, s.region)


def can_edit(actor: Actor | None, a: Assessment, s: Structure) -> bool:
    return a.status == AssessmentStatus.draft and _can_fill(actor, s)


def _section_url(a: Assessment, section_id: str, **query: str) -> str:
    qs = f"?{urlencode(query)}" if query else ""
    return f"/evaluations/{a.id}/sections/{section_id}{qs}"


# ---- home -----------------------------------------------------------------------------------


@router.get("/", response_class=HTMLResponse, include_in_schema=False)
def home(request: Request, actor: OptionalActor, registry: RegistryDep) -> Response:
    """Logged-in users land on the first entry of their menu (a director on their
    structures, an ARS referent on their region's dashboard...); visitors on the home page."""
    menu = main_nav(actor, "/")
    if menu:
        return RedirectResponse(menu[0]["href"], status_code=303)
    return public.home(request, registry)


@router.get("/mes-structures", response_class=HTMLResponse,
            dependencies=[Depends(require_permission(Action.view_own_structures))])
def my_structures(request: Request, actor: CurrentActor, session: SessionDep,
                  registry: RegistryDep) -> Response:
    cards = view.my_structures(session, actor, registry)
    return render(request, "pages/director/home.html", {
        "cards": cards,
    })


# ---- a structure ----------------------------------------------------------------------------


@router.get("/structures/{finess}", response_class=HTMLResponse)
def structure_page(request: Request, finess: str, actor: CurrentActor, session: SessionDep,
                   registry: RegistryDep) -> Response:
    s = svc.get_structure(session, actor, finess)
    if s.id is not None and (draft := svc.current_draft(session, s.id)) is not None:
        svc.carry_over_draft(session, actor, registry, draft)  # only its director moves it
    detail = view.structure_detail(session, actor, registry, finess)
    s = detail.card.structure
    return render(request, "pages/director/structure.html", dict(
        detail=detail, card=detail.card, structure=s,
        breadcrumb=crumbs(actor, (s.name, "")),
    ))


@router.post("/structures/{finess}/evaluation")
def start_or_resume(finess: str, actor: CurrentActor, session: SessionDep,
                    registry: RegistryDep) -> Response:
    """Start the structure's draft (prefilled from the last submission) or resume it."""
    draft, prefill = svc.start_or_resume(session, actor, registry, finess)
    q = svc.questionnaire_of(registry, draft)
    if prefill is not None and prefill.source_id is not None:
        return RedirectResponse(_section_url(draft, q.sections[0].id,
                                             reprise=str(prefill.source_id)), 303)
    if prefill is None and draft.version > 0:
        section = view.first_open_section(q, draft.answers or {})
        if section is None:
            return RedirectResponse(f"/evaluations/{draft.id}/transmettre", 303)
        return RedirectResponse(_section_url(draft, section.id, reprise="brouillon"), 303)
    return RedirectResponse(_section_url(draft, q.sections[0].id), 303)


# ---- the questionnaire ----------------------------------------------------------------------


@router.get("/evaluations/{assessment_id}", response_class=HTMLResponse)
def assessment_entry(assessment_id: IdPath, actor: CurrentActor, session: SessionDep,
                     registry: RegistryDep) -> Response:
    a, _ = svc.get_assessment(session, actor, assessment_id)
    if a.status == AssessmentStatus.submitted:
        return RedirectResponse(f"/evaluations/{a.id}/resultat", 303)
    svc.carry_over_draft(session, actor, registry, a)
    q = svc.questionnaire_of(registry, a)
    section = view.first_open_section(q, a.answers or {}) or q.sections[0]
    return RedirectResponse(_section_url(a, section.id), 303)


def _section_context(request: Request, actor: Actor | None, session: Any, registry: Any,
                     a: Assessment, s: Structure, section_id: str, *,
                     values: Mapping[str, Any] | None = None,
                     errors: Mapping[str, str] | None = None,
                     conflicts: list[dict[str, Any]] | None = None,
                     version: int | None = None,
                     messages: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    q = svc.questionnaire_of(registry, a)
    index = view.section_index(q, section_id)
    answers = dict(a.answers or {})
    slots = qform.section_slots(q, q.sections[index], answers, values=values, errors=errors)
    editable = can_edit(actor, a, s)
    summary = [{"label": slot.question.label, "error": slot.error,
                "anchor": view.field_anchor(slot.question)}
               for slot in slots if slot.error]
    return page_fields(actor, a, s, q, index, progress=view.progress(q, answers), slots=slots,
                       editable=editable, errors=summary, conflicts=conflicts or [],
                       version=a.version if version is None else version,
                       messages=messages or [],
                       correction=correction_of(session, a))  # None: a submitted assessment


@router.get("/evaluations/{assessment_id}/sections/{section_id}", response_class=HTMLResponse)
def section_page(request: Request, assessment_id: IdPath, section_id: str, actor: CurrentActor,
                 session: SessionDep, registry: RegistryDep) -> Response:
    a, s = svc.get_assessment(session, actor, assessment_id)
    svc.carry_over_draft(session, actor, registry, a)
    params = request.query_params
    messages = notices.section_messages(
        session, actor, registry, a, saved=params.get("enregistre"),
        new_questions=bool(params.get("nouvelles")), reprise=params.get("reprise"))
    ctx = _section_context(request, actor, session, registry, a, s, section_id,
                           messages=messages)
    return render(request, "pages/director/section.html", ctx)


@router.post("/evaluations/{assessment_id}/sections/{section_id}", response_class=HTMLResponse)
def section_post(request: Request, assessment_id: IdPath, section_id: str, form: FormDep,
                 actor: CurrentActor, session: SessionDep, registry: RegistryDep) -> Response:
    """Save the whole section (works without JavaScript), then go to the next section."""
    base = _int(form, "version")
    outcome = qform.save_section(session, actor, registry, assessment_id, section_id, form, base)
    a, s = svc.get_assessment(session, actor, assessment_id)
    q = svc.questionnaire_of(registry, a)
    index = view.section_index(q, section_id)
    if not outcome.saved:
        ctx = _section_context(request, actor, session, registry, a, s, section_id,
                               values=outcome.values, errors=outcome.errors,
                               conflicts=outcome.conflicts, version=outcome.version)
        return render(request, "pages/director/section.html", ctx,
                      status_code=409 if outcome.conflicts else 422)
    if outcome.appeared:
        url = _section_url(a, section_id, enregistre=section_id, nouvelles="1")
        return RedirectResponse(f"{url}#question-{outcome.appeared[0]}", 303)
    if index + 1 < len(q.sections):
        return RedirectResponse(_section_url(a, q.sections[index + 1].id,
                                             enregistre=section_id), 303)
    return RedirectResponse(f"/evaluations/{a.id}/transmettre?enregistre={section_id}", 303)


def _fragment(request: Request, block: str, context: dict[str, Any], status: int,
              outcome: str, version: int) -> Response:
    """One autosave block of the section page (static/js/autosave.js reads the headers)."""
    return render_block(request, "pages/director/section.html", block, context,
                        status_code=status,
                        headers={"X-Palier-Outcome": outcome, "X-Palier-Version": str(version),
                                 "Cache-Control": "no-store"})


@router.post("/evaluations/{assessment_id}/reponses", response_class=HTMLResponse)
def autosave(request: Request, assessment_id: IdPath, form: FormDep, actor: CurrentActor,
             session: SessionDep, registry: RegistryDep) -> Response:
    """Autosave one question (see static/js/autosave.js for the protocol)."""
    qid = (form.get("question") or [""])[-1]
    base = _int(form, "version")
    seen = _int(form, "seen", default=base)
    raw = form.get(f"q_{qid}", [])
    try:
        done = qform.save_question(session, actor, registry, assessment_id, qid, raw, base, seen)
    except Conflict as exc:
        if not exc.items:  # the row kept changing under us: let the page retry
            return busy_response(request)
        a, _ = svc.get_assessment(session, actor, assessment_id)
        q = svc.questionnaire_of(registry, a)
        names = view.user_names(session, [i.by for i in exc.items])
        conflicts = [qform.conflict_message(q, i, names, actor) for i in exc.items]
        return _fragment(request, "autosave_conflict",
                         {"assessment": a, "conflicts": conflicts, "version": exc.version},
                         409, "conflict", exc.version)
    except NotEditable:
        a, _ = svc.get_assessment(session, actor, assessment_id)
        return _fragment(request, "autosave_closed",
                         {"assessment": a}, 409, "closed", a.version)
    except InvalidAnswers as exc:
        a, _ = svc.get_assessment(session, actor, assessment_id)
        q = svc.questionnaire_of(registry, a)
        if not exc.errors or exc.errors[0].question not in q.questions:
            raise
        slot, message = qform.invalid_slot(q, a, exc, raw)
        return _fragment(request, "autosave_invalid",  # assessment: the "à revoir" flag
                         {"slot": slot, "message": message, "disabled": False,
                          "assessment": a},
                         422, "invalid", a.version)
    q = done.questionnaire
    return _fragment(request, "autosave_saved", {
        "assessment": done.assessment, "version": done.version,
        "saved_time": time_fr(done.saved_at), "progress": view.progress(q, done.assessment.answers),
        "number": view.section_index(q, done.section.id) + 1, "total": len(q.sections),
        "refresh": done.refresh, "disabled": False, "shown": done.shown, "hidden": done.hidden,
    }, 200, "saved", done.version)


@router.get("/evaluations/{assessment_id}/questions/{question_id}",
            response_class=HTMLResponse)
def question_fragment(request: Request, assessment_id: IdPath, question_id: str,
                      actor: CurrentActor, session: SessionDep,
                      registry: RegistryDep) -> Response:
    """One question with its stored value ("keep the saved value" after a conflict)."""
    a, s = svc.get_assessment(session, actor, assessment_id)
    q = svc.questionnaire_of(registry, a)
    _, section = qform.question_of(q, question_id)
    slot = qform.section_slots(q, section, a.answers or {}, only=[question_id])[0]
    return _fragment(request, "question_kept",  # assessment: the "à revoir" flag
                     {"slot": slot, "disabled": not can_edit(actor, a, s), "assessment": a},
                     200, "question", a.version)
