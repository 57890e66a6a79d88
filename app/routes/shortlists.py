"""Selection committees' pages: shortlists (list, builder with live preview, a frozen
shortlist and its re-run), their exports, the ARS's export of its region's assessments, and
the export jobs page (progress polled with htmx).

Without JavaScript the builder is a plain GET form ("Mettre à jour l’aperçu"); with htmx the
preview block follows every change. Saving posts the criteria shown in the preview.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, BackgroundTasks, Depends, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response, StreamingResponse
from sqlmodel import Session

from app.config import Settings
from app.deps import IdPath, PageQuery, SessionDep, SettingsDep
from app.errors import NotFound
from app.memory import return_memory
from app.permissions import Action, Actor, structure_scope
from app.questionnaires import Registry, RegistryDep
from app.reference import SECTOR_LABELS, departments, finess_categories, regions
from app.shortlists import delivery, export_service, exports, forms, jobs, ranking, stored
from app.shortlists import service as svc
from app.shortlists.models import ExportJob, ExportStatus, Shortlist
from app.shortlists.region_export import authorize_region, region_table
from app.web import reports
from app.web.auth_deps import CurrentActor, client_ip, require_permission
from app.web.downloads import stored_file_response
from app.web.templating import render

router = APIRouter(include_in_schema=False,
                   dependencies=[Depends(require_permission(Action.build_shortlist))])
region_router = APIRouter(include_in_schema=False,
                          dependencies=[Depends(require_permission(Action.export_region))])
jobs_router = APIRouter(include_in_schema=False)

PAGE_ROWS = 100
PREVIEW_ROWS = 20
NO_STORE = {"Cache-Control": "private, no-store"}


def _form(request: Request) -> dict[str, list[str]]:
    params = request.query_params
    return {key: params.getlist(key) for key in params}


async def _post_form(request: Request) -> dict[str, list[str]]:
    form = await request.form()
    return {key: [v for v in form.getlist(key) if isinstance(v, str)] for key in form}


PostForm = Annotated[dict[str, list[str]], Depends(_post_form)]


def _crumbs(*items: tuple[str, str]) -> list[dict[str, str]]:
    return [{"text": "Accueil", "href": "/"}, {"text": "Sélections", "href": "/selections"},
            *({"text": t, "href": h} for t, h in items)]


def _nav(actor: Actor, current: str) -> list[dict[str, Any]]:
    return [{"href": "/selections", "text": "Sélections", "current": current == "list"},
            {"href": "/selections/nouvelle", "text": "Nouvelle sélection",
             "current": current == "new"},
            {"href": "/exports", "text": "Mes exports", "current": current == "exports"}]


def _choices(actor: Actor, registry: Registry) -> dict[str, Any]:
    """Options of the builder's fields."""
    national = structure_scope(actor).all
    served = registry.all()
    q = registry.latest("esms-maturite-numerique") or (served[-1] if served else None)
    region = actor.region if not national else None
    return {
        "national": national,
        "fixed_region": region,
        "region_name": regions()[region].name if region is not None and region in regions()
        else None,
        "regions": sorted(regions().values(), key=lambda r: r.name),
        "departments": sorted((d for d in departments().values()
                               if region is None or d.region_code == region),
                              key=lambda d: d.code),
        "sectors": list(SECTOR_LABELS.items()),
        "categories": sorted(finess_categories().values(), key=lambda c: c.label.lower()),
        "size_bands": [(b, label) for b, label, _, _ in ranking.SIZE_BANDS],
        "domains": [(d.id, d.label) for d in q.domains] if q else [],
        "funding": [(f.id, f.label) for f in q.funding if f.kind != "resource"] if q else [],
        "tier_levels": [(t.level, t.label) for t in q.tiers] if q else [],
        "reviews": True,
        "review_labels": ranking.REVIEW_STATUS_LABELS,
        "dimensions": [(d, ranking.DIMENSION_LABELS[d]) for d in ranking.DIMENSIONS],
        "reasons": ranking.EXCLUSION_REASONS,
        "sector_labels": SECTOR_LABELS,
    }


