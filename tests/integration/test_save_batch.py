"""The API autosaves sent together on PostgreSQL (app/assessments/save_batch.py): saves that
wait while others are at the database go as one statement, and each caller still gets the
answer of its own save: its row, a conflict (409) when a save of the same draft went first,
its own error. PostgreSQL only (the batcher is the event loop pool's); the app on a database
of its own, as in production."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlmodel import Session

from app.accounts.models import ApiToken, User
from app.accounts.tokens import new_token, token_hash
from app.assessments import autosave, autosave_known, save_batch
from app.db import close_event_loop_pool, event_loop_pool, opened_event_loop_pool
from app.permissions import Role
from tests.factories import make_assessment, make_structure, make_user
from tests.own_database import app_on_own_database


@pytest.fixture
def own(request: pytest.FixtureRequest, backend: str, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[TestClient, Session, str]]:
    """(client, session, url): the app on a PostgreSQL database of its own."""
    if backend != "postgresql":
        pytest.skip("the batcher is PostgreSQL's event loop pool's")
    url = request.getfixturevalue("fresh_db_url")
    autosave_known._known.clear()
    with app_on_own_database(url, tmp_path, monkeypatch) as (client, session, _settings):
        yield client, session, url
    autosave_known._known.clear()


def _token(session: Session, user: User) -> str:
    raw = new_token()
    now = datetime.now(UTC)
    session.add(ApiToken(token_hash=token_hash(raw), user_id=user.id or 0, scope="write",
                         created_at=now - timedelta(days=1), expires_at=now + timedelta(hours=1),
                         last_used_at=now - timedelta(seconds=5)))
    session.commit()
    return raw


def _drafts(session: Session, n: int) -> list[tuple[int, str]]:
    """n drafts (`capacite` 40, version 1), each of its own director: (id, token)."""
    out = []
    for _ in range(n):
        structure = make_structure(session)
        director = make_user(session, Role.director, [structure])
        draft = make_assessment(session, structure, answers={"capacite": 40}, by=director)
        out.append((draft.id or 0, _token(session, director)))
    return out


def _patch(client: TestClient, aid: int, token: str, version: int, value: int) -> Any:
    return client.patch(f"/api/v1/assessments/{aid}/answers",
                        content=json.dumps({"version": version, "answers": {"capacite": value}}),
                        headers={"Content-Type": "application/json",
                                 "Authorization": f"Bearer {token}"})


def _held_together(client: TestClient, saves: list[tuple[int, str, int, int]],
                   monkeypatch: pytest.MonkeyPatch) -> tuple[list[int], list[Any]]:
    """The saves (id, token, version, value) sent at once while the batcher is held busy,
    so that all wait; then let go. (sizes of the batch statements sent, responses)."""
    sizes: list[int] = []
    real = autosave.pg_rows

    async def spy(conn: Any, sql: str, params: dict[str, Any]) -> Any:
        sizes.append(len(params["i"]))
        return await real(conn, sql, params)

    monkeypatch.setattr(autosave, "pg_rows", spy)

    async def go() -> list[Any]:
        pool = opened_event_loop_pool(client.app.state)  # type: ignore[attr-defined]
        assert pool is not None
        held = save_batch.batcher(pool)
        held.in_flight += save_batch.IN_FLIGHT  # busy: every save waits
        transport = httpx.ASGITransport(app=client.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as ac:
            sent = [asyncio.ensure_future(ac.patch(
                f"/api/v1/assessments/{aid}/answers",
                content=json.dumps({"version": version, "answers": {"capacite": value}}),
                headers={"Content-Type": "application/json",
                         "Authorization": f"Bearer {token}"}))
                for aid, token, version, value in saves]
            for _ in range(2000):
                if len(held.waiting) == len(saves):
                    break
                await asyncio.sleep(0.005)
            assert len(held.waiting) == len(saves)
            held.in_flight -= save_batch.IN_FLIGHT
            held._start(pool)
            return list(await asyncio.gather(*sent))

    responses = client.portal.call(go)  # type: ignore[union-attr]
    return sizes, responses


def _answers(session: Session, ids: list[int]) -> list[tuple[int, dict[str, Any]]]:
    session.rollback()  # read past this transaction's snapshot
    rows = session.execute(text("SELECT id, version, answers FROM assessment "
                                "WHERE id = ANY(:ids) ORDER BY id"), {"ids": ids}).all()
    by_id = {r.id: (r.version, r.answers) for r in rows}
    return [by_id[i] for i in ids]


def test_waiting_saves_go_together_each_with_its_own_answer(
        own: tuple[TestClient, Session, str], monkeypatch: pytest.MonkeyPatch) -> None:
    client, session, _url = own
    drafts = _drafts(session, 6)
    for aid, token in drafts:  # first saves: the two-statement path, the reads remembered
        assert _patch(client, aid, token, 1, 41).status_code == 200
    monkeypatch.setattr(save_batch, "MAX_BATCH", 4)
    sizes, responses = _held_together(
        client, [(aid, token, 2, 50 + k) for k, (aid, token) in enumerate(drafts)], monkeypatch)
    # Two statements at once (IN_FLIGHT 2): the first four waiting, then the other two.
    assert sizes == [4, 2]
    assert [r.status_code for r in responses] == [200] * 6
    assert [(r.json()["version"], r.json()["answers"]) for r in responses] == [
        (3, {"capacite": 50}), (3, {"capacite": 51}), (3, {"capacite": 52}),
        (3, {"capacite": 53}), (3, {"capacite": 54}), (3, {"capacite": 55})]
    assert [r.json()["id"] for r in responses] == [aid for aid, _ in drafts]
    assert _answers(session, [aid for aid, _ in drafts]) == [
        (3, {"capacite": 50}), (3, {"capacite": 51}), (3, {"capacite": 52}),
        (3, {"capacite": 53}), (3, {"capacite": 54}), (3, {"capacite": 55})]
    meta = session.execute(text("SELECT answer_meta -> 'capacite' ->> 'revision' "
                                "FROM assessment WHERE id = :id"),
                           {"id": drafts[0][0]}).scalar_one()
    assert meta == "3"


def test_a_second_save_of_a_draft_waits_for_the_next_statement_and_conflicts(
        own: tuple[TestClient, Session, str], monkeypatch: pytest.MonkeyPatch) -> None:
    client, session, _url = own
    (a, ta), (b, tb), (c, tc) = _drafts(session, 3)
    for aid, token in ((a, ta), (b, tb), (c, tc)):
        assert _patch(client, aid, token, 1, 41).status_code == 200
    sizes, responses = _held_together(
        client, [(a, ta, 2, 61), (b, tb, 2, 70), (c, tc, 2, 80), (a, ta, 2, 62)], monkeypatch)
    # a's second save is not in the first statement; alone in the next, it finds version 3,
    # and the two-statement path answers the conflict.
    assert sizes == [3, 1]
    assert [r.status_code for r in responses] == [200, 200, 200, 409]
    conflict = responses[3].json()
    assert conflict["version"] == 3
    assert [(x["question"], x["theirs"], x["yours"]) for x in conflict["conflicts"]] == [
        ("capacite", 61, 62)]
    assert _answers(session, [a, b, c]) == [
        (3, {"capacite": 61}), (3, {"capacite": 70}), (3, {"capacite": 80})]


def test_a_batch_the_database_refuses_is_sent_again_one_save_at_a_time(
        own: tuple[TestClient, Session, str]) -> None:
    """One save's parameters PostgreSQL refuses (a NUL in the JSON, which no request can
    bring: the validation refuses control characters) fail that save alone."""
    client, session, url = own
    drafts = _drafts(session, 3)
    registry = client.app.state.registry  # type: ignore[attr-defined]

    async def go() -> list[Any]:
        state = SimpleNamespace()
        pool = await event_loop_pool(state, url, 4)
        try:
            params = []
            async with pool.connection() as conn:
                for aid, token in drafts:
                    hashed = token_hash(token)
                    changes = {"capacite": 45}
                    read = await autosave.pg_read(conn, autosave.pg_params(hashed, aid, changes))
                    decided = autosave_known.decide(registry, read, hashed, 1, changes)
                    assert decided
                    params.append(decided.params)
            params[1] = {**params[1], "changes": '{"capacite": "\\u0000"}'}
            held = save_batch.Batcher()
            held.in_flight = save_batch.IN_FLIGHT
            saves = [asyncio.ensure_future(held.save(pool, p)) for p in params]
            await asyncio.sleep(0)
            held.in_flight = 0
            held._start(pool)
            return list(await asyncio.gather(*saves, return_exceptions=True))
        finally:
            await close_event_loop_pool(state)

    first, refused, third = asyncio.run(go())
    assert (json.loads(first[0]), first[2]) == ({"capacite": 45}, "draft")
    assert "unsupported Unicode escape sequence" in str(refused)
    assert json.loads(third[0]) == {"capacite": 45}
    assert _answers(session, [aid for aid, _ in drafts]) == [
        (2, {"capacite": 45}), (1, {"capacite": 40}), (2, {"capacite": 45})]


def test_no_connection_fails_every_waiting_save() -> None:
    """A pool that gives no connection (closed here; in production all busy: PoolTimeout,
    a 503): each save waiting gets the error, none hangs."""
    from psycopg_pool import AsyncConnectionPool, PoolClosed

    async def go() -> list[Any]:
        pool: AsyncConnectionPool[Any] = AsyncConnectionPool("postgresql://nowhere", open=False)
        held = save_batch.Batcher()
        saves = [asyncio.ensure_future(held.save(pool, {"assessment_id": i}))
                 for i in (1, 2, 3)]
        return list(await asyncio.gather(*saves, return_exceptions=True))

    assert [type(e) for e in asyncio.run(go())] == [PoolClosed] * 3
