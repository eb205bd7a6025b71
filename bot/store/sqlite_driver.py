"""SQLite for the async engine, run on the event loop's own thread.

SQLAlchemy's aiosqlite dialect drives the connection we hand it (`async_creator`) through
aiosqlite's interface: `cursor()`, then awaited `execute`, `fetchall`, `close`, `commit`,
`rollback`. aiosqlite itself sends each of those calls to a thread of its own and back, four
round trips per statement; on a poll sweep those hand-offs were a fifth of the wall time
(bench/poll.py). SQLite on a local file answers most statements in microseconds, and this process's
writers already queue on `Database`'s lock, so here each call simply runs where it is awaited.

The price, accepted: while a statement runs nothing else on the loop does, and a write that
meets another process's write lock waits in SQLite's busy handler on the loop's thread (other
processes on one SQLite file are short CLI commands; several bot processes belong on PostgreSQL).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Mapping, Sequence
from typing import Any


class InlineCursor:
    """A sqlite3 cursor behind aiosqlite's awaitable cursor methods."""

    def __init__(self, cursor: sqlite3.Cursor) -> None:
        self._cursor = cursor

    async def __aenter__(self) -> InlineCursor:
        return self

    async def __aexit__(self, *_exc: object) -> None:
        self._cursor.close()

    async def execute(self, sql: str, parameters: Sequence[Any] = ()) -> InlineCursor:
        self._cursor.execute(sql, parameters)
        return self

    async def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> InlineCursor:
        self._cursor.executemany(sql, rows)
        return self

    async def fetchone(self) -> Any:
        return self._cursor.fetchone()

    async def fetchmany(self, size: int | None = None) -> list[Any]:
        return self._cursor.fetchmany(self._cursor.arraysize if size is None else size)

    async def fetchall(self) -> list[Any]:
        return self._cursor.fetchall()

    async def close(self) -> None:
        self._cursor.close()

    @property
    def description(self) -> Any:
        return self._cursor.description

    @property
    def rowcount(self) -> int:
        return self._cursor.rowcount

    @property
    def lastrowid(self) -> int | None:
        return self._cursor.lastrowid

    @property
    def arraysize(self) -> int:
        return self._cursor.arraysize

    @arraysize.setter
    def arraysize(self, value: int) -> None:
        self._cursor.arraysize = value


class InlineConnection:
    """A sqlite3 connection behind aiosqlite's awaitable connection methods."""

    def __init__(self, connection: sqlite3.Connection) -> None:
        self._connection: sqlite3.Connection | None = connection
        """Named as aiosqlite names it: SQLAlchemy's adapter skips commit and rollback once it
        is None (closed)."""

    @property
    def _open(self) -> sqlite3.Connection:
        if self._connection is None:
            raise ValueError("Connection closed")  # the text SQLAlchemy maps to a disconnect
        return self._connection

    def cursor(self) -> InlineCursor:
        return InlineCursor(self._open.cursor())

    async def commit(self) -> None:
        self._open.commit()

    async def rollback(self) -> None:
        self._open.rollback()

    async def create_function(self, *args: Any, **kwargs: Any) -> None:
        self._open.create_function(*args, **kwargs)

    @property
    def isolation_level(self) -> str | None:
        return self._open.isolation_level

    async def close(self) -> None:
        self.stop()

    def stop(self) -> None:
        """Close at once (SQLAlchemy's forced close on a connection it gives up)."""
        if self._connection is not None:
            self._connection.close()
            self._connection = None


def connect(args: Sequence[Any], kwargs: Mapping[str, Any]) -> InlineConnection:
    """A connection made with the arguments SQLAlchemy's dialect derives from the URL."""
    return InlineConnection(sqlite3.connect(*args, **kwargs))
