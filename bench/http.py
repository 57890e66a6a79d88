"""What the HTTP benchmarks share: real `palier serve` / `palier worker` processes and the
hello-world floor served the same way (uvicorn, uvloop and httptools, no access log), started,
awaited and stopped; logged-in clients; timings, CPU time and the servers' memory."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

from bench.dashboard_bench import _ms as ms
from bench.dashboard_bench import _pct as pct

ROOT = Path(__file__).resolve().parent.parent
PALIER = str(Path(sys.executable).with_name("palier"))
# The servers' key (fixed: a bench run's sessions need no secrecy).
SECRET = "bench-http-secret-key-0123456789-abcdefghijklmnop"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_port(port: int, proc: subprocess.Popen[Any] | None = None, timeout: float = 120) -> None:
    """Until something accepts connections on `port` (SystemExit if `proc` exits first)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise SystemExit(f"the process for port {port} exited ({proc.returncode})")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.2)
    raise SystemExit(f"nothing answers on port {port}")


def stop(proc: subprocess.Popen[Any], timeout: float = 10) -> None:
    """SIGTERM, then SIGKILL after `timeout` seconds."""
    proc.terminate()
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


@contextmanager
def serving(cmd: list[str], env: dict[str, str], port: int) -> Iterator[subprocess.Popen[bytes]]:
    """`cmd` (a server listening on `port`) running until the block ends."""
    proc = subprocess.Popen(cmd, env=env, cwd=ROOT, stdout=subprocess.DEVNULL)
    try:
        wait_port(port, proc)
        yield proc
    finally:
        stop(proc, 30)


def server_env(database_url: str, var: Path | None = None) -> dict[str, str]:
    """`palier serve` / `palier worker` in production against `database_url`."""
    env = {
        **os.environ,
        "PALIER_ENV": "production",
        "PALIER_DATABASE_URL": database_url,
        "PALIER_SECRET_KEY": SECRET,
        "PALIER_BASE_URL": "http://127.0.0.1",
        "PALIER_LOG_LEVEL": "WARNING",
        "PYTHONPATH": str(ROOT),
    }
    if var is not None:
        env["PALIER_EVIDENCE_DIR"] = str(var / "evidence")
    return env


def serve_command(port: int) -> list[str]:
    return [PALIER, "serve", "--port", str(port)]


def hello_command(port: int) -> list[str]:
    """The floor, bench/hello_app.py, served as `palier serve` serves the app (uvicorn,
    uvloop + httptools, no access log)."""
    return [
        sys.executable,
        "-m",
        "uvicorn",
        "bench.hello_app:app",
        "--port",
        str(port),
        "--no-access-log",
        "--log-level",
        "warning",
        "--loop",
        "auto",
        "--http",
        "auto",
    ]


@contextmanager
def palier_serve(database_url: str, var: Path) -> Iterator[tuple[str, int]]:
    """`palier serve` (production settings, one process) on a free port: (base URL, pid)."""
    port = free_port()
    with serving(serve_command(port), server_env(database_url, var), port) as proc:
        yield f"http://127.0.0.1:{port}", proc.pid


@contextmanager
def palier_worker(database_url: str, var: Path) -> Iterator[int]:
    """`palier worker` (production settings): runs the queued jobs (exports) on PostgreSQL,
    as in production beside `palier serve`. Yields its pid."""
    proc = subprocess.Popen(
        [PALIER, "worker"], cwd=ROOT, stdout=subprocess.DEVNULL, env=server_env(database_url, var)
    )
    try:
        time.sleep(2)
        if proc.poll() is not None:
            raise SystemExit(f"the worker exited ({proc.returncode})")
        yield proc.pid
    finally:
        stop(proc, 30)


@contextmanager
def hello_serve() -> Iterator[str]:
    """The hello-world floor (`hello_command`) on a free port: its base URL."""
    port = free_port()
    with serving(hello_command(port), dict(os.environ), port):
        yield f"http://127.0.0.1:{port}"


