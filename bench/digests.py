"""Digest delivery beside instant delivery: the same alerts drained from the outbox by the
dispatcher, once to chats that take each alert on its own and once to chats in `/mode daily`,
whose alerts are triaged, held and then sent as one digest per chat.

The channel is a console writing into memory (no pacing), so the figures are the store's and the
dispatcher's own work: claims, leases, triage, rendering, settling. Also timed: the rounds (triage
and claim) that find nothing to send while every alert is held, the cost a held outbox adds to
an idle bot each second.
Prints figures; asserts nothing.

    .venv/bin/python bench/digests.py                      # 200 chats x 20 alerts, SQLite
    .venv/bin/python bench/digests.py --database-url postgresql://127.0.0.1/test
"""

from __future__ import annotations

import argparse
import asyncio
import io
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.channels.base import SentMessage
from bot.channels.console import ConsoleChannel
from bot.delivery import Dispatcher
from bot.models import DigestPage, FeedItem, FeedState, Outgoing, Platform, Recipient, Tag
from bot.store import Store, connect
from bot.store.codec import encode_alert
from bot.store.records import FeedSpec, PollRecord, QueuedAlert

START = datetime(2026, 3, 1, 6, 0, tzinfo=UTC).timestamp()
DIGEST_DUE = datetime(2026, 3, 1, 8, 0, tzinfo=UTC).timestamp()
POLLED = PollRecord(FeedState.ACTIVE, None, None, None, 0, None, None, True)


class MemoryConsole(ConsoleChannel):
    """The console channel into memory, counting the messages it sends."""

    platform = Platform.TELEGRAM

    def __init__(self) -> None:
        super().__init__(io.StringIO())
        self.messages = 0

    async def send(self, message: Outgoing) -> SentMessage:
        self.messages += 1
        return await super().send(message)

    async def send_digest(self, page: DigestPage) -> SentMessage:
        self.messages += 1
        return await super().send_digest(page)


async def queue(store: Store, chats: list[Recipient], per_chat: int, feed: str) -> None:
    """`per_chat` alerts for every chat, as polls queue them (one poll per item)."""
    record = await store.feeds.add(FeedSpec(feed, f"http://127.0.0.1:9/{feed}.xml", 60.0))
    assert record is not None
    for n in range(per_chat):
        key = f"{feed}-{n}"
        item = FeedItem(key, key, f"https://news.example/{key}", f"AI 소식 {n}", "본문.")
        payload = encode_alert(item, (Tag("ai", ()),))
        alerts = [QueuedAlert(chat, key, payload, None) for chat in chats]
        await store.polls.record(record.id, POLLED, START + n, listed_keys=[key], alerts=alerts)


async def drain(store: Store, now: float) -> tuple[float, int]:
    """Seconds to deliver everything due at `now`, and the messages it took."""
    channel = MemoryConsole()
    dispatcher = Dispatcher(store.outbox, store.chats, channel, clock=lambda: now)
    started = time.perf_counter()
    await dispatcher.drain(wait_up_to=60)
    return time.perf_counter() - started, channel.messages


async def run(url: str, chats: int, per_chat: int) -> None:
    store = await connect(url)
    try:
        instant = [Recipient(Platform.TELEGRAM, str(1000 + n)) for n in range(chats)]
        daily = [Recipient(Platform.TELEGRAM, str(5000 + n)) for n in range(chats)]
        for chat in daily:
            await store.chats.set_delivery(chat, START, mode="daily 08:00")
        await queue(store, instant, per_chat, "instant")
        alerts = chats * per_chat
        seconds, messages = await drain(store, START + per_chat)
        print(
            f"instant: {alerts} alerts in {messages} messages, {seconds:.2f} s "
            f"({alerts / seconds:,.0f} alerts/s)"
        )

        await queue(store, daily, per_chat, "daily")
        held_seconds, held_messages = await drain(store, START + per_chat)
        idle_started = time.perf_counter()
        rounds = 20
        for _ in range(rounds):  # what a running dispatcher does each idle second
            await store.outbox.digests.untriaged(Platform.TELEGRAM, operator_holds=False)
            assert await store.outbox.claim(Platform.TELEGRAM, START + per_chat + 1) == []
        idle = (time.perf_counter() - idle_started) / rounds
        digest_seconds, digests = await drain(store, DIGEST_DUE)
        print(
            f"daily:   {alerts} alerts triaged and held in {held_seconds:.2f} s "
            f"({held_messages} messages), then {digests} digests in {digest_seconds:.2f} s "
            f"({alerts / (held_seconds + digest_seconds):,.0f} alerts/s)"
        )
        print(f"an idle round (triage and claim) with {alerts} alerts held: {idle * 1000:.1f} ms")
        ratio = (held_seconds + digest_seconds) / seconds
        print(f"digest / instant time for the same alerts: {ratio:.2f}")
    finally:
        await store.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database-url", help="a database to use (default: a temporary SQLite)")
    parser.add_argument("--chats", type=int, default=200)
    parser.add_argument("--per-chat", type=int, default=20)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        url = args.database_url or f"sqlite+aiosqlite:///{folder}/bench.db"
        asyncio.run(run(url, args.chats, args.per_chat))


if __name__ == "__main__":
    main()
