"""Crowds against a running server (real threads, real uvicorn, SQLite and PostgreSQL):
refusals are all audited, the login limit holds under concurrency, autosave under load
answers only 2xx/409/503 and loses nothing acknowledged, interrupted jobs end failed."""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import func
from sqlmodel import Session, col, select

from app.accounts.models import ApiToken, LoginAttempt, User
from app.accounts.tokens import new_token, token_hash
from app.audit import AuditEvent
from app.db import utcnow
from app.permissions import Role
from app.shortlists.models import ExportJob
from app.stale_jobs import INTERRUPTED
from app.structures.models import ImportJob
from tests.conftest import temporary_database
from tests.factories import DEFAULT_PASSWORD, make_structure, make_user
from tests.live import LiveServer, run_server

AUTOSAVERS = 20
SAVES_EACH = 5
FORBIDDEN = 200
LOGINS = 50
EMAIL_LIMIT = 5  # Settings.login_max_failures_per_email (default)


class Crowd:
    """The module's server and the accounts and jobs it was started with."""

    def __init__(self, live: LiveServer, ids: dict[str, Any]) -> None:
        self.live = live
        self.ids = ids

    def count(self, query: Any) -> int:
        with Session(self.live.engine) as session:
            return int(session.exec(query).one())


@pytest.fixture(scope="module")
def crowd(backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Crowd]:
    tmp = tmp_path_factory.mktemp("crowd")
    with temporary_database(backend, tmp, migrate=True) as url:
        from app.db import make_engine

        engine = make_engine(url)
        ids: dict[str, Any] = {}
        with Session(engine) as session:
            s = make_structure(session)
            director = make_user(session, Role.director, [s], email="refuse@test.palier.fr")
            ids["director"], ids["director_token"] = director.id, _api_token(session, director)
            ids["autosavers"] = []
            for _ in range(AUTOSAVERS):
                own = make_structure(session)
                user = make_user(session, Role.director, [own])
                ids["autosavers"].append((_api_token(session, user), own.finess))
            for name in ("api", "page"):
                make_user(session, Role.director, [s], email=f"cible-{name}@test.palier.fr")
            # Jobs a dead process left running, and one that is alive (fresh heartbeat).
            old = utcnow() - timedelta(hours=2)
            dead_export = ExportJob(kind="region_csv", params={"region": "84"},
                                    status="running", created_at=old, updated_at=old)
            live_export = ExportJob(kind="region_csv", params={"region": "84"},
                                    status="running")
            dead_import = ImportJob(filename="finess.csv", status="running", started_at=old,
                                    created_at=old)
            session.add_all([dead_export, live_export, dead_import])
            session.commit()
            ids["jobs"] = (dead_export.id, live_export.id, dead_import.id)
        engine.dispose()
        with run_server(url, tmp) as live:
            yield Crowd(live, ids)


