"""Background jobs always end in a final state; interrupted ones are marked failed; lock
contention is recognised on both backends and answers 503 + Retry-After (SQLite, live lock)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlalchemy.exc import DBAPIError
from sqlmodel import Session, select

from app import stale_jobs
from app.config import Settings
from app.db import is_contention, make_engine, utcnow
from app.files import StoredFile
from app.permissions import Role
from app.questionnaires import Registry
from app.shortlists import jobs
from app.shortlists.models import ExportJob
from app.structures.models import ImportJob
from tests.conftest import TEST_SECRET_KEY, _clear_caches
from tests.factories import DEFAULT_PASSWORD, make_structure, make_user

ROOT = Path(__file__).resolve().parents[2]

FAIL_ON_DONE = {
    "sqlite": [
        "CREATE TRIGGER export_done_fails BEFORE UPDATE OF status ON export_job "
        "WHEN NEW.status = 'done' BEGIN SELECT RAISE(ABORT, 'disque plein (simulé)'); END",
    ],
    "postgresql": [
        "CREATE FUNCTION export_done_fails() RETURNS trigger AS $$ BEGIN "
        "IF NEW.status = 'done' THEN RAISE EXCEPTION 'disque plein (simulé)'; END IF; "
        "RETURN NEW; END $$ LANGUAGE plpgsql",
        "CREATE TRIGGER export_done_fails BEFORE UPDATE ON export_job FOR EACH ROW "
        "EXECUTE FUNCTION export_done_fails()",
    ],
}


@pytest.fixture
def fresh_engine(fresh_db_url: str) -> Iterator[Engine]:
    engine = make_engine(fresh_db_url)
    yield engine
    engine.dispose()


def _region_job(engine: Engine) -> int:
    with Session(engine) as session:
        ars = make_user(session, Role.ars, region="84")
        job = ExportJob(kind="region_csv", params={"region": "84", "sep": ","},
                        filename="evaluations-84.csv", created_by=ars.id)
        session.add(job)
        session.commit()
        assert job.id is not None
        return job.id


def _settings(url: str, tmp_path: Path) -> Settings:
    return Settings(env="test", secret_key=TEST_SECRET_KEY, database_url=url,
                    evidence_dir=tmp_path / "evidence")


def test_an_export_whose_final_commit_fails_ends_failed_not_running(
        backend: str, fresh_db_url: str, fresh_engine: Engine, tmp_path: Path) -> None:
    job_id = _region_job(fresh_engine)
    with fresh_engine.begin() as conn:
        for statement in FAIL_ON_DONE[backend]:
            conn.exec_driver_sql(statement)
    settings = _settings(fresh_db_url, tmp_path)
    registry = Registry.load(ROOT / "questionnaires")

    jobs.run(job_id, lambda: Session(fresh_engine), settings, registry)  # never raises

    with Session(fresh_engine) as session:
        job = session.get(ExportJob, job_id)
        assert job is not None
        assert job.status == "failed"
        assert job.error == "L’export a échoué."
        assert job.finished_at is not None and job.file_path is None
        assert session.exec(select(StoredFile)).all() == []  # no orphan file either


def test_the_same_export_without_the_failure_ends_done(
        fresh_db_url: str, fresh_engine: Engine, tmp_path: Path) -> None:
    job_id = _region_job(fresh_engine)
    settings = _settings(fresh_db_url, tmp_path)
    registry = Registry.load(ROOT / "questionnaires")
    jobs.run(job_id, lambda: Session(fresh_engine), settings, registry)
    with Session(fresh_engine) as session:
        job = session.get(ExportJob, job_id)
        assert job is not None and job.status == "done", job
        assert job.file_path == f"export/{job_id}.csv"
        blob = session.get(StoredFile, job.file_path)
        assert blob is not None and blob.content_type == "text/csv; charset=utf-8"
        assert blob.data.startswith("\ufeffFINESS".encode())


def test_stale_jobs_are_marked_failed_and_live_ones_left_alone(session: Session) -> None:
    now = utcnow()
    hour_ago, minute_ago = now - timedelta(hours=1), now - timedelta(minutes=1)

    def export(status: str, beat: datetime) -> ExportJob:
        return ExportJob(kind="region_csv", params={}, status=status, updated_at=beat)

    dead_running, dead_pending = export("running", hour_ago), export("pending", hour_ago)
    fresh, done, mine = export("running", minute_ago), export("done", hour_ago), \
        export("running", hour_ago)
    import_dead = ImportJob(filename="a.csv", status="running",
                            started_at=now - timedelta(hours=2))
    import_young = ImportJob(filename="b.csv", status="running",
                             started_at=now - timedelta(minutes=10))
    import_never_started = ImportJob(filename="c.csv", status="pending",
                                     created_at=now - timedelta(hours=2))
    rows = [dead_running, dead_pending, fresh, done, mine, import_dead, import_young,
            import_never_started]
    session.add_all(rows)
    session.commit()
    assert mine.id is not None

    with stale_jobs.active("export", mine.id):  # this process is running it
        assert stale_jobs.recover(session) == 4
    for row in rows:
        session.refresh(row)
    assert [(r.status, r.error) for r in rows] == [
        ("failed", stale_jobs.INTERRUPTED), ("failed", stale_jobs.INTERRUPTED),
        ("running", None), ("done", None), ("running", None),
        ("failed", stale_jobs.INTERRUPTED), ("running", None),
        ("failed", stale_jobs.INTERRUPTED),
    ]
    assert stale_jobs.recover(session) == 1  # `mine` once this process no longer runs it


def test_reading_an_interrupted_export_marks_it_failed(session: Session) -> None:
    user = make_user(session, Role.ars, region="84")
    assert user.id is not None
    job = ExportJob(kind="region_csv", params={}, status="running", created_by=user.id,
                    updated_at=utcnow() - timedelta(hours=1))
    session.add(job)
    session.commit()
    assert job.id is not None
    assert jobs.get(session, user.id, job.id).status == "failed"
    session.expire_all()
    stored = session.get(ExportJob, job.id)
    assert stored is not None and (stored.status, stored.error) == (
        "failed", stale_jobs.INTERRUPTED)


# --- contention ---------------------------------------------------------------------------


def test_lock_contention_is_recognised_on_both_backends(
        backend: str, fresh_engine: Engine) -> None:
    with Session(fresh_engine) as s:
        make_user(s, Role.admin, email="verrou@test.palier.fr")
    holder = fresh_engine.connect()
    waiter = fresh_engine.connect()
    try:
        if backend == "sqlite":
            holder.exec_driver_sql("UPDATE user_account SET name = 'x'")  # holds the lock
            waiter.exec_driver_sql("PRAGMA busy_timeout = 0")
            with pytest.raises(DBAPIError) as caught:
                waiter.exec_driver_sql("UPDATE user_account SET name = 'y'")
        else:
            holder.exec_driver_sql("UPDATE user_account SET name = 'x'")
            waiter.exec_driver_sql("SET lock_timeout = '50ms'")
            with pytest.raises(DBAPIError) as caught:
                waiter.exec_driver_sql("UPDATE user_account SET name = 'y'")
        assert is_contention(caught.value)
        waiter.rollback()
        with pytest.raises(DBAPIError) as other:
            waiter.exec_driver_sql("SELECT * FROM no_such_table")
        assert not is_contention(other.value)  # a bug stays a bug (500)
    finally:
        waiter.rollback()
        holder.rollback()
        waiter.close()
        holder.close()


@pytest.fixture
def live_app(fresh_db_url: str, tmp_path: Path,
             monkeypatch: pytest.MonkeyPatch) -> Iterator[TestClient]:
    """The app on its own database through its real engines (no session override)."""
    from app.main import create_app

    monkeypatch.setenv("PALIER_DATABASE_URL", fresh_db_url)
    monkeypatch.setenv("PALIER_EVIDENCE_DIR", str(tmp_path / "evidence"))
    monkeypatch.setenv("PALIER_SECRET_KEY", TEST_SECRET_KEY)
    monkeypatch.setenv("PALIER_ENV", "test")
    _clear_caches()
    try:
        with TestClient(create_app()) as client:
            yield client
    finally:
        _clear_caches()


def test_a_save_that_cannot_get_the_write_lock_answers_503_with_retry_after(
        backend: str, fresh_engine: Engine, live_app: TestClient) -> None:
    if backend != "sqlite":
        pytest.skip("PostgreSQL writers wait on row locks, they do not fail")
    with Session(fresh_engine) as s:
        structure = make_structure(s)
        director = make_user(s, Role.director, [structure])
        email, finess = director.email, structure.finess
    token = live_app.post("/api/v1/auth/token", data={"username": email,
                                                      "password": DEFAULT_PASSWORD})
    headers = {"Authorization": f"Bearer {token.json()['access_token']}"}
    draft = live_app.post(f"/api/v1/structures/{finess}/assessments", headers=headers).json()
    holder = fresh_engine.connect()
    try:
        holder.exec_driver_sql("UPDATE user_account SET name = name")  # the write lock
        r = live_app.patch(f"/api/v1/assessments/{draft['id']}/answers", headers=headers,
                           json={"version": draft["version"], "answers": {"capacite": 12}})
    finally:
        holder.rollback()
        holder.close()
    assert r.status_code == 503
    assert r.headers["Retry-After"] == "2"
    assert "réessayez" in r.json()["detail"]
    # Nothing was half-written: the same save goes through once the lock is free.
    r = live_app.patch(f"/api/v1/assessments/{draft['id']}/answers", headers=headers,
                       json={"version": draft["version"], "answers": {"capacite": 12}})
    assert r.status_code == 200 and r.json()["answers"] == {"capacite": 12}
