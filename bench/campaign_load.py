"""Benchmark (issue 11, the proof): a campaign peak on PostgreSQL, through HTTP, against two
`palier serve` processes (sharing nothing but PostgreSQL) and one `palier worker`, with the
hello-world app (bench/hello_app.py) served the same way in the same run as the floor.

    python -m bench.campaign_load --database-url URL [--seconds 20] [--solo 10] [--pairs 2]

The database is a copy of the national demo (`createdb -T palier_demo40k ...`): it is written
to (drafts, sessions, shortlists, export jobs). Users (bench/campaign_users.py): directors on
their own draft (section page, then autosaves), `--pairs` directors in two tabs on one draft
(expected 409s), `--ars` referents (dashboard, structure list, summary API), and in the export
phases the committee (XLSX jobs on the worker; and a 40,000-row shortlist's CSV streamed by
the web). Phases of `--seconds` each, loopback only, in this order:

    hello ×1, hello ×2 (two uvicorn processes, round robin), mixed ×1, mixed ×2,
    xlsx ×1, xlsx ×2 (+ XLSX job), exports ×1, exports ×2 (+ XLSX job and CSV stream),
    chaos (×2 with exports: at a third of the phase, kill -9 of the second web process and
    of the worker; a new worker 3 s later, as systemd would restart it)

then waits (at most `--drain` s) for every job to finish, and checks: every acknowledged
autosave is in the database, every job done or failed with a reason, the surviving process
kept serving. Prints JSON (per phase and kind: req/s, p50/p95/p99, statuses; per phase: the
web processes' CPU time per request, the load average).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import subprocess
import time
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

from bench import campaign_db as db
from bench import campaign_users as users
from bench import http
from bench.aio_http import Conn, Pool, Stats
from bench.campaign_report import chaos_checks, drain, report
from bench.http import PALIER, ROOT, free_port, hello_command, serve_command, wait_port

COMMITTEE, ARS = "comite@demo.palier.fr", "ars@demo.palier.fr"
# Vacuumed before each phase: every phase starts from the table autovacuum keeps, not from
# the dead row versions of every save of the phases before it.
DRAFTS = ("assessment",)
User = Callable[[Conn, float], Coroutine[Any, Any, None]]


def server_env(url: str, stalled: float = 10) -> dict[str, str]:
    """`palier serve` and `palier worker` in production, jobs on the queue; a killed
    worker's job is taken back after `stalled` s without heartbeat."""
    return {
        **http.server_env(url),
        "PALIER_JOBS_RUNNER": "queue",
        "PALIER_WORKER_HEARTBEAT_SECONDS": str(min(1.0, stalled / 4)),
        "PALIER_WORKER_STALLED_SECONDS": str(stalled),
        "PALIER_JOBS_RETRY_WAIT_SECONDS": "1",
    }


