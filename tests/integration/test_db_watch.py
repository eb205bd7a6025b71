"""A database that accepts connections and stops answering is said in the log, once, and so is
its answering again, and `/metrics` still comes (PostgreSQL through a relay that goes silent)."""

from __future__ import annotations

import asyncio
import logging
from urllib.parse import urlsplit

import pytest

from bot import ops as ops_module
from bot.db_watch import DatabaseWatch
from bot.ops import Ops
from bot.store import connect
from bot.store.engine import Database, make_engine
from tests.fakes.tcp_relay import TcpRelay
from tests.helpers import drop_postgres_database, fresh_postgres_database

pytestmark = pytest.mark.postgres


async def test_a_database_that_stops_answering_is_one_line_and_so_is_its_return(
    caplog: pytest.LogCaptureFixture,
) -> None:
    url = await fresh_postgres_database()
    target = urlsplit(url)
    try:
        async with TcpRelay(target.port or 5432) as relay:
            relayed = url.replace(f"{target.hostname}:{target.port}", f"127.0.0.1:{relay.port}")
            database = Database(make_engine(relayed))
            watch = DatabaseWatch(database.ping, answer_within=1.0)
            try:
                with caplog.at_level(logging.INFO, logger="bot.db_watch"):
                    await watch.look()
                    assert watch.silent_since is None and not caplog.records
                    relay.freeze()
                    await watch.look()
                    await watch.look()
                    relay.thaw()
                    await watch.look()
            finally:
                relay.thaw()
                await database.close()
    finally:
        await drop_postgres_database(url)
    lines = [r.getMessage() for r in caplog.records]
    assert len(lines) == 2, lines
    assert lines[0] == "database: no answer in 1s; polls and alerts wait until it answers"
    assert lines[1].startswith("database: answering again (silent for about "), lines
    assert watch.silent_since is None


async def test_metrics_come_while_the_database_does_not_answer(
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The scrape waited on the store for as long as the database stayed silent (Prometheus
    gives up after 10 s): the counters come, and the gauges stay as last read."""
    monkeypatch.setattr(ops_module, "HEALTH_TIMEOUT", 0.5)
    url = await fresh_postgres_database()
    target = urlsplit(url)
    try:
        async with TcpRelay(target.port or 5432) as relay:
            store = await connect(
                url.replace(f"{target.hostname}:{target.port}", f"127.0.0.1:{relay.port}")
            )
            ops = Ops(store, {}, lambda: True)
            try:
                await ops.metrics_text()  # read once: the pool holds a connection
                relay.freeze()
                body, _ = await asyncio.wait_for(ops.metrics_text(), 10)  # a hang guard
            finally:
                relay.thaw()
                await store.close()
    finally:
        await drop_postgres_database(url)
    assert b"newsbot_polls_total" in body
    assert "metrics: store unreachable: TimeoutError" in caplog.messages
