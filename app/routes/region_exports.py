"""CSV and XLSX of the ARS structure list and of the dashboard figures, with the filters
(and the list's search) of the page they are linked from.

    GET /regions/{code}/structures.csv[?sep=;]   /regions/{code}/structures.xlsx
    GET /regions/{code}/chiffres.csv[?sep=;]     /regions/{code}/chiffres.xlsx
"""

from __future__ import annotations

import io
from collections.abc import Callable
from datetime import datetime

from fastapi import APIRouter, Request
from fastapi.responses import Response, StreamingResponse

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


def _send(
    request: Request,
    session: SessionDep,
    actor: Actor,
    kind: str,
    code: str,
    table: lx.Table,
    f: Filters,
    search: str,
    fmt: str,
) -> Response:
    today = datetime.now(PARIS).date().isoformat()
    sep = _sep(request)
    lx.record(session, actor, f"region_{kind}", fmt, code, table, f, search, client_ip(request))
    name = lx.filename(kind, code, fmt, today, sep if fmt == "csv" else ",")
    headers = {
        "Content-Disposition": f'attachment; filename="{name}"',
        "Cache-Control": "private, no-store",
    }
    if fmt == "csv":
        chunks = (chunk.encode() for chunk in table.csv(sep))
        return StreamingResponse(chunks, headers=headers, media_type="text/csv; charset=utf-8")
    buffer = io.BytesIO()  # one region's rows, which `table` already holds
    lx.write_xlsx(buffer, table)
    return Response(buffer.getvalue(), headers=headers, media_type=XLSX)


def _table(
    request: Request, kind: str, code: str, actor: Actor, session: SessionDep, registry: RegistryDep
) -> tuple[lx.Table, Filters, str]:
    """The table of one export, its filters and the list's search ("" for the figures)."""
    lx.authorize(actor, code)
    f = Filters.parse(request.query_params, code)
    if kind == "chiffres":
        return lx.figures_table(session, actor, registry, code, f), f, ""
    search = list_search(request.query_params)
    return lx.list_table(session, actor, registry, code, f, search), f, search


def _export_route(kind: str, fmt: str) -> Callable[..., Response]:
    def export(
        request: Request, code: str, actor: CurrentActor, session: SessionDep, registry: RegistryDep
    ) -> Response:
        table, f, search = _table(request, kind, code, actor, session, registry)
        return _send(request, session, actor, kind, code, table, f, search, fmt)

    return export


# GET /regions/{code}/structures.csv, structures.xlsx, chiffres.csv, chiffres.xlsx
for _kind in ("structures", "chiffres"):
    for _fmt in ("csv", "xlsx"):
        router.add_api_route(
            f"/regions/{{code}}/{_kind}.{_fmt}",
            _export_route(_kind, _fmt),
            methods=["GET"],
            name=f"region_{_kind}_{_fmt}",
        )
