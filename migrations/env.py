"""Alembic environment. The URL comes from, in order: `-x url=...`, the config attribute
`url` (set by `app.cli.db.alembic_config`), `sqlalchemy.url`, then the app settings
(`PALIER_DATABASE_URL`). Batch mode on SQLite, so ALTERs become table copies."""

from __future__ import annotations

from logging.config import fileConfig
from typing import Any

from alembic import context
from sqlalchemy import Connection, String, text
from sqlalchemy.pool import NullPool
from sqlmodel import SQLModel
from sqlmodel.sql.sqltypes import AutoString

import app.model_registry  # noqa: F401  (registers every table)
from app.config import get_settings
from app.db import UTCDateTime, make_engine, normalize_url

config = context.config
if config.config_file_name is not None and config.attributes.get("configure_logger", True):
    fileConfig(config.config_file_name)

target_metadata = SQLModel.metadata
MIGRATION_LOCK = 0x50A11E7  # arbitrary advisory-lock key for Palier migrations


def database_url() -> str:
    url = (
        context.get_x_argument(as_dictionary=True).get("url")
        or config.attributes.get("url")
        or config.get_main_option("sqlalchemy.url")
        or get_settings().database_url
    )
    return normalize_url(url)


def render_item(type_: str, obj: Any, autogen_context: Any) -> str | bool:
    """Render app types as plain SQLAlchemy types: migrations must not import app code."""
    if type_ == "type":
        if isinstance(obj, UTCDateTime):
            return "sa.DateTime(timezone=True)"
        if isinstance(obj, AutoString | String) and type(obj) in (AutoString, String):
            return f"sa.String(length={obj.length})" if obj.length else "sa.String()"
    return False


def include_name(name: str | None, type_: str, _parents: Any) -> bool:
    """procrastinate's tables (PostgreSQL, migration 0008) are not SQLModel models."""
    return not (type_ == "table" and (name or "").startswith("procrastinate_"))


def _configure(**kwargs: Any) -> None:
    # app.db makes SQLite transactions real (explicit BEGIN), so DDL is transactional there
    # too: a failed migration leaves the database as it was.
    context.configure(
        transactional_ddl=True,
        target_metadata=target_metadata,
        compare_type=True,
        render_item=render_item,
        include_name=include_name,
        **kwargs,
    )


def run_migrations_offline() -> None:
    url = database_url()
    _configure(url=url, literal_binds=True, render_as_batch=url.startswith("sqlite"))
    with context.begin_transaction():
        context.run_migrations()


def _run(connection: Connection) -> None:
    with context.begin_transaction():
        if connection.dialect.name == "postgresql":
            # Several processes starting at once: one migrates, the others wait, then see head.
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK})
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _configure(connection=connection, render_as_batch=connection.dialect.name == "sqlite")
        _run(connection)
        return
    engine = make_engine(database_url(), poolclass=NullPool)
    try:
        with engine.connect() as connection:
            _configure(connection=connection, render_as_batch=connection.dialect.name == "sqlite")
            _run(connection)
    finally:
        engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
