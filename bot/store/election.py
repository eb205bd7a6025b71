"""Which process sends for a bot token, and whether other `newsbot run` processes are on the
database: both through PostgreSQL advisory locks, each held on a connection of its own.

A platform's rate budget belongs to its bot token, so one process per token sends: the one holding
a session-level advisory lock keyed by a hash of the platform and the token. PostgreSQL lets go of
such a lock when its connection ends, however the process ended (`kill -9` included), so a
standby that tries the lock every beat takes over a beat after the holder died. The holder checks
every beat that its connection still answers; when it does not, the lock may be someone else's by
now and the holder stops sending at once.

Every long-running process also holds a shared lock (its presence); `run --once` asks whether any
is held to learn whether it runs alone, and holds a lock of its own for its pass, so that two
started together take turns. On SQLite one process runs (`bot.cli.lock`): it is the
sender for every token and always alone, with no election.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import os
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Protocol

from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine
from sqlalchemy.pool import NullPool

from bot.store.engine import CONNECT_TIMEOUT, Database

log = logging.getLogger(__name__)

LOCK_CLASS = 0x6E627364
"""First key of newsbot's advisory locks (the migration lock uses the one-key form)."""
PRESENCE_KEY = 0
"""Second key of the shared lock every long-running process holds."""
PRESENCE_CHECK = 15.0
"""Seconds between two checks that the presence lock is still held (taken again when not)."""
ONCE_KEY = 1
"""Second key of the lock a `run --once` holds for its pass."""
ONCE_RETRY = 0.5
"""Seconds between a waiting `run --once`'s tries of that lock."""
CHECK_TIMEOUT = 5.0
"""Seconds a lock query may take before its connection counts as lost."""
APP_NAME_PREFIX = "newsbot "
"""How newsbot's election connections name themselves to PostgreSQL (`pg_stat_activity`)."""
SENDER_NAMES = f"{APP_NAME_PREFIX}% sender %"
"""The names of the connections in sender elections (`<prefix><platform> sender <process>`)."""


def sender_key(platform: str, token: str) -> int:
    """The second advisory-lock key of the sender election of one bot token (a signed int4)."""
    digest = hashlib.sha256(f"newsbot sender\0{platform}\0{token}".encode()).digest()
    key = int.from_bytes(digest[:4], "big", signed=True)
    return key if key not in (PRESENCE_KEY, ONCE_KEY) else 2


def process_name() -> str:
    """This process as other processes see it: host and process id."""
    return f"{socket.gethostname()[:40]}:{os.getpid()}"


class Election(Protocol):
    """A seat only one process holds at a time."""

    contested: bool
    """Other processes may hold the seat (PostgreSQL); False where one process runs (SQLite)."""

    async def campaign(self) -> bool:
        """Take the seat if it is free, or check that it is still ours; True while ours."""
        ...

    async def resign(self) -> None:
        """Give the seat up (and the connection that held it)."""
        ...


class SoleProcess:
    """The election of a database only one process uses: always won."""

    contested = False

    async def campaign(self) -> bool:
        return True

    async def resign(self) -> None:
        return None


class _LockConnection:
    """One connection of its own (never pooled: closing it ends the session and its locks)."""

    def __init__(self, db: Database, role: str) -> None:
        name = f"{APP_NAME_PREFIX}{role} {process_name()}"[:63]
        self._engine: AsyncEngine = create_async_engine(
            db.engine.url,
            poolclass=NullPool,
            connect_args={
                "timeout": CONNECT_TIMEOUT,
                "server_settings": {"application_name": name},
            },
        )
        self._conn: AsyncConnection | None = None

    async def query(self, sql: str, **params: int) -> object:
        """The first value of `sql`, on the connection (opened when there is none); raises
        what the database raised, or TimeoutError, with the connection dropped."""
        try:
            if self._conn is None:
                conn = await asyncio.wait_for(self._engine.connect(), CHECK_TIMEOUT)
                self._conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
            result = await asyncio.wait_for(self._conn.execute(text(sql), params), CHECK_TIMEOUT)
            return result.scalar()
        except (SQLAlchemyError, OSError, TimeoutError):
            await self.drop()
            raise

    async def drop(self) -> None:
        """Close the connection: PostgreSQL releases every lock it held."""
        conn, self._conn = self._conn, None
        if conn is not None:
            with contextlib.suppress(SQLAlchemyError, OSError, TimeoutError):
                await asyncio.wait_for(conn.close(), CHECK_TIMEOUT)

    async def close(self) -> None:
        await self.drop()
        await self._engine.dispose()


