"""Database engine and sessions (SQLite by default, PostgreSQL through psycopg 3).

SQLite: WAL, synchronous FULL, foreign keys, busy timeout, on every connection. The sqlite3
driver's legacy transaction handling is replaced by an explicit BEGIN emitted by SQLAlchemy,
so that reads, DDL (migrations) and SAVEPOINTs all belong to the enclosing transaction, as on
PostgreSQL. A consequence on SQLite: a transaction that has read and then tries to write
after another connection committed gets `database is locked` at once; write paths that may
race call `begin_write(session)` first (BEGIN IMMEDIATE: wait for the write lock up front).
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from enum import StrEnum
from functools import lru_cache
from pathlib import Path
from typing import Any, TypeVar

from psycopg_pool import AsyncConnectionPool
from sqlalchemy import JSON, DateTime, Engine, Integer, any_, bindparam, create_engine, event
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import Connection, Dialect, make_url
from sqlalchemy.exc import DBAPIError, DisconnectionError
from sqlalchemy.types import TypeDecorator
from sqlmodel import Field, Session, SQLModel
from starlette.requests import Request

from app.config import get_settings

SQLITE_PRAGMAS = (
    "PRAGMA journal_mode=WAL",
    "PRAGMA synchronous=FULL",
    "PRAGMA foreign_keys=ON",
    "PRAGMA busy_timeout=5000",
)
_IMMEDIATE = "palier_sqlite_immediate"
# PostgreSQL SQLSTATEs that mean "another transaction is in the way; try again".
_PG_CONTENTION = frozenset({"40001", "40P01", "55P03"})  # serialization, deadlock, lock timeout
# SQLite messages that mean the same.
_SQLITE_CONTENTION = ("database is locked", "database table is locked", "database is busy")
WRITE_ATTEMPTS = 4

log = logging.getLogger("palier.db")
T = TypeVar("T")


def normalize_url(url: str) -> str:
    """`postgresql://` and `postgres://` mean psycopg 3 here."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def is_sqlite(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


def _sqlite_file(url: str) -> Path | None:
    database = make_url(url).database
    if not database or database == ":memory:" or database.startswith("file:"):
        return None
    return Path(database)


