"""One sender per bot token: of the processes on one PostgreSQL database, the one holding the
token's advisory lock sends and long-polls Telegram; the others stand by, say so in `/healthz` and
`newsbot status`, and one of them takes over when the sender goes. On SQLite one process runs and
sends with no election. `run --once` beside a running process polls only what is due and leaves
the sending to the sender; two started together take turns, and the later polls only what is due.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest
from sqlalchemy import text

from bot.app import App
from bot.config import LoadedConfig
from bot.delivery import Role
from bot.models import FeedItem, Platform, Recipient
from bot.settings import Settings
from bot.status import collect_status, format_status
from bot.store import Store
from bot.store.election import AdvisoryLockElection, candidates
from tests.fakes.feed_server import Fault, FeedServer, rss
from tests.fakes.telegram_api import FakeTelegram
from tests.helpers import (
    OLD_ITEMS,
    config_with_feeds,
    eventually,
    postgres_store,
    queue_item,
)

TOKEN = "5151:election-token"
CHATS = [3001, 3002, 3003]


def telegram_config(feed_url: str) -> LoadedConfig:
    return config_with_feeds(f'  - {{name: local, url: "{feed_url}", interval: 8s}}\n')


@asynccontextmanager
async def running(url: str, tg: FakeTelegram, loaded: LoadedConfig) -> AsyncIterator[App]:
    settings = Settings(database_url=url, telegram_bot_token=TOKEN, telegram_api_url=tg.base_url)
    app = App(settings, loaded)
    await app.start()
    await app.start_services()
    try:
        yield app
    finally:
        await app.stop_services()
        await app.close()


async def queue_alerts(store: Store, chats: list[int], n: int) -> None:
    recipients = [Recipient(Platform.TELEGRAM, str(c)) for c in chats]
    for i in range(n):
        item = FeedItem(
            key=f"k{i}", guid=f"k{i}", link=f"https://n/{i}", title=f"Alert {i}", summary=""
        )
        await queue_item(store, item, recipients, now=time.time() - 1)


async def roles(app: App) -> dict[str, str]:
    assert app.ops is not None
    _, details = await app.ops.health()
    channels: dict[str, str] = details["channels"]
    return channels


async def test_one_election_winner_per_token_and_a_dropped_connection_hands_over() -> None:
    async with postgres_store() as (_url, store):
        first = AdvisoryLockElection(store.db, "telegram", TOKEN)
        second = AdvisoryLockElection(store.db, "telegram", TOKEN)
        other_bot = AdvisoryLockElection(store.db, "telegram", "6161:another-bot")
        try:
            assert await first.campaign()
            assert not await second.campaign(), "one sender per token"
            assert await other_bot.campaign(), "another token has its own election"
            assert await first.campaign(), "the holder keeps its seat"
            seen = await candidates(store.db)
            assert sorted(c.sender for c in seen) == [False, True, True], seen
            # the holder's connection ends as it would when its process is killed
            async with store.db.transaction() as conn:
                await conn.execute(
                    text(
                        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE pid IN "
                        "(SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted "
                        "AND objid = :key)"
                    ),
                    {"key": first._key & 0xFFFFFFFF},
                )
            assert not await first.campaign(), "a holder whose connection died stops at once"
            assert await second.campaign(), "the standby takes the seat"
            assert not await first.campaign()
        finally:
            for election in (first, second, other_bot):
                await election.resign()


async def test_only_the_sender_sends_and_long_polls_and_a_standby_takes_over() -> None:
    async with (
        postgres_store() as (url, store),
        FeedServer() as feeds,
        FakeTelegram(token=TOKEN) as tg,
    ):
        feeds.publish("feed.xml", rss(OLD_ITEMS))
        for chat in CHATS:
            tg.add_chat(chat, "private")
        loaded = telegram_config(feeds.url("feed.xml"))
        async with running(url, tg, loaded) as first, running(url, tg, loaded) as second:
            assert first.senders[Platform.TELEGRAM].role is Role.SENDER
            assert second.senders[Platform.TELEGRAM].role is Role.STANDBY
            assert (await roles(first))["telegram"] == "sender"
            assert (await roles(second))["telegram"] == "standby"
            assert second.ops is not None and (await second.ops.health())[0], "healthy"
            status = format_status(await collect_status(store))
            assert "telegram processes: " in status and " sender" in status, status
            assert " standby" in status, status
            await eventually(lambda: tg.pending_polls == 1, what="the sender's long poll")

            await queue_alerts(store, CHATS, 2)
            await tg.wait_for_sent(len(CHATS) * 2, timeout=30)
            assert second.dispatchers[Platform.TELEGRAM].stats.sent == 0
            await eventually(
                lambda: first.dispatchers[Platform.TELEGRAM].stats.sent == len(CHATS) * 2,
                within=30,
                what="first's sends counted",
            )

            await first.stop_services()  # the sender goes: its lock with it
            await eventually(
                lambda: second.senders[Platform.TELEGRAM].role is Role.SENDER,
                within=15,
                what="the standby taking over",
            )
            await eventually(lambda: tg.pending_polls == 1, what="long polling taken over")
            item = FeedItem(
                key="after", guid="after", link="https://n/after", title="After", summary=""
            )
            await queue_item(
                store, item, [Recipient(Platform.TELEGRAM, str(CHATS[0]))], now=time.time()
            )
            await tg.wait_for_sent(len(CHATS) * 2 + 1, timeout=30)
            await eventually(
                lambda: second.dispatchers[Platform.TELEGRAM].stats.sent == 1,
                within=30,
                what="second's sends counted",
            )
        conflicts = [c for c in tg.calls if c.method == "getUpdates" and c.status == 409]
        assert conflicts == [], "never two long polls at once"


async def test_sqlite_runs_one_sender_without_an_election(
    tmp_path: pytest.TempPathFactory,
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path}/newsbot.db"
    async with FeedServer() as feeds, FakeTelegram(token=TOKEN) as tg:
        feeds.publish("feed.xml", rss(OLD_ITEMS))
        async with running(url, tg, telegram_config(feeds.url("feed.xml"))) as app:
            assert (await roles(app))["telegram"] == "sender"
            assert app.store is not None
            status = await collect_status(app.store)
            assert status["senders"] == [], "nothing to elect on SQLite"


async def test_run_once_beside_a_running_process_polls_only_what_is_due() -> None:
    async with (
        postgres_store() as (url, store),
        FeedServer() as feeds,
        FakeTelegram(token=TOKEN) as tg,
    ):
        feeds.publish("feed.xml", rss(OLD_ITEMS))
        tg.add_chat(CHATS[0], "private")
        loaded = telegram_config(feeds.url("feed.xml"))
        settings = Settings(
            database_url=url, telegram_bot_token=TOKEN, telegram_api_url=tg.base_url
        )
        alone = App(settings, loaded)
        await alone.start()
        try:
            assert len(await alone.run_once()) == 1, "alone, --once polls every feed"
            assert len(await alone.run_once()) == 1, "even one polled a moment ago"
        finally:
            await alone.close()
        async with running(url, tg, loaded) as app:
            await eventually(
                lambda: len(feeds.requests_to("feed.xml")) >= 3, within=30, what="a poll"
            )
            fetched = len(feeds.requests_to("feed.xml"))
            await queue_alerts(store, [CHATS[0]], 1)
            once = App(settings, loaded)
            await once.start()
            try:
                polled = [o.feed for o in await once.run_once()]
                assert "local" not in polled, "the running process's feed is not due"
                assert not once.dispatchers[Platform.TELEGRAM].stats.sent
            finally:
                await once.close()
            assert len(feeds.requests_to("feed.xml")) == fetched
            await tg.wait_for_sent(1, timeout=30)
            await eventually(
                lambda: app.dispatchers[Platform.TELEGRAM].stats.sent == 1,
                within=30,
                what="app's sends counted",
            )


async def test_a_run_once_started_during_another_fetches_each_feed_once() -> None:
    async with postgres_store() as (url, _), FeedServer() as feeds:
        paths = [f"feed{i}.xml" for i in range(3)]
        lines = []
        for i, path in enumerate(paths):
            feeds.publish(path, rss(OLD_ITEMS))
            lines.append(f'  - {{name: f{i}, url: "{feeds.url(path)}", interval: 1h}}\n')
        feeds.fault(paths[0], Fault(delay=2.0))  # the first pass is still on its way
        loaded = config_with_feeds("".join(lines))
        first, second = (
            App(Settings(database_url=url), loaded),
            App(Settings(database_url=url), loaded),
        )
        await first.start()
        await second.start()
        try:
            first_pass = asyncio.ensure_future(first.run_once())
            await eventually(
                lambda: all(feeds.requests_to(path) for path in paths[1:]),
                within=10,
                what="the first pass's fetches",
            )
            second_polled = await second.run_once()
            first_polled = await first_pass
        finally:
            await first.close()
            await second.close()
        assert [len(feeds.requests_to(path)) for path in paths] == [1, 1, 1]
        assert (len(first_polled), len(second_polled)) == (3, 0)
