"""A broadcast to many chats does not hold up the alerts of other stories to other chats: each
claim hands out the oldest heads and the newest, so both go out at once, and each chat still gets
its alerts oldest first."""

from __future__ import annotations

from bot.models import FeedItem, Platform, Recipient
from bot.store import Store
from tests.helpers import queue_item


def item(key: str) -> FeedItem:
    return FeedItem(key=key, guid=key, link=f"https://n/{key}", title=key, summary="")


def telegram(chats: range) -> list[Recipient]:
    return [Recipient(Platform.TELEGRAM, str(chat)) for chat in chats]


async def test_an_alert_queued_behind_a_broadcast_is_claimed_at_once(store: Store) -> None:
    broadcast = range(1000, 1200)
    others = range(5000, 5003)
    await queue_item(store, item("broadcast"), telegram(broadcast), now=1.0)
    await queue_item(store, item("other-story"), telegram(others), now=2.0)
    await queue_item(store, item("later"), telegram(range(1000, 1001)), now=3.0)

    first = await store.outbox.claim(Platform.TELEGRAM, 10.0, limit=10)
    chats = [int(e.recipient.chat_id) for e in first]
    assert len(chats) == len(set(chats)) == 10, "one alert per chat per claim"
    assert set(others) <= set(chats), f"the other story waits behind the broadcast: {chats}"
    assert {1000, 1001, 1002, 1003, 1004} <= set(chats), "the broadcast goes on oldest first"
    first_of_1000 = next(e for e in first if e.recipient.chat_id == "1000")
    assert "broadcast" in first_of_1000.payload, "a chat's own alerts stay oldest first"

    for entry in first:
        assert await store.outbox.mark_sent(entry, 11.0)
    rest = []
    while batch := await store.outbox.claim(Platform.TELEGRAM, 12.0, limit=60):
        rest += batch
        for entry in batch:
            assert await store.outbox.mark_sent(entry, 12.0)
    assert len(first) + len(rest) == len(broadcast) + len(others) + 1, "each alert once"
