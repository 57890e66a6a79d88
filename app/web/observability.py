"""Operations: structured logs, a request id, an access log and Prometheus metrics.

- Logs: every `logging` record (and every structlog logger) goes through one handler on the
  root logger: JSON lines when PALIER_ENV=production, a readable console line otherwise.
  `configure_logging(settings)` installs it (create_app and `palier serve` call it).
- Request id: `X-Request-ID` from the client when well-formed, else a new one; bound to every
  log line of the request (structlog contextvars: threadpool routes included) and echoed in
  the response. `current_request_id()` gives it to code that hands work on (jobs).
- Access log: one line per request on the `palier.access` logger (method, route template,
  status, duration); the load balancer's probes are logged at DEBUG.
- Metrics (prometheus-client): requests and their duration by method, route template and
  status; autosave outcomes. Exposed by `/metrics` (app/routes/health.py). Under
  `PROMETHEUS_MULTIPROC_DIR` (set by `palier serve --workers N`), the exposition aggregates
  every worker process.
"""

from __future__ import annotations

import logging
import os
import re
import sys
import time
import uuid
from typing import Any

import structlog
from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.config import Settings

REQUEST_ID_HEADER = "X-Request-ID"
_REQUEST_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,127}")
# The load balancer's probes: no session, no cookie, no database for /healthz (app.auth_deps).
PROBE_PATHS = frozenset({"/healthz", "/readyz"})
UNMATCHED = "<unmatched>"  # the route label of a request no route matched (404): bounded

# Autosave endpoints (form and API) whose outcomes are counted: ok, 409, 422, 503.
AUTOSAVE_ROUTES = frozenset({
    ("POST", "/evaluations/{assessment_id}/reponses"),
    ("PATCH", "/api/v1/assessments/{assessment_id}/answers"),
})

access_log = structlog.stdlib.get_logger("palier.access")
_ACCESS = logging.getLogger("palier.access")

# --- logs ---------------------------------------------------------------------------------

_SHARED: list[Any] = [
    structlog.contextvars.merge_contextvars,
    structlog.stdlib.add_logger_name,
    structlog.stdlib.add_log_level,
    structlog.processors.TimeStamper(fmt="iso", utc=True),
]

structlog.configure(
    processors=[*_SHARED, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
    logger_factory=structlog.stdlib.LoggerFactory(),
    wrapper_class=structlog.stdlib.BoundLogger,
    cache_logger_on_first_use=True,
)


def log_formatter(*, json: bool) -> logging.Formatter:
    """Format stdlib and structlog records alike: JSON lines, or readable console lines."""
    renderer: Any
    if json:
        renderer = structlog.processors.JSONRenderer(ensure_ascii=False)
        final = [structlog.processors.dict_tracebacks, renderer]
    else:
        renderer = structlog.dev.ConsoleRenderer(colors=sys.stderr.isatty())
        final = [renderer]
    return structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=_SHARED,
        processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, *final],
    )


class _PalierHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """The root handler installed by configure_logging (found again to be replaced)."""


def configure_logging(settings: Settings) -> None:
    """One handler on the root logger, to standard error: JSON in production. Idempotent;
    other handlers (pytest's, a developer's) are left alone."""
    root = logging.getLogger()
    for handler in [h for h in root.handlers if isinstance(h, _PalierHandler)]:
        root.removeHandler(handler)
    # The process's own standard error: never a stream swapped in for a while (test runners)
    handler = _PalierHandler(sys.__stderr__ or sys.stderr)
    handler.setFormatter(log_formatter(json=settings.env == "production"))
    root.addHandler(handler)
    root.setLevel(settings.log_level.upper())


def current_request_id() -> str | None:
    value = structlog.contextvars.get_contextvars().get("request_id")
    return value if isinstance(value, str) else None


def request_id_of(scope: Scope) -> str:
    for name, value in scope.get("headers", ()):
        if name == b"x-request-id":
            candidate: str = value.decode("latin-1")
            if _REQUEST_ID.fullmatch(candidate):
                return candidate
            break
    return uuid.uuid4().hex


# --- metrics ------------------------------------------------------------------------------

REQUESTS = Counter("palier_http_requests", "Requêtes HTTP traitées.",
                   ["method", "route", "status"])
DURATION = Histogram("palier_http_request_duration_seconds", "Durée des requêtes HTTP.",
                     ["method", "route", "status"],
                     buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30))
AUTOSAVES = Counter("palier_autosave", "Enregistrements automatiques, par issue.", ["outcome"])


def autosave_outcome(status: int) -> str:
    if 200 <= status < 300:
        return "ok"
    return str(status) if status in (409, 422, 503) else "other"


