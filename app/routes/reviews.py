"""Review of submitted assessments (ARS) and evidence attached to answers (directors).

    GET  /evaluations/{id}/revue            the review panel: status, history, decisive answers
                                            with their evidence, the form for reviewers (htmx:
                                            the `panel` block, loaded by the result page)
    POST /evaluations/{id}/revue            record a review (form: status, comment, retour)
    GET  /evaluations/{id}/preuves?question=<id>   a question's evidence, with the upload form
    POST /evaluations/{id}/preuves          attach a file and/or a note (multipart: question_id,
                                            fichier, note), then 303 back to the section
    POST /preuves/{id}/supprimer            remove evidence from a draft
    GET  /preuves/{id}                      download (attachment, nosniff, CSP sandbox)

Include hooks in other templates read through the template globals `review_of(assessment)`
and `evidence_of(assessment)` (registered here) and the macros of
partials/reviews/_macros.html.
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import pass_context
from jinja2.runtime import Context
from starlette.datastructures import FormData, UploadFile

from app.assessments import service as svc
from app.deps import IdPath, SessionDep, SettingsDep
from app.errors import NotFound
from app.permissions import Actor
from app.questionnaires import RegistryDep
from app.reviews import service, storage, views
from app.reviews.models import REVIEW_LABELS, EvidenceKind, ReviewStatus
from app.web.auth_deps import CurrentActor, client_ip
from app.web.navigation import crumbs
from app.web.templating import env, is_htmx, render

router = APIRouter(tags=["revue"])



@pass_context
def _evidence_of(context: Context, assessment: Any) -> dict[str, Any]:
    """views.evidence_of, read once per request and assessment (called once per question)."""
    request = context.get("request")
    state = getattr(request, "state", None)
    key = getattr(assessment, "id", None)
    cache: dict[Any, dict[str, Any]] | None = getattr(state, "palier_evidence", None)
    if state is not None and cache is None:
        cache = {}
        state.palier_evidence = cache
    if cache is not None and key in cache:
        return cache[key]
    found = views.evidence_of(assessment)
    if cache is not None:
        cache[key] = found
    return found


env.globals.update(review_of=views.review_of, evidence_of=_evidence_of,
                   palier_questions=views.palier_questions,
                   evidence_accept=storage.ACCEPT, evidence_max_label=storage.MAX_LABEL)
env.filters.update(filesize_fr=views.filesize_fr, evidence_type=storage.type_label)

STATUS_OPTIONS = [
    {"value": ReviewStatus.validee.value, "label": "Validée",
     "hint": "Les réponses sont cohérentes avec ce que vous savez de la structure."},
    {"value": ReviewStatus.a_revoir.value, "label": "À revoir",
     "hint": "Le directeur est prévenu par courriel et peut transmettre une nouvelle "
             "évaluation ; expliquez ce qui doit être revu."},
]


async def form_data(request: Request) -> FormData:
    """The posted form (parsed once: the CSRF check already read it)."""
    return await request.form()


FormDep = Annotated[FormData, Depends(form_data)]


def _field(form: FormData, name: str) -> str:
    value = form.get(name)
    return value if isinstance(value, str) else ""


# ---- review ---------------------------------------------------------------------------------


def _review_context(request: Request, session: Any, registry: Any, actor: Actor,
                    assessment_id: int, **extra: Any) -> dict[str, Any]:
    a, s = svc.get_assessment(session, actor, assessment_id)
    if a.status != "submitted":
        raise service.NotReviewable()
    panel = views.review_panel(session, registry, actor, a, s)
    return {
        "panel": panel, "assessment": a, "structure": s, "status_options": STATUS_OPTIONS,
        "labels": REVIEW_LABELS, "values": {}, "errors": {}, "saved": False, "embedded": False,
        "breadcrumb": crumbs(actor, (s.name, f"/structures/{s.finess}"),
                             ("Résultat", f"/evaluations/{a.id}/resultat"),
                             ("Revue de l’ARS", "")),
        **extra,
    }


@router.get("/evaluations/{assessment_id}/revue", response_class=HTMLResponse)
def review_page(request: Request, assessment_id: IdPath, actor: CurrentActor, session: SessionDep,
                registry: RegistryDep) -> Response:
    ctx = _review_context(request, session, registry, actor, assessment_id,
                          saved=request.query_params.get("enregistree") == "1",
                          embedded=is_htmx(request))
    return render(request, "pages/reviews/review.html", ctx, block_name="panel",
                  headers={"Cache-Control": "no-store"})


@router.post("/evaluations/{assessment_id}/revue", response_class=HTMLResponse)
def review_post(request: Request, assessment_id: IdPath, form: FormDep, actor: CurrentActor,
                session: SessionDep, settings: SettingsDep, registry: RegistryDep) -> Response:
    status, comment = _field(form, "status"), _field(form, "comment")
    a, _ = svc.get_assessment(session, actor, assessment_id)
    known = svc.questionnaire_of(registry, a).questions
    questions = [v for v in form.getlist("questions") if isinstance(v, str) and v in known]
    try:
        service.record_review(session, settings, actor, assessment_id, status, comment,
                              client_ip(request), questions=questions)
    except service.InvalidReview as exc:
        session.rollback()
        ctx = _review_context(request, session, registry, actor, assessment_id,
                              values={"status": status, "comment": comment,
                                      "questions": questions},
                              errors={exc.field: exc.message})
        return render(request, "pages/reviews/review.html", ctx, status_code=422)
    if _field(form, "retour") == "resultat":
        return RedirectResponse(f"/evaluations/{assessment_id}/resultat?revue=enregistree#revue",
                                303)
    return RedirectResponse(f"/evaluations/{assessment_id}/revue?enregistree=1#revue", 303)


# ---- evidence -------------------------------------------------------------------------------


def _evidence_context(session: Any, registry: Any, actor: Actor, assessment_id: int,
                      question_id: str, **extra: Any) -> dict[str, Any]:
    page = views.evidence_page(session, registry, actor, assessment_id, question_id)
    a, s = page.assessment, page.structure
    section_url = f"/evaluations/{a.id}/sections/{page.section_id}"
    return {
        "page": page, "assessment": a, "structure": s, "values": {}, "errors": {},
        "section_url": section_url, "max_label": storage.MAX_LABEL, "accept": storage.ACCEPT,
        "max_note": service.MAX_NOTE,
        "breadcrumb": crumbs(actor, (s.name, f"/structures/{s.finess}"),
                             ("Autodiagnostic", section_url), ("Preuves", "")),
        **extra,
    }


@router.get("/evaluations/{assessment_id}/preuves", response_class=HTMLResponse)
def evidence_page(request: Request, assessment_id: IdPath, actor: CurrentActor,
                  session: SessionDep, registry: RegistryDep) -> Response:
    question = request.query_params.get("question", "")
    messages = []
    if request.query_params.get("supprimee") == "1":
        messages.append({"level": "success", "text": "La preuve a été supprimée."})
    ctx = _evidence_context(session, registry, actor, assessment_id, question,
                            messages=messages)
    return render(request, "pages/reviews/evidence.html", ctx)


def _upload(form: FormData) -> UploadFile | None:
    value = form.get("fichier")
    if isinstance(value, UploadFile) and (value.filename or value.size):
        return value
    return None


@router.post("/evaluations/{assessment_id}/preuves", response_class=HTMLResponse)
def evidence_add(request: Request, assessment_id: IdPath, form: FormDep, actor: CurrentActor,
                 session: SessionDep, settings: SettingsDep, registry: RegistryDep) -> Response:
    try:
        return _evidence_add(request, assessment_id, form, actor, session, settings, registry)
    finally:
        for value in form.values():  # the spooled upload files
            if isinstance(value, UploadFile):
                value.file.close()


def _evidence_add(request: Request, assessment_id: int, form: FormData, actor: Actor,
                  session: Any, settings: Any, registry: Any) -> Response:
    question_id = _field(form, "question_id")
    note = _field(form, "note")
    a, _ = svc.get_assessment(session, actor, assessment_id)
    q = svc.questionnaire_of(registry, a)
    upload = _upload(form)
    try:
        if upload is not None:
            upload.file.seek(0)
        service.add_evidence(session, settings, actor, assessment_id, question_id,
                             list(q.questions), upload=upload.file if upload else None,
                             filename=upload.filename if upload else None, note=note,
                             ip=client_ip(request))
    except (storage.EvidenceFileError, service.InvalidEvidence) as exc:
        field = getattr(exc, "field", "fichier")
        ctx = _evidence_context(session, registry, actor, assessment_id, question_id,
                                values={"note": note}, errors={field: exc.message})
        return render(request, "pages/reviews/evidence.html", ctx, status_code=exc.status)
    section = q.section_of(question_id)
    assert section is not None  # add_evidence checked the question
    query = urlencode({"preuve": question_id})
    return RedirectResponse(
        f"/evaluations/{assessment_id}/sections/{section.id}?{query}#preuves-{question_id}", 303)


@router.post("/preuves/{evidence_id}/supprimer")
def evidence_delete(request: Request, evidence_id: IdPath, actor: CurrentActor,
                    session: SessionDep, settings: SettingsDep) -> Response:
    e = service.delete_evidence(session, settings, actor, evidence_id, client_ip(request))
    query = urlencode({"question": e.question_id, "supprimee": "1"})
    return RedirectResponse(f"/evaluations/{e.assessment_id}/preuves?{query}", 303)


@router.get("/preuves/{evidence_id}")
def evidence_download(evidence_id: IdPath, actor: CurrentActor, session: SessionDep,
                      settings: SettingsDep) -> Response:
    e, _ = service.get_evidence(session, actor, evidence_id)
    if e.kind != EvidenceKind.file or not e.stored_name:
        raise NotFound("Preuve introuvable.")
    data = storage.read(session, e.stored_name)
    if data is None:
        raise NotFound("Le fichier de cette preuve est introuvable.")
    return Response(data, media_type=e.content_type or "application/octet-stream", headers={
        "Content-Disposition": storage.content_disposition(e.original_filename or "preuve"),
        "X-Content-Type-Options": "nosniff",
        "Content-Security-Policy": "sandbox",
        "Cache-Control": "private, no-store",
    })
