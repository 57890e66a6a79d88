"""What the HTTP benchmarks share: a real `palier serve` (and a hello-world app served the
same way: uvicorn, uvloop and httptools, no access log) in a child process, logged-in
clients, timings and the server's memory."""

from __future__ import annotations

import os
import re
import secrets
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pyotp
from sqlalchemy import Engine, text

from bench.dashboard_bench import _ms as ms
from bench.dashboard_bench import _pct as pct

ROOT = Path(__file__).resolve().parent.parent
PALIER = str(Path(sys.executable).with_name("palier"))
PASSWORD = "demo-palier-2026"


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
    env = {**os.environ, "PALIER_ENV": "production", "PALIER_DATABASE_URL": database_url,
           "PALIER_SECRET_KEY": secrets.token_urlsafe(48), "PALIER_BASE_URL": base,
           "PALIER_EVIDENCE_DIR": str(var / "evidence"), "PALIER_LOG_LEVEL": "WARNING"}
    with _process([PALIER, "serve", "--port", str(port)], env, base, "/healthz") as proc:
        yield base, proc.pid


@contextmanager
def hello_serve() -> Iterator[str]:
    """bench/hello.py served by uvicorn with `palier serve`'s options."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    code = ("import uvicorn; uvicorn.run('bench.hello:app', host='127.0.0.1', "
            f"port={port}, log_config=None, access_log=False, loop='auto', http='auto')")
    with _process([sys.executable, "-c", code], dict(os.environ), base, "/"):
        yield base


def page_client(base: str, email: str, totp_secret: str | None = None) -> httpx.Client:
    """A browser-like client logged in through the login form (and the second factor's
    code page, with `totp_secret`: see `enrol`)."""
    client = httpx.Client(base_url=base, timeout=600)
    token = client.get("/session/csrf").json()["csrf_token"]
    r = client.post("/connexion", data={"email": email, "password": PASSWORD,
                                        "csrf_token": token})
    if r.status_code not in (302, 303):
        raise SystemExit(f"login of {email} failed: {r.status_code}")
    if urlsplit(r.headers.get("location", "")).path == "/connexion/code":
        if totp_secret is None:
            raise SystemExit(f"login of {email}: a second factor is needed (see enrol)")
        token = client.get("/session/csrf").json()["csrf_token"]
        r = client.post("/connexion/code", data={"code": pyotp.TOTP(totp_secret).now(),
                                                 "csrf_token": token})
        if r.status_code != 303:
            raise SystemExit(f"second factor of {email} failed: {r.status_code}")
    return client


def enrol(engine: Engine, email: str) -> str:
    """Give `email` a confirmed second factor with a new secret (benchmark databases
    only): the secret, for `page_client`."""
    secret = pyotp.random_base32(32)
    now = datetime.now(UTC)
    with engine.begin() as c:
        user_id = c.execute(text("SELECT id FROM user_account WHERE email = :e"),
                            {"e": email}).scalar_one()
        c.execute(text("DELETE FROM user_totp WHERE user_id = :u"), {"u": user_id})
        c.execute(text("INSERT INTO user_totp (user_id, secret, created_at, confirmed_at, "
                       "last_step) VALUES (:u, :s, :t, :t, 0)"),
                  {"u": user_id, "s": secret, "t": now})
    return secret


def api_client(base: str, email: str) -> httpx.Client:
    """An API client with a bearer token (password grant: directors' accounts)."""
    r = httpx.post(base + "/api/v1/auth/token", data={"username": email, "password": PASSWORD},
                   timeout=120)
    r.raise_for_status()
    return httpx.Client(base_url=base, timeout=600, headers={
        "Authorization": f"Bearer {r.json()['access_token']}"})


def pat_client(pages: httpx.Client) -> httpx.Client:
    """An API client with a personal access token created on the account's security page
    by a logged-in `page_client` (ARS, committees, admins: no password grant)."""
    token = pages.get("/session/csrf").json()["csrf_token"]
    r = pages.post("/compte/securite/jetons", data={
        "name": f"Banc {secrets.token_hex(4)}", "scope": "write", "days": "30",
        "csrf_token": token})
    found = re.search(r'id="nouveau-jeton"[^>]*>([^<]+)<', r.text)
    if r.status_code != 200 or found is None:
        raise SystemExit(f"personal access token not created: {r.status_code}")
    return httpx.Client(base_url=pages.base_url, timeout=600, headers={
        "Authorization": f"Bearer {found.group(1).strip()}"})


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
