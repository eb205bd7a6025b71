"""The stories aggregate: reports of one event from many feeds, and each chat's message for it.

A story's items carry their grouping features (JSON) so that any process can rebuild its in-memory
index from the store after a restart, and pick up the items other processes added since.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from typing import Any, NamedTuple

from sqlalchemy import Select, bindparam, delete, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.models import Source
from bot.store.engine import Database
from bot.store.schema import outbox, stories, story_items, story_messages


class Filed(NamedTuple):
    """Where `StoryStore.add_item` filed an item."""

    story_id: int
    row_id: int | None
    """The item's new row; None when it was filed already (it keeps its story)."""
    had: frozenset[str]
    """The topics the story had before (so a report adding `breaking` shows)."""
    started: bool
    """Whether the item started the story."""
    reprinted: bool = False
    """Whether the story has an item of the same link already: one article another feed
    carries too."""


@dataclass(frozen=True, slots=True)
class StoryItemRecord:
    """One report of a story, as the index needs it back."""

    id: int
    story_id: int
    features: dict[str, Any]
    added_at: float


@dataclass(frozen=True, slots=True)
class StoryMessage:
    """The message a chat got for a story, to be edited when more sources report it."""

    message_id: str
    message_chat: str
    """Where the platform put it (a Slack DM's channel id differs from the user id we sent to)."""
    caption: bool
    """Telegram: a photo whose caption is the alert (edited with editMessageCaption)."""
    payload: str
    """The alert as it was sent (`codec.encode_alert`), to render again with the new sources."""
    edited_at: float | None
    shown_sources: int = 0
    """How many other outlets the message names (its `also` line): none when first sent."""


# An item's statements are built once (building one cost more than SQLite took to run it);
# parameters are prefixed `b_`: an UPDATE takes a parameter named like a column as a value to set
TOPICS = select(stories.c.topics).where(stories.c.id == bindparam("b_story"))
"""The topics story `b_story` has so far."""
GROWN = (
    update(stories)
    .where(stories.c.id == bindparam("b_story"))
    .values(last_item_at=bindparam("b_now"), topics=bindparam("b_topics"))
)
"""Story `b_story` has a new report at `b_now`, and its topics are now `b_topics`."""
NEW_STORY = stories.insert().returning(stories.c.id)
SAME_LINK = (
    select(story_items.c.story_id)
    .where(story_items.c.id > bindparam("b_after"), story_items.c.link == bindparam("b_link"))
    .order_by(story_items.c.id)
    .limit(1)
)
"""The story of the first item with link `b_link` filed after row `b_after`."""
HAS_LINK = (
    select(story_items.c.id)
    .where(
        story_items.c.story_id == bindparam("b_story"), story_items.c.link == bindparam("b_link")
    )
    .limit(1)
)
"""An item of story `b_story` with link `b_link`, if any."""

JOINED_INTO = select(stories.c.joined_into).where(stories.c.id == bindparam("b_story"))
"""The story `b_story` was joined into, if any."""
FOLLOW = JOINED_INTO.with_for_update()
"""The same, the row locked until the transaction ends (a join waits for it, or it for a join)."""
FOLLOW_SHARED = JOINED_INTO.with_for_update(read=True)
"""The same, locked against a join only: the alerts of one story sent at once do not queue."""
MAX_JOINS = 32
"""Joins followed from a story at most (a chain of them is one story reported under ever more
headlines; more than this many is a loop no process should have made)."""


async def _current(conn: AsyncConnection, story_id: int, query: Select[Any] = FOLLOW) -> int:
    """The story `story_id` is part of now: itself, or the story it was joined into. Each row read
    is locked as `query` says, so a join another process is making is waited for, then seen."""
    for _ in range(MAX_JOINS):
        joined = (await conn.execute(query, {"b_story": story_id})).scalar_one_or_none()
        if joined is None:
            break
        story_id = joined
    return story_id


