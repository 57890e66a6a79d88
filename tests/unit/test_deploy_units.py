"""deploy/: the systemd units run the commands docs/deploy.md shows, and those commands
exist in the `palier` command line."""

from __future__ import annotations

import re
from pathlib import Path

from typer.testing import CliRunner

from app.cli import cli

ROOT = Path(__file__).resolve().parents[2]


def _exec_start(unit: str) -> list[str]:
    text = (ROOT / "deploy" / unit).read_text()
    [line] = re.findall(r"^ExecStart=(.+)$", text, flags=re.MULTILINE)
    return line.split()


def test_units_run_the_documented_commands() -> None:
    docs = (ROOT / "docs" / "deploy.md").read_text()
    web, worker = _exec_start("palier-web.service"), _exec_start("palier-worker.service")
    assert web[0] == worker[0] == "/opt/palier/.venv/bin/palier"
    assert web[1:] == ["serve", "--host", "0.0.0.0", "--port", "8000", "--workers", "2"]
    assert worker[1:] == ["worker", "--concurrency", "2"]
    for command in (web, worker):
        assert "palier " + " ".join(command[1:]) in docs


def test_the_commands_exist() -> None:
    runner = CliRunner()
    for name, option in (("serve", "--workers"), ("worker", "--concurrency")):
        result = runner.invoke(cli, [name, "--help"])
        assert result.exit_code == 0 and option in result.output


def test_the_worker_gives_way_to_the_web_and_the_database() -> None:
    """The worker's unit lowers its cgroup's CPU weight; the web's keeps the default (100)."""
    worker = (ROOT / "deploy" / "palier-worker.service").read_text()
    web = (ROOT / "deploy" / "palier-web.service").read_text()
    assert re.findall(r"^CPUWeight=(\d+)$", worker, flags=re.MULTILINE) == ["20"]
    assert "CPUWeight" not in web
    assert "`CPUWeight=20`" in (ROOT / "docs" / "deploy.md").read_text()
