"""The campaign peak of issue 11 at a small size, as a test of correctness (no timing): the
scenario of bench/campaign_load.py on a 50-structure demo, with two real `palier serve`
processes and a real `palier worker`, then kill -9 of one web process and of the worker mid-job.

Checked: no error but the expected 409s of two tabs on one draft; every acknowledged autosave
is in the database (answer and version); every job ends done or failed with a reason (the
killed worker's job is taken back by the next worker); the surviving process kept serving.
PostgreSQL only (PALIER_TEST_DATABASE_URL; CI always sets it).
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from sqlmodel import Session

import tests.fixtures.slow_jobs  # noqa: F401  (the "test_sleep" kind)
from app import jobs
from app.config import Settings
from app.db import make_engine
from app.demo.dataset import load_demo
from app.jobs import queue
from app.questionnaires import Registry
from bench import campaign_load
from tests.conftest import PG_URL, TEST_SECRET_KEY, _clear_caches, temporary_database
from tests.live import ROOT

pytestmark = pytest.mark.skipif(
    not PG_URL,
    reason="several processes and the job queue need PostgreSQL (PALIER_TEST_DATABASE_URL)",
)


def _demo(url: str) -> None:
    registry = Registry.load(ROOT / "questionnaires")
    q = registry.latest("esms-maturite-numerique")
    assert q is not None
    engine = make_engine(url)
    try:
        with Session(engine) as session:
            load_demo(session, q, structures=50)
    finally:
        engine.dispose()


def _lines(log: Path) -> list[str]:
    return log.read_text().splitlines() if log.exists() else []


def test_campaign_peak_with_kill_9(tmp_path: Path) -> None:
    sleep_log = tmp_path / "sleep.log"
    with temporary_database("postgresql", tmp_path, migrate=True) as url:
        _demo(url)
        settings = Settings(
            env="test", secret_key=TEST_SECRET_KEY, database_url=url, jobs_runner="queue"
        )

        def job_mid_flight() -> None:
            """A long job running on the worker when it is killed."""
            jobs.defer(settings, "test_sleep", log=str(sleep_log), seconds=120, then=0.2)
            deadline = time.monotonic() + 60
            while not _lines(sleep_log) and time.monotonic() < deadline:
                time.sleep(0.2)
            assert _lines(sleep_log), "the worker did not start the job"

        try:
            out = campaign_load.run(
                url,
                seconds=1.0,  # every user finishes the round it started: each kind is seen
                solo=3,
                pairs=1,
                ars=1,
                size=40000,
                copies=2,
                min_rows=2001,
                drain_s=120,
                log_dir=tmp_path,
                worker_args=["--import", "tests.fixtures.slow_jobs"],
                before_chaos=job_mid_flight,
                stalled=3,
                hello=False,  # no floor: nothing is timed here
            )
        finally:
            queue.close()
            _clear_caches()

    summary, checks, phases = out["summary"], out["chaos_checks"], out["phases"]
    assert summary["errors_outside_chaos"] == 0, phases
    assert summary["errors_in_chaos"] == 0, phases["chaos"]
    assert summary["expected_409"] >= 1  # the two tabs on one draft
    vacuumed = {k for k in out["timings"] if k.startswith("vacuum_before_")}
    assert vacuumed == {f"vacuum_before_{p}_s" for p in (
        "mixed_1", "mixed_2", "xlsx_1", "xlsx_2", "exports_1", "exports_2", "chaos")}
    for name in ("mixed_1", "mixed_2", "xlsx_1", "xlsx_2", "exports_1", "exports_2"):
        kinds = phases[name]["kinds"]
        for kind in ("section", "autosave", "dashboard", "structure_list", "summary_api"):
            assert kinds[kind]["requests"] > 0, (name, kind)
        assert set(kinds["autosave"]["statuses"]) <= {200, 409}
    assert phases["exports_1"]["kinds"]["export_csv"]["statuses"].keys() == {200}
    assert summary["xlsx_jobs"]["requested"] >= 1  # 2,001 rows and more: a job
    # After the kill -9.
    assert checks["acknowledged_saves_missing"] == []
    assert checks["acknowledged_drafts"] == 4
    assert checks["survivor_200_after_kill"] > 0
    assert checks["survivor_unexpected_after_kill"] == 0
    assert checks["survivor_healthz"] == 200
    assert checks["jobs_all_finished"] is True, checks["jobs"]
    assert checks["failed_jobs_without_reason"] == 0
    assert set(checks["jobs"]["exports"]) <= {"done", "failed"}
    # The killed job was taken back by the next worker and finished.
    assert [x.split()[:2] for x in _lines(sleep_log)] == [
        ["start", "0"],
        ["start", "1"],
        ["end", "1"],
    ]
