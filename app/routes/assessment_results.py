"""The director's submit, result, print and PDF pages (the questionnaire pages are
`assessments.py`, whose helpers these share)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlmodel import Session

from app.assessments import notices, results
from app.assessments import pdf as pdf_service
from app.assessments import service as svc
from app.assessments import views as view
from app.assessments.lifecycle import ensure_editable
from app.assessments.models import Assessment, AssessmentStatus
from app.assessments.receipt import receipt_number
from app.assessments.result_page import result_view
from app.deps import IdPath, SessionDep, SettingsDep
from app.errors import Incomplete
from app.permissions import Action, Actor, speaks_to_owner
from app.questionnaires import Registry, RegistryDep
from app.routes.assessments import FormDep, can_edit
from app.routes.schemas import file_responses
from app.structures.models import Structure
from app.web.auth_deps import CurrentActor
from app.web.charts import horizontal_bars
from app.web.navigation import crumbs
from app.web.templating import env, render

router = APIRouter(tags=["directeur"])


# ---- submit ---------------------------------------------------------------------------------


DECLARATION = ("Je certifie que les réponses transmises sont exactes et complètes à ma "
               "connaissance.")
DECLARATION_ERROR = ("Cochez la déclaration pour transmettre : vous certifiez ainsi que les "
                     "réponses sont exactes et complètes à votre connaissance.")


def _submit_context(session: Any, actor: Actor, registry: Any, a: Assessment, s: Structure,
                    request: Request) -> dict[str, Any]:
    q = svc.questionnaire_of(registry, a)
    answers = dict(a.answers or {})
    live = results.live_result(registry, a)  # the engine's palier for the draft as it stands
    assert s.id is not None
    previous = svc.submitted_assessments(session, s.id)
    last = previous[0] if previous else None
    lower = (last is not None and last.tier_level is not None and live.tier_level is not None
             and live.tier_level < last.tier_level)
    messages = notices.saved_message(q, request.query_params.get("enregistre"))
    return dict(
        assessment=a, structure=s, questionnaire=q, progress=view.progress(q, answers),
        missing=view.missing_questions(q, answers), tier=live.tier,
        recap=view.submit_recap(q, a.id or 0, answers),
        last=last, last_tier=(last.result or {}).get("tier") if last else None, lower=lower,
        declaration=DECLARATION, declaration_error=None, declared=False,
        editable=can_edit(actor, a, s), messages=messages,
        breadcrumb=crumbs(actor, (s.name, f"/structures/{s.finess}"),
                           ("Transmettre l’autodiagnostic", "")),
    )


@router.get("/evaluations/{assessment_id}/transmettre", response_class=HTMLResponse)
def submit_page(request: Request, assessment_id: IdPath, actor: CurrentActor,
                session: SessionDep, registry: RegistryDep) -> Response:
    a, s = svc.get_assessment(session, actor, assessment_id)
    if a.status == AssessmentStatus.submitted:
        return RedirectResponse(f"/evaluations/{a.id}/resultat", 303)
    svc.carry_over_draft(session, actor, registry, a)
    return render(request, "pages/director/submit.html",
                  _submit_context(session, actor, registry, a, s, request))


@router.post("/evaluations/{assessment_id}/transmettre", response_class=HTMLResponse)
def submit(request: Request, assessment_id: IdPath, actor: CurrentActor, session: SessionDep,
           registry: RegistryDep, settings: SettingsDep, form: FormDep) -> Response:
    """Submit with the declaration ticked (`declaration=oui`); refused (422, the page again
    with its error focused) without it or with required questions unanswered."""
    declared = "oui" in form.get("declaration", [])
    # Permissions and state first: a reader gets 403/404, a submitted assessment 409.
    a, s = svc.get_assessment(session, actor, assessment_id, Action.fill_assessment)
    ensure_editable(a)
    try:
        if not declared:
            raise Incomplete([])
        a = svc.submit(session, actor, registry, assessment_id, settings=settings,
                       declared=True)
    except Incomplete:
        a, s = svc.get_assessment(session, actor, assessment_id)
        ctx = _submit_context(session, actor, registry, a, s, request)
        ctx["refused"] = True
        ctx["declared"] = declared
        ctx["declaration_error"] = None if declared else DECLARATION_ERROR
        return render(request, "pages/director/submit.html", ctx, status_code=422)
    return RedirectResponse(f"/evaluations/{a.id}/resultat?transmis=1", 303)


# ---- result, print, PDF ---------------------------------------------------------------------


def _result_context(session: Any, registry: Any, actor: Actor, a: Assessment,
                    s: Structure, *, document: bool = False) -> dict[str, Any]:
    """`document`: the print view and the PDF (one cached file for every reader) speak of
    "la structure"; the page speaks to its director and of the structure to anyone else."""
    assert s.id is not None
    neutral = document or not speaks_to_owner(actor, s.id)
    rv = result_view(session, registry, a, s, neutral=neutral)
    chart = horizontal_bars(
        rv.domain_scores, title="Scores par domaine (sur 100)",
        desc="Score de la structure dans chacun des domaines, de 0 à 100 ; le détail "
             "figure dans le tableau qui suit.",
        chart_id=f"scores-{a.id}")
    receipt = receipt_number(a) if a.status == AssessmentStatus.submitted else None
    return dict(rv=rv, chart=chart, assessment=a, structure=s, receipt=receipt,
                editable=can_edit(actor, a, s))


@router.get("/evaluations/{assessment_id}/resultat", response_class=HTMLResponse)
def result_page(request: Request, assessment_id: IdPath, actor: CurrentActor,
                session: SessionDep, registry: RegistryDep) -> Response:
    a, s = svc.get_assessment(session, actor, assessment_id)
    ctx = _result_context(session, registry, actor, a, s)
    ctx["breadcrumb"] = crumbs(actor, (s.name, f"/structures/{s.finess}"),
                                ("Résultat provisoire" if ctx["rv"].provisional
                                 else "Résultat", ""))
    if request.query_params.get("transmis") and a.status == AssessmentStatus.submitted:
        number = receipt_number(a)
        ctx["messages"] = [{"level": "success",
                            "title": f"Autodiagnostic transmis : accusé de réception n° {number}",
                            "text": "Votre autodiagnostic est transmis à votre ARS ; "
                                    "l’accusé de réception vous est aussi envoyé par "
                                    "courriel. Il ne peut plus être modifié ; vous pourrez "
                                    "en commencer un nouveau à tout moment depuis la page de "
                                    "la structure."}]
    return render(request, "pages/director/result.html", ctx)


@router.get("/evaluations/{assessment_id}/impression", response_class=HTMLResponse)
def print_page(request: Request, assessment_id: IdPath, actor: CurrentActor,
               session: SessionDep, registry: RegistryDep) -> Response:
    a, s = svc.get_assessment(session, actor, assessment_id)
    ctx = _result_context(session, registry, actor, a, s, document=True)
    ctx["for_pdf"] = False
    return render(request, "pages/director/print.html", ctx)


def declaration_html(session: Session, registry: Registry, actor: Actor,
                     a: Assessment) -> str:
    """The print page as the PDF renders it (also the job "declaration_pdf"'s renderer)."""
    s = session.get(Structure, a.structure_id)
    assert s is not None
    ctx = _result_context(session, registry, actor, a, s, document=True)
    ctx["for_pdf"] = True
    return env.get_template("pages/director/print.html").render(ctx)


@router.get("/evaluations/{assessment_id}/declaration.pdf", response_class=Response,
            responses=file_responses("application/pdf"))
def declaration_pdf(assessment_id: IdPath, actor: CurrentActor, session: SessionDep,
                    registry: RegistryDep, settings: SettingsDep) -> Response:
    a, s = svc.get_assessment(session, actor, assessment_id)
    data, cached = pdf_service.declaration_pdf(
        session, a, lambda: declaration_html(session, registry, actor, a))
    kind = "declaration" if a.status == AssessmentStatus.submitted else "provisoire"
    filename = f"palier-{s.finess}-{kind}-{a.id}.pdf"
    return Response(data, media_type="application/pdf", headers={
        "Content-Disposition": f'attachment; filename="{filename}"',
        "X-Palier-Cache": "hit" if cached else "miss",
        "Cache-Control": "private, no-cache",
    })
