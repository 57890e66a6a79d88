"""Benchmark (issue 14, lean requests): requests per second through HTTP against a real
`palier serve` (uvicorn, uvloop + httptools, production settings), with a hello-world app
served the same way in the same run as the floor.

    python -m bench.http_bench --database-url URL [--structures 300] [--seconds 10]

Paths, 16 keep-alive clients each (a minimal HTTP/1.1 client on asyncio, so the load
generator costs far less than the servers it measures):
- hello: `GET /` of bench/hello_app.py (FastAPI, one `async def` returning JSON);
- healthz: `GET /healthz`;
- section: a director's questionnaire section page (session cookie), each client its own draft;
- autosave: `PATCH /api/v1/assessments/{id}/answers` (Bearer token), one answer changed each
  time, each client its own draft and version;
- autosave_sql: its floor, the hand-written SQL an autosave needs (one compare-and-swap
  UPDATE merging the answer and its meta into the draft's documents, bumping its version,
  returning both documents as text), from 16 asyncio psycopg connections in this process
  (autocommit, one draft each): no HTTP, no checks.
Prints JSON: req/s, p50/p95 ms, status counts and the ratios to hello-world; and, since the
machine is shared (other processes take CPU from the servers at random), the CPU time the
server process used per request (`cpu_ms_per_request`, from /proc) and its ratio to
hello-world's (`cpu_ratio_to_hello`, the req/s ratio a quiet machine would give when both are
CPU-bound).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import platform
import time
from collections import Counter
from typing import Any

from bench.aio_http import percentiles, read_response, request
from bench.campaign_db import director_drafts
from bench.http import (
    cpu_seconds,
    free_port,
    hello_command,
    libpq_url,
    postgres_cpu,
    postgres_cpu_since,
    serve_command,
    server_env,
    serving,
    vacuum,
)

CLIENTS = 16


async def _client(
    port: int, make: Any, until: float, lat: list[float], statuses: Counter[int]
) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        while time.perf_counter() < until:
            t0 = time.perf_counter()
            writer.write(make())
            status, _ = await read_response(reader, keep=False)
            lat.append(time.perf_counter() - t0)
            statuses[status] += 1
    finally:
        writer.close()


async def _load(port: int, makers: list[Any], seconds: float) -> dict[str, Any]:
    lat: list[float] = []
    statuses: Counter[int] = Counter()
    for make in makers:  # warm-up: one request per client
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(make())
        await read_response(reader, keep=False)
        writer.close()
    t0 = time.perf_counter()
    until = t0 + seconds
    await asyncio.gather(*(_client(port, m, until, lat, statuses) for m in makers))
    elapsed = time.perf_counter() - t0
    return {
        "requests": len(lat),
        "rps": round(len(lat) / elapsed, 1),
        **percentiles(lat),
        "statuses": dict(sorted(statuses.items())),
    }


# ---- the database: demo, drafts, sessions, tokens ----------------------------------------------


def prepare(url: str, structures: int) -> list[dict[str, Any]]:
    """Migrate and load a demo if empty; for 16 drafts: the director's session cookie and API
    token, the draft's id, version, first section and a single-choice question to toggle."""
    os.environ.update(server_env(url))
    from sqlmodel import Session, select

    from app.cli.db import upgrade_database
    from app.config import get_settings
    from app.db import make_engine
    from app.demo.dataset import load_demo
    from app.questionnaires import Registry
    from app.structures.models import Structure

    get_settings.cache_clear()
    settings = get_settings()
    upgrade_database(url)
    engine = make_engine(url)
    registry = Registry.load(settings.questionnaires_dir)
    try:
        with Session(engine) as session:
            if session.execute(select(Structure.id).limit(1)).first() is None:
                q = registry.latest("esms-maturite-numerique")
                assert q is not None
                load_demo(session, q, structures=structures)
            out = director_drafts(session, settings, registry, CLIENTS)
            session.commit()
    finally:
        engine.dispose()
    # Each run's saves would otherwise leave the next one dead row versions to read past.
    vacuum(url, ("assessment", "api_token", "auth_session", "director_structure", "structure",
                 "user_account"))
    if len(out) < CLIENTS:
        raise SystemExit(f"only {len(out)} drafts with a director: use more --structures")
    return out


def _autosave_maker(d: dict[str, Any]) -> Any:
    state = {"n": 0}

    def make() -> bytes:
        # Every save bumps the draft's version: each request states the one the previous
        # save left, as the page's script does.
        state["n"] += 1
        body = json.dumps(
            {
                "version": d["version"] + state["n"] - 1,
                "answers": {d["question"]: d["values"][state["n"] % 2]},
            }
        ).encode()
        return request(
            "PATCH",
            f"/api/v1/assessments/{d['id']}/answers",
            {"Authorization": f"Bearer {d['token']}", "Content-Type": "application/json"},
            body,
        )

    return make


# The floor of an autosave: what the database must do for one (see the module docstring).
_SQL_SAVE = """
UPDATE assessment
SET answers = answers || %(answer)s::jsonb, answer_meta = answer_meta || %(meta)s::jsonb,
    version = version + 1, updated_at = now()
WHERE id = %(id)s AND version = %(version)s AND status = 'draft'
RETURNING answers::text, answer_meta::text
"""


