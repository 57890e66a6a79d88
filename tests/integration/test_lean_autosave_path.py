"""The lean path of the API autosave (app/routes/api_autosave.py) answers as its FastAPI route
(app/routes/api.py `save`) would: each request is sent twice, once served by the lean path,
once with the lean path declining (the body replayed to the route), and both answers must be
the same bytes and headers (the request id aside), and the values written below by hand. On
PostgreSQL with the app on a database of its own, the save of a token and draft seen before
is one guarded statement (app/assessments/autosave_known.py): its answer is the same as the
two-statement path's; a guard that no longer holds (token revoked, user deactivated, link
removed, draft saved since) sends the request to that path. Run on SQLite and, with
PALIER_TEST_DATABASE_URL, on PostgreSQL."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlmodel import Session

from app.accounts.models import ApiToken, DirectorStructure, User
from app.accounts.tokens import new_token, token_hash
from app.assessments import answers_merge, autosave, autosave_known, token_autosave
from app.assessments.models import Assessment
from app.permissions import Role
from app.routes import api_autosave
from app.web.observability import REQUESTS
from tests.factories import make_assessment, make_structure, make_user
from tests.lean_spy import declining, gave
from tests.own_database import app_on_own_database

NOW = datetime(2026, 12, 3, 10, 0, 0, 123456, tzinfo=UTC)
CREATED = datetime(2026, 11, 30, 8, 30, tzinfo=UTC)
QID, QV = "esms-maturite-numerique", "2026.2"
PATH = "/api/v1/assessments/{assessment_id}/answers"

INVALID = {"detail": "Jeton d’accès invalide, expiré ou révoqué."}
READ_ONLY = {"detail": "Ce jeton d’accès personnel est en lecture seule : il ne permet pas de "
                       "modifier des données. Créez un jeton « lecture et écriture » sur la page "
                       "Sécurité du compte (/compte/securite)."}
MISSING = {"detail": "Évaluation introuvable."}
HIDDEN = {"detail": "Cette évaluation est en cours : ses réponses restent celles du directeur "
                    "jusqu’à sa transmission."}
FORBIDDEN = {"detail": "Vous n'avez pas le droit d'effectuer cette action."}
SUBMITTED = {"detail": "Cette évaluation a été transmise : elle ne peut plus être modifiée."}
CHALLENGE = 'Bearer error="invalid_token"'


@pytest.fixture(params=["test-session", "own-database"])
def client_session(request: pytest.FixtureRequest, backend: str, tmp_path: Path,
                   monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[TestClient, Session]]:
    """The app on the test's session (get_session overridden), or on a database of its own
    as in production (PostgreSQL: the event loop's pool and its one-statement save)."""
    for module in (token_autosave, autosave_known, autosave, answers_merge):
        monkeypatch.setattr(module, "utcnow", lambda: NOW)
    autosave_known._known.clear()
    if request.param == "test-session":
        yield request.getfixturevalue("app_client"), request.getfixturevalue("session")
    else:
        with app_on_own_database(request.getfixturevalue("fresh_db_url"), tmp_path,
                                 monkeypatch) as (client, session, _settings):
            yield client, session
    autosave_known._known.clear()


@pytest.fixture
def world(client_session: tuple[TestClient, Session]) -> dict[str, Any]:
    client, session = client_session
    mine, other = make_structure(session), make_structure(session)
    director = make_user(session, Role.director, [mine])
    stranger = make_user(session, Role.director, [other])
    ars = make_user(session, Role.ars, region=mine.region)
    admin = make_user(session, Role.admin)
    draft = make_assessment(session, mine, answers={"capacite": 40}, by=director)
    done = make_assessment(session, mine, "submitted", by=director)
    draft.created_at = draft.updated_at = CREATED
    session.add(draft)
    session.commit()
    return {"client": client, "session": session, "mine": mine, "director": director,
            "stranger": stranger, "ars": ars, "admin": admin, "draft": draft, "done": done,
            "pool": session.get_bind().dialect.name == "postgresql"
            and not client.app.dependency_overrides}  # type: ignore[attr-defined]


def _token(session: Session, user: User, **kw: Any) -> str:
    raw = new_token()
    row = ApiToken(token_hash=token_hash(raw), user_id=user.id or 0,
                   scope=kw.get("scope", "write"), created_at=NOW - timedelta(days=1),
                   expires_at=NOW + kw.get("expires_in", timedelta(hours=1)),
                   revoked_at=NOW - timedelta(minutes=1) if kw.get("revoked") else None,
                   last_used_at=NOW - timedelta(seconds=5))
    session.add(row)
    session.commit()
    return raw


def _send(client: TestClient, aid: Any, token: str | None, content: bytes,
          content_type: str = "application/json") -> Any:
    headers = {"Content-Type": content_type}
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    return client.patch(f"/api/v1/assessments/{aid}/answers", content=content,
                        headers=headers)


def _headers(r: Any) -> dict[str, str]:
    return {k: v for k, v in r.headers.items() if k != "x-request-id"}


def _reset(w: dict[str, Any]) -> None:
    """The draft as the world made it (a save is sent twice)."""
    session = w["session"]
    session.rollback()  # a database of its own: read past this transaction's snapshot
    session.execute(text(
        "UPDATE assessment SET answers = :a, answer_meta = :m, version = 1 WHERE id = :id"),
        {"a": '{"capacite": 40}', "id": w["draft"].id,
         "m": json.dumps({"capacite": {"by": w["director"].id,
                                       "at": "2026-12-01T00:00:00+00:00", "revision": 1}})})
    session.commit()


def _both(w: dict[str, Any], monkeypatch: pytest.MonkeyPatch, aid: Any, token: str | None,
          content: bytes, *, served: bool, content_type: str = "application/json",
          reset: bool = False) -> Any:
    """The request by the lean path, then by the route (lean path declining); `served`:
    whether the lean path answered the first. Both answers the same; returns the first."""
    with gave(monkeypatch, api_autosave, "_parsed") as parsed:
        first = _send(w["client"], aid, token, content, content_type)
    if reset:
        _reset(w)
    with declining(monkeypatch, api_autosave, "_parsed"):
        second = _send(w["client"], aid, token, content, content_type)
    assert (parsed == [True]) is served, parsed
    assert first.status_code == second.status_code
    assert first.content == second.content
    assert _headers(first) == _headers(second)
    return first


def _saved(w: dict[str, Any], version: int, answers: dict[str, Any],
           meta: dict[str, Any]) -> dict[str, Any]:
    return {"id": w["draft"].id, "finess": w["mine"].finess, "status": "draft",
            "version": version, "questionnaire": {"id": QID, "version": QV},
            "answers": answers, "answer_meta": meta,
            "created_at": "2026-11-30T08:30:00Z", "updated_at": "2026-12-03T10:00:00.123456Z",
            "submitted_at": None, "tier": None, "tier_level": None, "global_score": None}


def test_success_the_same_by_both_paths(world: dict[str, Any],
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    w = world
    token = _token(w["session"], w["director"])
    body = b'{"version": 1, "answers": {"capacite": 41, "effectif_etp": 12.5}}'
    r = _both(w, monkeypatch, w["draft"].id, token, body, served=True, reset=True)
    assert r.status_code == 200
    entry = {"by": w["director"].id, "at": "2026-12-03T10:00:00.123456+00:00", "revision": 2}
    assert r.json() == _saved(w, 2, {"capacite": 41, "effectif_etp": 12.5},
                              {"capacite": entry, "effectif_etp": entry})
    assert r.headers["content-type"] == "application/json"
    assert r.headers["cache-control"] == "no-store"
    assert "content-security-policy" in r.headers and r.headers["x-request-id"]
    # Again (the route's save was the last): seen before, one statement on PostgreSQL's pool.
    _reset(w)
    calls: list[bool] = []
    real = autosave_known.save

    async def spy(*args: Any) -> Any:  # a coroutine function: `gave` would see the coroutine
        out = await real(*args)
        calls.append(out is not None)
        return out

    monkeypatch.setattr(autosave_known, "save", spy)
    again = _send(w["client"], w["draft"].id, token, body)
    assert calls == ([True] if w["pool"] else [])
    assert again.content == r.content and _headers(again) == _headers(r)
    # A removal (null) and the version the save returned.
    removed = _send(w["client"], w["draft"].id, token,
                    b'{"version": 2, "answers": {"effectif_etp": null}}')
    assert calls == ([True, True] if w["pool"] else [])
    entry3 = {**entry, "revision": 3}
    assert removed.json() == {**_saved(w, 3, {"capacite": 41},
                                       {"capacite": entry, "effectif_etp": entry3})}


def test_refusals_the_same_by_both_paths(world: dict[str, Any],
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    w, session = world, world["session"]
    aid = w["draft"].id
    ok = b'{"version": 1, "answers": {"capacite": 41}}'
    director = _token(session, w["director"])
    cases: list[tuple[Any, str | None, bytes, int, dict[str, Any]]] = [
        (aid, director, b'{"version": 0, "answers": {"capacite": 39}}', 409, {
            "detail": "Cette réponse a été modifiée entre-temps (autre onglet ou autre "
                      "personne) : rien n'a été écrasé.", "version": 1,
            "conflicts": [{"question": "capacite", "theirs": 40, "yours": 39,
                           "by": w["director"].id, "at": "2026-12-01T00:00:00+00:00"}]}),
        (aid, director, b'{"version": 1, "answers": {"capacite": "beaucoup"}}', 422, {
            "detail": "Certaines réponses sont invalides.",
            "errors": [{"question": "capacite", "value": "beaucoup",
                        "message": "un nombre est attendu"}]}),
        (aid, new_token(), ok, 401, INVALID),
        (aid, _token(session, w["director"], expires_in=timedelta(seconds=-1)), ok, 401,
         INVALID),
        (aid, _token(session, w["director"], revoked=True), ok, 401, INVALID),
        (aid, _token(session, w["director"], scope="read"), ok, 403, READ_ONLY),
        (aid, _token(session, w["stranger"]), ok, 404, MISSING),
        (10**9, director, ok, 404, MISSING),
        (aid, _token(session, w["ars"]), ok, 403, HIDDEN),
        (aid, _token(session, w["admin"]), ok, 403, FORBIDDEN),
        (w["done"].id, director, ok, 409, SUBMITTED),
    ]
    _reset(w)  # the meta's `at` a known value
    for target, token, body, status, expected in cases:
        r = _both(w, monkeypatch, target, token, body, served=True)
        assert (r.status_code, r.json()) == (status, expected), (token, body)
        assert r.headers.get("www-authenticate") == (CHALLENGE if status == 401 else None)
        # Once the caller is known (not for 401 and the read-only 403), a personal answer.
        personal = status not in (401,) and expected is not READ_ONLY
        assert (r.headers.get("cache-control") == "no-store") is personal, expected
    session.rollback()
    assert session.get(Assessment, aid).answers == {"capacite": 40}  # type: ignore[union-attr]


def test_inactive_user(world: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    w, session = world, world["session"]
    token = _token(session, w["director"])
    w["director"].active = False
    session.add(w["director"])
    session.commit()
    r = _both(w, monkeypatch, w["draft"].id, token,
              b'{"version": 1, "answers": {"capacite": 41}}', served=True)
    assert (r.status_code, r.json()) == (401, INVALID)
    assert r.headers["www-authenticate"] == CHALLENGE


BAD_BODIES: list[tuple[str, bytes, str, dict[str, Any]]] = [
    ("malformed JSON", b'{"version": 1, "answers": ', "application/json", {"detail": [{
        "type": "json_invalid", "loc": ["body", 26], "msg": "JSON decode error",
        "input": {}, "ctx": {"error": "Expecting value"}}]}),
    ("no version", b'{"answers": {}}', "application/json", {"detail": [{
        "type": "missing", "loc": ["body", "version"], "msg": "Field required",
        "input": {"answers": {}}}]}),
    ("version as text", b'{"version": "1", "answers": {}}', "application/json", {"detail": [{
        "type": "int_type", "loc": ["body", "version"], "msg": "Input should be a valid "
        "integer", "input": "1"}]}),
    ("wrong content type", b'{"version": 1, "answers": {}}', "text/plain", {"detail": [{
        "type": "model_attributes_type", "loc": ["body"], "msg": "Input should be a valid "
        "dictionary or object to extract fields from",
        "input": '{"version": 1, "answers": {}}'}]}),
]


@pytest.mark.parametrize(("case", "body", "content_type", "expected"), BAD_BODIES,
                         ids=[c[0] for c in BAD_BODIES])
def test_bodies_the_route_refuses(world: dict[str, Any], monkeypatch: pytest.MonkeyPatch,
                                  case: str, body: bytes, content_type: str,
                                  expected: dict[str, Any]) -> None:
    """The lean path never answers these: the route's 422, as always."""
    token = _token(world["session"], world["director"])
    r = _both(world, monkeypatch, world["draft"].id, token, body, served=False,
              content_type=content_type)
    assert (r.status_code, r.json()) == (422, expected)


def test_other_callers_go_to_the_route(world: dict[str, Any],
                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """No credentials, a non-canonical id: the route answers (401; FastAPI's 422)."""
    w = world
    body = b'{"version": 1, "answers": {"capacite": 41}}'
    r = _both(w, monkeypatch, w["draft"].id, None, body, served=False)
    assert (r.status_code, r.json()) == (401, {"detail": "Authentification requise."})
    token = _token(w["session"], w["director"])
    r = _both(w, monkeypatch, "0", token, body, served=False)
    assert r.status_code == 422
    assert r.json()["detail"][0]["loc"] == ["path", "assessment_id"]
    assert w["client"].get(f"/api/v1/assessments/{w['draft'].id}/answers").status_code == 405


def test_metrics_count_the_lean_path_under_the_route(world: dict[str, Any]) -> None:
    w = world
    token = _token(w["session"], w["director"])
    counter = REQUESTS.labels("PATCH", PATH, "200")
    before = counter._value.get()
    r = _send(w["client"], w["draft"].id, token, b'{"version": 1, "answers": {"capacite": 41}}')
    assert r.status_code == 200
    assert counter._value.get() == before + 1


def test_a_guard_that_no_longer_holds_takes_the_two_statement_path(
        world: dict[str, Any]) -> None:
    """PostgreSQL's one-statement save, after a first save remembered the read: any change
    to what the decision read since then is seen (nothing written by the guarded UPDATE)."""
    w, session = world, world["session"]
    if not w["pool"]:
        pytest.skip("the one-statement save is the PostgreSQL pool's")
    client, aid = w["client"], w["draft"].id
    token = _token(session, w["director"])

    def save(version: int, value: int) -> Any:
        return _send(client, aid, token,
                     b'{"version": %d, "answers": {"capacite": %d}}' % (version, value))

    assert save(1, 41).status_code == 200  # remembered
    # The draft saved since (by another tab): the stale version conflicts as before.
    r = save(1, 42)
    assert (r.status_code, r.json()["version"]) == (409, 2)
    # The link to the structure removed: out of scope.
    session.rollback()
    link = {"u": w["director"].id, "s": w["mine"].id}
    session.execute(text("DELETE FROM director_structure WHERE user_id = :u "
                         "AND structure_id = :s"), link)
    session.commit()
    r = save(2, 43)
    assert (r.status_code, r.json()) == (404, MISSING)
    session.add(DirectorStructure(user_id=link["u"], structure_id=link["s"]))
    session.commit()
    assert save(2, 44).status_code == 200  # remembered again
    # The token's use due to be recorded (last recorded 2 minutes ago): recorded.
    hashed = {"h": token_hash(token), "t": NOW - timedelta(minutes=2)}
    session.execute(text("UPDATE api_token SET last_used_at = :t WHERE token_hash = :h"),
                    hashed)
    session.commit()
    assert save(3, 45).status_code == 200
    assert session.execute(text("SELECT last_used_at FROM api_token WHERE token_hash = :h"),
                           hashed).scalar_one() == NOW
    session.commit()
    # The token revoked.
    session.execute(text("UPDATE api_token SET revoked_at = now() WHERE token_hash = :h"),
                    hashed)
    session.commit()
    r = save(4, 46)
    assert (r.status_code, r.json()) == (401, INVALID)
    session.rollback()
    assert session.get(Assessment, aid).answers == {"capacite": 45}  # type: ignore[union-attr]


def test_the_cache_of_reads_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(autosave_known, "CACHE_SIZE", 2)
    monkeypatch.setattr(autosave_known, "_known", type(autosave_known._known)())
    for aid in (1, 2, 1, 3):  # 1 used again: 2 is the least recent
        autosave_known.remember("h", aid, f"read {aid}")
    assert [autosave_known.lookup("h", aid) for aid in (1, 2, 3)] == ["read 1", None, "read 3"]
    autosave_known.forget("h", 1)
    assert autosave_known.lookup("h", 1) is None
