"""Autosave against a running server, with real threads: nothing is lost, nothing is
overwritten silently. Runs on SQLite and (when configured) PostgreSQL."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlmodel import Session

from app.db import make_engine
from app.permissions import Role
from tests.factories import DEFAULT_PASSWORD, make_structure, make_user
from tests.live import run_server

# Number questions of the real questionnaire (0-100 %) and free texts: each thread owns some.
OWNED = [
    ["part_professionnels_equipes", "part_pros_dui_quotidien"],
    ["part_dui_actifs", "part_identites_qualifiees"],
    ["part_sensibilises_cyber", "part_formes_dui"],
    ["commentaires", "dui_logiciel"],
]


def _value(qid: str, i: int) -> Any:
    return f"texte {i}" if qid in ("commentaires", "dui_logiciel") else i % 101


@pytest.fixture
def server(fresh_db_url: str, tmp_path: Path) -> Any:
    engine = make_engine(fresh_db_url)
    with Session(engine) as session:
        s = make_structure(session)
        emails = []
        for i in range(len(OWNED)):
            u = make_user(session, role=Role.director, structures=[s],
                          email=f"dir{i}@test.palier.fr")
            emails.append(u.email)
        finess = s.finess
    engine.dispose()
    with run_server(fresh_db_url, tmp_path) as live:
        url = live.url
        yield url, finess, emails


@contextmanager
def _client(url: str, email: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=url, timeout=30) as client:
        r = client.post("/api/v1/auth/token",
                        data={"username": email, "password": DEFAULT_PASSWORD})
        assert r.status_code == 200, r.text
        client.headers["Authorization"] = f"Bearer {r.json()['access_token']}"
        yield client


def test_sequential_saves_last_value_wins(server: Any) -> None:
    url, finess, emails = server
    with _client(url, emails[0]) as c:
        a = c.post(f"/api/v1/structures/{finess}/assessments").json()
        version = a["version"]
        for i in range(60):
            r = c.patch(f"/api/v1/assessments/{a['id']}/answers",
                        json={"version": version, "answers": {"capacite": i + 1}})
            assert r.status_code == 200, r.text
            assert r.json()["version"] == version + 1
            version = r.json()["version"]
        final = c.get(f"/api/v1/assessments/{a['id']}").json()
    assert final["answers"] == {"capacite": 60}
    assert final["version"] == 60


def test_concurrent_saves_of_different_questions_all_merge(server: Any) -> None:
    url, finess, emails = server
    with _client(url, emails[0]) as c:
        aid = c.post(f"/api/v1/structures/{finess}/assessments").json()["id"]
    rounds = 25
    failures: list[str] = []
    successes = [0] * len(OWNED)

    def worker(k: int) -> None:
        try:
            work(k)
        except Exception as exc:  # a dying thread must fail the test, not vanish
            failures.append(f"{k}: {exc!r}")

    def work(k: int) -> None:
        with _client(url, emails[k]) as c:
            version = 0
            for i in range(rounds):
                changes = {qid: _value(qid, i) for qid in OWNED[k]}
                r = c.patch(f"/api/v1/assessments/{aid}/answers",
                            json={"version": version, "answers": changes})
                if r.status_code != 200:
                    failures.append(f"{k}/{i}: {r.status_code} {r.text}")
                    return
                successes[k] += 1
                version = r.json()["version"]

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(len(OWNED))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert failures == []  # other threads' questions never conflict with mine
    with _client(url, emails[0]) as c:
        final = c.get(f"/api/v1/assessments/{aid}").json()
    expected = {qid: _value(qid, rounds - 1) for group in OWNED for qid in group}
    assert final["answers"] == expected
    assert final["version"] == rounds * len(OWNED)  # every save counted, none lost
    for k, group in enumerate(OWNED):
        for qid in group:
            assert final["answer_meta"][qid]["by"] is not None
        assert successes[k] == rounds


def test_concurrent_saves_of_the_same_question_never_overwrite_silently(server: Any) -> None:
    url, finess, emails = server
    with _client(url, emails[0]) as c:
        aid = c.post(f"/api/v1/structures/{finess}/assessments").json()["id"]
    lock = threading.Lock()
    accepted: list[tuple[int, int]] = []  # (new version, value)
    conflicts: list[dict[str, Any]] = []
    errors: list[str] = []

    def worker(k: int) -> None:
        try:
            work(k)
        except Exception as exc:  # a dying thread must fail the test, not vanish
            with lock:
                errors.append(f"{k}: {exc!r}")

    def work(k: int) -> None:
        with _client(url, emails[k]) as c:
            version = 0
            for i in range(15):
                value = 1000 * (k + 1) + i
                r = c.patch(f"/api/v1/assessments/{aid}/answers",
                            json={"version": version, "answers": {"capacite": value}})
                with lock:
                    if r.status_code == 200:
                        version = r.json()["version"]
                        accepted.append((version, value))
                    else:
                        assert r.status_code == 409, r.text
                        body = r.json()
                        conflicts.append(body)
                        version = body["version"]  # the client reloads, then goes on

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    with _client(url, emails[0]) as c:
        final = c.get(f"/api/v1/assessments/{aid}").json()
    # The stored value is the one of the save that produced the last version.
    last_version, last_value = max(accepted)
    assert final["answers"]["capacite"] == last_value
    assert final["version"] == last_version == len(accepted)
    for body in conflicts:
        (item,) = body["conflicts"]
        assert item["question"] == "capacite"
        assert item["theirs"] != item["yours"]
