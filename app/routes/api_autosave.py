"""The lean path of the API's autosave, `PATCH /api/v1/assessments/{id}/answers` with a Bearer
token (issue 14), and the part of the answer the route (app/routes/api.py `save`) shares.

`install(app)` puts `LeanAutosaveRoute` in front of the route. For the common request (a
PATCH with a Bearer token, `Content-Type: application/json`, a canonical id and a body the
route's own `AnswersPatch` accepts, parsed as the route does: `json.loads`, then the model)
it calls the service (app/assessments/token_autosave.py) without FastAPI's parameter and
dependency solving, and sends the JSON of `AssessmentOut`. Any other request goes to the
route unchanged (its body replayed), which answers it as always: no or another credential, a
body or id it refuses (its 422 messages), another content type. The service's errors (401,
403, 404, 409, 422, 503) are raised through the app's exception handlers, as the route's
are; the middlewares are the app's, and the route template of the access log and metrics is
the route's. tests/integration/test_lean_autosave_path.py checks both answer the same.
"""

from __future__ import annotations

import json

from fastapi.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.types import Message, Receive, Scope, Send

from app.assessments import token_autosave
from app.assessments.autosave import splice_documents
from app.assessments.token_autosave import Saved, Seen
from app.deps import canonical_id, request_event_loop_pool, request_session
from app.questionnaires import Registry
from app.routes.lean import LeanRoute
from app.routes.schemas import AnswersPatch, AssessmentOut
from app.web.api_caller import mark_token_caller, set_bearer_state
from app.web.auth_deps import bearer_token

PATH = "/api/v1/assessments/{assessment_id}/answers"  # api.save's
_HEADERS = [(b"content-type", b"application/json")]


async def bearer_save(request: Request, bearer: str, assessment_id: int,
                      body: AnswersPatch) -> bytes:
    """The Bearer save (token_autosave), as the JSON of `AssessmentOut`: on PostgreSQL with
    the app on its own database from the event loop, else in one threadpool call on the
    request's session."""
    seen = mark_token_caller(request)
    registry: Registry = request.app.state.registry
    pool = await request_event_loop_pool(request)
    if pool is not None:
        saved = await token_autosave.save_on_pool(pool, registry, bearer, assessment_id,
                                                  body.version, body.answers, seen)
    else:
        saved = await run_in_threadpool(_save_on_session, request, registry, bearer,
                                        assessment_id, body, seen)
    return assessment_json(saved)


def _save_on_session(request: Request, registry: Registry, bearer: str, assessment_id: int,
                     body: AnswersPatch, seen: Seen) -> Saved:
    with request_session(request) as session:
        return token_autosave.save_on_session(session, registry, bearer, assessment_id,
                                              body.version, body.answers, seen)


def assessment_json(saved: Saved) -> bytes:
    """What FastAPI would send for the declared AssessmentOut, serialised by pydantic at once
    (the documents' JSON text spliced in when the database gave it)."""
    if saved.answers is None or saved.answer_meta is None:
        return AssessmentOut.of_columns(saved.columns).model_dump_json().encode()
    out = AssessmentOut.of_columns({**saved.columns, "answers": {}, "answer_meta": {}})
    return splice_documents(out.model_dump_json(), saved.answers,
                            saved.answer_meta).encode()


class LeanAutosaveRoute(LeanRoute):
    """The autosave's lean path (see the module's docstring)."""

    PATH, METHOD = PATH, "PATCH"

    async def serve(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive)
        bearer = bearer_token(request)
        aid = canonical_id(str(scope["path_params"].get("assessment_id", "")))
        raw: bytes | None = None
        body = None
        if (bearer is not None and aid is not None
                and request.headers.get("content-type", "").lower() == "application/json"):
            raw = await request.body()
            body = _parsed(raw)
        if body is None or bearer is None or aid is None:
            await self.decline(scope, receive if raw is None else _replay(raw, receive), send)
            return
        self.served(scope)
        set_bearer_state(request, bearer)
        out = await bearer_save(request, bearer, aid, body)
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"content-length", str(len(out)).encode()), *_HEADERS]})
        await send({"type": "http.response.body", "body": out})


def _parsed(raw: bytes) -> AnswersPatch | None:
    """The body as the route reads it (Starlette's `json.loads`, then the model), or None
    for anything it would refuse (its 422 is the route's to give)."""
    try:
        return AnswersPatch.model_validate(json.loads(raw))
    except Exception:  # any refusal is the route's to give
        return None


def _replay(raw: bytes, receive: Receive) -> Receive:
    """`receive` with the body already read given again first."""
    given = False

    async def again() -> Message:
        nonlocal given
        if given:
            return await receive()
        given = True
        return {"type": "http.request", "body": raw, "more_body": False}

    return again


install = LeanAutosaveRoute.install
