"""The database connection: one async engine, its SQLite pragmas, migrations, transactions."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config as AlembicConfig
from sqlalchemy import Connection, event, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from bot.store import sqlite_driver
from bot.store.problems import (
    EXAMPLES,
    DatabaseUnavailable,
    check_sqlite_file,
    check_url,
    explain,
)

MIGRATIONS = Path(__file__).parent / "migrations"
_MIGRATION_LOCK = 0x6E657773  # pg advisory lock id: two processes starting at once migrate once
CONFIG_LOCK = 0x6E657774
"""PostgreSQL advisory lock id of writing the config's feeds and declared subscriptions: two
processes starting (or reloading) at once write them one after the other."""
CONNECT_TIMEOUT = 10.0
"""Seconds to wait for PostgreSQL to accept a connection (asyncpg's default is a minute)."""


def make_engine(url: str) -> AsyncEngine:
    """An async engine; SQLite runs on the loop's thread (`sqlite_driver`) with WAL, a busy
    timeout and foreign keys."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":

        async def inline_connection() -> sqlite_driver.InlineConnection:
            args, kwargs = engine.sync_engine.dialect.create_connect_args(engine.url)
            return sqlite_driver.connect(args, kwargs)

        engine = create_async_engine(url, async_creator=inline_connection)

        @event.listens_for(engine.sync_engine, "connect")
        def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            if parsed.database not in (None, "", ":memory:"):
                cursor.execute("PRAGMA journal_mode=WAL")
                # WAL + NORMAL: a commit survives a process crash (kill -9) and only the newest
                # ones can be lost on power failure, which at-least-once delivery absorbs (the
                # poll repeats, a sent mark is sent again); it spares an fsync per commit
                cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.close()

        return engine
    # no JIT: our queries are short, and compiling one whose plan is costed high (the outbox
    # claim over a large queue) takes 20-40 ms where running it takes a fraction of one
    settings = {"jit": "off"}
    if "sslmode" in parsed.query:  # libpq's spelling, which hosting providers give; asyncpg's
        mode = parsed.query["sslmode"]
        parsed = parsed.difference_update_query(["sslmode"]).update_query_dict({"ssl": mode})
    return create_async_engine(
        parsed,
        pool_pre_ping=True,
        connect_args={"timeout": CONNECT_TIMEOUT, "server_settings": settings},
    )


def _upgrade(connection: Connection) -> None:
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:id)"), {"id": _MIGRATION_LOCK})
    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["connection"] = connection
    command.upgrade(cfg, "head")


class Database:
    """The engine, plus the two ways in: a transaction, or a read-only connection."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self._writer = asyncio.Lock() if engine.dialect.name == "sqlite" else None
        """SQLite takes one writer at a time, and one refused waits in SQLite's busy handler,
        which sleeps (on the loop's thread: `sqlite_driver`): this process's transactions queue
        here instead."""
        self._writing: asyncio.Task[Any] | None = None
        """The task holding `_writer`: the same task asking again would wait for itself."""

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    async def migrate(self) -> None:
        async with self.engine.begin() as conn:
            await conn.run_sync(_upgrade)

    async def close(self) -> None:
        await self.engine.dispose()

    async def one_at_a_time(self, conn: AsyncConnection, lock_id: int) -> None:
        """Wait until no other process's transaction holds `lock_id`, and hold it until `conn`'s
        transaction ends (PostgreSQL; SQLite takes one writer at a time anyway)."""
        if self.dialect == "postgresql":
            await conn.execute(text("SELECT pg_advisory_xact_lock(:id)"), {"id": lock_id})

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncConnection]:
        if self._writer is None:
            async with self.engine.begin() as conn:
                yield conn
            return
        task = asyncio.current_task()
        if task is not None and task is self._writing:
            raise RuntimeError(
                "a SQLite transaction opened inside another would wait for it forever: "
                "pass the open connection down instead"
            )
        async with self._writer:
            self._writing = task
            try:
                async with self.engine.begin() as conn:
                    yield conn
            finally:
                self._writing = None

    async def ping(self) -> None:
        """One round trip to the database (a connection from the pool, `SELECT 1`)."""
        async with self.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))

    @asynccontextmanager
    async def reading(self) -> AsyncIterator[AsyncConnection]:
        async with self.engine.connect() as conn:
            yield conn

    def insert(self, table: Any) -> Any:
        """An INSERT that knows this dialect's ON CONFLICT clause."""
        dialect = postgresql if self.dialect == "postgresql" else sqlite
        return dialect.insert(table)


async def open_database(url: str, *, create: bool = True) -> Database:
    """The database at `url`, migrated to the newest schema; `DatabaseUnavailable` says in one
    line why it cannot be used. Without `create`, a SQLite file that does not exist is refused
    rather than made (`status` in the wrong folder)."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise DatabaseUnavailable(
            f"NEWSBOT_DATABASE_URL is not a database URL; use {EXAMPLES}"
        ) from None
    check_url(parsed)
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        check_sqlite_file(Path(parsed.database), create=create)
    db = Database(make_engine(url))
    try:
        await db.migrate()
    except Exception as exc:
        await db.close()
        problem = explain(exc, parsed)
        if problem is None:
            raise
        raise problem from None
    return db
