"""What the HTTP benchmarks share: a real `palier serve` (and a hello-world app served the
same way: uvicorn, uvloop and httptools, no access log) in a child process, logged-in
clients, timings and the server's memory."""

from __future__ import annotations

import os
import secrets
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


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait(base: str, proc: subprocess.Popen[bytes], path: str = "/healthz") -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"the server exited ({proc.returncode})")
        try:
            if httpx.get(base + path, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise SystemExit(f"{base} did not start")


@contextmanager
def _process(cmd: list[str], env: dict[str, str], base: str,
             path: str) -> Iterator[subprocess.Popen[bytes]]:
    proc = subprocess.Popen(cmd, env=env, cwd=ROOT, stdout=subprocess.DEVNULL)
    try:
        _wait(base, proc, path)
        yield proc
    finally:
        _stop(proc)


def _stop(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    try:
        proc.wait(30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


@contextmanager
def palier_serve(database_url: str, var: Path) -> Iterator[tuple[str, int]]:
    """`palier serve` (production settings, one process) on a free port: (base URL, pid)."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with _process([PALIER, "serve", "--port", str(port)], _env(database_url, var, base), base,
                  "/healthz") as proc:
        yield base, proc.pid


def _env(database_url: str, var: Path, base: str) -> dict[str, str]:
    return {**os.environ, "PALIER_ENV": "production", "PALIER_DATABASE_URL": database_url,
            "PALIER_SECRET_KEY": secrets.token_urlsafe(48), "PALIER_BASE_URL": base,
            "PALIER_EVIDENCE_DIR": str(var / "evidence"), "PALIER_LOG_LEVEL": "WARNING"}


@contextmanager
def palier_worker(database_url: str, var: Path) -> Iterator[int]:
    """`palier worker` (production settings): runs the queued jobs (exports) on PostgreSQL,
    as in production beside `palier serve`. Yields its pid."""
    proc = subprocess.Popen([PALIER, "worker"], cwd=ROOT, stdout=subprocess.DEVNULL,
                            env=_env(database_url, var, "http://127.0.0.1"))
    try:
        time.sleep(2)
        if proc.poll() is not None:
            raise SystemExit(f"the worker exited ({proc.returncode})")
        yield proc.pid
    finally:
        _stop(proc)


@contextmanager
def hello_serve() -> Iterator[str]:
    """bench/hello.py served by uvicorn with `palier serve`'s options."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    code = ("import uvicorn; uvicorn.run('bench.hello:app', host='127.0.0.1', "
            f"port={port}, log_config=None, access_log=False, loop='auto', http='auto')")
    with _process([sys.executable, "-c", code], dict(os.environ), base, "/"):
        yield base


def credentials(database_url: str, email: str) -> tuple[str, str]:
    """A session cookie and an API token for `email`, issued in-process: the ARS, committee
    and admin accounts log in with a second factor (a code typed from a phone), and their
    API access is a personal token, neither of which a benchmark can go through."""
    from sqlmodel import Session, select

    from app.accounts.api_tokens import issue_api_token
    from app.accounts.models import User
    from app.accounts.sessions import open_session
    from app.config import Settings
    from app.db import make_engine

    settings = Settings(database_url=database_url)
    engine = make_engine(database_url)
    try:
        with Session(engine) as session:
            user = session.exec(select(User).where(User.email == email)).one()
            cookie, _ = open_session(session, settings, user)
            token = issue_api_token(session, settings, user, name="bench").token
            session.commit()
    finally:
        engine.dispose()
    return cookie, token


def page_client(base: str, database_url: str, email: str) -> httpx.Client:
    """A browser-like client with a session of `email`'s."""
    from app.web.security import SESSION_COOKIE

    client = httpx.Client(base_url=base, timeout=600)
    client.cookies.set(SESSION_COOKIE, credentials(database_url, email)[0])
    return client


def api_client(base: str, database_url: str, email: str) -> httpx.Client:
    """An API client with a bearer token of `email`'s."""
    return httpx.Client(base_url=base, timeout=600, headers={
        "Authorization": f"Bearer {credentials(database_url, email)[1]}"})


def summary(times: list[float]) -> dict[str, float]:
    return {"p50_ms": ms(pct(times, 0.5)), "p95_ms": ms(pct(times, 0.95)),
            "n": len(times)}


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
    return {"first_byte_s": round(first or total, 3), "total_s": round(total, 3),
            "bytes": size}


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
