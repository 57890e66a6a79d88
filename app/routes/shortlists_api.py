"""JSON API of shortlists: create (frozen), read, export. Same services as the pages.

Large exports (XLSX above 2,000 rows, PDF above 100 rows) run as background jobs: the export
URL answers 202 with the job (`{"job", "status", "progress", "url", "file"}`); poll
`GET /api/v1/exports/{job}` until `status` is `done`, then fetch `GET /api/v1/exports/{job}/file`.
A finished export of a (frozen) shortlist is served directly the next time.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, BackgroundTasks, Depends, Query, Request
from fastapi.responses import JSONResponse, Response, StreamingResponse
from pydantic import BaseModel, ConfigDict, Field
from sqlmodel import Session

from app.config import Settings
from app.deps import IdPath, SessionDep, SettingsDep
from app.permissions import Action, Actor
from app.questionnaires import Registry, RegistryDep
from app.routes.schemas import file_responses
from app.routes.shortlists import (
    job_file_response,
    shortlist_csv_response,
    shortlist_file,
)
from app.shortlists import jobs
from app.shortlists import service as svc
from app.shortlists.models import ExportJob, ExportStatus, Shortlist
from app.shortlists.ranking import Criteria
from app.shortlists.service import InvalidCriteria
from app.web.auth_deps import CurrentActor, client_ip, require_permission

router = APIRouter(prefix="/api/v1", tags=["sélections"],
                   dependencies=[Depends(require_permission(Action.build_shortlist))])
jobs_router = APIRouter(prefix="/api/v1", tags=["sélections"])

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class ShortlistRequest(Criteria):
    """Critères d'une sélection (voir docs/shortlists.md)."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"example": {
        "name": "Vague 2027 – Auvergne-Rhône-Alpes", "region": "84", "departments": [],
        "categories": ["personnes_agees"], "tiers": [1, 3], "eligible_for": "esms-numerique",
        "review_status": [], "rank_by": "readiness", "order": "asc", "size": 30,
        "quotas": [{"by": "department", "max": 5}, {"by": "tier", "min": 5}]}})

    name: str = Field(min_length=1, max_length=200)


class ShortlistRow(BaseModel):
    rank: int
    finess: str
    name: str
    tier: int | None
    score: float | None  # the value of the ranking key
    group: str | None  # the groups on the quota dimensions
    rule: str  # "min:<dimension>" (a minimum put it in) or "rank"


class ShortlistCreated(BaseModel):
    id: int
    hash: str
    rows: list[ShortlistRow]
    excluded: dict[str, int]
    warnings: list[str] = []


class ShortlistOut(ShortlistCreated):
    name: str
    region: str | None
    created_at: Any
    author_id: int | None
    criteria: dict[str, Any]
    questionnaire_versions: list[str]


def _row_dicts(s: Shortlist) -> list[dict[str, Any]]:
    """The rows as `ShortlistRow` fields."""
    return [{"rank": r["rank"], "finess": r["finess"], "name": r["name"], "tier": r["tier"],
             "score": r["key"], "group": r["group"], "rule": r["rule"]} for r in s.rows]


def _rows(s: Shortlist) -> list[ShortlistRow]:
    return [ShortlistRow(**r) for r in _row_dicts(s)]


def _invalid(exc: InvalidCriteria) -> JSONResponse:
    return JSONResponse({"detail": exc.message, "problems": exc.problems},
                        status_code=exc.status)


@router.post("/shortlists", status_code=201, response_model=ShortlistCreated,
             responses={422: {"description": "Critères invalides ou quotas impossibles "
                                              "(`problems` les énumère)"}})
def create_shortlist(body: ShortlistRequest, request: Request, actor: CurrentActor,
                     session: SessionDep) -> Any:
    """Construire et figer une sélection (critères, versions, lignes, empreinte)."""
    criteria = Criteria.model_validate(body.model_dump(exclude={"name"}))
    try:
        f = svc.create(session, actor, body.name, criteria, client_ip(request))
    except InvalidCriteria as exc:
        return _invalid(exc)
    warnings = []
    if len(f.brief) < criteria.size:
        warnings.append(f"Seulement {len(f.brief)} structures retenues pour {criteria.size} "
                        "demandées (pas assez de structures éligibles).")
    # `ShortlistCreated`, serialized without a model per row (a national list: 34,000 rows)
    rows = [{"rank": rank, "finess": finess, "name": name, "tier": tier, "score": key,
             "group": group, "rule": rule}
            for rank, finess, name, tier, key, group, rule in f.brief]
    return JSONResponse({"id": f.id or 0, "hash": f.hash, "rows": rows,
                         "excluded": f.excluded, "warnings": warnings}, status_code=201)