def metrics_exposition() -> bytes:
    """The Prometheus text exposition (every worker's, in multiprocess mode)."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        return generate_latest(registry)
    return generate_latest()


def jobs_exposition(counts: list[tuple[str, str, int]], depth: int) -> bytes:
    """Job gauges read from the database at scrape time (app.jobs.stats): the same in
    every process, so they are not kept in the multiprocess registry."""
    by_state = GaugeMetricFamily("palier_jobs", "Tâches par type et état.",
                                 labels=["kind", "state"])
    for kind, state, n in counts:
        by_state.add_metric([kind, state], n)
    registry = CollectorRegistry()
    registry.register(_Fixed([by_state, GaugeMetricFamily(
        "palier_job_queue_depth", "Tâches en attente d'exécution.", value=depth)]))
    return generate_latest(registry)


class _Fixed:
    def __init__(self, families: list[GaugeMetricFamily]) -> None:
        self.families = families

    def collect(self) -> list[GaugeMetricFamily]:
        return self.families


# --- the middleware -----------------------------------------------------------------------


def route_template(scope: Scope) -> str:
    """The path template of the route that handled the request ("/structures/{finess}"):
    metrics labels and logs never carry raw paths (unbounded, and they may hold tokens)."""
    path = getattr(scope.get("route"), "path", None)
    if isinstance(path, str):
        return path
    if "app_root_path" in scope:  # a mount (/static): its prefix
        return str(scope.get("root_path", ""))[len(scope["app_root_path"]):] or UNMATCHED
    return UNMATCHED


def set_request_id(message: Message, request_id: str) -> None:
    """`MutableHeaders(scope=message)["X-Request-ID"] = request_id` of a response start: the
    first such header replaced in place and the others dropped, else appended."""
    raw: list[tuple[bytes, bytes]] = list(message["headers"])
    message["headers"] = raw
    value = request_id.encode("latin-1")
    found = [i for i, (name, _) in enumerate(raw) if name == _REQUEST_ID_KEY]
    if not found:
        raw.append((_REQUEST_ID_KEY, value))
        return
    for i in reversed(found[1:]):
        del raw[i]
    raw[found[0]] = (_REQUEST_ID_KEY, value)


_REQUEST_ID_KEY = REQUEST_ID_HEADER.lower().encode("latin-1")
# The metrics' children by (method, route, status): `labels()` checks and locks each time.
_CHILDREN: dict[tuple[str, str, str], tuple[Any, Any]] = {}


def record(scope: Scope, status: int, elapsed: float) -> None:
    """The metrics and the access log line of a finished request."""
    method, route = scope["method"], route_template(scope)
    code = str(status)
    children = _CHILDREN.get((method, route, code))
    if children is None:
        children = _CHILDREN[method, route, code] = (REQUESTS.labels(method, route, code),
                                                     DURATION.labels(method, route, code))
    children[0].inc()
    children[1].observe(elapsed)
    if (method, route) in AUTOSAVE_ROUTES:
        AUTOSAVES.labels(autosave_outcome(status)).inc()
    level = logging.DEBUG if scope["path"] in PROBE_PATHS else logging.INFO
    if _ACCESS.isEnabledFor(level):  # a line no handler would take is not built
        client = scope.get("client")
        access_log.log(level, "request", method=method, route=route, status=status,
                       duration_ms=round(elapsed * 1000, 1),
                       client=client[0] if client else None)


class Observed:
    """One request's id, status and end (as its messages are sent), its log context bound
    until `finish` records its metrics and access log line."""

    __slots__ = ("_tokens", "request_id", "sent", "started", "status")

    def __init__(self, scope: Scope) -> None:
        self.request_id = request_id_of(scope)
        self.status = 500  # unless a response starts
        self.started = time.perf_counter()
        self.sent: float | None = None  # when the last byte left (background tasks run after)
        self._tokens = structlog.contextvars.bind_contextvars(request_id=self.request_id)

    def see(self, message: Message) -> None:
        """Before `message` is sent."""
        kind = message["type"]
        if kind == "http.response.body":
            if not message.get("more_body"):
                self.sent = time.perf_counter()
        elif kind == "http.response.start":
            self.status = message["status"]
            set_request_id(message, self.request_id)

    def finish(self, scope: Scope) -> None:
        record(scope, self.status, (self.sent or time.perf_counter()) - self.started)
        structlog.contextvars.reset_contextvars(**self._tokens)


class RequestObservability:
    """Request id, access log and metrics, around everything but the proxy headers."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        observed = Observed(scope)

        async def send_with_id(message: Message) -> None:
            observed.see(message)
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            observed.finish(scope)