def _together(n: int, work: Callable[[int], Any]) -> list[Any]:
    """Run work(0..n-1) in n threads released at the same time; their results (or the
    exception a thread died of)."""
    barrier = threading.Barrier(n)
    results: list[Any] = [None] * n

    def run(k: int) -> None:
        try:
            barrier.wait(timeout=30)
            results[k] = work(k)
        except Exception as exc:  # a dying thread must fail the test, not vanish
            results[k] = exc

    threads = [threading.Thread(target=run, args=(k,)) for k in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


def _api_token(session: Session, user: User) -> str:
    """A bearer token written directly (no password hashing: the crowd tests stay quick)."""
    assert user.id is not None
    raw = new_token()
    session.add(ApiToken(token_hash=token_hash(raw), user_id=user.id, created_at=utcnow(),
                         expires_at=utcnow() + timedelta(days=1)))
    session.commit()
    return raw


def test_jobs_left_running_by_a_dead_process_are_failed_at_start_up(crowd: Crowd) -> None:
    dead_export, live_export, dead_import = crowd.ids["jobs"]
    with Session(crowd.live.engine) as session:
        export = session.get(ExportJob, dead_export)
        imported = session.get(ImportJob, dead_import)
        alive = session.get(ExportJob, live_export)
        assert export is not None and imported is not None and alive is not None
        assert (export.status, export.error) == ("failed", INTERRUPTED)
        assert export.finished_at is not None
        assert (imported.status, imported.error) == ("failed", INTERRUPTED)
        assert alive.status == "running"  # its heartbeat is fresh: not touched


def test_200_concurrent_forbidden_requests_are_all_refused_and_audited(crowd: Crowd) -> None:
    url = crowd.live.url
    token = crowd.ids["director_token"]
    paths = ["/api/v1/shortlists/1", "/api/v1/shortlists/1/export.csv",
             "/admin/structures/import", "/admin/utilisateurs"]

    def refused(k: int) -> int:
        with httpx.Client(base_url=url, timeout=60,
                          headers={"Authorization": f"Bearer {token}"}) as client:
            return client.get(paths[k % len(paths)]).status_code

    statuses = _together(FORBIDDEN, refused)
    assert Counter(statuses) == {403: FORBIDDEN}, crowd.live.log_tail()
    denied = crowd.count(select(func.count()).select_from(AuditEvent).where(
        AuditEvent.action == "permission_denied",
        AuditEvent.user_id == crowd.ids["director"]))
    assert denied == FORBIDDEN


def _password_checks(crowd: Crowd, email: str) -> tuple[int, int]:
    """(password checks, attempts recorded) for an account: each checked password leaves
    one `login_failed` audit event with reason bad_password and one attempt row."""
    with Session(crowd.live.engine) as session:
        user = session.exec(select(User).where(User.email == email)).one()
        events = session.exec(select(AuditEvent).where(
            AuditEvent.action == "login_failed", col(AuditEvent.user_id) == user.id)).all()
        checks = sum(1 for e in events if e.details.get("reason") == "bad_password")
        rows = session.exec(select(func.count()).select_from(LoginAttempt).where(
            LoginAttempt.key == f"email:{token_hash(email)}")).one()
        return checks, int(rows)


def test_50_concurrent_token_requests_check_at_most_the_limit(crowd: Crowd) -> None:
    url = crowd.live.url
    email = "cible-api@test.palier.fr"

    def attempt(k: int) -> int:
        r = httpx.post(f"{url}/api/v1/auth/token",
                       data={"username": email, "password": f"faux-{k}"}, timeout=60)
        return r.status_code

    statuses = Counter(_together(LOGINS, attempt))
    assert statuses == {401: EMAIL_LIMIT, 429: LOGINS - EMAIL_LIMIT}, statuses
    assert _password_checks(crowd, email) == (EMAIL_LIMIT, EMAIL_LIMIT)
    # The right password is refused too now: the account is protected.
    r = httpx.post(f"{url}/api/v1/auth/token",
                   data={"username": email, "password": DEFAULT_PASSWORD}, timeout=30)
    assert r.status_code == 429


def test_50_concurrent_logins_on_the_page_check_at_most_the_limit(crowd: Crowd) -> None:
    url = crowd.live.url
    email = "cible-page@test.palier.fr"

    def attempt(k: int) -> int:
        with httpx.Client(base_url=url, timeout=60) as client:
            csrf = client.get("/session/csrf").json()["csrf_token"]
            r = client.post("/connexion", data={"email": email, "password": f"faux-{k}",
                                                "csrf_token": csrf})
            return r.status_code

    # The CSRF round trip comes first in every thread: the logins themselves still race.
    statuses = Counter(_together(LOGINS, attempt))
    assert statuses == {400: EMAIL_LIMIT, 429: LOGINS - EMAIL_LIMIT}, statuses
    assert _password_checks(crowd, email) == (EMAIL_LIMIT, EMAIL_LIMIT)


def test_20_concurrent_autosaving_clients_never_get_500_nor_lose_a_save(crowd: Crowd) -> None:
    url = crowd.live.url
    accounts = crowd.ids["autosavers"]
    tokens = [token for token, _ in accounts]

    def autosave(k: int) -> tuple[int, list[int], int, Any]:
        _, finess = accounts[k]
        statuses: list[int] = []
        with httpx.Client(base_url=url, timeout=60,
                          headers={"Authorization": f"Bearer {tokens[k]}"}) as client:

            def send(method: str, path: str, **kw: Any) -> httpx.Response:
                while True:  # what autosave.js does: retry a 503 after Retry-After
                    r = client.request(method, path, **kw)
                    statuses.append(r.status_code)
                    if r.status_code != 503:
                        return r
                    assert r.headers.get("Retry-After"), r.headers
                    time.sleep(0.2)

            a = send("POST", f"/api/v1/structures/{finess}/assessments")
            assert a.status_code in (200, 201), a.text
            aid, version = a.json()["id"], a.json()["version"]
            acknowledged, saved = None, 0
            for i in range(SAVES_EACH):
                value = 100 * k + i + 1
                r = send("PATCH", f"/api/v1/assessments/{aid}/answers",
                         json={"version": version, "answers": {"capacite": value}})
                if r.status_code == 200:
                    version = r.json()["version"]
                    acknowledged, saved = value, saved + 1
            final = send("GET", f"/api/v1/assessments/{aid}").json()
        return saved, statuses, version, (acknowledged, final)

    results = _together(AUTOSAVERS, autosave)
    errors = [r for r in results if isinstance(r, Exception)]
    assert errors == [], crowd.live.log_tail()
    for saved, statuses, version, (acknowledged, final) in results:
        assert set(statuses) <= {200, 201, 409, 503}, statuses  # never a 500
        assert final["answers"]["capacite"] == acknowledged  # the last acknowledged save
        assert final["version"] == version
        assert version == saved  # every acknowledged save counted
