"""Retention over months: a feed away longer than retention does not alert its old items again."""

from __future__ import annotations

from bot.models import FeedItem, Platform, Recipient
from bot.store import Store
from bot.store.codec import encode_alert
from bot.store.records import FeedSpec, PollRecord, QueuedAlert

ALICE = Recipient(Platform.TELEGRAM, "1")
OK = PollRecord("active", None, None, None, 0, None, None, succeeded=True)
DAY = 86400.0


def alerts(*keys: str) -> list[QueuedAlert]:
    out = []
    for key in keys:
        item = FeedItem(key=key, guid=key, link=f"https://n/{key}", title=key, summary="")
        out.append(QueuedAlert(ALICE, key, encode_alert(item, ()), None))
    return out


async def test_a_feed_away_longer_than_retention_does_not_alert_its_document_again(
    store: Store,
) -> None:
    feed = await store.feeds.add(FeedSpec("f", "https://n/f.xml", 60))
    assert feed is not None
    await store.polls.record(feed.id, OK, 1.0, listed_keys=["gone", "a", "b"], primed=True)
    await store.polls.record(feed.id, OK, 2.0, listed_keys=["a", "b"])
    # the feed fails (or is disabled, or leaves the config) for longer than retention
    await store.prune(before=90 * DAY)
    assert await store.polls.seen_keys(feed.id, ["gone", "a", "b"]) == {"a", "b"}
    queued = await store.polls.record(
        feed.id, OK, 91 * DAY, listed_keys=["a", "b", "new"], alerts=alerts("a", "b", "new")
    )
    assert queued == {"telegram": 1}, "only the item that is new alerts"
