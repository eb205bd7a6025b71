"""Put alerts straight into the outbox, the way a poll does (`Store.record_poll`), for delivery
tests and the delivery benchmark: one call per item, fanned out to its recipients."""

from __future__ import annotations

from collections.abc import Sequence

from bot.models import FeedItem, Recipient, Tag
from bot.store import Store
from bot.store.codec import encode_alert
from bot.store.db import FeedSpec, PollRecord, QueuedAlert

_POLLED = PollRecord(
    state="active",
    etag=None,
    last_modified=None,
    body_hash=None,
    failures=0,
    last_error=None,
    next_poll_at=None,
    succeeded=True,
)


async def queue_item(
    store: Store,
    item: FeedItem,
    recipients: Sequence[Recipient],
    tags: tuple[Tag, ...] = (Tag("ai", ()),),
    *,
    now: float,
    feed: str = "test-feed",
) -> int:
    """Queue `item` for each recipient (per chat oldest first, in call order); returns the count."""
    record = await store.feed(feed)
    if record is None:
        record = await store.add_feed(FeedSpec(feed, f"http://127.0.0.1:9/{feed}.xml", 60.0))
    assert record is not None
    payload = encode_alert(item, tags)
    published = item.published.timestamp() if item.published else None
    alerts = [QueuedAlert(r, item.key, payload, published) for r in recipients]
    queued = await store.record_poll(record.id, _POLLED, now, listed_keys=[item.key], alerts=alerts)
    return sum(queued.values())
