"""Operations: the load balancer's probes, structured logs with a request id, Prometheus
metrics (app/routes/health.py, app/observability.py)."""

from __future__ import annotations

import io
import json
import logging
import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from fastapi.testclient import TestClient
from prometheus_client import REGISTRY
from sqlalchemy import event
from sqlmodel import Session

from app.cli.db import upgrade_database
from app.config import Settings
from app.db import get_engine
from app.permissions import Role
from app.routes.health import migration_heads
from app.web.observability import log_formatter
from tests.auth_helpers import api_token, bearer, log_in
from tests.conftest import _clear_caches
from tests.director_client import as_user, start
from tests.factories import make_structure, make_user


@contextmanager
def bare_app(monkeypatch: pytest.MonkeyPatch, database_url: str) -> Iterator[TestClient]:
    """The app as `palier serve` builds it: no dependency overridden."""
    from app.main import create_app

    monkeypatch.setenv("PALIER_DATABASE_URL", database_url)
    _clear_caches()
    try:
        with TestClient(create_app()) as client:
            yield client
    finally:
        _clear_caches()


# ---- probes ---------------------------------------------------------------------------------


def test_probes_on_a_migrated_database_touch_the_database_only_for_readiness(
        monkeypatch: pytest.MonkeyPatch, fresh_db_url: str) -> None:
    with bare_app(monkeypatch, fresh_db_url) as client:
        checkouts: list[object] = []
        event.listen(get_engine(), "checkout", lambda *args: checkouts.append(args))
        alive = client.get("/healthz")
        assert (alive.status_code, alive.json()) == (200, {"status": "ok"})
        assert "set-cookie" not in alive.headers  # no CSRF cookie minted for a probe
        assert alive.headers["cache-control"] == "no-store"
        assert checkouts == []  # no database connection for liveness
        ready = client.get("/readyz")
        assert (ready.status_code, ready.json()) == (200, {"status": "ok"})
        assert "set-cookie" not in ready.headers
        assert len(checkouts) == 1


def test_probes_without_a_database(monkeypatch: pytest.MonkeyPatch) -> None:
    """Nothing listens on port 1: alive, not ready, and no 500."""
    with bare_app(monkeypatch, "postgresql+psycopg://palier@127.0.0.1:1/palier") as client:
        assert client.get("/healthz").status_code == 200
        ready = client.get("/readyz")
        assert ready.status_code == 503
        assert ready.json() == {"status": "unavailable", "reason": "database unreachable"}


def test_readyz_reports_migrations_behind_head(monkeypatch: pytest.MonkeyPatch,
                                               empty_db_url: str) -> None:
    with bare_app(monkeypatch, empty_db_url) as client:
        ready = client.get("/readyz")  # an empty database: no revision at all
        assert ready.status_code == 503
        assert ready.json() == {"status": "unavailable", "reason": "migrations not at head",
                                "database": [], "expected": sorted(migration_heads())}
        upgrade_database(empty_db_url, "0001")
        assert client.get("/readyz").json()["database"] == ["0001"]
        upgrade_database(empty_db_url)
        assert client.get("/readyz").json() == {"status": "ok"}


def test_probes_ignore_a_stale_session_cookie_and_a_bad_bearer(app_client: TestClient) -> None:
    app_client.cookies.set("palier_session", "inconnue", domain="testserver.local")
    for path in ("/healthz", "/readyz"):
        response = app_client.get(path, headers={"Authorization": "Bearer faux"})
        assert response.status_code == 200
        assert "set-cookie" not in response.headers


# ---- request id and logs --------------------------------------------------------------------