class Servers:
    """Two web processes, the worker, two hello-world processes; all stopped by `stop`."""

    def __init__(
        self, url: str, worker_args: list[str], log_dir: Path, stalled: float, hello: bool
    ) -> None:
        self.env, self.worker_args, self.log_dir = server_env(url, stalled), worker_args, log_dir
        self.web_ports = [free_port(), free_port()]
        self.hello_ports = [free_port(), free_port()] if hello else []
        self.procs: list[subprocess.Popen[bytes]] = []
        self.logs: list[Any] = []
        serve = [serve_command(p) for p in self.web_ports]
        hello = [hello_command(p) for p in self.hello_ports]
        # Started together (each takes seconds to import on a loaded machine), then awaited.
        started = [
            self._keep(subprocess.Popen(cmd, env=self.env, cwd=ROOT, stdout=subprocess.DEVNULL))
            for cmd in serve + hello
        ]
        self.web, self.hello = started[:2], started[2:]
        try:
            for port, proc in zip(self.web_ports + self.hello_ports, started, strict=True):
                wait_port(port, proc)
        except BaseException:
            self.stop()
            raise
        self.worker = self.start_worker()

    def pids(self, ports: list[int]) -> dict[str, list[int]]:
        """The processes serving `ports`, and the worker."""
        by_port = dict(zip(self.web_ports + self.hello_ports, self.web + self.hello, strict=True))
        return {"web": [by_port[p].pid for p in ports], "worker": [self.worker.pid]}

    def _keep(self, proc: subprocess.Popen[bytes]) -> subprocess.Popen[bytes]:
        self.procs.append(proc)
        return proc

    def start_worker(self) -> subprocess.Popen[bytes]:
        log = (self.log_dir / f"worker-{len(self.procs)}.log").open("wb")
        self.logs.append(log)
        return self._keep(
            subprocess.Popen(
                [PALIER, "worker", "--concurrency", "1", *self.worker_args],
                cwd=ROOT,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own session, as systemd starts a service
            )
        )

    def stop(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                http.stop(proc)
        for log in self.logs:
            log.close()


class Campaign:
    """The users' credentials and state, kept across the phases."""

    def __init__(self, prepared: dict[str, Any], solo: int, pairs: int, ars: int) -> None:
        self.p, self.solo, self.pairs, self.ars = prepared, solo, pairs, ars
        self.acks = users.Acks()
        self.xlsx = users.XlsxState(list(prepared["copies"]))

    def people(self, csv: bool = False, xlsx: bool = False) -> list[User]:
        drafts, c = self.p["drafts"], self.p
        out: list[User] = []
        for d in drafts[: self.solo]:
            out.append(lambda conn, until, d=d: users.director(conn, d, "a", until, self.acks))
        for d in drafts[self.solo : self.solo + self.pairs]:
            for tab in ("a", "b"):
                out.append(
                    lambda conn, until, d=d, tab=tab: users.director(conn, d, tab, until, self.acks)
                )
        out += [lambda conn, until: users.ars(conn, c["ars"], c["region"], until)] * self.ars
        if csv:
            out.append(
                lambda conn, until: users.committee_csv(conn, c["committee"], c["shortlist"], until)
            )
        if xlsx:
            out.append(
                lambda conn, until: users.committee_xlsx(conn, c["committee"], self.xlsx, until)
            )
        return out


async def _phase(
    ports: list[int],
    people: list[User],
    seconds: float,
    chaos: Callable[[Pool], Coroutine[Any, Any, None]] | None,
    pids: dict[str, list[int]] | None = None,
) -> Stats:
    """One phase; with `pids` ({"web": [...], "worker": [...]}), the CPU time each group of
    processes, the load generator itself and PostgreSQL's processes used during it."""
    stats = Stats()
    pids = pids or {}
    before = {k: http.cpu_seconds(v) for k, v in pids.items()}
    db_before = http.postgres_cpu()
    own = sum(os.times()[:2])
    pool = Pool(ports)
    conns = [Conn(pool, i, stats) for i in range(len(people))]
    stats.started = time.perf_counter()
    until = stats.started + seconds
    tasks = [person(conn, until) for person, conn in zip(people, conns, strict=True)]
    if chaos is not None:
        tasks.append(chaos(pool))
    await asyncio.gather(*tasks)
    stats.elapsed = time.perf_counter() - stats.started
    stats.load = http.load_average()
    stats.cpu = {k: round(http.cpu_seconds(v) - before[k], 2) for k, v in pids.items()}
    stats.cpu["load_generator"] = round(sum(os.times()[:2]) - own, 2)
    stats.cpu["postgresql"] = round(http.postgres_cpu_since(db_before), 2)
    for conn in conns:
        conn.close()
    return stats


def hello_user(conn: Conn, until: float) -> Coroutine[Any, Any, None]:
    async def loop() -> None:
        while time.perf_counter() < until:
            await conn.call("hello", "GET", "/", {}, keep=False)

    return loop()


# ---- preparation, chaos, the run ---------------------------------------------------------------


def prepare(url: str, drafts: int) -> dict[str, Any]:
    """Credentials of `drafts` directors (their drafts), the ARS referent and the committee."""
    from sqlmodel import Session, select

    from app.accounts.models import User
    from app.config import Settings
    from app.db import make_engine
    from app.questionnaires import Registry

    settings = Settings(database_url=url, questionnaires_dir=ROOT / "questionnaires")
    engine = make_engine(url)
    try:
        with Session(engine) as session:
            out = {
                "drafts": db.director_drafts(
                    session, settings, Registry.load(settings.questionnaires_dir), drafts
                ),
                "ars": db.user_credentials(session, settings, ARS),
                "committee": db.user_credentials(session, settings, COMMITTEE),
            }
            out["region"] = session.execute(
                select(User.region).where(User.email == ARS)
            ).scalar_one()
            session.commit()
    finally:
        engine.dispose()
    if len(out["drafts"]) < drafts:
        raise SystemExit(f"only {len(out['drafts'])} drafts with a director")
    return out


def create_shortlist(port: int, committee: dict[str, str], size: int) -> dict[str, Any]:
    """The committee creates a national shortlist through the API (timed)."""
    import httpx

    t0 = time.perf_counter()
    r = httpx.post(
        f"http://127.0.0.1:{port}/api/v1/shortlists",
        timeout=600,
        headers=users.bearer(committee["token"]),
        json={"name": "Pic de campagne", "size": size},
    )
    if r.status_code != 201:
        raise SystemExit(f"shortlist creation: {r.status_code} {r.text[:300]}")
    return {
        "id": r.json()["id"],
        "rows": len(r.json()["rows"]),
        "seconds": round(time.perf_counter() - t0, 2),
    }


def chaos(
    servers: Servers, at: float, events: dict[str, Any]
) -> Callable[[Pool], Coroutine[Any, Any, None]]:
    """At `at` s: kill -9 the second web process and the worker; a new worker 3 s later."""

    async def act(pool: Pool) -> None:
        await asyncio.sleep(at)
        for proc in (servers.web[1], servers.worker):
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait()
        events["killed_at"] = time.perf_counter()
        await asyncio.sleep(3)
        servers.worker = servers.start_worker()

    return act


def run(
    url: str,
    *,
    seconds: float = 20,
    solo: int = 10,
    pairs: int = 2,
    ars: int = 3,
    size: int = 40000,
    copies: int = 6,
    min_rows: int = 0,
    drain_s: float = 300,
    worker_args: list[str] | None = None,
    log_dir: Path | None = None,
    before_chaos: Callable[[], None] | None = None,
    stalled: float = 10,
    hello: bool = True,
) -> dict[str, Any]:
    # Long: the whole campaign in order (servers, shortlist, nine phases, drain, checks).
    t0 = time.perf_counter()
    prepared = prepare(url, solo + pairs)
    log_dir = log_dir or ROOT / "var" / "campaign"
    log_dir.mkdir(parents=True, exist_ok=True)
    servers = Servers(url, worker_args or [], log_dir, stalled, hello)
    timings = {"servers_up_s": round(time.perf_counter() - t0, 1)}
    phases: dict[str, Stats] = {}
    events: dict[str, Any] = {}
    try:
        a, b = servers.web_ports
        created = create_shortlist(a, prepared["committee"], size)
        prepared["shortlist"] = created["id"]
        from sqlalchemy import create_engine

        from app.db import normalize_url

        engine = create_engine(normalize_url(url))
        prepared["copies"] = db.clone_shortlist(engine, created["id"], copies, min_rows)
        engine.dispose()
        campaign = Campaign(prepared, solo, pairs, ars)
        timings["analyze_s"] = http.vacuum(url)  # the demo's bulk load, as autovacuum would
        timings["setup_s"] = round(time.perf_counter() - t0, 1)
        n = len(campaign.people())
        plan: list[tuple[str, list[int], list[User]]] = [
            *(
                (f"hello_{k}", servers.hello_ports[:k], [hello_user] * n)
                for k in (1, 2)
                if servers.hello_ports
            ),
            ("mixed_1", [a], campaign.people()),
            ("mixed_2", [a, b], campaign.people()),
            ("xlsx_1", [a], campaign.people(xlsx=True)),
            ("xlsx_2", [a, b], campaign.people(xlsx=True)),
            ("exports_1", [a], campaign.people(csv=True, xlsx=True)),
            ("exports_2", [a, b], campaign.people(csv=True, xlsx=True)),
        ]
        for name, ports, people in plan:
            pids = servers.pids(ports)
            timings[f"vacuum_before_{name}_s"] = http.vacuum(url, DRAFTS)
            phases[name] = asyncio.run(_phase(ports, people, seconds, None, pids))
        if before_chaos is not None:
            before_chaos()
        timings["vacuum_before_chaos_s"] = http.vacuum(url, DRAFTS)
        phases["chaos"] = asyncio.run(
            _phase(
                [a, b],
                campaign.people(csv=True, xlsx=True),
                seconds,
                chaos(servers, seconds / 3, events),
            )
        )
        jobs = drain(url, drain_s)
        checks = chaos_checks(url, campaign, phases["chaos"], events, a, jobs)
    finally:
        servers.stop()
    timings["total_s"] = round(time.perf_counter() - t0, 1)
    return {**report(phases, created, checks, campaign, seconds), "timings": timings}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--solo", type=int, default=10)
    parser.add_argument("--pairs", type=int, default=2)
    parser.add_argument("--ars", type=int, default=3)
    parser.add_argument("--size", type=int, default=40000, help="shortlist size asked")
    parser.add_argument("--copies", type=int, default=6)
    parser.add_argument("--drain", type=float, default=300)
    a = parser.parse_args()
    started = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime())
    load = http.load_average()
    out = run(
        a.database_url,
        seconds=a.seconds,
        solo=a.solo,
        pairs=a.pairs,
        ars=a.ars,
        size=a.size,
        copies=a.copies,
        drain_s=a.drain,
    )
    print(
        json.dumps(
            {
                "started": started,
                "load_average_at_start": load,
                "load_average_at_end": http.load_average(),
                "cpus": os.cpu_count(),
                # settings given to the servers and the worker through the environment
                "settings": {k: v for k, v in sorted(os.environ.items())
                             if k.startswith("PALIER_") and "URL" not in k},
                **out,
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