def make_engine(url: str, **kwargs: Any) -> Engine:
    url = normalize_url(url)
    if not is_sqlite(url):
        # As many connections as the threadpool has threads (40): a request never waits
        # for a connection held by requests that wait for a thread; beyond, a 503.
        if "poolclass" not in kwargs:
            kwargs.setdefault("pool_size", 10)
            kwargs.setdefault("max_overflow", 30)
            kwargs.setdefault("pool_timeout", 15)
        engine = create_engine(url, **kwargs)
        ping_when_idle(engine)
        return engine

    path = _sqlite_file(url)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
    connect_args = {"check_same_thread": False, **kwargs.pop("connect_args", {})}
    if path is not None and "poolclass" not in kwargs:
        # A SQLite connection is a file handle: never make a request wait for one (a
        # bounded pool deadlocks when the requests holding its connections wait for a
        # threadpool thread that requests waiting for a connection occupy).
        kwargs.setdefault("max_overflow", -1)
    engine = create_engine(url, connect_args=connect_args, **kwargs)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Take BEGIN away from the sqlite3 driver (see the module docstring).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        for pragma in SQLITE_PRAGMAS:
            cursor.execute(pragma)
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        immediate = conn.get_execution_options().get(_IMMEDIATE, False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    return engine


# A pooled connection given back less than this long ago is used without a ping.
PING_AFTER_IDLE_S = 1.0


def ping_when_idle(engine: Engine) -> None:
    """`pool_pre_ping`, but only for a connection that stayed in the pool more than
    PING_AFTER_IDLE_S: one that served a request a moment ago (the rule under load) is
    alive, and pinging it cost each request a round trip. A failed ping makes the pool open
    a new connection (a server restart, an idle connection closed by the network)."""

    @event.listens_for(engine, "checkin")
    def _checked_in(_dbapi_connection: Any, record: Any) -> None:
        record.info["palier_checked_in"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _checked_out(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        idle_since = record.info.get("palier_checked_in")
        if idle_since is not None and time.monotonic() - idle_since < PING_AFTER_IDLE_S:
            return
        try:
            alive = engine.dialect.do_ping(dbapi_connection)
        except Exception as exc:  # the connection is gone: the pool opens a new one
            raise DisconnectionError() from exc
        if not alive:
            raise DisconnectionError()


def begin_write(session: Session) -> None:
    """Start the session's next transaction as a write transaction.

    On SQLite, ends the current transaction (committing it) and begins the next one with
    BEGIN IMMEDIATE, so a read-modify-write cannot fail half-way on a concurrent writer;
    on PostgreSQL this does nothing (use `with_for_update()` on the rows instead).
    Call it before reading the rows you are about to change.
    """
    if session.get_bind().dialect.name != "sqlite":
        return
    if session.in_transaction():
        session.commit()
    session.connection(execution_options={_IMMEDIATE: True})


def begin_read(session: Session) -> None:
    """Start the session's next transaction as a read one (plain deferred BEGIN on SQLite),
    even on the write engine of a state-changing request: reading a token or a session
    takes no write lock. Does nothing inside a transaction or on PostgreSQL; end the read
    (commit) before writing."""
    if session.get_bind().dialect.name != "sqlite" or session.in_transaction():
        return
    session.connection(execution_options={_IMMEDIATE: False})


@contextmanager
def kept_loaded(session: Session) -> Iterator[None]:
    """Commits inside the block leave the session's loaded objects loaded (`expire_on_commit`
    off), so reading them after costs no query. Values written by a Core UPDATE are set
    with `sqlalchemy.orm.attributes.set_committed_value`."""
    before = session.expire_on_commit
    session.expire_on_commit = False
    try:
        yield
    finally:
        session.expire_on_commit = before


def in_ids(session: Session, column: Any, ids: list[int]) -> Any:
    """`column IN ids`: on PostgreSQL one array parameter (`= ANY(:ids)`: the same cached
    statement for any number of ids, thousands at a time), elsewhere an IN list."""
    if session.get_bind().dialect.name == "postgresql":
        return column == any_(bindparam(None, ids, type_=postgresql.ARRAY(Integer)))
    return column.in_(ids)


def id_chunk(session: Session) -> int:
    """How many ids to pass to `in_ids` at once."""
    return 5000 if session.get_bind().dialect.name == "postgresql" else 500


def is_contention(exc: BaseException) -> bool:
    """Whether a database error is lock contention (retryable), not a bug: SQLite
    `database is locked`, PostgreSQL serialization failure, deadlock or lock timeout."""
    if not isinstance(exc, DBAPIError):
        return False
    orig = exc.orig
    if getattr(orig, "sqlstate", None) in _PG_CONTENTION:
        return True
    message = str(orig).lower()
    return any(text in message for text in _SQLITE_CONTENTION)


def write(session: Session, apply: Callable[[Session], T], *,
          attempts: int = WRITE_ATTEMPTS) -> T:
    """Run `apply(session)` in a write transaction of its own (`begin_write`) and commit;
    on lock contention roll back and run it again (at most `attempts` times, then the
    contention error propagates: a 503). The session's current transaction is committed
    first. `apply` must be idempotent up to its commit (it is re-run after a rollback).

    The one write path for writes that happen outside a state-changing request's own
    transaction: audit events of GET requests, refusals, jobs.
    """
    for attempt in range(1, attempts + 1):
        try:
            begin_write(session)
            result = apply(session)
            session.commit()
            return result
        except DBAPIError as exc:
            session.rollback()
            if attempt == attempts or not is_contention(exc):
                raise
            log.info("database busy, write retried (%s/%s)", attempt, attempts)
            time.sleep(0.05 * attempt + random.uniform(0, 0.05))
    raise AssertionError("unreachable")


def _conninfo(url: str) -> str:
    """The libpq URI of a SQLAlchemy PostgreSQL URL."""
    return make_url(normalize_url(url)).set(drivername="postgresql").render_as_string(
        hide_password=False)


async def _check_when_idle(conn: Any) -> None:
    """`ping_when_idle` for the asyncio pool (its `check`, called when a connection is taken):
    a connection last taken more than PING_AFTER_IDLE_S ago is pinged; a failed ping makes
    the pool drop it and take another one."""
    now = time.monotonic()
    taken = getattr(conn, "palier_taken", None)
    conn.palier_taken = now
    if taken is None or now - taken >= PING_AFTER_IDLE_S:
        await conn.execute("SELECT 1")


async def _open_pool(url: str, size: int) -> AsyncConnectionPool[Any]:
    pool: AsyncConnectionPool[Any] = AsyncConnectionPool(
        _conninfo(url), kwargs={"autocommit": True}, min_size=1,
        max_size=size, timeout=15, open=False, name="palier-event-loop",
        check=_check_when_idle)
    await pool.open()
    return pool


async def event_loop_pool(state: Any, url: str, size: int) -> AsyncConnectionPool[Any]:
    """The app's pool of asyncio PostgreSQL connections (autocommit: each statement commits
    itself; at most `size`, the setting `event_loop_pool_size`), for a route that talks to
    the database from the event loop, without a threadpool thread (the API's lean autosave,
    the section page). Opened on first use in the app's event
    loop, kept on `state` (app.state), closed by `close_event_loop_pool`. Connections idle
    for a while are pinged when taken (`_check_when_idle`), as the engine's are."""
    opening = getattr(state, "palier_pg_pool", None)
    if opening is None or (opening.done() and opening.exception() is not None):
        opening = state.palier_pg_pool = asyncio.ensure_future(_open_pool(url, size))
    pool: AsyncConnectionPool[Any] = await opening
    return pool


def opened_event_loop_pool(state: Any) -> AsyncConnectionPool[Any] | None:
    """The app's asyncio pool once opened (`event_loop_pool`), else None."""
    opening = getattr(state, "palier_pg_pool", None)
    if opening is not None and opening.done() and opening.exception() is None:
        pool: AsyncConnectionPool[Any] = opening.result()
        return pool
    return None


async def close_event_loop_pool(state: Any) -> None:
    pool = opened_event_loop_pool(state)
    if pool is not None:
        await pool.close()
    state.palier_pg_pool = None


@lru_cache
def get_engine() -> Engine:
    return make_engine(get_settings().database_url)


@lru_cache
def get_write_engine() -> Engine:
    """The same engine, but every SQLite transaction starts with BEGIN IMMEDIATE."""
    return get_engine().execution_options(**{_IMMEDIATE: True})


SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def get_session(request: Request) -> Iterator[Session]:
    """FastAPI dependency: one session per request; services commit.

    On SQLite, a state-changing request (POST, PUT, PATCH, DELETE) runs its transactions
    as writers from the start (BEGIN IMMEDIATE), so concurrent requests queue on the
    busy timeout instead of failing with `database is locked` after a read.
    """
    engine = get_engine()
    if request.method not in SAFE_METHODS and engine.dialect.name == "sqlite":
        engine = get_write_engine()
    with Session(engine) as session:
        yield session


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every backend.

    Accepts only aware datetimes (naive ones are a bug: raise); stores UTC (naive text on
    SQLite, timestamptz on PostgreSQL); always returns aware UTC datetimes.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"naive datetime {value!r}: use app.db.utcnow() or an aware one")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def json_type(*, none_as_null: bool = True) -> JSON:
    """JSON column type: JSON on SQLite, JSONB on PostgreSQL."""
    return JSON(none_as_null=none_as_null).with_variant(
        postgresql.JSONB(none_as_null=none_as_null), "postgresql"
    )


# Table helpers, shared by the feature packages' models. Stable constraint names, so batch
# migrations on SQLite can find them again (set before any table is declared: every models
# module imports this one).
SQLModel.metadata.naming_convention = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    return datetime.now(UTC)


def created_field() -> Any:
    """A non-null UTC datetime column defaulting to now."""
    return Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)


def when_field(*, index: bool = False) -> Any:
    """A nullable UTC datetime column (set when something happens)."""
    return Field(default=None, sa_type=UTCDateTime, nullable=True, index=index)


def in_values(column: str, values: type[StrEnum]) -> str:
    """SQL of a CHECK constraint: `column` holds one of the enum's values."""
    return f"{column} IN ({', '.join(repr(v.value) for v in values)})"
