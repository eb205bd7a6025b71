"""The outbox under real conditions: outcomes fenced by the lease holder, slow sends keeping their
lease, alerts that can never go out failing at once, and pacing across a step of the wall clock."""

from __future__ import annotations

import asyncio
import contextlib
import io
import time

from sqlalchemy import select

from bot.channels.base import SentMessage
from bot.channels.console import CONSOLE_RECIPIENT, ConsoleChannel
from bot.delivery import DeliveryPolicy, Dispatcher
from bot.models import FeedItem, Outgoing, Platform, Recipient
from bot.store import Store, connect
from bot.store.records import QueuedAlert
from bot.store.schema import outbox
from tests.helpers import eventually, queue_item

ALICE = Recipient(Platform.TELEGRAM, "1")


def item(key: str) -> FeedItem:
    return FeedItem(key=key, guid=key, link=f"https://n/{key}", title=f"title {key}", summary="")


async def test_only_the_lease_holder_records_an_outcome(database_url: str) -> None:
    first, second = await connect(database_url), await connect(database_url)
    try:
        await queue_item(first, item("a"), [ALICE], now=1.0)
        (stale,) = await first.outbox.claim(Platform.TELEGRAM, 2.0, lease=30)
        (taken,) = await second.outbox.claim(Platform.TELEGRAM, 40.0, lease=30)
        assert taken.id == stale.id, "an expired lease is taken over"
        assert not await first.outbox.retry_later(stale, 41.0, "HTTP 502")
        assert await second.outbox.mark_sent(taken, 42.0)
        assert not await first.outbox.mark_failed(stale, "timed out")
        assert (await first.outbox.counts()) == {("telegram", "sent"): 1}
        assert await second.outbox.claim(Platform.TELEGRAM, 100.0) == []
    finally:
        await first.close()
        await second.close()


class GatedConsole(ConsoleChannel):
    """The console channel whose sends wait until the test opens the gate."""

    def __init__(self, stream: io.StringIO) -> None:
        super().__init__(stream)
        self.gate = asyncio.Event()
        self.started = 0

    async def send(self, message: Outgoing) -> SentMessage:
        self.started += 1
        await self.gate.wait()
        return await super().send(message)


async def lease_until(store: Store) -> float:
    async with store.db.reading() as conn:
        value = (await conn.execute(select(outbox.c.lease_until))).scalar_one()
    return float(value or 0.0)


async def test_a_send_slower_than_its_lease_keeps_it(database_url: str) -> None:
    store, other = await connect(database_url), await connect(database_url)
    stream = io.StringIO()
    channel = GatedConsole(stream)
    dispatcher = Dispatcher(store.outbox, store.chats, channel, policy=DeliveryPolicy(lease=0.3))
    running = asyncio.create_task(dispatcher.run())
    try:
        await queue_item(store, item("slow"), [CONSOLE_RECIPIENT], now=time.time() - 1)
        await eventually(lambda: channel.started == 1, what="the send started")
        first = await lease_until(store)
        await eventually(
            lambda: _later(store, first + 1.0), what="the lease renewed while the send runs"
        )
        assert await other.outbox.claim(Platform.CONSOLE, time.time()) == []
        channel.gate.set()
        await eventually(lambda: "title slow" in stream.getvalue(), what="the alert sent")
        await eventually(
            lambda: _counts(store, {("console", "sent"): 1}), what="the alert recorded as sent"
        )
        assert channel.started == 1, "nobody else sent it meanwhile"
    finally:
        dispatcher.stop()
        channel.gate.set()
        await running
        await store.close()
        await other.close()


async def _later(store: Store, than: float) -> bool:
    return await lease_until(store) > than


async def _counts(store: Store, expected: dict[tuple[str, str], int]) -> bool:
    return dict(await store.outbox.counts()) == expected


async def test_an_undecodable_alert_fails_at_once_and_its_chat_moves_on(store: Store) -> None:
    now = time.time() - 1
    bad = QueuedAlert(CONSOLE_RECIPIENT, "broken", '{"item": {"key": ', None)
    await store.outbox.queue_notices([bad], "test-feed", now)
    await queue_item(store, item("fine"), [CONSOLE_RECIPIENT], now=now)
    stream = io.StringIO()
    dispatcher = Dispatcher(store.outbox, store.chats, ConsoleChannel(stream))
    await dispatcher.drain(wait_up_to=5.0)
    assert "title fine" in stream.getvalue()
    async with store.db.reading() as conn:
        rows = await conn.execute(select(outbox.c.item_key, outbox.c.status, outbox.c.last_error))
        by_key = {r.item_key: (r.status, r.last_error) for r in rows}
    assert by_key["fine"] == ("sent", None)
    status, error = by_key["broken"]
    assert status == "failed" and error.startswith("undecodable alert: JSONDecodeError")
    assert dispatcher.stats.failed == 1


class PacedConsole(ConsoleChannel):
    """The console channel paced like a platform: per chat and in total."""

    global_interval = 0.01

    def __init__(self, stream: io.StringIO, on_send: list[str]) -> None:
        super().__init__(stream)
        self.sent = on_send

    def chat_interval(self, recipient: Recipient) -> float:
        return 0.1

    async def send(self, message: Outgoing) -> SentMessage:
        self.sent.append(message.item.key)
        return await super().send(message)


async def test_a_step_back_of_the_wall_clock_does_not_stall_pacing(store: Store) -> None:
    queued_at = time.time() - 7200  # still due after the clock steps back an hour
    other = Recipient(Platform.CONSOLE, "other")
    for key in ("a1", "a2"):
        await queue_item(store, item(key), [CONSOLE_RECIPIENT], now=queued_at)
    await queue_item(store, item("b1"), [other], now=queued_at)
    sent: list[str] = []
    step = [0.0]

    def wall() -> float:
        if sent:
            step[0] = 3600.0  # the wall clock steps back an hour after the first send
        return time.time() - step[0]

    channel = PacedConsole(io.StringIO(), sent)
    dispatcher = Dispatcher(store.outbox, store.chats, channel, clock=wall)
    running = asyncio.create_task(dispatcher.run())
    try:
        await eventually(lambda: len(sent) == 3, what="every alert sent", describe=lambda: sent)
    finally:
        dispatcher.stop()
        # a send stalled for an hour is cancelled rather than waited for
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(running, timeout=5)
    assert sent.index("a1") < sent.index("a2")
