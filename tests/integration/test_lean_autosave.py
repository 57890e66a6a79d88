"""The lean autosave of the API (issue 14): `PATCH /api/v1/assessments/{id}/answers` runs
outside the app-wide load_user (app/routes/api.py `lean_router`), so it must answer every
caller as load_user and current_actor would. The tables below are written by hand."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from app.accounts.models import ApiToken, User
from app.accounts.tokens import new_token, token_hash
from app.assessments.autosave import splice_documents
from app.assessments.models import Assessment
from app.config import Settings
from app.db import utcnow
from app.permissions import Role
from app.web.auth_deps import CSRF_FAILED, READ_ONLY_TOKEN
from tests.auth_helpers import csrf_headers, log_in
from tests.factories import make_assessment, make_structure, make_user
from tests.own_database import app_on_own_database

INVALID = "Jeton d’accès invalide, expiré ou révoqué."
LOGIN = "Authentification requise."
MISSING = "Évaluation introuvable."


@pytest.fixture(params=["test-session", "own-database"])
def lean(request: pytest.FixtureRequest, backend: str, tmp_path: Path,
         monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[TestClient, Session, Settings]]:
    """(client, session, settings): the app on the test's rolled-back session (get_session
    overridden: the route works on it in one threadpool call), or on a database of its own
    as in production (no override: on PostgreSQL the route works from the event loop on its
    own connections, app/assessments/autosave.py `pg_save`)."""
    if request.param == "test-session":
        yield (request.getfixturevalue("app_client"), request.getfixturevalue("session"),
               request.getfixturevalue("settings"))
        return
    with app_on_own_database(request.getfixturevalue("fresh_db_url"), tmp_path,
                             monkeypatch) as own:
        yield own


@pytest.fixture
def world(lean: tuple[TestClient, Session, Settings]) -> dict[str, Any]:
    client, session, settings = lean
    mine, other = make_structure(session), make_structure(session)
    director = make_user(session, Role.director, [mine])
    stranger = make_user(session, Role.director, [other])
    draft = make_assessment(session, mine, answers={"capacite": 40}, by=director)
    return {"director": director, "stranger": stranger, "draft": draft,
            "done": make_assessment(session, other, "submitted", by=stranger),
            "client": client, "session": session, "settings": settings,
            "event_loop": session.get_bind().dialect.name == "postgresql"
            and not client.app.dependency_overrides}  # type: ignore[attr-defined]


def _token(session: Session, user: User, *, scope: str = "write",
           expires_in: timedelta = timedelta(hours=1), revoked: bool = False,
           last_used: timedelta | None = timedelta(seconds=5)) -> tuple[str, ApiToken]:
    raw, now = new_token(), utcnow()
    row = ApiToken(token_hash=token_hash(raw), user_id=user.id or 0, scope=scope,
                   created_at=now - timedelta(days=1), expires_at=now + expires_in,
                   revoked_at=now - timedelta(minutes=1) if revoked else None,
                   last_used_at=None if last_used is None else now - last_used)
    session.add(row)
    session.commit()
    return raw, row


def _patch(client: TestClient, aid: int | None, headers: dict[str, str],
           answers: dict[str, Any] | None = None, version: int = 1) -> Any:
    return client.patch(f"/api/v1/assessments/{aid}/answers", headers=headers,
                        json={"version": version, "answers": answers or {"capacite": 41}})


# token state -> (status, detail, WWW-Authenticate)
TOKEN_STATES: list[tuple[str, dict[str, Any], int, str | None, str | None]] = [
    ("valid read-write", {}, 200, None, None),
    ("expired", {"expires_in": timedelta(seconds=-1)}, 401, INVALID,
     'Bearer error="invalid_token"'),
    ("revoked", {"revoked": True}, 401, INVALID, 'Bearer error="invalid_token"'),
    ("read-only", {"scope": "read"}, 403, READ_ONLY_TOKEN, None),
    ("never used", {"last_used": None}, 200, None, None),
]


@pytest.mark.parametrize(("state", "kw", "status", "detail", "challenge"), TOKEN_STATES,
                         ids=[t[0] for t in TOKEN_STATES])
def test_token_states(world: dict[str, Any], state: str, kw: dict[str, Any], status: int,
                      detail: str | None, challenge: str | None) -> None:
    app_client, session = world["client"], world["session"]
    raw, _ = _token(session, world["director"], **kw)
    r = _patch(app_client, world["draft"].id, {"Authorization": f"Bearer {raw}"})
    assert r.status_code == status, r.text
    if detail is not None:
        assert r.json() == {"detail": detail}
    assert r.headers.get("www-authenticate") == challenge
    aid = world["draft"].id
    session.rollback()  # a database of its own: read past the snapshot of this transaction
    saved = session.get(Assessment, aid)
    assert saved is not None
    assert saved.answers == ({"capacite": 41} if status == 200 else {"capacite": 40})


def test_unknown_token_inactive_user_and_no_credentials(world: dict[str, Any]) -> None:
    app_client, session = world["client"], world["session"]
    aid = world["draft"].id
    r = _patch(app_client, aid, {"Authorization": f"Bearer {new_token()}"})
    assert (r.status_code, r.json()["detail"]) == (401, INVALID)
    assert r.headers["www-authenticate"] == 'Bearer error="invalid_token"'
    raw, _ = _token(session, world["director"])
    world["director"].active = False
    session.add(world["director"])
    session.commit()
    r = _patch(app_client, aid, {"Authorization": f"Bearer {raw}"})
    assert (r.status_code, r.json()["detail"]) == (401, INVALID)
    for headers in ({}, {"Authorization": "Bearer "}, {"Authorization": "Basic abc"}):
        r = _patch(app_client, aid, headers)
        assert (r.status_code, r.json()["detail"]) == (401, LOGIN), headers
        assert r.headers["www-authenticate"] == "Bearer"
        assert "cache-control" not in r.headers


def test_last_used_at_is_written_at_most_once_a_minute(world: dict[str, Any]) -> None:
    app_client, session = world["client"], world["session"]
    for last_used, touched in ((None, True), (timedelta(seconds=30), False),
                               (timedelta(minutes=2), True)):
        raw, row = _token(session, world["director"], last_used=last_used)
        before = row.last_used_at
        started = utcnow()
        r = _patch(app_client, world["draft"].id, {"Authorization": f"Bearer {raw}"},
                   answers={"capacite": 50}, version=10**6)  # no conflict: same value wins
        assert r.status_code in (200, 409), r.text
        session.rollback()  # as above
        session.refresh(row)
        if touched:
            assert row.last_used_at is not None and row.last_used_at >= started
        else:
            assert row.last_used_at == before


def test_scope_and_state_of_the_assessment(world: dict[str, Any]) -> None:
    app_client, session = world["client"], world["session"]
    raw, _ = _token(session, world["director"])
    auth = {"Authorization": f"Bearer {raw}"}
    for aid in (world["done"].id, 10**9):  # another director's structure, no such row
        r = _patch(app_client, aid, auth)
        assert (r.status_code, r.json()) == (404, {"detail": MISSING})
        assert r.headers["cache-control"] == "no-store"  # authenticated: personal
    theirs, _ = _token(session, world["stranger"])
    r = _patch(app_client, world["done"].id, {"Authorization": f"Bearer {theirs}"})
    assert r.status_code == 409
    assert r.json() == {"detail": "Cette évaluation a été transmise : elle ne peut plus "
                                  "être modifiée."}
    r = _patch(app_client, world["draft"].id, auth, answers={"capacite": "beaucoup"})
    assert r.status_code == 422
    assert r.json()["errors"][0]["question"] == "capacite"


def test_response_is_what_the_assessment_reads(world: dict[str, Any]) -> None:
    app_client, session = world["client"], world["session"]
    raw, _ = _token(session, world["director"])
    auth = {"Authorization": f"Bearer {raw}"}
    aid = world["draft"].id
    r = _patch(app_client, aid, auth, answers={"capacite": None, "effectif_etp": 12.5})
    assert r.status_code == 200, r.text
    assert r.headers["cache-control"] == "no-store"
    assert r.headers["content-type"] == "application/json"
    body = r.json()
    assert body == app_client.get(f"/api/v1/assessments/{aid}", headers=auth).json()
    # PostgreSQL without a test session: the save ran on the app's asyncio pool.
    pool = getattr(app_client.app.state, "palier_pg_pool", None)  # type: ignore[attr-defined]
    assert (pool is not None) is world["event_loop"]
    assert body["answers"] == {"effectif_etp": 12.5}
    assert body["version"] == 2
    assert set(body["answer_meta"]) == {"capacite", "effectif_etp"}
    assert body["answer_meta"]["effectif_etp"]["revision"] == 2
    assert body["answer_meta"]["effectif_etp"]["by"] == world["director"].id
    # A stale version on the question just saved, with another value: conflict, nothing written.
    r = _patch(app_client, aid, auth, answers={"effectif_etp": 13}, version=1)
    assert r.status_code == 409
    assert r.json()["version"] == 2
    assert [(c["question"], c["theirs"], c["yours"]) for c in r.json()["conflicts"]] == [
        ("effectif_etp", 12.5, 13)]


def test_session_cookie_needs_the_csrf_token(world: dict[str, Any]) -> None:
    app_client, session = world["client"], world["session"]
    csrf = log_in(app_client, session, world["settings"], world["director"])
    r = _patch(app_client, world["draft"].id, {})
    assert (r.status_code, r.json()) == (403, {"detail": CSRF_FAILED})
    r = _patch(app_client, world["draft"].id, csrf_headers(csrf))
    assert r.status_code == 200, r.text
    assert r.json()["answers"] == {"capacite": 41}
    assert r.headers["cache-control"] == "no-store"


def test_splice_documents() -> None:
    serialised = '{"id":1,"answers":{},"answer_meta":{},"tier":null}'
    assert splice_documents(serialised, '{"a": 1}', '{"a": {"by": 2}}') == (
        '{"id":1,"answers":{"a": 1},"answer_meta":{"a": {"by": 2}},"tier":null}')


def test_event_loop_pool_takes_its_size_from_the_setting(
        backend: str, fresh_db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """On PostgreSQL the autosave's connections come from a pool of PALIER_EVENT_LOOP_POOL_SIZE;
    on SQLite there is no such pool."""
    from app.db import opened_event_loop_pool

    monkeypatch.setenv("PALIER_EVENT_LOOP_POOL_SIZE", "3")
    with app_on_own_database(fresh_db_url, tmp_path, monkeypatch) as (client, session, _):
        mine = make_structure(session)
        director = make_user(session, Role.director, [mine])
        draft = make_assessment(session, mine, answers={"capacite": 40}, by=director)
        raw, _ = _token(session, director)
        r = _patch(client, draft.id, {"Authorization": f"Bearer {raw}"})
        assert r.status_code == 200, r.text
        assert r.json()["answers"]["capacite"] == 41
        pool = opened_event_loop_pool(client.app.state)
        if backend == "postgresql":
            assert pool is not None
            assert pool.max_size == 3
        else:
            assert pool is None