class AdvisoryLockElection:
    """The sender election of one bot token: a session-level advisory lock held on a dedicated
    connection; the seat is ours while that connection answers."""

    contested = True

    def __init__(self, db: Database, platform: str, token: str) -> None:
        self.platform = platform
        self._key = sender_key(platform, token)
        self._lock = _LockConnection(db, f"{platform} sender")
        self._held = False

    async def campaign(self) -> bool:
        try:
            if self._held:
                await self._lock.query("SELECT 1")
            else:
                got = await self._lock.query(
                    "SELECT pg_try_advisory_lock(:cls, :key)", cls=LOCK_CLASS, key=self._key
                )
                self._held = bool(got)
        except (SQLAlchemyError, OSError, TimeoutError) as exc:
            if self._held:
                log.warning("%s: sender election lost: %s", self.platform, type(exc).__name__)
            self._held = False
        return self._held

    async def resign(self) -> None:
        self._held = False
        await self._lock.close()


class Presence:
    """A long-running process on PostgreSQL: holds the shared presence lock while it runs."""

    def __init__(self, db: Database) -> None:
        self._lock = _LockConnection(db, "run") if db.dialect == "postgresql" else None
        self._held = False

    async def enter(self) -> None:
        """Take the lock, or check that its connection still holds it (a database restarted or
        a network cut ends the session, and the lock with it)."""
        if self._lock is None:
            return
        try:
            if self._held:
                await self._lock.query("SELECT 1")
            else:
                await self._lock.query(
                    "SELECT pg_advisory_lock_shared(:cls, :key)::text",
                    cls=LOCK_CLASS,
                    key=PRESENCE_KEY,
                )
                self._held = True
        except (SQLAlchemyError, OSError, TimeoutError):
            self._held = False

    async def keep(self) -> None:
        """Hold the lock while the process runs: without it `run --once` beside would think
        itself alone and poll every feed."""
        while True:
            await asyncio.sleep(PRESENCE_CHECK)
            await self.enter()

    async def leave(self) -> None:
        if self._lock is not None:
            await self._lock.close()


async def runs_alone(db: Database) -> bool:
    """True when no long-running `newsbot run` is on this database (always on SQLite)."""
    if db.dialect != "postgresql":
        return True
    async with db.reading() as conn:
        query = text(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND classid = :cls "
            "AND objid = :key AND objsubid = 2 AND database = "
            "(SELECT oid FROM pg_database WHERE datname = current_database())"
        )
        held = (await conn.execute(query, {"cls": LOCK_CLASS, "key": PRESENCE_KEY})).scalar()
    return not held


@contextlib.asynccontextmanager
async def once_turn(db: Database) -> AsyncIterator[bool]:
    """`run --once`'s pass, one at a time on PostgreSQL: alone, a pass takes every feed, also
    those not due, so two passes at once would both fetch them all. The later one waits for the
    earlier pass to end; it yields True when it waited (its feeds were just polled, so only what
    is due now is its to poll). On SQLite one process runs: nothing to wait for."""
    if db.dialect != "postgresql":
        yield False
        return
    lock = _LockConnection(db, "once")
    try:
        waited = False
        query = "SELECT pg_try_advisory_lock(:cls, :key)"
        while not await lock.query(query, cls=LOCK_CLASS, key=ONCE_KEY):
            if not waited:
                log.info("another `newsbot run --once` is polling: waiting for its pass to end")
            waited = True
            await asyncio.sleep(ONCE_RETRY)
        yield waited
    finally:
        await lock.close()


@dataclass(frozen=True, slots=True)
class Candidate:
    """A process in a sender election, as `newsbot status` shows it."""

    platform: str
    process: str
    sender: bool


def election_for(db: Database, platform: str, token: str) -> Election:
    """The sender election of `token` on this database (none without a token)."""
    if db.dialect == "postgresql" and token:
        return AdvisoryLockElection(db, platform, token)
    return SoleProcess()


async def candidates(db: Database) -> list[Candidate]:
    """Every process in a sender election on this database, and whether it is the sender
    (empty on SQLite, where the one process sends)."""
    if db.dialect != "postgresql":
        return []
    query = text(
        "SELECT a.application_name AS name, EXISTS ("
        "  SELECT 1 FROM pg_locks l WHERE l.pid = a.pid AND l.locktype = 'advisory'"
        "  AND l.classid = :cls AND l.objsubid = 2 AND l.objid <> :presence AND l.granted"
        ") AS sender FROM pg_stat_activity a "
        "WHERE a.datname = current_database() AND a.application_name LIKE :pattern "
        "ORDER BY a.application_name"
    )
    async with db.reading() as conn:
        rows = await conn.execute(
            query,
            {"cls": LOCK_CLASS, "presence": PRESENCE_KEY, "pattern": SENDER_NAMES},
        )
        out = []
        for row in rows:
            _, platform, _, process = str(row.name).split(" ", 3)
            out.append(Candidate(platform, process, bool(row.sender)))
    return out
