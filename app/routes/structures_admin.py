"""Structures directory administration: FINESS import (upload, background job, progress,
report) for admins and ARS referents (their region only), and the admin's correction of a
structure (category, capacity, department; audited).

The import runs as the "import" job (app.structures.import_jobs), in its own Session
(`job_sessions`, a dependency tests override); its progress lives on the ImportJob row,
which the job page polls with htmx every second (a plain "Actualiser" link without JavaScript).
"""

from __future__ import annotations

import csv
import io
import logging
from collections.abc import Iterator
from typing import Annotated, Any

from fastapi import APIRouter, BackgroundTasks, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response, StreamingResponse
from sqlmodel import Session
from starlette.datastructures import UploadFile

from app import stale_jobs
from app.db import get_engine
from app.deps import IdPath, SessionDep, SettingsDep
from app.permissions import Action, Actor, import_region
from app.reference import departments, finess_categories, regions
from app.structures import corrections, creation, import_jobs
from app.structures import imports as imports
from app.structures.adapters import EtalabCsvAdapter, SourceFormatError
from app.structures.models import ImportJob, ImportStatus
from app.web.auth_deps import CurrentActor, client_ip, require_permission
from app.web.templating import render

log = logging.getLogger("palier.imports")

PATH = "/admin/structures"
IMPORT_PATH = PATH + "/import"
NEW_PATH = PATH + "/nouvelle"  # declared before PATH/{finess}, which would capture it
SHOWN_LINES = 500
STATUS_FILTERS = {"rejected": "Rejetées", "skipped": "Ignorées", "warnings": "Avec avertissement",
                  "imported": "Importées", "updated": "Mises à jour"}
JOB_STATUS = {"pending": "En attente", "running": "En cours", "done": "Terminé",
              "failed": "Échec"}
PHASES = {"reading": "Lecture et vérification des lignes",
          "writing": "Enregistrement des structures"}
FIELD_LABELS = {"category_code": "Catégorie", "capacity": "Capacité",
                "department": "Département"}

router = APIRouter(include_in_schema=False)
importers = [Depends(require_permission(Action.import_structures))]
admins = [Depends(require_permission(Action.correct_structure))]

def job_sessions() -> imports.JobSessions:
    """How a background job opens its own Session (tests override this dependency)."""
    return lambda: Session(get_engine())


# --- pages --------------------------------------------------------------------------------


def _crumbs(*items: tuple[str, str]) -> list[dict[str, str]]:
    return [{"text": "Accueil", "href": "/"}, *({"text": t, "href": h} for t, h in items)]


def _import_page(request: Request, session: Session, actor: Actor, settings: Any,
                 status_code: int = 200, **context: Any) -> Response:
    confined = import_region(actor)
    region = regions().get(confined) if confined is not None else None
    return render(request, "pages/imports/import.html", {
        "jobs": imports.list_jobs(session, actor), "regions_by_code": regions(),
        "job_status": JOB_STATUS,
        "ars_region": region,
        "regions": [{"value": r.code, "label": f"{r.name} ({r.code})"}
                    for r in regions().values()],
        "max_mb": settings.import_max_upload_mb,
        "breadcrumb": _crumbs(("Import des structures", IMPORT_PATH)),
        **context,
    }, status_code=status_code)


@router.get(IMPORT_PATH, response_class=HTMLResponse, dependencies=importers)
def import_form(request: Request, actor: CurrentActor, session: SessionDep,
                settings: SettingsDep) -> Response:
    return _import_page(request, session, actor, settings)


async def _read_limited(upload: UploadFile, limit: int) -> bytes | None:
    """The upload's bytes, or None beyond `limit`."""
    chunks: list[bytes] = []
    size = 0
    while chunk := await upload.read(1 << 20):
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


@router.post(IMPORT_PATH, response_class=HTMLResponse, dependencies=importers)
async def import_upload(
    request: Request,
    actor: CurrentActor,
    session: SessionDep,
    settings: SettingsDep,
    background: BackgroundTasks,
    sessions: Annotated[imports.JobSessions, Depends(job_sessions)],
) -> Response:
    # The body is read here, after the permission check (no File/Form parameters: FastAPI
    # would parse them before any dependency runs).
    fields = await request.form(max_files=1, max_fields=20)
    try:
        upload = fields.get("file")
        partial, region, close_missing = (
            value if isinstance(value := fields.get(name), str) else ""
            for name in ("partial", "region", "close_missing"))
        form = {"partial": bool(partial), "region": region,
                "close_missing": bool(close_missing)}

        def refuse(message: str, status_code: int = 400) -> Response:
            return _import_page(request, session, actor, settings, status_code=status_code,
                                form=form, error=message)

        if not isinstance(upload, UploadFile) or not upload.filename:
            return refuse("Choisissez le fichier FINESS à importer.")
        filename = upload.filename
        if not filename.lower().endswith(".csv"):
            return refuse("Le fichier doit être au format CSV (extension .csv).", 415)
        limit = settings.import_max_upload_mb * 1024 * 1024
        data = await _read_limited(upload, limit)
    finally:
        await fields.close()
    if data is None:
        return refuse(f"Le fichier dépasse la taille maximale de "
                      f"{settings.import_max_upload_mb} Mo.", 413)
    try:
        options = imports.options_for(actor, settings, partial=bool(partial), region=region,
                                      close_missing=bool(close_missing))
        source = EtalabCsvAdapter(data, filename=filename)
    except imports.ImportFailed as exc:
        return refuse(exc.message)
    except SourceFormatError as exc:
        return refuse(str(exc), 422)
    del source  # read once to refuse a malformed file now; the job reads the stored copy
    job_id = import_jobs.queue_job(session, settings, filename=filename, data=data,
                               options=options, user_id=actor.id, ip=client_ip(request),
                               background=background, sessions=sessions)
    return RedirectResponse(f"{IMPORT_PATH}/{job_id}", status_code=303)


