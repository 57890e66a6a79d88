"""`FirstRow`: a hot page's one read straight on the DBAPI cursor (issue 14), on a SQLAlchemy
connection or on an asyncio psycopg connection of `app.db.event_loop_pool`."""

from __future__ import annotations

from typing import Any

import psycopg
from sqlalchemy.engine import Connection, Dialect
from sqlalchemy.exc import DBAPIError


class FirstRow:
    """A Core SELECT run straight on the DBAPI cursor, for a read on every request of a hot
    page (issue 14): compiled once per dialect, its parameters and result columns processed by
    their SQLAlchemy types as `Connection.execute` does, without its per-execution work (a
    third of a millisecond). Only plain bound values (no expanding IN, no literal_execute);
    the connection's transaction is the caller's (a single SELECT outside one is its own
    snapshot)."""

    def __init__(self, statement: Any) -> None:
        self.statement = statement
        self._compiled: dict[str, tuple[str, Any, dict[str, Any], list[Any], list[str]]] = {}

    def _for(self, dialect: Dialect) -> tuple[str, Any, dict[str, Any], list[Any], list[str]]:
        found = self._compiled.get(dialect.name)
        if found is None:
            compiled = self.statement.compile(dialect=dialect)
            binds = {name: param.type.dialect_impl(dialect).bind_processor(dialect)
                     for param, name in compiled.bind_names.items()}
            columns = list(self.statement.selected_columns)
            results = [c.type.dialect_impl(dialect).result_processor(dialect, None)
                       for c in columns]
            found = (compiled.string, compiled, {k: v for k, v in binds.items() if v},
                     results, [c.key for c in columns])
            self._compiled[dialect.name] = found
        return found

    def _args(self, dialect: Dialect, params: dict[str, Any]) -> tuple[str, Any, list[Any],
                                                                   list[str]]:
        sql, compiled, binds, results, keys = self._for(dialect)
        values = compiled.construct_params(params)
        for name, process in binds.items():
            values[name] = process(values[name])
        args = (tuple(values[name] for name in compiled.positiontup)
                if compiled.positional else values)
        return sql, args, results, keys

    @staticmethod
    def _row(results: list[Any], keys: list[str], row: Any) -> dict[str, Any] | None:
        if row is None:
            return None
        return {key: process(value) if process else value
                for key, process, value in zip(keys, results, row, strict=True)}

    def first(self, connection: Connection, params: dict[str, Any]) -> dict[str, Any] | None:
        """The first row as {column key: value}, or None."""
        sql, args, results, keys = self._args(connection.dialect, params)
        cursor = connection.connection.driver_connection.cursor()  # type: ignore[union-attr]
        try:
            cursor.execute(sql, args)
            row = cursor.fetchone()
        finally:
            cursor.close()
        return self._row(results, keys, row)

    async def first_async(self, connection: Any, dialect: Dialect,
                          params: dict[str, Any]) -> dict[str, Any] | None:
        """`first` on an asyncio psycopg connection of `event_loop_pool` (`dialect`: the
        engine's, PostgreSQL); errors of the driver are raised as SQLAlchemy's, as `first`'s
        would be through a session."""
        sql, args, results, keys = self._args(dialect, params)
        try:
            async with connection.cursor() as cursor:
                await cursor.execute(sql, args)
                row = await cursor.fetchone()
        except psycopg.Error as exc:
            raise DBAPIError.instance(sql, args, exc, psycopg.Error) from exc
        return self._row(results, keys, row)
