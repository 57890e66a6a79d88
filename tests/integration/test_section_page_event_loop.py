"""The lean section page on PostgreSQL with the app on a database of its own, as in production:
its read runs from the event loop on the app's asyncio pool
(app/routes/section_page.py `_page_from_event_loop`). Each page is fetched by that path, then
by the route (lean path declining); both bodies must be the same bytes. Pages that read more
(evidence) go to the threadpool path; requests the lean path does not serve (a session whose
activity is due, an expired one, a refusal) go to the route."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from app.accounts.models import AuthSession
from app.config import Settings
from app.db import utcnow
from app.permissions import Role
from app.routes import section_page
from tests.answers import best
from tests.factories import fill, make_structure, make_user
from tests.integration.test_evidence import Browser
from tests.integration.test_section_page_lean import SECTIONS, _headers, _start
from tests.own_database import app_on_own_database

pytestmark = pytest.mark.usefixtures("outbox")


@pytest.fixture
def own(request: pytest.FixtureRequest, backend: str, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[TestClient, Session, Settings]]:
    """(client, session, settings): the app on a PostgreSQL database of its own (no
    dependency override), the test's session on the same database."""
    if backend != "postgresql":
        pytest.skip("the event-loop read is PostgreSQL's")
    with app_on_own_database(request.getfixturevalue("fresh_db_url"), tmp_path,
                             monkeypatch) as own:
        yield own


def _get(b: Browser, url: str, monkeypatch: pytest.MonkeyPatch, served_by: str) -> Any:
    """GET url by the lean path (`served_by`: "event-loop", "thread" or "route": which one
    answered), then by the route; both the same. Returns the first response."""
    loop_real, thread_real = section_page._page_from_event_loop, section_page._page
    served: list[str] = []

    async def loop_spy(request: Any, pool: Any) -> Any:
        response = await loop_real(request, pool)
        if response is not None and not served:
            served.append("event-loop")
        return response

    def thread_spy(request: Any) -> Any:
        response = thread_real(request)
        if response is not None:
            served.append("thread")
        return response

    async def loop_declines(request: Any, pool: Any) -> None:
        return None

    monkeypatch.setattr(section_page, "_page_from_event_loop", loop_spy)
    monkeypatch.setattr(section_page, "_page", thread_spy)
    first = b.get(url)
    monkeypatch.setattr(section_page, "_page_from_event_loop", loop_declines)
    monkeypatch.setattr(section_page, "_page", lambda request: None)
    second = b.get(url)
    monkeypatch.setattr(section_page, "_page_from_event_loop", loop_real)
    monkeypatch.setattr(section_page, "_page", thread_real)
    assert (served[0] if served else "route") == served_by, url
    assert first.status_code == second.status_code, url
    assert first.text == second.text, url
    assert _headers(first) == _headers(second), url
    return first


def test_pages_read_from_the_event_loop(own: tuple[TestClient, Session, Settings],
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    client, session, settings = own
    ehpad = make_structure(session, name="EHPAD « Les Tilleuls » & <Cie>", department="69")
    director = make_user(session, Role.director, [ehpad], name="Claire <Martin>")
    b = Browser(client, session, settings).as_(director)
    aid = _start(b, ehpad)
    for section in SECTIONS:  # fresh
        page = _get(b, f"/evaluations/{aid}/sections/{section}", monkeypatch, "event-loop")
    assert "EHPAD « Les Tilleuls » &amp; &lt;Cie&gt;" in page.text
    assert "Claire &lt;Martin&gt;" in page.text
    fill(session, aid, best("ehpad"))
    for section in SECTIONS:  # answered
        _get(b, f"/evaluations/{aid}/sections/{section}?enregistre=s-profil", monkeypatch,
             "event-loop")

    # evidence: read on the threadpool path
    assert b.upload(aid, "sauvegardes", note="Sauvegarde testée").status_code == 303
    page = _get(b, f"/evaluations/{aid}/sections/s-securite", monkeypatch, "thread")
    assert "Sauvegarde testée" in page.text
    _get(b, f"/evaluations/{aid}/sections/s-profil", monkeypatch, "thread")

    # an ARS referent of another region: refused by the route
    b.as_(make_user(session, Role.ars, region="11"))
    page = _get(b, f"/evaluations/{aid}/sections/s-profil", monkeypatch, "route")
    assert page.status_code == 404


def test_sessions_the_route_handles(own: tuple[TestClient, Session, Settings],
                                    monkeypatch: pytest.MonkeyPatch) -> None:
    client, session, settings = own
    ehpad = make_structure(session, department="69")
    director = make_user(session, Role.director, [ehpad])
    b = Browser(client, session, settings).as_(director)
    aid = _start(b, ehpad)
    url = f"/evaluations/{aid}/sections/s-profil"
    _get(b, url, monkeypatch, "event-loop")

    row = session.exec(select(AuthSession).where(AuthSession.user_id == director.id)).one()
    row.last_seen_at = utcnow() - timedelta(minutes=5)  # activity due: the route records it
    session.add(row)
    session.commit()
    first = b.get(url)
    assert first.status_code == 200
    session.refresh(row)
    assert row.last_seen_at > utcnow() - timedelta(minutes=1)
    _get(b, url, monkeypatch, "event-loop")

    row.expires_at = utcnow() - timedelta(seconds=1)  # expired: the login page
    session.add(row)
    session.commit()
    page = b.get(url)  # the route's answer: its stale cookie dropped
    assert page.status_code == 303
    assert page.headers["location"].startswith("/connexion")
    assert 'palier_session=""' in page.headers["set-cookie"]
