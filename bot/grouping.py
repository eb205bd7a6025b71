"""Which story a new item belongs to.

The in-memory `StoryIndex` holds the stories of the window; before each assignment it takes in the
items the store gained since it last looked (those other processes filed, or all of the window
after a restart), so every process groups against the same stories. The store keeps the result.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Iterable
from dataclasses import dataclass

from bot.config import StoriesConfig
from bot.models import FeedItem
from bot.store.stories import StoryStore
from bot.stories import StoryFeatures, StoryIndex, features

log = logging.getLogger(__name__)

CATCH_UP_SECONDS = 0.5
"""How stale the items other processes filed may be when an item is grouped: reports of one
event from two outlets seldom come within half a second of each other."""
LEAD_CHARS = 400
"""How much of the body beside the title goes into an item's story features."""


@dataclass(frozen=True, slots=True)
class StoryAssignment:
    """The story an item joined, and the topics it brought that the story did not have."""

    story_id: int
    new_topics: frozenset[str]
    first: bool
    """The story's first report."""
    reprinted: bool = False
    """The story has this article already, from another feed that carries it too."""


def item_lead(item: FeedItem) -> str:
    """The body text that goes into an item's story features beside its title."""
    return (item.summary or item.content)[:LEAD_CHARS]


def item_features(item: FeedItem) -> StoryFeatures:
    return features(item.title, item_lead(item))


class StoryTracker:
    """Assigns items to stories. The index decides at once and the store files the item after,
    so the polls of many feeds do not queue behind one another's writes. A story this process
    starts is in the index under a provisional (negative) id until the store gives it its own;
    an item that matches it meanwhile waits for that id."""

    def __init__(self, store: StoryStore, window: float) -> None:
        self._store = store
        self.window = window
        self._index = StoryIndex(window)
        self._seen_up_to = 0
        self._own: set[int] = set()
        self._starting: dict[int, asyncio.Future[int]] = {}
        """Stories being started, by provisional id: their ids once stored."""
        self._next_provisional = -1
        self._caught_up_at = float("-inf")
        self._reading: asyncio.Future[None] | None = None
        """The read of other processes' items on its way, if one is."""

    async def assign(
        self, item: FeedItem, feed_name: str, topics: Iterable[str], now: float
    ) -> StoryAssignment | None:
        """The story `item` joined or started; None when it could not be read for grouping (a bug
        on one odd item): it then alerts on its own instead of holding back its feed."""
        await self._catch_up(now)
        # no await between the match and the index's add: no other item sees the index between
        try:
            found = item_features(item)
            matches = self._index.matches(found, now)
        except Exception as exc:
            log.warning(
                "stories: item %s of feed %s not grouped (%s: %s); it alerts on its own",
                item.key,
                feed_name,
                type(exc).__name__,
                str(exc)[:200],
            )
            return None
        match = matches[0] if matches else None
        key = match if match is not None else self._start_story()
        self._index.join(key, matches[1:])
        self._index.add(key, found, now)
        try:
            story_id = None if match is None else await self._stored_id(match)
            joins = [await self._stored_id(other) for other in matches[1:]]
            filed = await self._store.add_item(
                story_id,
                feed_name=feed_name,
                item_key=item.key,
                source=item.source or feed_name,
                title=item.title,
                link=item.link,
                features=found.to_json(),
                topics=topics,
                now=now,
                unread_after=self._seen_up_to if match is None else None,
                joins=joins,
            )
        except BaseException as exc:
            if match is None:  # the items waiting for this story fail as it did
                self._index.drop(key)
                starting = self._starting.pop(key)
                if isinstance(exc, asyncio.CancelledError):
                    starting.cancel()
                else:
                    starting.set_exception(exc)
            raise
        if match is None:
            self._starting.pop(key).set_result(filed.story_id)
        if filed.story_id != key:  # started, or joined into another story meanwhile
            self._index.rename(key, filed.story_id)
        if filed.row_id is not None and filed.row_id > self._seen_up_to:
            self._own.add(filed.row_id)
        return StoryAssignment(
            filed.story_id,
            frozenset(topics) - filed.had,
            first=filed.started,
            reprinted=filed.reprinted,
        )

    def _start_story(self) -> int:
        key = self._next_provisional
        self._next_provisional -= 1
        started = asyncio.get_running_loop().create_future()
        started.add_done_callback(_consume_exception)
        self._starting[key] = started
        return key

    async def _stored_id(self, story: int) -> int:
        """The id of story `story` in the store (waiting for it if the story is being started)."""
        starting = self._starting.get(story)
        return story if starting is None else await asyncio.shield(starting)

    async def _catch_up(self, now: float) -> None:
        """Take in the items other processes filed (all of the window at the first call), at
        most every CATCH_UP_SECONDS, so the items of a busy sweep cost one read between them;
        an item that comes while a read is on its way waits for it."""
        self._index.expire(now)
        if self._reading is None:
            if time.monotonic() - self._caught_up_at < CATCH_UP_SECONDS:
                return
            self._caught_up_at = time.monotonic()
            self._reading = asyncio.ensure_future(self._read_new(now))
        reading = self._reading
        try:
            await asyncio.shield(reading)
        finally:
            if self._reading is reading and reading.done():
                self._reading = None

    async def _read_new(self, now: float) -> None:
        records = await self._store.items_since(self._seen_up_to, now - self.window)
        for record in records:
            if record.id <= self._seen_up_to:
                continue
            self._seen_up_to = record.id
            if record.id in self._own:
                self._own.discard(record.id)
                continue
            try:
                known = StoryFeatures.from_json(record.features)
            except ValueError:  # written by another version of the grouping: skip it
                continue
            self._index.add(record.story_id, known, record.added_at)


def _consume_exception(future: asyncio.Future[int]) -> None:
    """A story that failed to start may have no item waiting for it: its error is not lost
    (the poll that started it raises it), only not reported twice."""
    if not future.cancelled():
        future.exception()


def tracker_for(
    settings: StoriesConfig, store: StoryStore, current: StoryTracker | None
) -> StoryTracker | None:
    """The tracker for the config's story settings: `current`, kept while its window holds."""
    if not settings.enabled:
        return None
    if current is not None and current.window == settings.window:
        return current
    return StoryTracker(store, settings.window)