@contextmanager
def captured_json_logs() -> Iterator[io.StringIO]:
    """Every log record of the process, formatted as in production, into a buffer."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(log_formatter(json=True))
    root = logging.getLogger()
    old_level = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    try:
        yield stream
    finally:
        root.removeHandler(handler)
        root.setLevel(old_level)


def json_lines(stream: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stream.getvalue().splitlines() if line.strip()]


def test_access_log_line_is_json_with_the_request_id(app_client: TestClient) -> None:
    with captured_json_logs() as stream:
        response = app_client.get("/connexion", headers={"X-Request-ID": "lb-4f2a.17"})
    assert response.headers["x-request-id"] == "lb-4f2a.17"
    access = [line for line in json_lines(stream) if line.get("logger") == "palier.access"]
    assert len(access) == 1
    line = access[0]
    assert set(line) == {"event", "level", "logger", "timestamp", "request_id", "method",
                         "route", "status", "duration_ms", "client"}
    assert (line["event"], line["level"], line["request_id"], line["method"], line["route"],
            line["status"]) == ("request", "info", "lb-4f2a.17", "GET", "/connexion", 200)
    assert isinstance(line["duration_ms"], float) and line["duration_ms"] >= 0
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+Z", line["timestamp"])


def test_route_template_not_the_raw_path_is_logged(app_client: TestClient) -> None:
    """A password-reset token in the URL never reaches the logs."""
    with captured_json_logs() as stream:
        app_client.get("/reinitialiser/jeton-secret-123")
    server_lines = [x for x in json_lines(stream) if x["logger"] != "httpx2"]  # not the client's
    assert server_lines and "jeton-secret-123" not in json.dumps(server_lines)
    (line,) = [x for x in server_lines if x["logger"] == "palier.access"]
    assert (line["route"], line["status"]) == ("/reinitialiser/{token}", 400)


@pytest.mark.parametrize("given", ["a b", "x" * 129, "", "<script>"])
def test_malformed_request_ids_are_replaced(app_client: TestClient, given: str) -> None:
    response = app_client.get("/healthz", headers={"X-Request-ID": given})
    assert re.fullmatch(r"[0-9a-f]{32}", response.headers["x-request-id"])


def test_each_request_gets_its_own_id(app_client: TestClient) -> None:
    ids = {app_client.get("/healthz").headers["x-request-id"] for _ in range(3)}
    assert len(ids) == 3


def test_log_lines_inside_a_threadpool_route_carry_the_request_id(
        app_client: TestClient, session: Session, settings: Settings) -> None:
    """The console e-mail backend logs from a sync route (run in the threadpool)."""
    make_user(session, Role.director, email="oubli@example.fr")
    token = app_client.get("/session/csrf").json()["csrf_token"]
    with captured_json_logs() as stream:
        response = app_client.post("/mot-de-passe-oublie", headers={"X-Request-ID": "rid-7"},
                                   data={"email": "oubli@example.fr", "csrf_token": token},
                                   follow_redirects=False)
    assert response.status_code == 303
    mail = [x for x in json_lines(stream) if x.get("logger") == "palier.email"]
    assert len(mail) == 1 and mail[0]["request_id"] == "rid-7"


def test_production_logs_json_and_development_readable_lines(
        settings: Settings) -> None:
    from app.web.observability import _PalierHandler, configure_logging

    root = logging.getLogger()
    old = root.level
    try:
        prod = settings.model_copy(update={"env": "production"})
        configure_logging(prod)
        (handler,) = [h for h in root.handlers if isinstance(h, _PalierHandler)]
        record = logging.LogRecord("palier.test", logging.WARNING, __file__, 1, "é %s", ("x",),
                                   None)
        assert json.loads(handler.format(record))["event"] == "é x"
        configure_logging(settings.model_copy(update={"env": "development"}))
        (handler,) = [h for h in root.handlers if isinstance(h, _PalierHandler)]
        line = handler.format(record)
        assert "é x" in line and not line.startswith("{")
    finally:
        for h in [h for h in root.handlers if isinstance(h, _PalierHandler)]:
            root.removeHandler(h)
        root.setLevel(old)


# ---- metrics --------------------------------------------------------------------------------


def sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def test_metrics_count_requests_by_route_template_and_status(
        app_client: TestClient, session: Session, settings: Settings) -> None:
    admin = make_user(session, Role.admin)
    ok = {"method": "GET", "route": "/healthz", "status": "200"}
    unknown = {"method": "GET", "route": "<unmatched>", "status": "404"}
    static = {"method": "GET", "route": "/static", "status": "200"}  # a mount: its prefix
    before = (sample("palier_http_requests_total", **ok),
              sample("palier_http_request_duration_seconds_count", **ok),
              sample("palier_http_requests_total", **unknown),
              sample("palier_http_requests_total", **static))
    for _ in range(3):
        app_client.get("/healthz")
    app_client.get("/nulle-part-1")
    app_client.get("/nulle-part-2")
    assert app_client.get("/static/css/palier.css").status_code == 200
    assert sample("palier_http_requests_total", **ok) == before[0] + 3
    assert sample("palier_http_request_duration_seconds_count", **ok) == before[1] + 3
    assert sample("palier_http_requests_total", **unknown) == before[2] + 2
    assert sample("palier_http_requests_total", **static) == before[3] + 1

    log_in(app_client, session, settings, admin)
    response = app_client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain; version=")
    text = response.text
    assert "# TYPE palier_http_requests_total counter" in text
    assert "# TYPE palier_http_request_duration_seconds histogram" in text
    total = sample("palier_http_requests_total", **ok)
    assert (f'palier_http_requests_total{{method="GET",route="/healthz",status="200"}} '
            f"{total}") in text
    assert 'palier_http_request_duration_seconds_bucket{le="0.05",method="GET",' \
           'route="/healthz",status="200"}' in text
    assert "/nulle-part" not in text  # raw paths never become labels


def test_metrics_are_for_administrators_only(app_client: TestClient, session: Session,
                                             settings: Settings) -> None:
    assert app_client.get("/metrics", follow_redirects=False).status_code == 303
    ars = make_user(session, Role.ars, region="84")
    log_in(app_client, session, settings, ars)
    assert app_client.get("/metrics").status_code == 403


def test_autosave_outcomes_are_counted(app_client: TestClient, session: Session,
                                       settings: Settings) -> None:
    structure = make_structure(session)
    user = make_user(session, Role.director, [structure])
    director = as_user(app_client, session, settings, user)
    aid = start(director, structure)
    before = {o: sample("palier_autosave_total", outcome=o) for o in ("ok", "409", "422")}

    assert director.autosave(aid, "acces_internet", "fibre_thd", 0).status_code == 200
    assert director.autosave(aid, "acces_internet", "pas-une-option", 1).status_code == 422
    colleague = as_user(app_client, session, settings,
                        make_user(session, Role.director, [structure]))
    assert colleague.autosave(aid, "finess_propre", "oui", 1).status_code == 200
    me = as_user(app_client, session, settings, user)
    assert me.autosave(aid, "finess_propre", "non", 1).status_code == 409

    after = {o: sample("palier_autosave_total", outcome=o) for o in ("ok", "409", "422")}
    assert after == {"ok": before["ok"] + 2, "409": before["409"] + 1,
                     "422": before["422"] + 1}


def test_prometheus_scrapes_with_an_admin_api_token(app_client: TestClient,
                                                    session: Session) -> None:
    admin = make_user(session, Role.admin, email="prometheus@example.fr")
    token = api_token(app_client, admin.email)
    app_client.cookies.clear()
    response = app_client.get("/metrics", headers=bearer(token))
    assert response.status_code == 200
    assert "palier_http_requests_total" in response.text
    assert app_client.get("/metrics", headers=bearer("faux")).status_code == 401
