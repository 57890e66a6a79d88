"""The what-if simulator (issue 10): the page with every answer that can move the palier,
and its post, which scores the posted answers and saves nothing. An htmx post gets the
result panel only; a plain post (no JavaScript) gets the whole page again."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from app.assessments import service as svc
from app.assessments.models import AssessmentStatus
from app.assessments.simulation import simulate, simulated_questions
from app.deps import IdPath, SessionDep
from app.permissions import speaks_to_owner
from app.questionnaires import RegistryDep
from app.routes.assessments import FormDep, FormLists
from app.web.auth_deps import CurrentActor
from app.web.navigation import crumbs
from app.web.templating import is_htmx, render

router = APIRouter(tags=["directeur"])



def _page(request: Request, assessment_id: int, actor: CurrentActor, session: SessionDep,
          registry: RegistryDep, form: FormLists | None) -> Response:
    a, s = svc.get_assessment(session, actor, assessment_id)
    assert s.id is not None
    neutral = not speaks_to_owner(actor, s.id)
    sim = simulate(registry, a, form, neutral=neutral)
    by_section = [(section, [qu for qu in section.questions
                             if qu in simulated_questions(sim.questionnaire)])
                  for section in sim.questionnaire.sections]
    back = (f"/evaluations/{a.id}/resultat" if a.status == AssessmentStatus.submitted
            else f"/evaluations/{a.id}/transmettre")
    return render(request, "pages/director/simulation.html", {
        "assessment": a, "structure": s, "sim": sim, "neutral": neutral,
        "sections": [(sec, qs) for sec, qs in by_section if qs], "back": back,
        "posted": form is not None,
        "breadcrumb": crumbs(actor, (s.name, f"/structures/{s.finess}"),
                             ("Simulation", "")),
    }, block_name="sim_result",
        status_code=422 if sim.errors and not is_htmx(request) else 200,
        headers={"Cache-Control": "no-store"})


@router.get("/evaluations/{assessment_id}/simulation", response_class=HTMLResponse)
def simulation_page(request: Request, assessment_id: IdPath, actor: CurrentActor,
                    session: SessionDep, registry: RegistryDep) -> Response:
    """The simulator, starting from the saved answers."""
    return _page(request, assessment_id, actor, session, registry, None)


@router.post("/evaluations/{assessment_id}/simulation", response_class=HTMLResponse)
def simulation_post(request: Request, assessment_id: IdPath, form: FormDep,
                    actor: CurrentActor, session: SessionDep,
                    registry: RegistryDep) -> Response:
    """Score the posted answers; nothing is saved."""
    return _page(request, assessment_id, actor, session, registry, form)