# ---- list and builder -----------------------------------------------------------------------


@router.get("/selections", response_class=HTMLResponse)
def shortlist_list(request: Request, actor: CurrentActor, session: SessionDep) -> Response:
    return render(request, "pages/shortlists/list.html", {
        "shortlists": svc.list_visible(session, actor), "regions": regions(),
        "nav_items": _nav(actor, "list"),
        "breadcrumb": [*_crumbs()[:1], {"text": "Sélections", "href": ""}],
    })


def _preview(session: Session, actor: Actor, form: dict[str, list[str]],
             choices: dict[str, Any]) -> dict[str, Any]:
    criteria, errors = forms.criteria_from_form(form, fixed_region=choices["fixed_region"],
                                                national=choices["national"])
    out: dict[str, Any] = {"errors": errors, "problems": [], "selection": None,
                           "criteria": criteria}
    if criteria is None:
        return out
    try:
        out["selection"] = svc.build(session, actor, criteria, detail=PREVIEW_ROWS)
    except svc.InvalidCriteria as exc:
        out["problems"] = exc.problems
        out["infeasible"] = isinstance(exc, svc.QuotasInfeasible)
    if criteria is not None:
        out["hidden"] = forms.form_from_criteria(criteria.canonical())
        out["key_label"] = exports.key_label(criteria.canonical(), dict(choices["domains"]))
    return out


@router.get("/selections/nouvelle", response_class=HTMLResponse)
def builder(request: Request, actor: CurrentActor, session: SessionDep,
            registry: RegistryDep) -> Response:
    form = _form(request)
    choices = _choices(actor, registry)
    if "taille_liste" not in form:  # first visit: the defaults, previewed
        form = {"taille_liste": ["20"], "classement": ["global"]}
    preview = _preview(session, actor, form, choices)
    return render(request, "pages/shortlists/builder.html", {
        **choices, "form": form, "preview": preview,
        "preview_rows": PREVIEW_ROWS, "nav_items": _nav(actor, "new"),
        "breadcrumb": _crumbs(("Nouvelle sélection", "")),
    }, block_name="preview")


@router.post("/selections", response_class=HTMLResponse)
def create(request: Request, form: PostForm, actor: CurrentActor, session: SessionDep,
           registry: RegistryDep) -> Response:
    choices = _choices(actor, registry)
    name = (form.get("nom") or [""])[-1]
    preview = _preview(session, actor, form, choices)
    criteria = preview["criteria"]
    if criteria is not None and preview["selection"] is not None:
        try:
            frozen = svc.create(session, actor, name, criteria, client_ip(request))
        except svc.InvalidCriteria as exc:
            preview["name_error"] = " ".join(exc.problems)
        else:
            return RedirectResponse(f"/selections/{frozen.id}?enregistree=1", 303)
    return render(request, "pages/shortlists/builder.html", {
        **choices, "form": form, "preview": preview, "name": name,
        "preview_rows": PREVIEW_ROWS, "nav_items": _nav(actor, "new"),
        "breadcrumb": _crumbs(("Nouvelle sélection", "")),
    }, status_code=422)


# ---- a saved shortlist ----------------------------------------------------------------------


