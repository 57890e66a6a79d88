"""The app's own ASGI layers fused into one (issue 14, lean requests).

`create_app` declares them one by one, outermost first: `RequestObservability` (request id,
access log, metrics), `Lanes` (admission), `SecurityHeadersMiddleware` (headers, queued
cookies), `BodySizeLimit` and `UploadSizeLimit` (411, 413). Each stays a plain middleware,
tested on its own; `EdgeApp` builds the stack with the five replaced by one `Edge`, which
does their work in the same order with their own code, around one `send` wrapper instead
of five calls per message: the same headers, in the same order, the same metrics (the
lane's wait included), the same log line. As in the chain, the lanes' 503 gets the request
id but not the security headers, and the 411 / 413 get both.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.web.contention import busy_response_asgi
from app.web.lanes import Lanes
from app.web.observability import Observed, RequestObservability
from app.web.security import BodySizeLimit, SecurityHeadersMiddleware, plain_error
from app.web.upload_limit import UploadSizeLimit, send_page

_CHAIN = (RequestObservability, Lanes, SecurityHeadersMiddleware, BodySizeLimit,
          UploadSizeLimit)


class Edge:
    """The five layers of `_CHAIN` in one (see the module's docstring)."""

    def __init__(self, app: ASGIApp, lanes: Lanes, security: SecurityHeadersMiddleware,
                 body: BodySizeLimit, upload: UploadSizeLimit) -> None:
        self.app, self.lanes, self.security = app, lanes, security
        self.body, self.upload = body, upload

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        observed = Observed(scope)
        see = observed.see
        add_headers = self.security.add_headers
        state: dict[str, Any] = {}

        async def sent(message: Message) -> None:  # RequestObservability's send
            see(message)
            await send(message)

        async def secured(message: Message) -> None:  # the security headers' first
            if message["type"] == "http.response.start":
                add_headers(scope, state, message)
            see(message)
            await send(message)

        try:
            admitted, slots = await self.lanes.admit(scope)
            if not admitted:
                await busy_response_asgi(scope, receive, sent)
                return
            try:
                state = scope.setdefault("state", {})
                await self._inner(scope, receive, secured)
            finally:
                if slots is not None:
                    slots.release()
        finally:
            observed.finish(scope)

    async def _inner(self, scope: Scope, receive: Receive, send: Send) -> None:
        """The size limits, then the app."""
        if scope["method"] != "GET":
            refused = self.body.refusal(scope)
            if refused is not None:
                await plain_error(send, *refused)
                return
            page = self.upload.refusal(scope)
            if page is not None:
                await send_page(send, *page)
                return
        await self.app(scope, receive, send)


def fuse(app: ASGIApp) -> ASGIApp:
    """`app` (a built middleware stack) with the layers of `_CHAIN`, found one inside the
    other, replaced by one `Edge`; unchanged if they are not there."""
    parent: Any = None
    layer: Any = app
    while layer is not None and not isinstance(layer, RequestObservability):
        parent, layer = layer, getattr(layer, "app", None)
    chain: list[Any] = [layer]
    for cls in _CHAIN[1:]:
        inner = getattr(chain[-1], "app", None)
        if not isinstance(inner, cls):
            return app
        chain.append(inner)
    _, lanes, security, body, upload = chain
    edge = Edge(upload.app, lanes, security, body, upload)
    if parent is None:
        return edge
    parent.app = edge
    return app


class EdgeApp(FastAPI):
    """FastAPI with the app's own layers fused (`fuse`)."""

    def build_middleware_stack(self) -> ASGIApp:
        return fuse(super().build_middleware_stack())