async def _sql_client(conn: Any, d: dict[str, Any], version: int, until: float,
                      lat: list[float], statuses: Counter[int]) -> None:
    n = 0
    while time.perf_counter() < until:
        t0 = time.perf_counter()
        n += 1
        meta = {d["question"]: {"by": 0, "revision": version + 1, "at": "2026-12-03"}}
        cur = await conn.execute(_SQL_SAVE, {
            "answer": json.dumps({d["question"]: d["values"][n % 2]}),
            "meta": json.dumps(meta), "id": d["id"], "version": version})
        saved = await cur.fetchone()
        lat.append(time.perf_counter() - t0)
        statuses[200 if saved else 409] += 1
        version += 1 if saved else 0


async def _sql_load(url: str, drafts: list[dict[str, Any]], seconds: float) -> dict[str, Any]:
    """The floor: each draft saved on its own connection, opened before the clock (and the
    database's CPU reading) starts."""
    import psycopg

    conns = [await psycopg.AsyncConnection.connect(url, autocommit=True) for _ in drafts]
    try:
        versions = []
        for conn, d in zip(conns, drafts, strict=True):
            cur = await conn.execute("SELECT version FROM assessment WHERE id = %s", (d["id"],))
            row = await cur.fetchone()
            assert row is not None
            versions.append(row[0])
        lat: list[float] = []
        statuses: Counter[int] = Counter()
        db_cpu = postgres_cpu()
        t0 = time.perf_counter()
        await asyncio.gather(*(
            _sql_client(conn, d, v, t0 + seconds, lat, statuses)
            for conn, d, v in zip(conns, drafts, versions, strict=True)))
        elapsed = time.perf_counter() - t0
        db_used = postgres_cpu_since(db_cpu)
    finally:
        for conn in conns:
            await conn.close()
    return {
        "requests": len(lat),
        "rps": round(len(lat) / elapsed, 1),
        **percentiles(lat),
        "statuses": dict(sorted(statuses.items())),
        "db_cpu_ms_per_request": round(1000 * db_used / len(lat), 3),
    }


def run(url: str, structures: int, seconds: float,
        only: frozenset[str] = frozenset()) -> dict[str, Any]:
    drafts = prepare(url, structures)
    hello_port, app_port = free_port(), free_port()
    results: dict[str, Any] = {}
    with contextlib.ExitStack() as stack:
        hello = stack.enter_context(serving(hello_command(hello_port), server_env(url), hello_port))
        app = stack.enter_context(serving(serve_command(app_port), server_env(url), app_port))

        def fixed(req: bytes) -> list[Any]:
            return [lambda: req] * CLIENTS

        def const(req: bytes) -> Any:
            return lambda: req

        section = [
            const(
                request(
                    "GET",
                    f"/evaluations/{d['id']}/sections/{d['section']}",
                    {"Cookie": f"palier_session={d['cookie']}"},
                )
            )
            for d in drafts
        ]
        cases = {
            "hello": (hello_port, fixed(request("GET", "/", {}))),
            "healthz": (app_port, fixed(request("GET", "/healthz", {}))),
            "section": (app_port, section),
            "autosave": (app_port, [_autosave_maker(d) for d in drafts]),
            "hello_again": (hello_port, fixed(request("GET", "/", {}))),
        }
        postgres = url.startswith("postgresql")
        if only:  # hello-world both times, always: the floor of every ratio
            cases = {k: v for k, v in cases.items() if k in only | {"hello", "hello_again"}}
        for name, (port, makers) in cases.items():
            pid = (hello if port == hello_port else app).pid
            cpu, db_cpu = cpu_seconds([pid]), postgres_cpu()
            results[name] = asyncio.run(_load(port, makers, seconds))
            used = cpu_seconds([pid]) - cpu  # the warm-up requests too
            n = results[name]["requests"] + len(makers)
            results[name]["cpu_ms_per_request"] = round(1000 * used / n, 3)
            if postgres:
                db_used = postgres_cpu_since(db_cpu)
                results[name]["db_cpu_ms_per_request"] = round(1000 * db_used / n, 3)
        if postgres and (not only or "autosave" in only):
            results["autosave_sql"] = asyncio.run(_sql_load(libpq_url(url), drafts, seconds))
    floor = (results["hello"]["rps"] + results["hello_again"]["rps"]) / 2
    cpu_floor = (
        results["hello"]["cpu_ms_per_request"] + results["hello_again"]["cpu_ms_per_request"]
    ) / 2
    for name in ("healthz", "section", "autosave"):
        if name not in results:
            continue
        results[name]["ratio_to_hello"] = round(results[name]["rps"] / floor, 3)
        cpu = results[name]["cpu_ms_per_request"]
        results[name]["cpu_ratio_to_hello"] = round(cpu_floor / cpu, 3) if cpu else None
    if "autosave_sql" in results:
        sql = results["autosave_sql"]
        sql["ratio_to_hello"] = round(sql["rps"] / floor, 3)
        results["autosave"]["ratio_to_sql"] = round(results["autosave"]["rps"] / sql["rps"], 3)
    return {
        "backend": url.split(":", 1)[0],
        "clients": CLIENTS,
        "seconds": seconds,
        "load_average": os.getloadavg(),
        "python": platform.python_version(),
        "results": results,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--structures", type=int, default=300)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--only", default="", help="comma-separated: healthz,section,autosave")
    a = parser.parse_args()
    only = frozenset(filter(None, a.only.split(",")))
    print(json.dumps(run(a.database_url, a.structures, a.seconds, only), indent=2))


if __name__ == "__main__":
    main()