async def _join(conn: AsyncConnection, into: int, other: int) -> frozenset[str]:
    """Story `other` becomes part of story `into`: its reports, its alerts, and each chat's message
    where the chat has none of `into` (later sources are edited into one message per chat; a chat
    with both keeps `into`'s). Returns the topics `other` had."""
    await conn.execute(
        update(story_items).where(story_items.c.story_id == other).values(story_id=into)
    )
    has_into = select(story_messages.c.chat_ref).where(story_messages.c.story_id == into)
    await conn.execute(
        delete(story_messages).where(
            story_messages.c.story_id == other, story_messages.c.chat_ref.in_(has_into)
        )
    )
    await conn.execute(
        update(story_messages).where(story_messages.c.story_id == other).values(story_id=into)
    )
    await conn.execute(update(outbox).where(outbox.c.story_id == other).values(story_id=into))
    await conn.execute(update(stories).where(stories.c.id == other).values(joined_into=into))
    topics = (await conn.execute(TOPICS, {"b_story": other})).scalar_one_or_none()
    return frozenset((topics or "").split())


async def _story_of_link(conn: AsyncConnection, link: str, after: int) -> int | None:
    """The story of an item with `link` filed after row `after`, if any."""
    found = await conn.execute(SAME_LINK, {"b_link": link, "b_after": after})
    return found.scalar_one_or_none()


async def _has_link(conn: AsyncConnection, story_id: int, link: str) -> bool:
    found = await conn.execute(HAS_LINK, {"b_story": story_id, "b_link": link})
    return found.first() is not None


async def _topics(conn: AsyncConnection, story_id: int) -> frozenset[str]:
    """The topics story `story_id` has so far."""
    return frozenset((await conn.execute(TOPICS, {"b_story": story_id})).scalar_one().split())


