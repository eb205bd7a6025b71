"""Crash safety: `kill -9` mid-burst, then a restart, loses no alert; nor does a database drop.

The bot runs as a real subprocess against a fake Bot API that paces a private chat at 1 message
per second, so the burst is still going when the process is killed. Every alert must arrive;
at most the one in flight at the kill (one per chat) may arrive twice.
"""

from __future__ import annotations

import asyncio
import io
import signal
from pathlib import Path

import asyncpg

from bot.app import App
from bot.config import load_config
from bot.settings import Settings
from bot.store import connect
from tests.fakes.feed_server import FeedServer, rss
from tests.fakes.telegram_api import FakeTelegram
from tests.helpers import (
    OLD_ITEMS,
    POSTGRES_URL,
    drop_postgres_database,
    eventually,
    fresh_postgres_database,
    shipped_topics,
    start_bot,
    write_config,
)

TOKEN = "4242:crash-test-token"
CHAT = 777
BURST = 8


async def nothing_pending(database_url: str) -> bool:
    """Whether the outbox of the database at `database_url` has no alert left to send."""
    store = await connect(database_url)
    try:
        counts = await store.outbox.counts()
    finally:
        await store.close()
    return not any(n for (_platform, status), n in counts.items() if status == "pending")


async def test_kill_9_mid_burst_then_restart_loses_nothing(
    tmp_path: Path, feed_server: FeedServer, database_url: str
) -> None:
    burst = [
        {
            "title": f"[속보] 인공지능 정책 발표 {n}",
            "guid": f"b-{n}",
            "link": f"https://n/b{n}",
            "description": "정부가 AI 정책을 발표했다.",
        }
        for n in range(BURST)
    ]
    feed_server.publish("feed.xml", rss(OLD_ITEMS))
    config = tmp_path / "subscriptions.yaml"
    config.write_text(
        "version: 1\n"
        f'feeds:\n  - {{name: local, url: "{feed_server.url("feed.xml")}", interval: 1s}}\n'
        f"{shipped_topics()}subscriptions:\n  - {{telegram: {CHAT}, topics: [breaking]}}\n",
        encoding="utf-8",
    )
    async with FakeTelegram(token=TOKEN) as tg:
        tg.add_chat(CHAT, "private")
        env = {
            "NEWSBOT_DATABASE_URL": database_url,
            "TELEGRAM_BOT_TOKEN": TOKEN,
            "TELEGRAM_API_URL": tg.base_url,
        }
        bot = await start_bot(config, tmp_path, env, read=False)
        try:
            await eventually(  # a second poll means the first, which primes, is done
                lambda: len(feed_server.requests_to("feed.xml")) >= 2,
                within=60,
                what="the bot's second poll",
            )
            feed_server.publish("feed.xml", rss([*burst, *OLD_ITEMS]))
            await tg.wait_for_sent(3, timeout=60)
        finally:
            bot.send_signal(signal.SIGKILL)
            await bot.wait()
        at_kill = len(tg.sent_to(CHAT))
        assert at_kill < BURST, "the kill came in the middle of the burst"

        bot = await start_bot(config, tmp_path, env, read=False)
        try:

            def delivered() -> dict[str, int]:
                texts = [m.text or m.caption or "" for m in tg.sent_to(CHAT)]
                return {b["title"]: sum(b["title"] in t for t in texts) for b in burst}

            await eventually(
                lambda: all(delivered().values()),
                within=120,
                what="every alert of the burst delivered after the restart",
                describe=delivered,
            )
            # settled: nothing left to send, so no duplicate can still be on its way
            await eventually(
                lambda: nothing_pending(database_url), within=30, what="an empty outbox"
            )
        finally:
            bot.send_signal(signal.SIGTERM)
            await asyncio.wait_for(bot.wait(), timeout=30)

    texts = [m.text or m.caption or "" for m in tg.sent_to(CHAT)]
    counts = {b["title"]: sum(b["title"] in t for t in texts) for b in burst}
    print(f"\nkill -9 after {at_kill} of {BURST} accepted; deliveries per alert: {counts}")
    assert all(n >= 1 for n in counts.values()), f"lost: {counts}"
    assert sum(n - 1 for n in counts.values()) <= 1, (
        f"more duplicates than sends in flight: {counts}"
    )
    order = [next(i for i, b in enumerate(burst) if b["title"] in t) for t in texts]
    # the feed lists the newest first, so oldest first is the reverse of the listing
    assert order == sorted(order, reverse=True), "oldest first, even across the restart"


async def test_the_bot_reconnects_after_postgresql_drops_its_connections(
    tmp_path: Path, feed_server: FeedServer
) -> None:
    url = await fresh_postgres_database()
    name = url.rsplit("/", 1)[1]
    feed_server.publish("feed.xml", rss(OLD_ITEMS))
    out = io.StringIO()
    app = App(
        Settings(database_url=url),
        load_config(write_config(tmp_path, feed_server.url("feed.xml"))),
        stdout=out,
    )
    await app.start()
    await app.start_services()
    admin = await asyncpg.connect(POSTGRES_URL.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        await eventually(
            lambda: len(feed_server.requests_to("feed.xml")) >= 2,
            within=10,
            what="the bot's second poll",
        )
        # the server ends every connection of the bot's database, as a restart would
        killed = await admin.fetchval(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = $1",
            name,
        )
        assert killed >= 1
        feed_server.publish(
            "feed.xml",
            rss(
                [
                    {"title": "[속보] 인공지능 긴급 발표", "guid": "after", "link": "https://n/a"},
                    *OLD_ITEMS,
                ]
            ),
        )
        await eventually(
            lambda: "https://n/a" in out.getvalue(),
            within=20,
            what="the alert after the connections dropped",
        )
        await eventually(lambda: nothing_pending(url), within=10, what="an empty outbox")
        assert out.getvalue().count("https://n/a") == 1, "caught up after the connections dropped"
    finally:
        await admin.close()
        await app.stop_services()
        await app.close()
        await drop_postgres_database(url)
