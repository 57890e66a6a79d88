"""Admission lanes: under a peak, a director's autosave never queues behind page renders.

One process serves every kind of request under one interpreter lock, so when pages,
dashboards and exports pile up, each request's time is shared with all the others in flight,
and a 5 ms autosave waits hundreds of ms. Lanes bound how many reads run at once in this
process; the others wait, in arrival order, before they start:

    download    GET of a CSV / XLSX / PDF file or an export's file: PALIER_DOWNLOAD_SLOTS
    page        any other GET (pages, dashboards, API reads): PALIER_PAGE_SLOTS
    (none)      writes (autosaves, forms: a body may take long to arrive, and a write must
                never wait behind reads), the load balancer's probes, /metrics (a scrape
                must see a busy process), static files

A read that waited PALIER_LANE_WAIT_SECONDS without a slot gets 503 with Retry-After (nothing
was done). Slots are per process: N `palier serve` processes admit N times as many. 0 slots
lifts a lane's bound.
"""

from __future__ import annotations

import asyncio
import re
import time
from enum import StrEnum

from prometheus_client import Histogram
from starlette.types import ASGIApp, Receive, Scope, Send

from app.web.contention import busy_response_asgi
from app.web.observability import PROBE_PATHS


class Lane(StrEnum):
    download = "download"
    page = "page"


_DOWNLOAD = re.compile(r".*(?:\.(?:csv|xlsx|pdf)|/exports/\d+/(?:file|fichier))")

_FREE = PROBE_PATHS | {"/metrics"}
LANE_WAIT = Histogram(
    "palier_lane_wait_seconds", "Time a request waited for a slot in its lane.", ["lane"],
    buckets=(0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 30),
)


def lane_of(method: str, path: str) -> Lane | None:
    """The lane of a request; None: admitted at once."""
    if method not in ("GET", "HEAD") or path in _FREE or path.startswith("/static/"):
        return None
    return Lane.download if _DOWNLOAD.fullmatch(path) else Lane.page


class Lanes:
    """The ASGI middleware (inside the request id and metrics, which then count the wait)."""

    def __init__(self, app: ASGIApp, *, page_slots: int, download_slots: int,
                 wait_seconds: float) -> None:
        self.app = app
        self.wait_seconds = wait_seconds
        self.slots = {Lane.page: _semaphore(page_slots),
                      Lane.download: _semaphore(download_slots)}
        self._waits = {lane: LANE_WAIT.labels(lane) for lane in Lane}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        admitted, slots = await self.admit(scope)
        if not admitted:
            await busy_response_asgi(scope, receive, send)
            return
        if slots is None:
            await self.app(scope, receive, send)
            return
        try:  # the slot is given back however the request ends
            await self.app(scope, receive, send)
        finally:
            slots.release()

    async def admit(self, scope: Scope) -> tuple[bool, asyncio.Semaphore | None]:
        """(False, None): refused, answer 503; else admitted, with the slots to release
        when the request ends (None: it took no slot)."""
        lane = lane_of(scope["method"], scope["path"]) if scope["type"] == "http" else None
        if lane is None or (slots := self.slots[lane]) is None:
            return True, None
        started = time.perf_counter()
        if not slots.locked():
            await slots.acquire()  # a free slot: taken at once, no timer
        else:
            try:  # asyncio.timeout: no task, unlike wait_for
                async with asyncio.timeout(self.wait_seconds):
                    await slots.acquire()
            except TimeoutError:
                self._waits[lane].observe(time.perf_counter() - started)
                return False, None
        self._waits[lane].observe(time.perf_counter() - started)
        return True, slots


def _semaphore(slots: int) -> asyncio.Semaphore | None:
    return asyncio.Semaphore(slots) if slots > 0 else None