def _report_lines(job: ImportJob, wanted: str | None) -> tuple[list[dict[str, Any]], int]:
    lines = (job.report or {}).get("lines", [])
    rows = []
    for line, finess, status, message, reason in lines:
        if wanted == "warnings":
            keep = status in ("imported", "updated") and bool(message)
        elif wanted:
            keep = status == wanted
        else:
            keep = status in ("rejected", "skipped") or bool(message)
        if keep:
            rows.append({"line": line, "finess": finess, "status": status,
                         "status_label": imports.STATUS_LABELS.get(status, status),
                         "message": message, "reason": reason})
    return rows[:SHOWN_LINES], len(rows)


@router.get(IMPORT_PATH + "/{job_id}", response_class=HTMLResponse, dependencies=importers)
def import_job(request: Request, job_id: IdPath, actor: CurrentActor, session: SessionDep,
               statut: str | None = None) -> Response:
    stale_jobs.recover(session, exports=False)
    job = imports.get_job(session, actor, job_id)
    wanted = statut if statut in STATUS_FILTERS else None
    lines, total = _report_lines(job, wanted) if job.status == ImportStatus.done else ([], 0)
    report = job.report or {}
    running = job.status in (ImportStatus.pending, ImportStatus.running)
    response = render(request, "pages/imports/job.html", {
        "job": job, "running": running, "report": report,
        "job_status": JOB_STATUS, "phase": PHASES.get(job.phase or "", ""),
        "encoding": imports.ENCODING_LABELS.get(report.get("encoding") or "",
                                                report.get("encoding") or "—"),
        "reasons": [(imports.REASONS.get(k, k), n) for k, n in
                    (report.get("reasons") or {}).items()],
        "lines": lines, "lines_total": total, "shown_max": SHOWN_LINES,
        "filters": STATUS_FILTERS, "statut": wanted,
        "region": regions().get(job.region or ""),
        "breadcrumb": _crumbs(("Import des structures", IMPORT_PATH),
                              (f"Import n° {job.id}", "")),
    }, block_name="job")
    response.headers["Cache-Control"] = "no-store"
    return response


