"""`palier serve --workers N`: several processes on PostgreSQL, refused on SQLite."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from typer.testing import CliRunner

from app.cli import cli
from tests.conftest import _clear_caches
from tests.live import ROOT, _free_port, _wait_until_up, server_env, stop_process


def test_several_workers_are_refused_on_sqlite(monkeypatch: pytest.MonkeyPatch,
                                               tmp_path: Path) -> None:
    monkeypatch.setenv("PALIER_DATABASE_URL", f"sqlite:///{tmp_path / 'palier.db'}")
    _clear_caches()
    try:
        result = CliRunner().invoke(cli, ["serve", "--workers", "2", "--port", "1"])
    finally:
        _clear_caches()
    assert result.exit_code == 2
    assert result.output == (
        "--workers 2 refusé : la base SQLite n'admet qu'un processus d'écriture, "
        "`palier serve` sert donc avec un seul processus. Pour plusieurs processus, "
        "utilisez PostgreSQL (PALIER_DATABASE_URL=postgresql://...).\n")
    assert not (tmp_path / "palier.db").exists()  # nothing started


def test_zero_workers_is_a_usage_error() -> None:
    result = CliRunner().invoke(cli, ["serve", "--workers", "0"])
    assert result.exit_code == 2
    assert "--workers" in result.output


def test_two_workers_serve_on_postgresql(backend: str, fresh_db_url: str,
                                         tmp_path: Path) -> None:
    if backend != "postgresql":
        pytest.skip("several workers need PostgreSQL (refusal on SQLite tested above)")
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    log_path = tmp_path / "serve.log"
    env = {k: v for k, v in server_env(fresh_db_url, tmp_path, url).items()
           if k != "PROMETHEUS_MULTIPROC_DIR"}
    command = [str(Path(sys.executable).parent / "palier"), "serve", "--workers", "2",
               "--port", str(port)]
    with log_path.open("wb") as log:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log,
                                   stderr=subprocess.STDOUT)
    try:
        _wait_until_up(url, process, log_path)
        with urllib.request.urlopen(f"{url}/readyz", timeout=5) as response:
            assert (response.status, json.load(response)) == (200, {"status": "ok"})
        started: set[str] = set()
        deadline = time.monotonic() + 30
        while len(started) < 2 and time.monotonic() < deadline:  # both workers are up
            started = set(re.findall(r"Started server process \[(\d+)\]",
                                     log_path.read_text(errors="replace")))
            time.sleep(0.2)
        assert len(started) == 2, log_path.read_text(errors="replace")
    finally:
        stop_process(process, timeout=15)
