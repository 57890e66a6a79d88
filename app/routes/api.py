"""JSON API v1: the same services as the pages. OpenAPI at /docs."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, Field

from app.assessments import results
from app.assessments import service as svc
from app.assessments.receipt import receipt_number
from app.dashboard import service as dashboard
from app.deps import (
    MAX_ID,
    IdPath,
    SessionDep,
    SettingsDep,
    request_session,
)
from app.errors import InvalidAnswers
from app.permissions import Actor
from app.questionnaires import Registry, RegistryDep, get_registry
from app.routes.api_autosave import bearer_save
from app.routes.schemas import AnswersPatch, ApiError, AssessmentOut, StructureOut
from app.structures.directory import MAX_SEARCH, list_structures
from app.web.api_caller import ApiCaller, api_caller
from app.web.auth_deps import CurrentActor
from scoring import score, validate_answers

router = APIRouter(prefix="/api/v1", tags=["api"])
public_router = APIRouter(prefix="/api/v1", tags=["api"])  # no login needed
# Added by app.main as is, without the app-wide dependencies (load_user): its route checks the
# caller itself (app/web/api_caller.py); with a Bearer token its service does (issue 14: the
# director's autosave through the API, app/assessments/token_autosave.py).
lean_router = APIRouter(prefix="/api/v1", tags=["api"])


class QuestionnaireSummary(BaseModel):
    id: str
    version: str
    title: str
    questions: int
    latest: bool


class ScoreRequest(BaseModel):
    questionnaire: str
    version: str | None = None
    answers: dict[str, Any]


class SubmitOut(AssessmentOut):
    receipt: str = Field(description="Numéro d'accusé de réception (PAL-AAAA-NNNNNN).")


@public_router.get("/questionnaires")
def list_questionnaires(registry: RegistryDep) -> list[QuestionnaireSummary]:
    """Les questionnaires chargés (toutes versions valides)."""
    out = []
    for q in registry.all():
        latest = registry.latest(q.id)
        out.append(QuestionnaireSummary(id=q.id, version=q.version, title=q.title,
                                        questions=len(q.questions),
                                        latest=latest is not None and latest.key == q.key))
    return out


@public_router.get("/questionnaires/{qid}/{version}")
def get_questionnaire(qid: str, version: str, registry: RegistryDep) -> dict[str, Any]:
    """Un questionnaire, avec les mêmes clés que son fichier YAML."""
    q = registry.get(qid, version)
    if q is None:
        raise HTTPException(404, "Questionnaire introuvable.")
    return q.to_yaml_dict()


@public_router.post("/score")
def score_answers(body: ScoreRequest, registry: RegistryDep) -> dict[str, Any]:
    """Calculer un résultat sans rien enregistrer."""
    q = registry.get(body.questionnaire, body.version) if body.version \
        else registry.latest(body.questionnaire)
    if q is None:
        raise HTTPException(404, "Questionnaire introuvable.")
    errors = validate_answers(q, body.answers)
    if errors:
        raise InvalidAnswers(errors)
    return score(q, body.answers).to_dict()


@router.get("/structures")
def structures(
    actor: CurrentActor, session: SessionDep, response: Response,
    region: str | None = None, department: str | None = None, category: str | None = None,
    q: Annotated[str, Query(
        max_length=MAX_SEARCH,
        description="Recherche : nom ou commune contenant ces mots (accents, majuscules et "
                    "ponctuation ignorés : « saint etienne » trouve « Saint-Étienne »), ou "
                    "numéro FINESS commençant par ces chiffres.")] = "",
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0, le=MAX_ID)] = 0,
) -> list[StructureOut]:
    """Les structures que l'appelant peut voir (total dans l'en-tête X-Total-Count)."""
    page = list_structures(session, actor, region=region, department=department,
                           category=category, search=q, limit=limit, offset=offset)
    response.headers["X-Total-Count"] = str(page.total)
    return [StructureOut.of(s) for s in page.items]


@router.get("/structures/{finess}")
def structure(finess: str, actor: CurrentActor, session: SessionDep) -> StructureOut:
    return StructureOut.of(svc.get_structure(session, actor, finess))


@router.post("/structures/{finess}/assessments", status_code=201)
def start_assessment(finess: str, actor: CurrentActor, session: SessionDep,
                     registry: RegistryDep, response: Response) -> AssessmentOut:
    """Créer le brouillon de la structure, ou renvoyer celui qui existe (200)."""
    a, _ = svc.start_or_resume(session, actor, registry, finess)
    s = svc.get_structure(session, actor, finess)
    if a.version > 0 or a.created_by != actor.id:
        response.status_code = 200
    return AssessmentOut.of(a, s)


@router.get("/assessments/{assessment_id}")
def assessment(assessment_id: IdPath, actor: CurrentActor, session: SessionDep) -> AssessmentOut:
    a, s = svc.get_assessment(session, actor, assessment_id)
    return AssessmentOut.of(a, s)


@lean_router.patch("/assessments/{assessment_id}/answers", response_model=AssessmentOut,
                   responses={422: {"model": ApiError, "description": "Données invalides"}})
async def save(request: Request, assessment_id: IdPath, body: AnswersPatch,
               caller: Annotated[ApiCaller, Depends(api_caller)]) -> Response:
    """Enregistrer des réponses (partiel). 409 si une question a changé depuis `version`."""
    # The common Bearer request is served by the lean path in front of this route
    # (app/routes/api_autosave.py); the same service answers what it hands on.
    if caller.bearer is not None:
        text = await bearer_save(request, caller.bearer, assessment_id, body)
    else:
        assert caller.actor is not None
        text = await run_in_threadpool(_save_with_cookie, request, caller.actor,
                                       get_registry(request), assessment_id, body)
    return Response(text, media_type="application/json")


def _save_with_cookie(request: Request, actor: Actor, registry: Registry, assessment_id: int,
                      body: AnswersPatch) -> bytes:
    """A session cookie's save (`service.save_answers`), in one threadpool call."""
    with request_session(request) as session:
        saved = svc.save_answers(session, actor, registry, assessment_id, body.version,
                                 body.answers)
        assert saved.structure is not None
        return AssessmentOut.of(saved.assessment, saved.structure).model_dump_json().encode()