def _detail_context(session: Session, actor: Actor, registry: Registry, s: Shortlist,
                    page: int) -> dict[str, Any]:
    labels = export_service.labels_for(registry, s.questionnaire_versions)
    pages = max(1, -(-len(s.rows) // PAGE_ROWS))
    page = min(max(page, 1), pages)
    return {
        "shortlist": s, "rows": s.rows[(page - 1) * PAGE_ROWS: page * PAGE_ROWS],
        "page": page, "pages": pages, "page_rows": PAGE_ROWS,
        "criteria_lines": exports.criteria_lines(
            s, export_service.author_name(session, s.author_id), labels.domains,
            labels.funding, export_service.exported_at())[:-1],
        "key_label": exports.key_label(s.criteria, labels.domains),
        "key_distinct": exports.key_distinct(s.criteria),
        "has_quotas": bool(s.criteria.get("quotas")),
        "distribution": exports.tier_distribution(s.rows),
        "builder_query": urlencode(forms.form_from_criteria(s.criteria)),
        "nav_items": _nav(actor, ""),
        "breadcrumb": _crumbs((s.name, "")),
    }


@router.get("/selections/{shortlist_id}", response_class=HTMLResponse)
def detail(request: Request, shortlist_id: IdPath, actor: CurrentActor, session: SessionDep,
           registry: RegistryDep, page: PageQuery = 1) -> Response:
    s = svc.get(session, actor, shortlist_id)
    ctx = _detail_context(session, actor, registry, s, page)
    if request.query_params.get("enregistree"):
        ctx["messages"] = [{"level": "success", "title": "Sélection enregistrée",
                            "text": f"La sélection est figée : empreinte {s.hash[:12]}…"}]
    return render(request, "pages/shortlists/detail.html", ctx)


@router.get("/selections/{shortlist_id}/comparaison", response_class=HTMLResponse)
def compare(request: Request, shortlist_id: IdPath, actor: CurrentActor, session: SessionDep,
            registry: RegistryDep) -> Response:
    """Re-run the frozen criteria against today's data and show what changed."""
    s = svc.get(session, actor, shortlist_id)
    result = svc.rerun(session, actor, s)
    return render(request, "pages/shortlists/compare.html", {
        "shortlist": s, "rerun": result,
        "key_label": exports.key_label(s.criteria, export_service.labels_for(
            registry, s.questionnaire_versions).domains),
        "hidden": forms.form_from_criteria(s.criteria),
        "nav_items": _nav(actor, ""),
        "breadcrumb": _crumbs((s.name, f"/selections/{s.id}"),
                              ("Comparaison avec les données du jour", "")),
    })


# ---- exports of a shortlist -----------------------------------------------------------------


def _attachment(filename: str) -> dict[str, str]:
    return {"Content-Disposition": f'attachment; filename="{filename}"', **NO_STORE}


def shortlist_csv_response(request: Request, session: Session, actor: Actor, shortlist_id: int,
                           registry: Registry, sep: str,
                           headers: dict[str, str]) -> StreamingResponse:
    """The shortlist as a streamed CSV file (web page and API), with `headers` added."""
    s, chunks = export_service.shortlist_csv_now(session, actor, shortlist_id, registry, sep,
                                                 client_ip(request))
    name = exports.file_name(f"selection-{s.id}", "csv", sep)
    return StreamingResponse(chunks, media_type="text/csv; charset=utf-8",
                             headers={"Content-Disposition": f'attachment; filename="{name}"',
                                      **headers})


def shortlist_file_now(request: Request, session: Session, actor: Actor, s: Any, count: int,
                       registry: Registry, fmt: str, media_type: str,
                       headers: dict[str, str]) -> Response:
    """The XLSX or PDF of a shortlist built now (web page and API), with `headers` added;
    `s` and `count` from `stored.head`."""
    data = export_service.shortlist_file_now(session, actor, s, count, registry, fmt,
                                             reports.shortlist_report_html, client_ip(request))
    name = exports.file_name(f"selection-{s.id}", fmt)
    return Response(data, media_type=media_type,
                    headers={"Content-Disposition": f'attachment; filename="{name}"', **headers})


@router.get("/selections/{shortlist_id}/export.csv")
def shortlist_csv(request: Request, shortlist_id: IdPath, actor: CurrentActor,
                  session: SessionDep, registry: RegistryDep,
                  sep: Annotated[str, Query(pattern="^[,;]$")] = ",") -> Response:
    return shortlist_csv_response(request, session, actor, shortlist_id, registry, sep,
                                  NO_STORE)


def send_or_start(request: Request, session: Session, actor: Actor, settings: Settings,
                  registry: Registry, background: BackgroundTasks,
                  sessions: jobs.SessionFactory, spec: delivery.JobSpec,
                  now: Callable[[], Response],
                  pending: Callable[[ExportJob], Response],
                  file_headers: dict[str, str] | None = None) -> Response:
    """Send an export now (`now()`), or, when large (see app.shortlists.delivery), through
    its job: the job's finished file (with `file_headers`), else `pending(job)` (the web
    page's 303 to the job, the API's 202), a new job being started. Pages and API alike."""
    if not spec.as_job:
        return now()
    out = delivery.job_export(session, actor, spec, client_ip(request))
    if out.file is not None:
        return stored_file_response(session, out.file, out.job.filename or out.file.key,
                                    file_headers)
    if out.started:
        jobs.start(settings, out.job_id, background=background, sessions=sessions,
                   registry=registry)
    return pending(out.job)


def _job_page(job: ExportJob) -> Response:
    return RedirectResponse(f"/exports/{job.id}", 303)


def shortlist_file(request: Request, shortlist_id: int, actor: Actor, session: Session,
                   settings: Settings, registry: Registry, background: BackgroundTasks,
                   sessions: jobs.SessionFactory, fmt: str, media_type: str, *,
                   headers: dict[str, str],
                   pending: Callable[[ExportJob], Response],
                   file_headers: dict[str, str] | None) -> Response:
    """The XLSX or PDF of a shortlist (web page and API): now, with `headers`, or as a job
    when it is large (`send_or_start`)."""
    s, count = stored.head(session, actor, shortlist_id)  # the rows are not decoded here
    spec = delivery.JobSpec(f"shortlist_{fmt}", {"shortlist_id": s.id},
                            exports.file_name(f"selection-{s.id}", fmt), count, "shortlist",
                            s.id, reuse_done=True)
    return send_or_start(
        request, session, actor, settings, registry, background, sessions, spec,
        lambda: shortlist_file_now(request, session, actor, s, count, registry, fmt,
                                   media_type, headers),
        pending, file_headers)


@router.get("/selections/{shortlist_id}/export.xlsx")
def shortlist_xlsx(request: Request, shortlist_id: IdPath, actor: CurrentActor,
                   session: SessionDep, settings: SettingsDep, registry: RegistryDep,
                   background: BackgroundTasks, sessions: jobs.SessionFactoryDep) -> Response:
    return _shortlist_file(request, shortlist_id, actor, session, settings, registry,
                           background, sessions, "xlsx",
                           "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")


@router.get("/selections/{shortlist_id}/export.pdf")
def shortlist_pdf(request: Request, shortlist_id: IdPath, actor: CurrentActor,
                  session: SessionDep, settings: SettingsDep, registry: RegistryDep,
                  background: BackgroundTasks, sessions: jobs.SessionFactoryDep) -> Response:
    return _shortlist_file(request, shortlist_id, actor, session, settings, registry,
                           background, sessions, "pdf", "application/pdf")


def _shortlist_file(request: Request, shortlist_id: int, actor: Actor, session: Session,
                    settings: Settings, registry: Registry, background: BackgroundTasks,
                    sessions: jobs.SessionFactory, fmt: str, media_type: str) -> Response:
    return shortlist_file(request, shortlist_id, actor, session, settings, registry,
                          background, sessions, fmt, media_type, headers=NO_STORE,
                          pending=_job_page, file_headers=NO_STORE)


# ---- the ARS's export of its region ---------------------------------------------------------


def _region_stream(sessions: jobs.SessionFactory, actor: Actor, registry: Registry, region: str,
                   sep: str) -> Iterator[str]:
    try:
        with sessions() as session:
            table = region_table(session, actor, registry, region)
            yield from exports.csv_chunks(table.header, table.rows, sep)
    finally:
        return_memory()  # the answers read are freed: give the heap back


@region_router.get("/regions/{code}/export.csv")
def region_csv(request: Request, code: str, actor: CurrentActor, session: SessionDep,
               registry: RegistryDep, sessions: jobs.SessionFactoryDep,
               sep: Annotated[str, Query(pattern="^[,;]$")] = ",") -> Response:
    authorize_region(actor, code)
    export_service.record_export(session, actor, "region", "csv", "region", code, None,
                                 client_ip(request), separator=sep)
    return StreamingResponse(_region_stream(sessions, actor, registry, code, sep),
                             media_type="text/csv; charset=utf-8",
                             headers=_attachment(exports.file_name(
                                 f"evaluations-region-{code}", "csv", sep)))


@region_router.get("/regions/{code}/export.xlsx")
def region_xlsx(request: Request, code: str, actor: CurrentActor, session: SessionDep,
                settings: SettingsDep, registry: RegistryDep, background: BackgroundTasks,
                sessions: jobs.SessionFactoryDep) -> Response:
    table = region_table(session, actor, registry, code)
    filename = exports.file_name(f"evaluations-region-{code}", "xlsx")

    def now() -> Response:
        buffer = io.BytesIO()
        exports.write_table_xlsx(buffer, [("Évaluations", table.header, table.rows)])
        export_service.record_export(session, actor, "region", "xlsx", "region", code,
                                     table.total, client_ip(request))
        return Response(buffer.getvalue(), headers=_attachment(filename),
                        media_type="application/vnd.openxmlformats-officedocument."
                                   "spreadsheetml.sheet")

    spec = delivery.JobSpec("region_xlsx", {"region": code}, filename, table.total, "region",
                            code, reuse_done=False)
    return send_or_start(request, session, actor, settings, registry, background, sessions,
                         spec, now, _job_page, NO_STORE)


# ---- export jobs ----------------------------------------------------------------------------


def _job_view(job: ExportJob) -> dict[str, Any]:
    return {"job": job, "label": jobs.KIND_LABELS.get(job.kind, job.kind),
            "percent": round(100 * (job.progress or 0)),
            "active": job.status in (ExportStatus.pending, ExportStatus.running)}


@jobs_router.get("/exports", response_class=HTMLResponse)
def job_list(request: Request, actor: CurrentActor, session: SessionDep) -> Response:
    return render(request, "pages/shortlists/jobs.html", {
        "jobs": [_job_view(j) for j in jobs.list_for(session, actor.id)],
        "nav_items": _nav(actor, "exports"),
        "breadcrumb": [{"text": "Accueil", "href": "/"}, {"text": "Mes exports", "href": ""}],
    })


@jobs_router.get("/exports/{job_id}", response_class=HTMLResponse)
def job_page(request: Request, job_id: IdPath, actor: CurrentActor,
             session: SessionDep) -> Response:
    job = jobs.get(session, actor.id, job_id)
    return render(request, "pages/shortlists/job.html", {
        **_job_view(job), "nav_items": _nav(actor, "exports"),
        "breadcrumb": [{"text": "Accueil", "href": "/"},
                       {"text": "Mes exports", "href": "/exports"},
                       {"text": f"Export n° {job.id}", "href": ""}],
    }, block_name="status")


@jobs_router.get("/exports/{job_id}/fichier")
def job_file(job_id: IdPath, actor: CurrentActor, session: SessionDep,
             settings: SettingsDep) -> Response:
    return job_file_response(session, actor, job_id, {"Cache-Control": "private, no-store"})


def job_file_response(session: Session, actor: Actor, job_id: int,
                      headers: dict[str, str] | None = None) -> Response:
    """The finished file of the actor's export job (web page and API), else NotFound."""
    job = jobs.get(session, actor.id, job_id)
    blob = jobs.file_of(session, job)
    if blob is None:
        raise NotFound("Le fichier de cet export n’est pas (ou plus) disponible.")
    return stored_file_response(session, blob, job.filename or blob.key, headers)
