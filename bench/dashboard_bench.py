"""Benchmark: the regional dashboard and a filtered structure list on a national dataset
(`palier demo --structures 40000`: 40,000 structures, ~51,000 submitted assessments).

For each backend (SQLite, PostgreSQL) and each page, in one process and interleaved round by
round (so both sides see the same machine load):

- app: a full GET through the application (TestClient; logged-in session, permission checks,
  the dashboard service, templates, SVG charts), with the national-figures cache on (its
  steady state, `app.dashboard.cache`) and off (every aggregate computed);
- sql: the SQL statements the page's service runs (captured once, cache off: every
  aggregate), replayed on a raw DBAPI connection with fetchall.

Targets (issue 4): app p95 <= 150 ms, and app p95 <= 3 x sql p95 + 30 ms.

Databases: PALIER_BENCH_SQLITE (default var/bench/dashboard-40000.db) and PALIER_BENCH_PG
(default postgresql+psycopg://postgres@127.0.0.1:5432/palier_bench_dashboard; empty: skip).
A missing or empty database is created, migrated and loaded with the demo (a few minutes);
an existing one is migrated to the latest revision and reused. On PostgreSQL the read-model
tables are VACUUM ANALYZEd first, as autovacuum would after the bulk load.
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, func, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError
from sqlmodel import Session

ROOT = Path(__file__).resolve().parent.parent
STRUCTURES = 40_000
DEFAULT_SQLITE = ROOT / "var" / "bench" / "dashboard-40000.db"
DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/palier_bench_dashboard"
SECRET = "bench-secret-key-not-for-production-0123456789"
P95_MS, RATIO, SLACK_MS = 150.0, 3.0, 30.0

# (name, user e-mail, URL, service call) — the service call reproduces the page's figures.
PAGES: list[tuple[str, str, str, str]] = [
    ("dashboard 84", "ars@demo.palier.fr", "/regions/84", "summary:84:"),
    ("dashboard 11 (largest region)", "admin@demo.palier.fr", "/regions/11", "summary:11:"),
    (
        "dashboard 84 filtered",
        "ars@demo.palier.fr",
        "/regions/84?secteur=personnes_agees&taille=40-99",
        "summary:84:secteur=personnes_agees&taille=40-99",
    ),
    (
        "list 84 filtered",
        "ars@demo.palier.fr",
        "/regions/84/structures?categorie=500&taille=40-99&tri=score&ordre=desc&page=2",
        "list:84:categorie=500&taille=40-99&tri=score&ordre=desc&page=2",
    ),
]


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    k = max(0, min(len(ordered) - 1, round(q * (len(ordered) - 1))))
    return ordered[k]


def _ms(x: float) -> float:
    return round(1000 * x, 1)


# ---- databases ------------------------------------------------------------------------------


def _ensure_pg_database(url: str) -> None:
    admin_url = make_url(url).set(database="postgres")
    name = make_url(url).database
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            exists = conn.execute(
                text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}
            ).first()
            if not exists:
                conn.execute(text(f'CREATE DATABASE "{name}"'))
    finally:
        admin.dispose()


def prepare(url: str, say: Callable[[str], None]) -> None:
    """Migrate; load the national demo if the database holds no structure."""
    from app.cli.db import upgrade_database
    from app.config import get_settings
    from app.db import make_engine
    from app.demo.dataset import load_demo
    from app.questionnaires import Registry
    from app.structures.models import Structure

    if url.startswith("postgresql"):
        _ensure_pg_database(url)
    upgrade_database(url)
    engine = make_engine(url)
    try:
        with Session(engine) as session:
            n = session.execute(select(func.count()).select_from(Structure)).scalar_one()
            if n == 0:
                say(f"loading the demo ({STRUCTURES} structures) into {_safe(url)}…")
                registry = Registry.load(get_settings().questionnaires_dir)
                q = registry.latest("esms-maturite-numerique")
                assert q is not None
                load_demo(session, q, structures=STRUCTURES, progress=say)
            elif n < STRUCTURES:
                raise SystemExit(f"{_safe(url)} holds {n} structures, not a national demo")
    finally:
        engine.dispose()
    from bench.http import vacuum  # bench.http imports this module

    vacuum(url, ("latest_result", "latest_domain_score", "dashboard_submission", "structure",
                 "assessment"))


def _safe(url: str) -> str:
    return make_url(url).render_as_string(hide_password=True)


# ---- measuring ------------------------------------------------------------------------------


@contextmanager
def _app(url: str) -> Iterator[Any]:
    from fastapi.testclient import TestClient

    from app.config import get_settings
    from app.db import get_engine, get_write_engine
    from app.main import create_app

    saved = {k: os.environ.get(k) for k in ("PALIER_DATABASE_URL", "PALIER_SECRET_KEY")}
    os.environ["PALIER_DATABASE_URL"] = url
    os.environ.setdefault("PALIER_SECRET_KEY", SECRET)
    get_settings.cache_clear()
    get_engine.cache_clear()
    get_write_engine.cache_clear()
    try:
        with TestClient(create_app(), base_url="http://testserver.local") as client:
            yield client
    finally:
        get_engine().dispose()
        get_settings.cache_clear()
        get_engine.cache_clear()
        get_write_engine.cache_clear()
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def _log_in(client: Any, email: str) -> Any:
    """A session for the demo account (no password check); returns its Actor."""
    from app.accounts import auth
    from app.accounts.models import User
    from app.config import get_settings
    from app.db import get_engine
    from app.web.security import SESSION_COOKIE

    with Session(get_engine()) as session:
        user = session.execute(select(User).where(User.email == email)).scalar_one()
        raw, _ = auth.open_session(session, get_settings(), user)
        actor = auth.build_actor(session, user)
    client.cookies.clear()
    client.cookies.set(SESSION_COOKIE, raw, domain="testserver.local", path="/")
    return actor


def _service_call(spec: str, actor: Any) -> Callable[[Session], Any]:
    from urllib.parse import parse_qsl

    from app.config import get_settings
    from app.dashboard import service as svc
    from app.questionnaires import Registry

    registry = Registry.load(get_settings().questionnaires_dir)
    kind, region, query = spec.split(":", 2)
    params = dict(parse_qsl(query))
    f = svc.Filters.parse(params, region)
    if kind == "summary":
        return lambda s: svc.summary(s, actor, registry, region, f)
    return lambda s: svc.structure_page(
        s,
        actor,
        registry,
        region,
        f,
        sort=params["tri"],
        order=params["ordre"],
        page=int(params["page"]),
    )


def _capture(engine: Engine, call: Callable[[Session], Any]) -> list[tuple[str, Any]]:
    """The statements (with parameters) a service call runs, national cache off."""
    from app.dashboard import cache

    statements: list[tuple[str, Any]] = []

    def listen(_c: Any, _cur: Any, statement: str, params: Any, _ctx: Any, _many: Any) -> None:
        if statement.strip().upper() not in ("BEGIN", "COMMIT", "ROLLBACK"):
            statements.append((statement, params))

    cache.enabled = False
    event.listen(engine, "before_cursor_execute", listen)
    try:
        with Session(engine) as session:
            call(session)
    finally:
        event.remove(engine, "before_cursor_execute", listen)
        cache.enabled = True
    return statements


def _replay(raw: Any, statements: list[tuple[str, Any]]) -> None:
    cur = raw.cursor()
    for statement, params in statements:
        cur.execute(statement, params)
        cur.fetchall()
    cur.close()
    raw.rollback()


def _backend(url: str, rounds: int, warmup: int) -> dict[str, Any]:
    from app.dashboard import cache
    from app.db import get_engine
    from app.permissions import Actor
    from app.structures.models import Structure

    out: dict[str, Any] = {"database": _safe(url)}
    with _app(url) as client:
        engine = get_engine()
        with Session(engine) as session:
            out["structures"] = session.execute(
                select(func.count()).select_from(Structure)
            ).scalar_one()
            out["latest_results"] = session.execute(
                text("SELECT count(*) FROM latest_result")
            ).scalar_one()
            out["submitted_assessments"] = session.execute(
                text("SELECT count(*) FROM assessment WHERE status = 'submitted'")
            ).scalar_one()
        pages: dict[str, Any] = {}
        for name, email, url_path, spec in PAGES:
            actor: Actor = _log_in(client, email)
            statements = _capture(engine, _service_call(spec, actor))
            raw = engine.raw_connection()
            app_warm: list[float] = []
            app_cold: list[float] = []
            sql: list[float] = []
            try:
                for i in range(warmup + rounds):
                    cache.enabled = True
                    t0 = time.perf_counter()
                    r = client.get(url_path)
                    t_warm = time.perf_counter() - t0
                    if r.status_code != 200:
                        raise SystemExit(f"{url_path}: HTTP {r.status_code}")
                    cache.enabled = False
                    t0 = time.perf_counter()
                    client.get(url_path)
                    t_cold = time.perf_counter() - t0
                    cache.enabled = True
                    t0 = time.perf_counter()
                    _replay(raw, statements)
                    t_sql = time.perf_counter() - t0
                    if i >= warmup:
                        app_warm.append(t_warm)
                        app_cold.append(t_cold)
                        sql.append(t_sql)
            finally:
                cache.enabled = True
                raw.close()
            p95 = {
                k: _pct(v, 0.95) for k, v in (("warm", app_warm), ("cold", app_cold), ("sql", sql))
            }
            limit = RATIO * p95["sql"] + SLACK_MS / 1000
            pages[name] = {
                "url": url_path,
                "queries": len(statements),
                "bytes": len(r.content),
                "app_p50_ms": _ms(statistics.median(app_warm)),
                "app_p95_ms": _ms(p95["warm"]),
                "app_no_cache_p50_ms": _ms(statistics.median(app_cold)),
                "app_no_cache_p95_ms": _ms(p95["cold"]),
                "sql_p50_ms": _ms(statistics.median(sql)),
                "sql_p95_ms": _ms(p95["sql"]),
                "limit_3x_sql_plus_30_ms": _ms(limit),
                "ok_p95_150": p95["warm"] <= P95_MS / 1000,
                "ok_ratio": p95["warm"] <= limit,
                "ok_no_cache_p95_150": p95["cold"] <= P95_MS / 1000,
                "ok_no_cache_ratio": p95["cold"] <= limit,
            }
        out["pages"] = pages
    return out


def run(
    rounds: int = 40, warmup: int = 5, say: Callable[[str], None] = lambda m: None
) -> dict[str, Any]:
    sqlite_url = os.environ.get("PALIER_BENCH_SQLITE") or f"sqlite:///{DEFAULT_SQLITE}"
    if not sqlite_url.startswith("sqlite"):
        sqlite_url = f"sqlite:///{sqlite_url}"
    pg_url = os.environ.get("PALIER_BENCH_PG", DEFAULT_PG)
    results: dict[str, Any] = {
        "rounds": rounds,
        "python": platform.python_version(),
        "machine": f"{os.cpu_count()} CPU {platform.machine()}, {platform.processor() or 'cpu'}",
        "load_average_before": [round(x, 2) for x in os.getloadavg()],
    }
    backends = [("sqlite", sqlite_url)]
    if pg_url:
        backends.append(("postgresql", pg_url))
    for name, url in backends:
        try:
            prepare(url, say)
        except OperationalError as exc:
            results[name] = {"skipped": f"database unavailable: {exc.orig}"}
            continue
        say(f"measuring {name}…")
        results[name] = _backend(url, rounds, warmup)
    results["load_average_after"] = [round(x, 2) for x in os.getloadavg()]
    return results


if __name__ == "__main__":
    import argparse
    import sys

    argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    ).parse_args()
    print(json.dumps(run(say=lambda m: print(m, file=sys.stderr)), indent=2))
