"""CSV and XLSX of the ARS structure list and of the dashboard figures, with the filters
(and the list's search) of the page they are linked from.

    GET /regions/{code}/structures.csv[?sep=;]   /regions/{code}/structures.xlsx
    GET /regions/{code}/chiffres.csv[?sep=;]     /regions/{code}/chiffres.xlsx
"""

from __future__ import annotations

import io
from datetime import datetime

from fastapi import APIRouter, Request
from fastapi.responses import Response

from app.dashboard import list_export as lx
from app.dashboard.filters import Filters
from app.deps import SessionDep
from app.formatting import PARIS
from app.permissions import Actor
from app.questionnaires import RegistryDep
from app.web.auth_deps import CurrentActor, client_ip
from app.web.region_lists import list_search

router = APIRouter(tags=["région"])

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _sep(request: Request) -> str:
    return ";" if request.query_params.get("sep") == ";" else ","


def _send(request: Request, session: SessionDep, actor: Actor, kind: str, code: str,
          table: lx.Table, f: Filters, search: str, fmt: str) -> Response:
    today = datetime.now(PARIS).date().isoformat()
    sep = _sep(request)
    lx.record(session, actor, f"region_{kind}", fmt, code, table, f, search,
              client_ip(request))
    name = lx.filename(kind, code, fmt, today, sep if fmt == "csv" else ",")
    headers = {"Content-Disposition": f'attachment; filename="{name}"',
               "Cache-Control": "private, no-store"}
    if fmt == "csv":
        return Response("".join(table.csv(sep)).encode(), headers=headers,
                        media_type="text/csv; charset=utf-8")
    buffer = io.BytesIO()
    lx.write_xlsx(buffer, table)
    return Response(buffer.getvalue(), headers=headers, media_type=XLSX)


def _list(request: Request, code: str, fmt: str, actor: Actor, session: SessionDep,
          registry: RegistryDep) -> Response:
    lx.authorize(actor, code)
    f = Filters.parse(request.query_params, code)
    search = list_search(request.query_params)
    table = lx.list_table(session, actor, registry, code, f, search)
    return _send(request, session, actor, "structures", code, table, f, search, fmt)


def _figures(request: Request, code: str, fmt: str, actor: Actor, session: SessionDep,
             registry: RegistryDep) -> Response:
    lx.authorize(actor, code)
    f = Filters.parse(request.query_params, code)
    table = lx.figures_table(session, actor, registry, code, f)
    return _send(request, session, actor, "chiffres", code, table, f, "", fmt)


@router.get("/regions/{code}/structures.csv")
def list_csv(request: Request, code: str, actor: CurrentActor, session: SessionDep,
             registry: RegistryDep) -> Response:
    return _list(request, code, "csv", actor, session, registry)


@router.get("/regions/{code}/structures.xlsx")
def list_xlsx(request: Request, code: str, actor: CurrentActor, session: SessionDep,
              registry: RegistryDep) -> Response:
    return _list(request, code, "xlsx", actor, session, registry)


@router.get("/regions/{code}/chiffres.csv")
def figures_csv(request: Request, code: str, actor: CurrentActor, session: SessionDep,
                registry: RegistryDep) -> Response:
    return _figures(request, code, "csv", actor, session, registry)


@router.get("/regions/{code}/chiffres.xlsx")
def figures_xlsx(request: Request, code: str, actor: CurrentActor, session: SessionDep,
                 registry: RegistryDep) -> Response:
    return _figures(request, code, "xlsx", actor, session, registry)