class SubmitRequest(BaseModel):
    declaration: bool = Field(
        False, strict=True,
        description="true : l'appelant certifie que les réponses transmises sont exactes et "
                    "complètes à sa connaissance (consigné dans le journal d'audit). "
                    "Facultatif pour l'API ; la page de transmission exige la case cochée.")


@router.post("/assessments/{assessment_id}/submit")
def submit(assessment_id: IdPath, actor: CurrentActor, session: SessionDep,
           registry: RegistryDep, settings: SettingsDep,
           body: SubmitRequest | None = None) -> SubmitOut:
    """Transmettre l'évaluation (422 avec la liste des questions manquantes). Le corps est
    facultatif (`{"declaration": true}`). L'accusé de réception (`receipt`, aussi envoyé
    par courriel à l'appelant avec le palier et le lien vers la déclaration PDF) est rendu
    avec l'évaluation."""
    a = svc.submit(session, actor, registry, assessment_id, settings=settings,
                   declared=bool(body and body.declaration))
    _, s = svc.get_assessment(session, actor, assessment_id)
    return SubmitOut(**AssessmentOut.of(a, s).model_dump(), receipt=receipt_number(a))


@router.get("/assessments/{assessment_id}/result")
def result(assessment_id: IdPath, actor: CurrentActor, session: SessionDep,
           registry: RegistryDep) -> dict[str, Any]:
    a, _ = svc.get_assessment(session, actor, assessment_id)
    return results.result_of(registry, a)


# ---- regional dashboard (app/dashboard) -----------------------------------------------------


@router.get("/regions/{code}/summary")
def region_summary(
    code: str, actor: CurrentActor, session: SessionDep, registry: RegistryDep,
    departement: str | None = None, categorie: str | None = None,
    secteur: str | None = None, taille: str | None = None, palier: str | None = None,
    du: str | None = None, au: str | None = None,
) -> dict[str, Any]:
    """Chiffres du tableau de bord régional (dernière évaluation transmise de chaque
    structure en activité), avec les filtres du tableau de bord : `departement` (code INSEE),
    `categorie` (code FINESS), `secteur`, `taille` (moins-de-40, 40-99, 100-199,
    200-et-plus), `palier` (0 à 4), `du` et `au` (dates de transmission, AAAA-MM-JJ).
    404 pour une région hors du périmètre de l'appelant."""
    region = dashboard.check_region(actor, code)
    params = {"departement": departement, "categorie": categorie, "secteur": secteur,
              "taille": taille, "palier": palier, "du": du, "au": au}
    f = dashboard.Filters.parse(params, region)
    return dashboard.summary(session, actor, registry, region, f).to_dict()
