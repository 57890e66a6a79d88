"""The app's own middlewares fused into one layer (app/web/edge.py): the same answers as the
chain of the five middlewares, message by message, and the same metrics."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from fastapi.testclient import TestClient
from prometheus_client import REGISTRY
from starlette.types import Message, Receive, Scope, Send

from app.main import create_app
from app.web.edge import Edge, fuse
from app.web.lanes import Lanes
from app.web.observability import RequestObservability
from app.web.security import BodySizeLimit, SecurityHeadersMiddleware, queue_cookie
from app.web.upload_limit import UploadSizeLimit


class Route:
    """An app answering as the test says: headers, state set before answering, a failure."""

    def __init__(self) -> None:
        self.release = asyncio.Event()
        self.release.set()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope["path"]
        if path.startswith("/hold"):
            await self.release.wait()
        if path == "/boom":
            raise RuntimeError("boom")
        headers = [(b"content-type", b"text/html; charset=utf-8")]
        if "/user" in path:
            scope["state"]["user"] = object()
        if "/actor" in path:
            scope["state"]["actor"] = object()
        if "/cookies" in path:
            from starlette.requests import Request

            request = Request(scope, receive)
            queue_cookie(request, "palier_session=; Max-Age=0; Path=/")
            queue_cookie(request, "palier_csrf=abc; Path=/")
            headers.append((b"set-cookie", b"palier_session=new; Path=/"))
        if "/own-headers" in path:
            headers += [(b"x-frame-options", b"SAMEORIGIN"), (b"Cache-Control", b"max-age=5"),
                        (b"cache-control", b"private"), (b"x-request-id", b"route-1"),
                        (b"x-request-id", b"route-2")]
        await send({"type": "http.response.start", "status": 201, "headers": headers})
        await send({"type": "http.response.body", "body": b"a", "more_body": True})
        await send({"type": "http.response.body", "body": b"b"})


def chain(route: Any, wait: float = 5.0) -> Any:
    upload = UploadSizeLimit(route, max_bytes=100)
    body = BodySizeLimit(upload, import_max_bytes=1000)
    security = SecurityHeadersMiddleware(body, https_base=False, form_origins=("https://idp",))
    lanes = Lanes(security, page_slots=1, download_slots=1, wait_seconds=wait)
    return RequestObservability(lanes)


async def call(app: Any, method: str, path: str, headers: list[tuple[bytes, bytes]],
               scheme: str = "http") -> list[Message]:
    scope = {"type": "http", "method": method, "path": path, "raw_path": path.encode(),
             "headers": [(b"x-request-id", b"rid-1"), *headers], "query_string": b"",
             "root_path": "", "scheme": scheme, "server": ("testserver", 80),
             "client": ("127.0.0.1", 1), "http_version": "1.1"}
    sent: list[Message] = []

    async def receive() -> Message:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Message) -> None:
        sent.append(message)

    await app(scope, receive, send)
    return sent


CASES = [
    ("GET", "/page", [], "http"),
    ("GET", "/page/user", [], "http"),
    ("GET", "/page/actor/own-headers", [], "http"),
    ("GET", "/page/user/cookies", [], "https"),
    ("PATCH", "/api/v1/assessments/1/answers", [(b"content-length", b"10")], "http"),
    ("POST", "/connexion", [(b"content-length", b"2000000")], "http"),  # 413
    ("POST", "/connexion", [(b"transfer-encoding", b"chunked")], "http"),  # 411
    ("POST", "/evaluations/3/preuves", [(b"content-length", b"101")], "http"),  # 413 page
    ("POST", "/evaluations/3/preuves", [], "http"),  # 411 page
    ("POST", "/evaluations/3/preuves", [(b"content-length", b"99")], "http"),
    ("POST", "/admin/structures/import", [(b"content-length", b"999999")], "http"),  # 413
]


def _requests(route: str, status: str) -> float:
    value = REGISTRY.get_sample_value(
        "palier_http_requests_total", {"method": "GET", "route": route, "status": status})
    return value or 0.0


@pytest.mark.parametrize(("method", "path", "headers", "scheme"), CASES)
def test_the_fused_layer_answers_as_the_chain(
    app_client: TestClient, method: str, path: str, headers: list[tuple[bytes, bytes]],
    scheme: str,
) -> None:
    # app_client configured the templates (the upload's error page).
    fused = fuse(chain(Route()))
    assert isinstance(fused, Edge)
    expected = asyncio.run(call(chain(Route()), method, path, headers, scheme))
    assert asyncio.run(call(fused, method, path, headers, scheme)) == expected


def test_a_failure_propagates_counts_as_a_500_and_gives_its_slot_back(
    app_client: TestClient,
) -> None:
    for app in (chain(Route(), wait=0.05), fuse(chain(Route(), wait=0.05))):
        before = _requests("<unmatched>", "500")
        with pytest.raises(RuntimeError):
            asyncio.run(call(app, "GET", "/boom", []))
        assert _requests("<unmatched>", "500") == before + 1
        # The page lane's one slot is free again (else: 503 after 0.05 s).
        assert asyncio.run(call(app, "GET", "/page", []))[0]["status"] == 201


def test_a_read_refused_by_its_lane_gets_the_request_id_not_the_security_headers(
    app_client: TestClient,
) -> None:
    async def refused(app: Any, route: Route) -> list[Message]:
        route.release.clear()
        held = asyncio.create_task(call(app, "GET", "/hold", []))
        for _ in range(20):
            await asyncio.sleep(0)
        answer = await call(app, "GET", "/page", [])
        route.release.set()
        await held
        return answer

    answers = []
    for fused in (False, True):
        route = Route()
        app = chain(route, wait=0.05)
        answers.append(asyncio.run(refused(fuse(app) if fused else app, route)))
    assert answers[0] == answers[1]
    start = answers[1][0]
    assert start["status"] == 503
    names = [name for name, _ in start["headers"]]
    assert b"x-request-id" in names and b"content-security-policy" not in names


def test_the_app_runs_its_middlewares_fused(app_client: TestClient) -> None:
    app = create_app()
    layer: Any = app.build_middleware_stack()
    layers = []
    while layer is not None:
        layers.append(type(layer))
        layer = getattr(layer, "app", None)
    assert Edge in layers
    assert not {RequestObservability, Lanes, SecurityHeadersMiddleware, BodySizeLimit,
                UploadSizeLimit} & set(layers)
    response = app_client.get("/healthz", headers={"X-Request-ID": "edge-1"})
    assert response.headers["x-request-id"] == "edge-1"
    assert response.headers["x-frame-options"] == "DENY"
