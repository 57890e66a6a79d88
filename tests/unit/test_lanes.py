"""Admission lanes (app/web/lanes.py): which requests wait for a slot, and how they wait."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from starlette.types import Message, Receive, Scope, Send

from app.web.lanes import Lane, Lanes, lane_of

# (method, path) -> lane; None: admitted at once.
LANES = [
    ("GET", "/evaluations/12/sections/gouvernance", Lane.page),
    ("HEAD", "/evaluations/12/sections/gouvernance", Lane.page),
    ("GET", "/regions/84/tableau-de-bord", Lane.page),
    ("GET", "/api/v1/regions/84/summary", Lane.page),
    ("GET", "/api/v1/exports/9", Lane.page),
    ("GET", "/exports/9", Lane.page),
    ("GET", "/selections/5/export.csv", Lane.download),
    ("GET", "/api/v1/shortlists/5/export.xlsx", Lane.download),
    ("GET", "/evaluations/3/declaration.pdf", Lane.download),
    ("GET", "/exports/9/fichier", Lane.download),
    ("GET", "/api/v1/exports/9/file", Lane.download),
    ("PATCH", "/api/v1/assessments/3/answers", None),
    ("POST", "/evaluations/3/reponses", None),
    ("POST", "/connexion", None),
    ("DELETE", "/api/v1/auth/token", None),
    ("GET", "/healthz", None),
    ("GET", "/readyz", None),
    ("GET", "/metrics", None),
    ("GET", "/static/css/palier.css", None),
]


@pytest.mark.parametrize(("method", "path", "lane"), LANES)
def test_lane_of(method: str, path: str, lane: Lane | None) -> None:
    assert lane_of(method, path) == lane


class Inner:
    """An app whose `/hold...` requests wait until released; records what started."""

    def __init__(self) -> None:
        self.started: list[str] = []
        self.release = asyncio.Event()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        self.started.append(f"{scope['method']} {scope['path']}")
        if scope["path"].startswith("/hold") or scope["path"].endswith("hold.csv"):
            await self.release.wait()
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})


async def call(app: Any, method: str, path: str) -> dict[str, Any]:
    scope = {"type": "http", "method": method, "path": path, "headers": [],
             "query_string": b"", "root_path": "", "scheme": "http",
             "server": ("testserver", 80), "client": ("127.0.0.1", 1)}
    out: dict[str, Any] = {"body": b""}

    async def receive() -> Message:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Message) -> None:
        if message["type"] == "http.response.start":
            out["status"] = message["status"]
            out["headers"] = {k.decode(): v.decode() for k, v in message["headers"]}
        else:
            out["body"] += message.get("body", b"")

    await app(scope, receive, send)
    return out


def lanes(inner: Inner, page: int = 1, download: int = 1, wait: float = 5.0) -> Lanes:
    return Lanes(inner, page_slots=page, download_slots=download, wait_seconds=wait)


async def settle() -> None:
    for _ in range(20):
        await asyncio.sleep(0)


def test_a_read_waits_for_the_slot_while_writes_and_downloads_go_ahead() -> None:
    async def scenario() -> None:
        inner = Inner()
        app = lanes(inner)
        held = asyncio.create_task(call(app, "GET", "/hold"))
        waiting = asyncio.create_task(call(app, "GET", "/evaluations/1/sections/a"))
        await settle()
        assert inner.started == ["GET /hold"]
        saved = await call(app, "PATCH", "/api/v1/assessments/1/answers")
        download = await call(app, "GET", "/selections/1/export.csv")
        assert (saved["status"], download["status"]) == (200, 200)
        assert inner.started == ["GET /hold", "PATCH /api/v1/assessments/1/answers",
                                 "GET /selections/1/export.csv"]
        inner.release.set()
        assert (await held)["status"] == 200
        assert (await waiting)["status"] == 200
        assert inner.started[-1] == "GET /evaluations/1/sections/a"

    asyncio.run(scenario())


def test_downloads_have_their_own_slots() -> None:
    async def scenario() -> None:
        inner = Inner()
        app = lanes(inner, page=1, download=1)
        held = asyncio.create_task(call(app, "GET", "/selections/1/hold.csv"))
        waiting = asyncio.create_task(call(app, "GET", "/selections/2/export.csv"))
        await settle()
        page = await call(app, "GET", "/tableau-de-bord")
        assert page["status"] == 200
        assert inner.started == ["GET /selections/1/hold.csv", "GET /tableau-de-bord"]
        inner.release.set()
        await held
        assert (await waiting)["status"] == 200

    asyncio.run(scenario())


def test_a_read_that_waited_too_long_gets_503_and_retry_after() -> None:
    async def scenario() -> None:
        inner = Inner()
        app = lanes(inner, wait=0.05)
        held = asyncio.create_task(call(app, "GET", "/hold"))
        await settle()
        refused = await call(app, "GET", "/api/v1/regions/84/summary")
        assert refused["status"] == 503
        assert refused["headers"]["retry-after"] == "2"
        assert json.loads(refused["body"])["detail"].startswith(
            "Le service est momentanément très sollicité")
        assert inner.started == ["GET /hold"]  # the refused read never started
        inner.release.set()
        await held
        # The slot is free again.
        assert (await call(app, "GET", "/api/v1/regions/84/summary"))["status"] == 200

    asyncio.run(scenario())


def test_zero_slots_lifts_the_bound() -> None:
    async def scenario() -> None:
        inner = Inner()
        app = lanes(inner, page=0)
        first = asyncio.create_task(call(app, "GET", "/hold/1"))
        second = asyncio.create_task(call(app, "GET", "/hold/2"))
        await settle()
        assert sorted(inner.started) == ["GET /hold/1", "GET /hold/2"]
        inner.release.set()
        await asyncio.gather(first, second)

    asyncio.run(scenario())


def test_a_failing_request_gives_its_slot_back() -> None:
    async def boom(scope: Scope, receive: Receive, send: Send) -> None:
        raise RuntimeError("boom")

    async def scenario() -> None:
        app = Lanes(boom, page_slots=1, download_slots=1, wait_seconds=0.05)
        for _ in range(2):  # the second would time out (503) if the first kept the slot
            with pytest.raises(RuntimeError):
                await call(app, "GET", "/tableau-de-bord")

    asyncio.run(scenario())
