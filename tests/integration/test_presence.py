"""A long-running process keeps its presence on PostgreSQL through a lost connection, so that a
`run --once` beside it still polls only what is due."""

from __future__ import annotations

import asyncio
from urllib.parse import urlsplit

import pytest

from bot.store import election
from bot.store.election import Presence, runs_alone
from bot.store.engine import Database, make_engine
from tests.fakes.tcp_relay import TcpRelay
from tests.helpers import drop_postgres_database, eventually, fresh_postgres_database

pytestmark = pytest.mark.postgres


async def test_presence_is_taken_again_after_its_connection_is_cut(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A database restart or a network cut ended the session holding the lock, and nothing took
    it again: `run --once` then thought itself alone and polled every feed."""
    monkeypatch.setattr(election, "PRESENCE_CHECK", 0.2)
    url = await fresh_postgres_database()
    target = urlsplit(url)
    direct = Database(make_engine(url))
    try:
        async with TcpRelay(target.port or 5432) as relay:
            relayed = url.replace(f"{target.hostname}:{target.port}", f"127.0.0.1:{relay.port}")
            through = Database(make_engine(relayed))
            presence = Presence(through)
            keeping = asyncio.create_task(presence.keep())
            try:
                await presence.enter()
                assert not await runs_alone(direct)
                await relay.cut()

                async def present() -> bool:
                    return not await runs_alone(direct)

                await eventually(present, within=10, what="the presence lock taken again")
            finally:
                keeping.cancel()
                await presence.leave()
                await through.close()
    finally:
        await direct.close()
        await drop_postgres_database(url)
