"""Persistence on SQLite (WAL) or PostgreSQL, one aggregate per module.

`Store` is the handle the composition root opens; each consumer takes only the aggregate it needs:
`feeds` (what to poll), `polls` (a poll's one commit), `chats` (who wants what), `outbox`
(alerts waiting for their platform), `stories` (one event reported by many feeds) and `websub`
(feeds a hub pushes).
"""

from __future__ import annotations

import logging

from sqlalchemy import and_, delete, select

from bot.models import OutboxStatus
from bot.store import schema
from bot.store.chats import ChatStore
from bot.store.engine import Database, open_database
from bot.store.feeds import FeedStore
from bot.store.outbox import OutboxStore
from bot.store.polls import PollStore
from bot.store.problems import DatabaseUnavailable, NoDatabaseYet
from bot.store.schema import outbox, seen_items
from bot.store.stories import StoryStore
from bot.store.websub import WebSubStore

log = logging.getLogger(__name__)


class Store:
    """One database and its aggregates."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.feeds = FeedStore(db)
        self.chats = ChatStore(db)
        self.polls = PollStore(db, self.chats.refs)
        self.outbox = OutboxStore(db, self.chats.refs)
        self.stories = StoryStore(db)
        self.websub = WebSubStore(db)

    @property
    def dialect(self) -> str:
        return self.db.dialect

    async def close(self) -> None:
        await self.db.close()

    async def prune(self, before: float) -> tuple[int, int]:
        """Retention: drop settled alerts older than `before`, and seen keys that dropped out of
        their feed's document before `before`.

        A key's `last_listed_at` moves on every parsed document that lists it, so the keys of a
        feed's latest document all carry its newest `last_listed_at`. Only keys older than that
        (a later document left them out) can go: a feed that was disabled, failing or out of the
        config for longer than retention keeps the keys of the last document it had, and does not
        alert that document again when it comes back.
        """
        async with self.db.transaction() as conn:
            settled = (OutboxStatus.SENT, OutboxStatus.FAILED)
            sent = await conn.execute(
                delete(outbox).where(outbox.c.status.in_(settled), outbox.c.created_at < before)
            )
            newer = seen_items.alias("newer")
            left_out = (
                select(newer.c.key)
                .where(
                    newer.c.feed_id == seen_items.c.feed_id,
                    newer.c.last_listed_at > seen_items.c.last_listed_at,
                )
                .exists()
            )
            old = and_(
                seen_items.c.first_seen_at < before,
                seen_items.c.last_listed_at < before,
                left_out,
            )
            seen = await conn.execute(delete(seen_items).where(old))
            # `schema.stories`: the bare name would be this package's `stories` submodule
            old_stories = schema.stories.c.last_item_at < before
            await conn.execute(delete(schema.stories).where(old_stories))
            return int(sent.rowcount or 0), int(seen.rowcount or 0)


async def connect(url: str, *, create: bool = True) -> Store:
    """A store on `url` with its schema migrated to the newest version (see `open_database`)."""
    return Store(await open_database(url, create=create))


__all__ = ["DatabaseUnavailable", "NoDatabaseYet", "Store", "connect"]
