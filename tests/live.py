"""A real uvicorn server in a subprocess, for tests that go through HTTP: browser tests and
concurrency tests. `run_server(database_url, tmp)` serves create_app() on a free port."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import Engine

from app.db import make_engine
from bench.http import free_port as _free_port
from bench.http import stop as stop_process
from tests.conftest import TEST_SECRET_KEY

ROOT = Path(__file__).resolve().parent.parent
SERVER_START_TIMEOUT_S = 60.0


@dataclass
class LiveServer:
    url: str
    database_url: str
    engine: Engine
    log_path: Path

    def log_tail(self, lines: int = 40) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])


def _wait_until_up(url: str, process: subprocess.Popen[bytes], log_path: Path) -> None:
    deadline = time.monotonic() + SERVER_START_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            tail = log_path.read_text(errors="replace")[-4000:]
            pytest.fail(f"the live server exited with code {process.returncode}:\n{tail}")
        try:
            with urllib.request.urlopen(f"{url}/healthz", timeout=2) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.1)
    pytest.fail(f"the live server did not answer {url}/healthz within {SERVER_START_TIMEOUT_S} s")


def server_env(database_url: str, tmp: Path, url: str = "http://127.0.0.1:8000") -> dict[str, str]:
    """The environment of the server (and of `palier` commands run against its database)."""
    return {
        **os.environ,
        "PALIER_ENV": "test",
        "PALIER_SECRET_KEY": TEST_SECRET_KEY,
        "PALIER_DATABASE_URL": database_url,
        "PALIER_QUESTIONNAIRES_DIR": str(ROOT / "questionnaires"),
        "PALIER_EVIDENCE_DIR": str(tmp / "evidence"),
        "PALIER_BASE_URL": url,
        "PYTHONUNBUFFERED": "1",
    }


@contextmanager
def run_server(
    database_url: str,
    tmp: Path,
    *,
    port: int | None = None,
    extra_env: dict[str, str] | None = None,
) -> Iterator[LiveServer]:
    """uvicorn serving create_app() on `database_url` (already migrated) in a subprocess
    (on `port`, else a free one; `extra_env`: more PALIER_* settings)."""
    port = port or _free_port()
    url = f"http://127.0.0.1:{port}"
    log_path = tmp / "server.log"
    command = [
        sys.executable, "-m", "uvicorn", "app.main:create_app", "--factory",
        "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning",
    ]  # fmt: skip
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            command,
            cwd=ROOT,
            env={**server_env(database_url, tmp, url), **(extra_env or {})},
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    engine = make_engine(database_url)
    try:
        _wait_until_up(url, process, log_path)
        yield LiveServer(url, database_url, engine, log_path)
    finally:
        stop_process(process)
        engine.dispose()
