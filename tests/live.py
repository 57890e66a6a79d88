"""A real uvicorn server in a subprocess, for tests that need concurrency over HTTP."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TEST_SECRET_KEY = "test-secret-key-not-for-production-0123456789"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def running_server(database_url: str, tmp: Path, timeout_s: float = 30) -> Iterator[str]:
    """Serve the app on a free port against `database_url`; yield its base URL."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = {**os.environ, "PALIER_ENV": "test", "PALIER_SECRET_KEY": TEST_SECRET_KEY,
           "PALIER_DATABASE_URL": database_url,
           "PALIER_QUESTIONNAIRES_DIR": str(ROOT / "questionnaires"),
           "PALIER_EVIDENCE_DIR": str(tmp / "evidence"), "PYTHONUNBUFFERED": "1"}
    log_path = tmp / "server.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "app.main:create_app", "--factory",
             "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + timeout_s
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"server exited: {log_path.read_text()[-3000:]}")
            try:
                with urllib.request.urlopen(f"{url}/healthz", timeout=2) as r:
                    if r.status == 200:
                        break
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"server did not start: {log_path.read_text()[-3000:]}")
            time.sleep(0.1)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
