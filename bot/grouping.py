"""Which story a new item belongs to.

The in-memory `StoryIndex` holds the stories of the window; before each assignment it takes in the
items the store gained since it last looked (those other processes filed, or all of the window
after a restart), so every process groups against the same stories. The store keeps the result.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from dataclasses import dataclass

from bot.config import StoriesConfig
from bot.models import FeedItem
from bot.store.stories import StoryStore
from bot.stories import StoryFeatures, StoryIndex, features

LEAD_CHARS = 400
"""How much of the body beside the title goes into an item's story features."""


@dataclass(frozen=True, slots=True)
class StoryAssignment:
    """The story an item joined, and the topics it brought that the story did not have."""

    story_id: int
    new_topics: frozenset[str]
    first: bool
    """The story's first report."""


def item_lead(item: FeedItem) -> str:
    """The body text that goes into an item's story features beside its title."""
    return (item.summary or item.content)[:LEAD_CHARS]


def item_features(item: FeedItem) -> StoryFeatures:
    return features(item.title, item_lead(item))


class StoryTracker:
    """Assigns items to stories, one at a time (the index is not safe to share between tasks)."""

    def __init__(self, store: StoryStore, window: float) -> None:
        self._store = store
        self.window = window
        self._index = StoryIndex(window)
        self._seen_up_to = 0
        self._own: set[int] = set()
        self._lock = asyncio.Lock()

    async def assign(
        self, item: FeedItem, feed_name: str, topics: Iterable[str], now: float
    ) -> StoryAssignment:
        found = item_features(item)
        async with self._lock:
            await self._catch_up(now)
            match = self._index.match(found, now)
            story_id, row_id, had = await self._store.add_item(
                match,
                feed_name=feed_name,
                item_key=item.key,
                source=item.source or feed_name,
                title=item.title,
                link=item.link,
                features=found.to_json(),
                topics=topics,
                now=now,
            )
            if row_id is not None:
                self._own.add(row_id)
                self._index.add(story_id, found, now)
        return StoryAssignment(story_id, frozenset(topics) - had, first=match is None)

    async def _catch_up(self, now: float) -> None:
        self._index.expire(now)
        for record in await self._store.items_since(self._seen_up_to, now - self.window):
            self._seen_up_to = max(self._seen_up_to, record.id)
            if record.id in self._own:
                self._own.discard(record.id)
                continue
            try:
                known = StoryFeatures.from_json(record.features)
            except ValueError:  # written by another version of the grouping: skip it
                continue
            self._index.add(record.story_id, known, record.added_at)


def tracker_for(
    settings: StoriesConfig, store: StoryStore, current: StoryTracker | None
) -> StoryTracker | None:
    """The tracker for the config's story settings: `current`, kept while its window holds."""
    if not settings.enabled:
        return None
    if current is not None and current.window == settings.window:
        return current
    return StoryTracker(store, settings.window)