def credentials(database_url: str, email: str) -> dict[str, str]:
    """`email`'s session cookie and API token (`campaign_db.user_credentials`), issued
    in-process: the ARS, committee and admin accounts log in with a second factor (a code
    typed from a phone), which a benchmark cannot go through."""
    from sqlmodel import Session

    from app.config import Settings
    from app.db import make_engine
    from bench.campaign_db import user_credentials

    engine = make_engine(database_url)
    try:
        with Session(engine) as session:
            out = user_credentials(session, Settings(database_url=database_url), email)
            session.commit()
    finally:
        engine.dispose()
    return out


def page_client(base: str, database_url: str, email: str) -> httpx.Client:
    """A browser-like client with a session of `email`'s."""
    from app.web.security import SESSION_COOKIE

    client = httpx.Client(base_url=base, timeout=600)
    client.cookies.set(SESSION_COOKIE, credentials(database_url, email)["cookie"])
    return client


def api_client(base: str, database_url: str, email: str) -> httpx.Client:
    """An API client with a bearer token of `email`'s."""
    token = credentials(database_url, email)["token"]
    return httpx.Client(base_url=base, timeout=600, headers={"Authorization": f"Bearer {token}"})


def summary(times: list[float]) -> dict[str, float]:
    return {"p50_ms": ms(pct(times, 0.5)), "p95_ms": ms(pct(times, 0.95)), "n": len(times)}


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    start = time.perf_counter()
    out = fn()
    return time.perf_counter() - start, out


def streamed(client: httpx.Client, path: str) -> dict[str, Any]:
    """GET `path` read as a stream: time to the first body byte, total time, bytes."""
    start = time.perf_counter()
    first = None
    size = 0
    with client.stream("GET", path) as r:
        r.raise_for_status()
        for chunk in r.iter_raw():
            if first is None and chunk:
                first = time.perf_counter() - start
            size += len(chunk)
    total = time.perf_counter() - start
    return {"first_byte_s": round(first or total, 3), "total_s": round(total, 3), "bytes": size}


def rss_mib(pid: int) -> float:
    """Resident memory of a process (and its children, uvicorn workers), MiB."""
    pids = [pid]
    children = Path(f"/proc/{pid}/task/{pid}/children")
    if children.exists():
        pids += [int(p) for p in children.read_text().split()]
    total = 0
    for p in pids:
        for line in Path(f"/proc/{p}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                total += int(line.split()[1])
    return round(total / 1024, 1)


def load_average() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU time of these processes (all their threads) so far; a dead one: 0."""
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15)
    return total / os.sysconf("SC_CLK_TCK")


def postgres_pids() -> list[int]:
    """The PostgreSQL server's processes on this machine (postmaster and backends), by name:
    what a loopback database costs the machine next to the servers measured."""
    out = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if (entry / "comm").read_text().strip() == "postgres":
                    out.append(int(entry.name))
            except OSError:
                continue
    return out


def libpq_url(url: str) -> str:
    """A SQLAlchemy PostgreSQL URL (postgresql+psycopg://…) as libpq takes it."""
    return "postgresql://" + url.split("://", 1)[1]


def vacuum(url: str, tables: tuple[str, ...] = ()) -> float:
    """`VACUUM (ANALYZE)` of `tables` (none: the whole database) on PostgreSQL, what
    autovacuum keeps up in production (it is off on some benchmark machines); nothing
    elsewhere. Seconds taken."""
    if not url.startswith("postgresql"):
        return 0.0
    import psycopg

    t0 = time.perf_counter()
    with psycopg.connect(libpq_url(url), autocommit=True) as conn:
        conn.execute("VACUUM (ANALYZE) " + ", ".join(tables))
    return round(time.perf_counter() - t0, 2)


def postgres_cpu() -> dict[int, float]:
    """User + system CPU time of each PostgreSQL process alive now, by pid."""
    return {pid: cpu_seconds([pid]) for pid in postgres_pids()}


def postgres_cpu_since(before: dict[int, float]) -> float:
    """CPU time the PostgreSQL processes used since `before` (`postgres_cpu()`): those alive
    then and now, and all of those started since (a backend that ended in between takes its
    time with it: the measured paths keep theirs open)."""
    return sum(t - before.get(pid, 0.0) for pid, t in postgres_cpu().items()
               if t >= before.get(pid, 0.0))
