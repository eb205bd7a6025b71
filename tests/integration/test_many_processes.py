"""Two `newsbot run` processes on one PostgreSQL database share the work: the feed is fetched by
one of them at a time, once per interval, and 300 alerts to 30 chats arrive once each, in order
per chat, though one process is killed with `kill -9` in the middle of delivering them.

Both processes run as real subprocesses against one fake Bot API and one feed server, both in
this test's event loop on 127.0.0.1. Telegram updates come by webhook, which any process may take
(long polling from two processes is refused by Telegram with 409 Conflict).
"""

from __future__ import annotations

import asyncio
import itertools
import signal
import time
from asyncio.subprocess import Process
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
from aiohttp import web
from sqlalchemy import func, select

from bot.store import Store, connect
from bot.store.schema import outbox
from tests.fakes.feed_server import FeedServer, rss
from tests.fakes.telegram_api import FakeTelegram
from tests.helpers import (
    OLD_ITEMS,
    drop_postgres_database,
    eventually,
    free_port,
    fresh_postgres_database,
    shipped_topics,
    start_bot,
)

TOKEN = "4343:many-processes-token"
CHATS = [2001 + n for n in range(30)]
ITEMS = 10
INTERVAL = 2.0
"""The feed's interval (seconds): each fetch comes at least this long after the one before."""
BURST = [
    {
        "title": f"[속보] 인공지능 정책 발표 {n:02d}호",
        "guid": f"m-{n}",
        "link": f"https://n/m{n}",
        "description": "정부가 AI 정책을 발표했다.",
    }
    for n in range(ITEMS)
]


class ClockedFeedServer(FeedServer):
    """A feed server that also notes when each request arrived (monotonic seconds)."""

    def __init__(self) -> None:
        super().__init__()
        self.arrivals: list[float] = []

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        self.arrivals.append(time.monotonic())
        return await super()._handle(request)


@asynccontextmanager
async def database() -> AsyncIterator[tuple[str, Store]]:
    url = await fresh_postgres_database()
    store = await connect(url)
    try:
        yield url, store
    finally:
        await store.close()
        await drop_postgres_database(url)


async def healthy(port: int) -> bool:
    try:
        async with httpx.AsyncClient() as client:
            response = await client.get(f"http://127.0.0.1:{port}/healthz", timeout=2)
    except httpx.HTTPError:
        return False
    return response.status_code == 200


async def nothing_pending(store: Store) -> bool:
    counts = await store.outbox.counts()
    return not any(n for (_platform, status), n in counts.items() if status == "pending")


async def leased_now(store: Store) -> int:
    """How many alerts some process holds a lease on at this moment."""
    async with store.db.reading() as conn:
        query = select(func.count()).where(
            outbox.c.status == "pending", outbox.c.lease_until > time.time()
        )
        return int((await conn.execute(query)).scalar_one())


def delivered(tg: FakeTelegram, chat: int) -> list[int]:
    """The burst items chat `chat` received, by index, in the order they arrived."""
    texts = [m.text or m.caption or "" for m in tg.sent_to(chat)]
    return [n for t in texts for n, b in enumerate(BURST) if b["title"] in t]


async def stop(bot: Process) -> None:
    if bot.returncode is None:
        bot.send_signal(signal.SIGTERM)
        await asyncio.wait_for(bot.wait(), timeout=30)


async def test_two_processes_deliver_each_alert_once_in_order_through_a_kill_9(
    tmp_path: Path,
) -> None:
    async with database() as (url, store), ClockedFeedServer() as feeds:
        feeds.publish("feed.xml", rss(OLD_ITEMS))
        config = tmp_path / "subscriptions.yaml"
        config.write_text(
            "version: 1\nstories: {enabled: false}\n"
            f'feeds:\n  - {{name: local, url: "{feeds.url("feed.xml")}", interval: 2s}}\n'
            f"{shipped_topics()}subscriptions:\n"
            + "".join(f"  - {{telegram: {chat}, topics: [breaking]}}\n" for chat in CHATS),
            encoding="utf-8",
        )
        async with FakeTelegram(token=TOKEN) as tg:
            for chat in CHATS:
                tg.add_chat(chat, "private")
            ports = [free_port(), free_port()]

            def env(port: int) -> dict[str, str]:
                return {
                    "NEWSBOT_DATABASE_URL": url,
                    "TELEGRAM_BOT_TOKEN": TOKEN,
                    "TELEGRAM_API_URL": tg.base_url,
                    "TELEGRAM_WEBHOOK_URL": "https://127.0.0.1:8443/telegram/webhook",
                    "NEWSBOT_HTTP_PORT": str(port),
                }

            bots = [await start_bot(config, tmp_path, env(ports[0]), read=False)]
            try:
                await eventually(  # a second fetch means the first, which primes, is done
                    lambda: len(feeds.requests_to("feed.xml")) >= 2,
                    within=60,
                    what="the first process's second poll",
                )
                bots.append(await start_bot(config, tmp_path, env(ports[1]), read=False))
                for port in ports:
                    await eventually(
                        lambda p=port: healthy(p), within=60, what=f"/healthz on port {port}"
                    )
                feeds.publish("feed.xml", rss([*BURST, *OLD_ITEMS]))
                await tg.wait_for_sent(100, timeout=60)
                bots[0].send_signal(signal.SIGKILL)
                await bots[0].wait()
                in_flight = await leased_now(store)
                at_kill = len(tg.sent)
                assert at_kill < len(CHATS) * ITEMS, "the kill came in the middle of delivery"

                def progress() -> dict[int, int]:
                    return {chat: len(set(delivered(tg, chat))) for chat in CHATS}

                await eventually(
                    lambda: all(n == ITEMS for n in progress().values()),
                    within=120,
                    what="every alert delivered after the kill",
                    describe=progress,
                )
                await eventually(lambda: nothing_pending(store), within=30, what="no alert left")
            finally:
                for bot in bots:
                    await stop(bot)

    twice: list[tuple[int, int]] = []
    for chat in CHATS:
        got = delivered(tg, chat)
        twice += [(chat, n) for previous, n in itertools.pairwise(got) if previous == n]
        collapsed = [n for i, n in enumerate(got) if i == 0 or got[i - 1] != n]
        assert collapsed == list(reversed(range(ITEMS))), f"chat {chat}: oldest first: {got}"
    print(
        f"\nkill -9 after {at_kill} of {len(CHATS) * ITEMS} accepted, {in_flight} leased then; "
        f"sent twice: {twice}"
    )
    assert len(twice) <= in_flight, "only a send in flight at the kill may repeat"
    assert len({chat for chat, _ in twice}) == len(twice), "one send in flight per chat"
    gaps = [later - earlier for earlier, later in itertools.pairwise(feeds.arrivals)]
    assert min(gaps) >= INTERVAL - 0.1, f"the feed is fetched once per interval: {gaps}"
