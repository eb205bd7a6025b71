"""An item's alerts as outbox rows: the payload each chat is sent, and whether a chat that
already has the item's story gets an edit of its message instead (`merge`)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from bot.grouping import StoryAssignment
from bot.models import Alert, FeedItem, Recipient, Tag
from bot.store.codec import encode_alert
from bot.store.records import QueuedAlert


def queued_alerts(
    item: FeedItem,
    alerts: Iterable[Alert],
    story: StoryAssignment | None,
    grouped: Mapping[Recipient, bool],
    realert: frozenset[str],
) -> list[QueuedAlert]:
    """The outbox rows of one item's alerts; one payload per set of tags (an item routed to a
    hundred thousand chats is encoded once or a few times, not a hundred thousand)."""
    published = item.published.timestamp() if item.published else None
    story_id = story.story_id if story else None
    # a story's first report cannot be in any chat yet: nothing to look up
    later = story is not None and not story.first
    realerting = realert & story.new_topics if story is not None else frozenset()
    reprinted = story is not None and story.reprinted
    shared: dict[tuple[Tag, ...], tuple[str, bool]] = {}
    out = []
    for alert in alerts:
        if alert.tags not in shared:
            mergeable = later and not any(t.topic in realerting for t in alert.tags)
            shared[alert.tags] = (encode_alert(item, alert.tags), mergeable)
        payload, mergeable = shared[alert.tags]
        merge = mergeable and grouped.get(alert.recipient, True)
        if reprinted and not grouped.get(alert.recipient, True):
            continue  # a chat with stories off had this very article from the other feed
        out.append(QueuedAlert(alert.recipient, item.key, payload, published, story_id, merge))
    return out
