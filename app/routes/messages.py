"""The message thread between a structure's directors and its region's ARS, and the "à
revoir" review shown in the correction draft.

    GET  /evaluations/{id}/messages     the thread of a submitted assessment, with the form
    POST /evaluations/{id}/messages     add a message (form: message), 303 back to the thread

Template global `correction_of(assessment)` (read once per request): the "à revoir" review
of the last submission, for the draft's banner and the flags next to the questions.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import pass_context
from jinja2.runtime import Context
from sqlalchemy.orm import object_session
from sqlmodel import Session

from app.deps import IdPath, SessionDep, SettingsDep
from app.permissions import Actor
from app.reviews import messages
from app.routes.reviews import FormDep
from app.web.auth_deps import CurrentActor, client_ip
from app.web.navigation import crumbs
from app.web.templating import env, render

router = APIRouter(tags=["messages"])


@pass_context
def _correction_of(context: Context, assessment: Any) -> messages.Correction | None:
    request = context.get("request")
    state = getattr(request, "state", None)
    key = ("correction", getattr(assessment, "id", None))
    cache: dict[Any, Any] = getattr(state, "palier_cache", None) or {}
    if state is not None:
        state.palier_cache = cache
    if key not in cache:
        session = object_session(assessment) if assessment is not None else None
        cache[key] = messages.correction_of(session, assessment) \
            if isinstance(session, Session) else None
    return cache[key]  # type: ignore[no-any-return]


env.globals.update(correction_of=_correction_of)


def _crumbs(actor: Actor, t: messages.Thread) -> list[dict[str, str]]:
    return crumbs(actor, (t.structure.name, f"/structures/{t.structure.finess}"),
                  ("Résultat", f"/evaluations/{t.assessment.id}/resultat"),
                  ("Messages avec l’ARS", ""))


def _page(request: Request, actor: Actor, t: messages.Thread, **extra: Any) -> Response:
    ctx = {"thread": t, "assessment": t.assessment, "structure": t.structure,
           "max_length": messages.MAX_MESSAGE, "value": "", "error": None, "sent": False,
           "breadcrumb": _crumbs(actor, t), **extra}
    return render(request, "pages/reviews/messages.html", ctx,
                  status_code=422 if extra.get("error") else 200,
                  headers={"Cache-Control": "no-store"})


@router.get("/evaluations/{assessment_id}/messages", response_class=HTMLResponse)
def thread_page(request: Request, assessment_id: IdPath, actor: CurrentActor,
                session: SessionDep) -> Response:
    t = messages.thread(session, actor, assessment_id)
    return _page(request, actor, t, sent=request.query_params.get("envoye") == "1")


@router.post("/evaluations/{assessment_id}/messages", response_class=HTMLResponse)
def thread_post(request: Request, assessment_id: IdPath, form: FormDep, actor: CurrentActor,
                session: SessionDep, settings: SettingsDep) -> Response:
    raw = form.get("message")
    body = raw if isinstance(raw, str) else ""
    try:
        messages.post(session, settings, actor, assessment_id, body, client_ip(request))
    except messages.InvalidMessage as exc:
        session.rollback()
        t = messages.thread(session, actor, assessment_id)
        return _page(request, actor, t, value=body, error=exc.message)
    return RedirectResponse(f"/evaluations/{assessment_id}/messages?envoye=1#fil", 303)