class StoryStore:
    """Stories, their items, and the message each chat got for each."""

    def __init__(self, db: Database) -> None:
        self._db = db
        self._file_item = (
            db.insert(story_items).on_conflict_do_nothing().returning(story_items.c.id)
        )

    async def items_since(self, after_id: int, added_after: float) -> list[StoryItemRecord]:
        """Items added after row `after_id` (and not before `added_after`), oldest first."""
        query = (
            select(story_items.c.id, story_items.c.story_id, story_items.c.features)
            .add_columns(story_items.c.added_at)
            .where(story_items.c.id > after_id, story_items.c.added_at >= added_after)
            .order_by(story_items.c.id)
        )
        async with self._db.reading() as conn:
            rows = (await conn.execute(query)).all()
        return [StoryItemRecord(r.id, r.story_id, json.loads(r.features), r.added_at) for r in rows]

    async def add_item(
        self,
        story_id: int | None,
        *,
        feed_name: str,
        item_key: str,
        source: str,
        title: str,
        link: str | None,
        features: dict[str, Any],
        topics: Iterable[str],
        now: float,
        unread_after: int | None = None,
        joins: Collection[int] = (),
    ) -> Filed:
        """Add an item to story `story_id`, or to a new story when None: unless an item with its
        link was filed after row `unread_after` (by another process, since this one last read
        the store), whose story it then joins: one article in two feeds polled at once by two
        processes is one story. Stories `joins` (the item is a report of them too) become part of
        its story; a story joined into another files its item there (`Filed.story_id`)."""
        async with self._db.transaction() as conn:
            if story_id is None and link and unread_after is not None:
                story_id = await _story_of_link(conn, link, unread_after)
            joined: frozenset[str] = frozenset()
            if story_id is not None:
                story_id = await _current(conn, story_id)
                for other in sorted(joins):
                    other = await _current(conn, other)
                    if other != story_id:
                        joined |= await _join(conn, story_id, other)
            starts = story_id is None
            if story_id is None:
                had: frozenset[str] = frozenset()
                started = await conn.execute(
                    NEW_STORY,
                    {
                        "created_at": now,
                        "last_item_at": now,
                        "topics": " ".join(sorted(set(topics))),
                    },
                )
                story_id = int(started.scalar_one())
            else:
                had = await _topics(conn, story_id) | joined
            reprinted = bool(link and not starts and await _has_link(conn, story_id, link))
            inserted = await conn.execute(
                self._file_item,
                {
                    "story_id": story_id,
                    "feed_name": feed_name,
                    "item_key": item_key,
                    "source": source[:128],
                    "title": title,
                    "link": link,
                    "features": json.dumps(features, ensure_ascii=False),
                    "added_at": now,
                },
            )
            row_id = inserted.scalar_one_or_none()
            if row_id is None:  # filed by an earlier try of this poll: it keeps its story
                if starts:
                    await conn.execute(delete(stories).where(stories.c.id == story_id))
                filed = select(story_items.c.story_id).where(
                    story_items.c.feed_name == feed_name, story_items.c.item_key == item_key
                )
                story_id = int((await conn.execute(filed)).scalar_one())
                return Filed(story_id, None, await _topics(conn, story_id), started=False)
            if not starts:
                grown = {
                    "b_story": story_id,
                    "b_now": now,
                    "b_topics": " ".join(sorted(had | set(topics))),
                }
                await conn.execute(GROWN, grown)
        return Filed(story_id, int(row_id), had, starts, reprinted)

    async def sources(self, story_id: int) -> list[Source]:
        """Who reported the story, first report first (one entry per feed)."""
        return (await self.sources_of([story_id])).get(story_id, [])

    async def sources_of(self, story_ids: Collection[int]) -> dict[int, list[Source]]:
        """`sources` of each of `story_ids` (those with reports), in one read."""
        query = (
            select(story_items.c.story_id, story_items.c.feed_name)
            .add_columns(story_items.c.source, story_items.c.link)
            .where(story_items.c.story_id.in_(story_ids))
            .order_by(story_items.c.id)
        )
        if not story_ids:
            return {}
        async with self._db.reading() as conn:
            rows = (await conn.execute(query)).all()
        seen: set[tuple[int, str]] = set()
        out: dict[int, list[Source]] = {}
        for row in rows:
            if (row.story_id, row.feed_name) not in seen:
                seen.add((row.story_id, row.feed_name))
                source = Source(row.source or row.feed_name, row.link)
                out.setdefault(row.story_id, []).append(source)
        return out

    async def message(self, chat_ref: int, story_id: int) -> StoryMessage | None:
        """The chat's message for the story (or for the story it was joined into since)."""
        async with self._db.reading() as conn:
            story_id = await _current(conn, story_id, JOINED_INTO)
            query = select(story_messages).where(
                story_messages.c.chat_ref == chat_ref, story_messages.c.story_id == story_id
            )
            row = (await conn.execute(query)).first()
        if row is None:
            return None
        return StoryMessage(
            row.message_id,
            row.message_chat,
            bool(row.caption),
            row.payload,
            row.edited_at,
            row.shown_sources,
        )

    async def remember_message(
        self, chat_ref: int, story_id: int, message: StoryMessage, now: float
    ) -> None:
        """The chat's first message for the story (a later alert of it does not replace it); an
        alert on its way while its story was joined into another is that story's message."""
        async with self._db.transaction() as conn:
            story_id = await _current(conn, story_id, FOLLOW_SHARED)
            await conn.execute(
                self._db.insert(story_messages)
                .values(
                    chat_ref=chat_ref,
                    story_id=story_id,
                    message_id=message.message_id,
                    message_chat=message.message_chat,
                    caption=message.caption,
                    payload=message.payload,
                    sent_at=now,
                )
                .on_conflict_do_nothing()
            )

    async def mark_edited(self, chat_ref: int, story_id: int, now: float, shown: int) -> None:
        """The chat's message for the story was edited at `now` to name `shown` other outlets."""
        async with self._db.transaction() as conn:
            story_id = await _current(conn, story_id, FOLLOW_SHARED)
            await conn.execute(
                update(story_messages)
                .where(story_messages.c.chat_ref == chat_ref, story_messages.c.story_id == story_id)
                .values(edited_at=now, shown_sources=shown)
            )
