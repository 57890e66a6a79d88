"""Typed FastAPI dependencies shared by the routes."""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Annotated, Any, TypeVar

from fastapi import Depends, Path, Query, Request
from psycopg_pool import AsyncConnectionPool
from sqlmodel import Session

from app.config import Settings, get_settings
from app.db import event_loop_pool, get_engine, get_session, opened_event_loop_pool

SessionDep = Annotated[Session, Depends(get_session)]
SettingsDep = Annotated[Settings, Depends(get_settings)]

# Ids and counters fit PostgreSQL INTEGER (SQLite allows 2**63): a larger number in a path or
# a query is refused (422) before it reaches the database.
MAX_ID = 2**31 - 1
IdPath = Annotated[int, Path(ge=1, le=MAX_ID, description="Identifiant (entier positif).")]
PageQuery = Annotated[int, Query(ge=1, le=100_000, description="Numéro de page.")]


def canonical_id(raw: str) -> int | None:
    """An id written as the app writes it (digits, no sign, no leading zero) within IdPath's
    bounds; None otherwise (lean paths hand such requests to their route)."""
    if not (raw.isascii() and raw.isdigit()) or raw != str(int(raw)):
        return None
    value = int(raw)
    return value if 1 <= value <= MAX_ID else None


T = TypeVar("T")


def provider(request: Request, dependency: Callable[..., T]) -> Callable[..., Any]:
    """The function FastAPI would call for `dependency` on this request's app: the test's
    override (`app.dependency_overrides`), if any, else `dependency` itself."""
    overrides: dict[Any, Any] = request.app.dependency_overrides
    return overrides.get(dependency, dependency)  # type: ignore[no-any-return]


def request_settings(request: Request) -> Settings:
    """What `SettingsDep` gives this request, without a dependency (no threadpool hop)."""
    settings: Settings = provider(request, get_settings)()
    return settings


@contextmanager
def request_session(request: Request) -> Iterator[Session]:
    """What `SessionDep` gives this request (a test's override included), opened and closed
    by the caller: for routes that do all their database work in one threadpool call rather
    than through FastAPI's dependency (two more threadpool hops: open, close). Call it from
    that threadpool thread (closing may talk to the database)."""
    make = provider(request, get_session)
    made = make(request) if make is get_session else make()
    if isinstance(made, Session):  # a test's `lambda: session`
        yield made
        return
    assert inspect.isgenerator(made)
    with contextmanager(lambda: made)() as session:
        assert isinstance(session, Session)
        yield session


def overriding_session(request: Request) -> Session | None:
    """The session a test put in place of `get_session` (`app.dependency_overrides`), for a
    path that otherwise reads on its own connection; None on the app's own database."""
    make = provider(request, get_session)
    return None if make is get_session else make()


async def request_event_loop_pool(request: Request) -> AsyncConnectionPool[Any] | None:
    """PostgreSQL, on the app's own database (not a test's session): the app's asyncio pool
    (`app.db.event_loop_pool`), for a route that reads from the event loop; else None."""
    engine = get_engine()
    if engine.dialect.name != "postgresql" or provider(request, get_session) is not get_session:
        return None
    return opened_event_loop_pool(request.app.state) or await event_loop_pool(
        request.app.state, engine.url.render_as_string(False),
        request_settings(request).event_loop_pool_size)
