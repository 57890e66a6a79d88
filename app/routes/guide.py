"""Before starting (issue 10): the glossary of acronyms and the blank questionnaire to print
(HTML and PDF). Public: nothing here is about a structure."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from app.assessments.glossary import SOURCES_CONSULTED, TERMS
from app.assessments.guide import blank_sections, estimate
from app.assessments.pdf import html_to_pdf
from app.assessments.service import DEFAULT_QUESTIONNAIRE
from app.errors import QuestionnaireUnavailable
from app.formatting import date_fr
from app.questionnaires import Registry, RegistryDep
from app.routes.schemas import file_responses
from app.web.templating import env, render
from scoring import Questionnaire

router = APIRouter(tags=["public"])



def _current(registry: Registry) -> Questionnaire:
    q = registry.latest(DEFAULT_QUESTIONNAIRE)
    if q is None:
        raise QuestionnaireUnavailable()
    return q


@router.get("/glossaire", response_class=HTMLResponse)
def glossary(request: Request) -> Response:
    terms = sorted(TERMS, key=lambda t: t.acronym.lower())
    return render(request, "pages/guide/glossary.html", {
        "terms": terms, "consulted": date_fr(SOURCES_CONSULTED),
        "breadcrumb": [{"text": "Accueil", "href": "/"},
                       {"text": "Glossaire des sigles", "href": ""}]})


def _blank_context(q: Questionnaire, for_pdf: bool) -> dict[str, object]:
    return {"questionnaire": q, "estimate": estimate(q), "sections": blank_sections(q),
            "for_pdf": for_pdf}


@router.get("/questionnaire-vierge", response_class=HTMLResponse)
def blank(request: Request, registry: RegistryDep) -> Response:
    """The current questionnaire, blank, to print and fill in with colleagues."""
    return render(request, "pages/guide/blank.html", _blank_context(_current(registry), False))


@router.get("/questionnaire-vierge.pdf", response_class=Response,
            responses=file_responses("application/pdf"))
def blank_pdf(registry: RegistryDep) -> Response:
    q = _current(registry)
    html = env.get_template("pages/guide/blank.html").render(_blank_context(q, True))
    return Response(html_to_pdf(html), media_type="application/pdf", headers={
        "Content-Disposition": f'attachment; filename="questionnaire-vierge-{q.version}.pdf"',
        "Cache-Control": "public, max-age=3600",
    })
