"""What the poller knows of push: who hears about each document, and the feed row a pushed
document leaves (the feed's poll state as its polls left it: a push is no fetch of its URL)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol

from bot.feeds.parse import ParsedFeed
from bot.store.records import FeedRecord, PollRecord


class DocumentWatcher(Protocol):
    """Hears about every document a feed served (WebSub discovery) and may slow its polls."""

    async def document(
        self, feed: FeedRecord, parsed: ParsedFeed, headers: Mapping[str, str], url: str
    ) -> None:
        """Told of each parsed document; never raises (push is an extra, polls go on)."""

    def poll_floor(self, feed: FeedRecord) -> float | None:
        """The least seconds between two polls of `feed` (None: its usual interval)."""


def row_after_push(feed: FeedRecord) -> PollRecord:
    """`feed`'s row as it stands: validators, body hash, schedule and failures unchanged."""
    return PollRecord(
        state=feed.state,
        etag=feed.etag,
        last_modified=feed.last_modified,
        body_hash=feed.body_hash,
        failures=feed.failures,
        last_error=feed.last_error,
        next_poll_at=feed.next_poll_at,
        succeeded=False,
        failing_since=feed.failing_since,
    )