@router.get(IMPORT_PATH + "/{job_id}/rapport.csv", dependencies=importers)
def import_report_csv(job_id: IdPath, actor: CurrentActor, session: SessionDep) -> Response:
    job = imports.get_job(session, actor, job_id)
    lines = (job.report or {}).get("lines", [])

    def rows() -> Iterator[str]:
        buffer = io.StringIO()
        writer = csv.writer(buffer, delimiter=";")
        writer.writerow(imports.REPORT_HEADER)
        for i, (line, finess, status, message, reason) in enumerate(lines):
            writer.writerow(imports.report_row(line, finess, status, reason, message))
            if i % 1000 == 999:
                yield buffer.getvalue()
                buffer.seek(0)
                buffer.truncate()
        yield buffer.getvalue()

    return StreamingResponse(
        _with_bom(rows()), media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="rapport-import-{job.id}.csv"'})


def _with_bom(chunks: Iterator[str]) -> Iterator[bytes]:
    yield "\ufeff".encode()  # spreadsheet software then reads UTF-8
    for chunk in chunks:
        yield chunk.encode("utf-8")


# --- correcting a structure (admin) --------------------------------------------------------


@router.get(PATH, dependencies=admins)
def find_structure(finess: str = "") -> Response:
    """The search form of the import page: go to the structure's correction page."""
    number = "".join(finess.split()).upper()
    if not number:
        return RedirectResponse(IMPORT_PATH, status_code=303)
    return RedirectResponse(f"{PATH}/{number}", status_code=303)


def _category_options() -> list[dict[str, str]]:
    return [{"value": c.code, "label": f"{c.code} — {c.label}"}
            for c in sorted(finess_categories().values(), key=lambda c: c.code)]


def _department_options() -> list[dict[str, str]]:
    return [{"value": d.code, "label": f"{d.code} — {d.name}"}
            for d in departments().values()]


# --- adding a structure (admin) ------------------------------------------------------------


def _new_page(request: Request, form: creation.NewStructureForm,
              status_code: int = 200) -> Response:
    return render(request, "pages/imports/structure_new.html", {
        "form": form,
        "categories": _category_options(),
        "departments": _department_options(),
        "breadcrumb": _crumbs(("Import des structures", IMPORT_PATH),
                              ("Ajouter une structure", "")),
    }, status_code=status_code)


@router.get(NEW_PATH, response_class=HTMLResponse, dependencies=admins)
def new_structure(request: Request, actor: CurrentActor) -> Response:
    return _new_page(request, creation.NewStructureForm())


@router.post(NEW_PATH, response_class=HTMLResponse, dependencies=admins)
def create_structure(
    request: Request,
    actor: CurrentActor,
    session: SessionDep,
    finess: Annotated[str, Form()] = "",
    finess_ej: Annotated[str, Form()] = "",
    name: Annotated[str, Form()] = "",
    category_code: Annotated[str, Form()] = "",
    department: Annotated[str, Form()] = "",
    city: Annotated[str, Form()] = "",
    capacity: Annotated[str, Form()] = "",
    confirmer_finess: Annotated[str, Form()] = "",
) -> Response:
    form = creation.NewStructureForm(
        finess=finess, finess_ej=finess_ej, name=name, category_code=category_code,
        department=department, city=city, capacity=capacity, confirmed=confirmer_finess)
    try:
        structure = creation.create(session, actor, form, client_ip(request))
    except creation.InvalidStructure as exc:
        # only a check digit to confirm: the form comes back, not an error
        return _new_page(request, exc.form, status_code=422 if exc.form.errors else 200)
    return RedirectResponse(f"{PATH}/{structure.finess}?cree=1", status_code=303)


def _edit_page(request: Request, session: Session, structure: Any,
               form: corrections.CorrectionForm, status_code: int = 200,
               saved: list[str] | None = None, created: bool = False) -> Response:
    pinned = corrections.pins(session, structure)
    messages = []
    if created:
        messages.append({"level": "success", "text": "Structure créée. Vous pouvez la "
                         "corriger ici ; elle figure désormais dans l’annuaire."})
    if saved is not None:
        text = ("Aucune modification." if not saved else "Correction enregistrée : "
                + ", ".join(FIELD_LABELS[f].lower() for f in saved) + ".")
        messages.append({"level": "success" if saved else "info", "text": text})
    return render(request, "pages/imports/structure_edit.html", {
        "structure": structure, "form": form, "messages": messages,
        "pinned": [{"field": k, "label": FIELD_LABELS.get(k, k), "value": p.value,
                    "at": p.corrected_at} for k, p in sorted(pinned.items())],
        "categories": _category_options(),
        "departments": _department_options(),
        "breadcrumb": _crumbs(("Import des structures", IMPORT_PATH),
                              (f"Corriger {structure.name}", "")),
    }, status_code=status_code)


@router.get(PATH + "/{finess}", response_class=HTMLResponse, dependencies=admins)
def edit_structure(request: Request, finess: str, actor: CurrentActor,
                   session: SessionDep) -> Response:
    structure = corrections.get_structure(session, actor, finess)
    saved = request.query_params.get("enregistre")
    changed = [f for f in (saved or "").split(",") if f in FIELD_LABELS] if saved else None
    return _edit_page(request, session, structure, corrections.CorrectionForm.of(structure),
                      saved=changed, created=request.query_params.get("cree") == "1")


@router.post(PATH + "/{finess}", response_class=HTMLResponse, dependencies=admins)
def save_structure(
    request: Request,
    finess: str,
    actor: CurrentActor,
    session: SessionDep,
    form: Annotated[corrections.CorrectionForm, Form()],
) -> Response:
    try:
        changed = corrections.correct(session, actor, finess, form, client_ip(request))
    except corrections.InvalidCorrection as exc:
        form.errors = exc.errors
        structure = corrections.get_structure(session, actor, finess)
        return _edit_page(request, session, structure, form, status_code=422)
    structure = corrections.get_structure(session, actor, finess)
    return RedirectResponse(f"{PATH}/{structure.finess}?enregistre={','.join(changed) or '-'}",
                            status_code=303)


@router.post(PATH + "/{finess}/liberer/{field}", dependencies=admins)
def unpin_field(request: Request, finess: str, field: str, actor: CurrentActor,
                session: SessionDep) -> Response:
    corrections.unpin(session, actor, finess, field, client_ip(request))
    structure = corrections.get_structure(session, actor, finess)
    return RedirectResponse(f"{PATH}/{structure.finess}", status_code=303)

