"""Chat row ids: what an outbox row, a subscription or a keyword points at.

A chat's row is made the first time anything is queued or subscribed for it, and never deleted
(a chat that leaves is marked inactive; a group that becomes a supergroup keeps its row under
the new id, so the old id, where another process still remembers it, leads to the same chat),
so an id read from a committed row stays right for the life of the process. `ChatRefs`
remembers the ids the routing table read (committed rows, read outside any write), so a poll
that alerts subscribed chats costs no statement to find them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.models import Platform, Recipient
from bot.store.engine import Database
from bot.store.schema import chats

BATCH = 500
"""Chats per statement: 4 parameters each, far below any engine's limit."""


def recipient_of(row: Any) -> Recipient:
    """The recipient a `chats` row stands for."""
    return Recipient(Platform(row.platform), row.chat_id, row.thread_id)


class ChatRefs:
    """The row id of each chat, made on first sight."""

    def __init__(self, db: Database) -> None:
        self._db = db
        self._committed: dict[Recipient, int] = {}
        """Ids read from committed rows; never from inside a write transaction, where a row
        may be this transaction's own and vanish with its rollback."""

    def remember(self, recipients: Mapping[int, Recipient]) -> None:
        """Keep the ids (keys) of chats read outside a write transaction."""
        self._committed.update((recipient, ref) for ref, recipient in recipients.items())

    def forget(self, recipient: Recipient) -> None:
        """`recipient`'s row now stands for another chat id."""
        self._committed.pop(recipient, None)

    async def ids(
        self, conn: AsyncConnection, recipients: Iterable[Recipient], now: float
    ) -> dict[Recipient, int]:
        """The id of every recipient's row, inserting the missing rows within `conn`.

        In batches (an item routed to 100,000 new chats costs a few hundred statements, not
        200,000), in one sorted order, so two processes creating the same chats take their
        locks alike. Chats remembered cost nothing."""
        wanted = set(recipients)
        refs = {r: self._committed[r] for r in wanted if r in self._committed}
        unknown = sorted(
            wanted - refs.keys(), key=lambda r: (r.platform.value, r.chat_id, r.thread_id)
        )
        for start in range(0, len(unknown), BATCH):
            batch = unknown[start : start + BATCH]
            await conn.execute(  # one compiled statement, its rows sent as a batch
                self._db.insert(chats).on_conflict_do_nothing(),
                [
                    {
                        "platform": r.platform.value,
                        "chat_id": r.chat_id,
                        "thread_id": r.thread_id,
                        "created_at": now,
                    }
                    for r in batch
                ],
            )
            # by platform and chat id, the head of the unique index (PostgreSQL read a list of
            # (platform, chat, thread) triples at 60 ms per 500); other threads are left out here
            for platform in {r.platform for r in batch}:
                chat_ids = {r.chat_id for r in batch if r.platform is platform}
                found = await conn.execute(
                    select(chats.c.id, chats.c.platform, chats.c.chat_id, chats.c.thread_id).where(
                        chats.c.platform == platform.value, chats.c.chat_id.in_(chat_ids)
                    )
                )
                refs.update((recipient_of(row), row.id) for row in found)
        return {r: refs[r] for r in wanted}
