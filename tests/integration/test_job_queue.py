"""Jobs on the PostgreSQL queue, run by real `palier worker` processes: e-mail retried until
the SMTP server answers, the region import lock, a worker killed with -9 mid-job (its job
retried, or failed with a reason when no attempt is left), an export produced by the worker
and read by the web side. PostgreSQL only (PALIER_TEST_DATABASE_URL)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import structlog
from aiosmtpd.controller import Controller
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text
from sqlmodel import Session, select

import tests.fixtures.slow_jobs  # noqa: F401  (the "test_sleep" kind)
from app import files, jobs, stale_jobs
from app.accounts.auth import build_actor
from app.accounts.models import User
from app.assessments import pdf
from app.assessments import service as assessments
from app.config import Settings
from app.db import make_engine
from app.email import send_email
from app.jobs import queue
from app.main import create_app
from app.permissions import Role
from app.questionnaires import Registry
from app.shortlists import jobs as export_jobs
from app.shortlists.models import ExportJob
from app.structures import import_jobs, imports
from app.structures.models import ImportJob, Structure
from tests.answers import best
from tests.auth_helpers import log_in
from tests.conftest import PG_URL, TEST_SECRET_KEY, _clear_caches, temporary_database
from tests.factories import fill, make_structure, make_user
from tests.fixtures.finess import HEADER, et_line
from tests.integration.test_smtp import Inbox
from tests.live import ROOT, _free_port, stop_process

pg_only = pytest.mark.skipif(not PG_URL, reason="the job queue needs PostgreSQL "
                                               "(PALIER_TEST_DATABASE_URL)")
PALIER = str(Path(sys.executable).parent / "palier")


@pytest.fixture
def qsettings(tmp_path: Path) -> Iterator[Settings]:
    """Settings of a new migrated PostgreSQL database, jobs on the queue; quick heartbeats."""
    with temporary_database("postgresql", tmp_path, migrate=True) as url:
        yield Settings(env="test", secret_key=TEST_SECRET_KEY, database_url=url,
                       evidence_dir=tmp_path / "evidence", jobs_runner="queue",
                       jobs_retry_wait_seconds=1, worker_heartbeat_seconds=0.5,
                       worker_stalled_seconds=5)
        queue.close()


@pytest.fixture
def engine(qsettings: Settings) -> Iterator[Engine]:
    engine = make_engine(qsettings.database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def workers(tmp_path: Path,
            qsettings: Settings) -> Iterator[Callable[..., subprocess.Popen[bytes]]]:
    """Start `palier worker` processes (with the test kinds); all are stopped afterwards."""
    started: list[subprocess.Popen[bytes]] = []
    logs: list[Any] = []

    def start(*args: str, own_session: bool = False,
              **settings: Any) -> subprocess.Popen[bytes]:
        env = {**os.environ, "PALIER_ENV": "test", "PALIER_SECRET_KEY": TEST_SECRET_KEY,
               "PALIER_DATABASE_URL": qsettings.database_url, "PALIER_JOBS_RUNNER": "queue",
               "PALIER_EVIDENCE_DIR": str(tmp_path / "worker-evidence"),
               "PALIER_JOBS_RETRY_WAIT_SECONDS": "1", "PALIER_WORKER_HEARTBEAT_SECONDS": "0.5",
               "PALIER_WORKER_STALLED_SECONDS": "5", "PYTHONUNBUFFERED": "1",
               "PYTHONPATH": str(ROOT),
               **{f"PALIER_{k.upper()}": str(v) for k, v in settings.items()}}
        log = (tmp_path / f"worker-{len(started)}.log").open("wb")
        logs.append(log)
        process = subprocess.Popen(
            [PALIER, "worker", "--import", "tests.fixtures.slow_jobs", *args],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
            start_new_session=own_session)
        started.append(process)
        return process

    yield start
    for process in started:
        if process.poll() is None:
            stop_process(process, timeout=15)
    for log in logs:
        log.close()


def wait_for(check: Callable[[], Any], what: str, timeout: float = 40.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.2)
    pytest.fail(f"timed out waiting for {what}")


def queue_jobs(engine: Engine) -> list[tuple[str, str, int]]:
    """(task, status, attempts) of every job, in order (attempts: the runs ended, killed
    ones included)."""
    with engine.connect() as conn:
        return [(r[0], r[1], r[2]) for r in conn.execute(text(
            "SELECT task_name, status::text, attempts FROM procrastinate_jobs ORDER BY id"))]


def lines(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").splitlines() if path.exists() else []


@pg_only
def test_email_is_retried_until_the_smtp_server_answers(
        qsettings: Settings, engine: Engine, workers: Callable[..., Any],
        tmp_path: Path) -> None:
    port = _free_port()  # nothing listens there yet: the first attempt fails
    smtp = {"email_backend": "smtp", "smtp_host": "127.0.0.1", "smtp_port": port,
            "smtp_tls": "none"}
    settings = qsettings.model_copy(update=smtp)
    with structlog.contextvars.bound_contextvars(request_id="req-mail-42"):
        send_email(settings, "directrice@example.fr", "Palier : accusé de réception",
                   "Bonjour,\nvotre autodiagnostic est transmis.")
    assert queue_jobs(engine) == [("email", "todo", 0)]
    workers(**smtp)
    wait_for(lambda: queue_jobs(engine)[0][2] >= 1, "a failed first attempt")
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        wait_for(lambda: queue_jobs(engine)[0][1] == "succeeded", "the retried delivery")
    finally:
        controller.stop()
    [message] = inbox.messages()
    assert message["To"] == "directrice@example.fr"
    assert message["Subject"] == "Palier : accusé de réception"
    assert message.get_content().replace("\r\n", "\n") == (
        "Bonjour,\nvotre autodiagnostic est transmis.\n")
    log = (tmp_path / "worker-0.log").read_text()
    assert "e-mail not sent to directrice@example.fr: ConnectionRefusedError" in log
    assert "req-mail-42" in log  # the request id follows the job into the worker's logs


def _import_file() -> bytes:
    body = [HEADER, et_line("690000039", "690000047", "EHPAD LES TILLEULS", "500", "69",
                            acheminement="69003 LYON")]
    return ("\n".join(body) + "\n").encode()


@pg_only
def test_imports_of_a_region_wait_for_each_other(
        qsettings: Settings, engine: Engine, workers: Callable[..., Any],
        tmp_path: Path) -> None:
    """The region's import lock: an import deferred while another job holds the lock of
    region 84 starts only once it is done, even with a free worker slot."""
    log = tmp_path / "sleep.log"
    jobs.defer(qsettings, "test_sleep", lock="structures-import-84", log=str(log), seconds=3)
    with Session(engine) as session:
        admin = make_user(session, Role.admin)
        options = imports.options_for(admin_actor(session, admin.id), qsettings, region="84")
        import_id = import_jobs.queue_job(session, qsettings, filename="finess-84.csv",
                                          data=_import_file(), options=options,
                                          user_id=admin.id, ip="127.0.0.1")
    workers("--concurrency", "2")

    def done() -> ImportJob | None:
        with Session(engine) as s:
            job = s.get(ImportJob, import_id)
            return job if job is not None and job.status == "done" else None

    job = wait_for(done, "the import")
    sleep_end = float(next(x for x in lines(log) if x.startswith("end")).split()[2])
    assert job.started_at is not None and job.started_at.timestamp() >= sleep_end
    assert job.imported == 1
    with Session(engine) as s:
        assert [x.finess for x in s.exec(select(Structure)).all()] == ["690000039"]
    # the queue job ends just after the row (the stored file is removed in between)
    wait_for(lambda: [(t, st) for t, st, _ in queue_jobs(engine)] == [
        ("test_sleep", "succeeded"), ("import", "succeeded")], "the queue job to end")
    with Session(engine) as s:
        assert s.get(files.StoredFile, import_jobs.file_key(import_id)) is None


def admin_actor(session: Session, user_id: int) -> Any:
    user = session.get(User, user_id)
    assert user is not None
    return build_actor(session, user)


def _kill_mid_job(qsettings: Settings, workers: Callable[..., Any], log: Path,
                  **settings: Any) -> None:
    jobs.defer(qsettings, "test_sleep", log=str(log), seconds=120, then=0.2)
    first = workers(**settings)
    wait_for(lambda: any(x.startswith("start 0") for x in lines(log)), "the job to start")
    os.kill(first.pid, signal.SIGKILL)
    first.wait()
    workers(**settings)  # another worker finds the job of the dead one


@pg_only
def test_a_job_killed_with_its_worker_is_retried(
        qsettings: Settings, engine: Engine, workers: Callable[..., Any],
        tmp_path: Path) -> None:
    log = tmp_path / "sleep.log"
    _kill_mid_job(qsettings, workers, log)
    wait_for(lambda: queue_jobs(engine) == [("test_sleep", "succeeded", 2)],
             "the job retried by the second worker")
    assert [x.split()[:2] for x in lines(log)] == [["start", "0"], ["start", "1"],
                                                    ["end", "1"]]


@pg_only
def test_a_job_killed_with_no_attempt_left_fails_with_a_reason(
        qsettings: Settings, engine: Engine, workers: Callable[..., Any],
        tmp_path: Path) -> None:
    log = tmp_path / "sleep.log"
    _kill_mid_job(qsettings, workers, log, jobs_max_attempts=1)
    wait_for(lambda: queue_jobs(engine) == [("test_sleep", "failed", 1)],
             "the job failed by the second worker")
    assert lines(log)[1] == f"abandoned: {queue.ABANDONED}"
    assert len(lines(log)) == 2  # never run again


def test_worker_is_refused_on_sqlite(tmp_path: Path) -> None:
    env = {**os.environ, "PALIER_DATABASE_URL": f"sqlite:///{tmp_path / 'p.db'}"}
    result = subprocess.run([PALIER, "worker"], cwd=ROOT, env=env, capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 2
    assert "sur SQLite, les tâches s'exécutent dans le processus web" in result.stderr


@pg_only
def test_an_export_runs_on_the_worker_and_its_file_is_read_by_the_web(
        qsettings: Settings, engine: Engine, workers: Callable[..., Any]) -> None:
    with Session(engine) as session:
        ars = make_user(session, Role.ars, region="84")
        job = export_jobs.create(session, ars.id, "region_csv", {"region": "84", "sep": ";"},
                                 "evaluations-84.csv", None)
        assert job.id is not None
        export_jobs.start(qsettings, job.id, background=None)
    workers()

    def done() -> ExportJob | None:
        with Session(engine) as s:
            row = s.get(ExportJob, job.id)
            return row if row is not None and row.status == "done" else None

    finished = wait_for(done, "the export")
    assert finished.file_path == f"export/{job.id}.csv"
    with Session(engine) as session:  # another process than the worker reads the file
        blob = export_jobs.file_of(session, finished)
        assert blob is not None and blob.content_type == "text/csv; charset=utf-8"
        assert blob.data.decode("utf-8-sig").splitlines()[0].startswith("FINESS;")
    wait_for(lambda: queue_jobs(engine) == [("export", "succeeded", 1)], "the queue job")


@pg_only
def test_a_row_whose_queue_job_failed_is_reported_failed(
        qsettings: Settings, engine: Engine) -> None:
    """stale_jobs on PostgreSQL: an export still `running` whose queue job ended failed."""
    with Session(engine) as session:
        ars = make_user(session, Role.ars, region="84")
        job = export_jobs.create(session, ars.id, "region_csv", {"region": "84"}, "x.csv", None)
        job.status = "running"
        session.add(job)
        session.commit()
        export_jobs.start(qsettings, job.id or 0, background=None)
        session.execute(text("UPDATE procrastinate_jobs SET status = 'failed'"))
        session.commit()
        assert stale_jobs.recover(session) == 1
        session.refresh(job)
        assert (job.status, job.error) == ("failed", stale_jobs.INTERRUPTED)


@pg_only
def test_readyz_and_metrics_see_the_queue(qsettings: Settings, engine: Engine,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PALIER_DATABASE_URL", qsettings.database_url)
    monkeypatch.setenv("PALIER_JOBS_RUNNER", "queue")
    _clear_caches()
    try:
        jobs.defer(qsettings, "test_sleep", log="/dev/null", seconds=0)
        with Session(engine) as session:
            admin = make_user(session, Role.admin)
            with TestClient(create_app()) as client:
                assert client.get("/readyz").json() == {"status": "ok"}
                log_in(client, session, qsettings, admin)
                text_ = client.get("/metrics").text
        assert 'palier_jobs{kind="test_sleep",state="todo"} 1.0' in text_
        assert "palier_job_queue_depth 1.0" in text_
    finally:
        _clear_caches()


@pg_only
def test_submitting_has_the_worker_build_the_declaration_pdf(
        qsettings: Settings, engine: Engine, workers: Callable[..., Any]) -> None:
    registry = Registry.load(ROOT / "questionnaires")
    with Session(engine) as session:
        ehpad = make_structure(session, name="EHPAD Les Tilleuls", department="69")
        director = make_user(session, Role.director, [ehpad])
        actor = build_actor(session, director)
        draft, _ = assessments.start_or_resume(session, actor, registry, ehpad.finess)
        assert draft.id is not None
        fill(session, draft.id, best("ehpad"))
        submitted = assessments.submit(session, actor, registry, draft.id, settings=qsettings,
                                       declared=True)
        key = pdf.cache_key(submitted)
    assert key is not None
    assert queue_jobs(engine) == [("declaration_pdf", "todo", 0)]  # e-mail (console) sent at once
    workers()
    wait_for(lambda: queue_jobs(engine) == [("declaration_pdf", "succeeded", 1)],
             "the PDF job", timeout=90)
    with Session(engine) as session:
        blob = files.get(session, key)
        assert blob is not None and blob.content_type == "application/pdf"
        assert blob.data.startswith(b"%PDF") and len(blob.data) > 20_000


@pg_only
def test_the_read_model_refresh_is_handed_to_the_worker(
        qsettings: Settings, engine: Engine, workers: Callable[..., Any]) -> None:
    env = {**os.environ, "PALIER_DATABASE_URL": qsettings.database_url}
    out = subprocess.run([PALIER, "dashboard", "refresh", "--file-d-attente"], cwd=ROOT,
                         env=env, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert "Reconstruction confiée à la file de tâches (tâche n° 1)." in out.stdout
    workers()
    wait_for(lambda: queue_jobs(engine) == [("dashboard_refresh", "succeeded", 1)],
             "the refresh")


@pg_only
def test_the_worker_gives_way_to_web_processes(workers: Callable[..., Any],
                                               engine: Engine) -> None:
    """`palier worker` adds PALIER_WORKER_NICE (default 10) to its CPU niceness; 0 keeps it."""
    own = os.getpriority(os.PRIO_PROCESS, 0)
    default, unchanged = workers(), workers(worker_nice=0)

    def registered() -> int:  # a worker registers after its niceness is set
        with engine.connect() as conn:
            found = conn.execute(text("SELECT count(*) FROM procrastinate_workers"))
            return int(found.scalar_one())

    wait_for(lambda: registered() == 2, "both workers registered")
    assert unchanged.poll() is None and default.poll() is None
    assert os.getpriority(os.PRIO_PROCESS, default.pid) == min(own + 10, 19)
    assert os.getpriority(os.PRIO_PROCESS, unchanged.pid) == own


@pg_only
def test_a_worker_leading_its_session_lowers_the_session_too(
        workers: Callable[..., Any], engine: Engine) -> None:
    """Started as systemd starts a service (its own session), the worker also sets its
    session's niceness where the kernel shares the CPU by session (autogroup); started from
    this test's session, it leaves that session's niceness alone."""
    ours = Path("/proc/self/autogroup")
    before = ours.read_text() if ours.exists() else None
    alone, shared = workers(own_session=True), workers()
    wait_for(lambda: _registered(engine) == 2, "both workers registered")
    assert alone.poll() is None and shared.poll() is None
    assert os.getpriority(os.PRIO_PROCESS, alone.pid) == min(os.getpriority(
        os.PRIO_PROCESS, 0) + 10, 19)
    if before is None:  # a kernel without autogroups: niceness alone, nothing else to see
        return
    assert Path(f"/proc/{alone.pid}/autogroup").read_text().endswith(" nice 10\n")
    assert Path(f"/proc/{shared.pid}/autogroup").read_text() == before
    assert ours.read_text() == before


def _registered(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(text("SELECT count(*) FROM procrastinate_workers")).scalar_one())