@router.get("/shortlists/{shortlist_id}", response_model=ShortlistOut)
def read_shortlist(shortlist_id: IdPath, actor: CurrentActor, session: SessionDep) -> Any:
    s = svc.get(session, actor, shortlist_id)
    return ShortlistOut(id=s.id or 0, hash=s.hash, rows=_rows(s), excluded=s.excluded,
                        name=s.name, region=s.region, created_at=s.created_at,
                        author_id=s.author_id, criteria=s.criteria,
                        questionnaire_versions=s.questionnaire_versions)


def _job_json(job: ExportJob) -> dict[str, Any]:
    return {"job": job.id, "kind": job.kind, "status": job.status, "progress": job.progress,
            "rows_done": job.rows_done, "rows_total": job.rows_total, "error": job.error,
            "url": f"/api/v1/exports/{job.id}",
            "file": f"/api/v1/exports/{job.id}/file" if job.status == ExportStatus.done
            else None}


def _job_accepted(job: ExportJob) -> Response:
    return JSONResponse(_job_json(job), status_code=202,
                        headers={"Location": f"/api/v1/exports/{job.id}"})


@router.get("/shortlists/{shortlist_id}/export.csv", response_class=StreamingResponse,
            responses=file_responses("text/csv"))
def export_csv(shortlist_id: IdPath, request: Request, actor: CurrentActor, session: SessionDep,
               registry: RegistryDep,
               sep: Annotated[str, Query(pattern="^[,;]$")] = ",") -> Response:
    """CSV UTF-8 avec BOM ; `sep=;` pour les tableurs français (virgule décimale)."""
    return shortlist_csv_response(request, session, actor, shortlist_id, registry, sep, {})


@router.get("/shortlists/{shortlist_id}/export.xlsx", response_class=Response,
            responses=file_responses(XLSX, job=True))
def export_xlsx(shortlist_id: IdPath, request: Request, actor: CurrentActor, session: SessionDep,
                settings: SettingsDep, registry: RegistryDep, background: BackgroundTasks,
                sessions: jobs.SessionFactoryDep) -> Response:
    """XLSX (sélection, critères et provenance, scores par domaine, prochaines étapes)."""
    return _file(request, shortlist_id, actor, session, settings, registry, background,
                 sessions, "xlsx", XLSX)


@router.get("/shortlists/{shortlist_id}/export.pdf", response_class=Response,
            responses=file_responses("application/pdf", job=True))
def export_pdf(shortlist_id: IdPath, request: Request, actor: CurrentActor, session: SessionDep,
               settings: SettingsDep, registry: RegistryDep, background: BackgroundTasks,
               sessions: jobs.SessionFactoryDep) -> Response:
    """Rapport de comité (critères, répartition par palier, 500 premières lignes)."""
    return _file(request, shortlist_id, actor, session, settings, registry, background,
                 sessions, "pdf", "application/pdf")


def _file(request: Request, shortlist_id: int, actor: Actor, session: Session,
          settings: Settings, registry: Registry, background: BackgroundTasks,
          sessions: jobs.SessionFactory,
          fmt: str, media_type: str) -> Response:
    """The XLSX or PDF of a shortlist: now, or as a job (202) when it is large."""
    return shortlist_file(request, shortlist_id, actor, session, settings, registry,
                          background, sessions, fmt, media_type, headers={},
                          pending=_job_accepted, file_headers=None)


@jobs_router.get("/exports/{job_id}")
def export_job(job_id: IdPath, actor: CurrentActor, session: SessionDep) -> dict[str, Any]:
    """État d'un export en arrière-plan (seul son auteur le voit)."""
    return _job_json(jobs.get(session, actor.id, job_id))


@jobs_router.get("/exports/{job_id}/file", response_class=Response,
                 responses=file_responses(XLSX, "application/pdf"))
def export_job_file(job_id: IdPath, actor: CurrentActor, session: SessionDep,
                    settings: SettingsDep) -> Response:
    return job_file_response(session, actor, job_id)
