"""The chats aggregate: chats, their topic subscriptions, personal keywords, mute, timezone,
format, delivery mode and quiet hours."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Iterable, Mapping
from contextlib import asynccontextmanager
from typing import Any, Literal

from sqlalchemy import and_, case, delete, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.models import Choices, ExcerptLength, OutboxStatus, Platform, Recipient, Subscription
from bot.store.chat_refs import ChatRefs, recipient_of
from bot.store.engine import CONFIG_LOCK, Database
from bot.store.records import ChatRecord
from bot.store.schema import chats, keywords, outbox, subscriptions


def chat_query(recipient: Recipient) -> Any:
    return select(chats).where(
        chats.c.platform == recipient.platform.value,
        chats.c.chat_id == recipient.chat_id,
        chats.c.thread_id == recipient.thread_id,
    )


ROUTING_TTL = 1.0
"""Seconds `ChatStore.routing` reuses what it read while this process changed no chat."""
CHOICE_COLUMNS = (
    chats.c.timezone,
    chats.c.excerpt,
    chats.c.image,
    chats.c.preview,
    chats.c.language,
    chats.c.delivery,
    chats.c.quiet,
)
"""The columns `chat_choices` reads."""


def chat_choices(row: Any) -> Choices:
    """A chat row's own timezone and `/format` choices (unset: the operator's)."""
    return Choices(
        timezone=row.timezone or None,
        excerpt=ExcerptLength(row.excerpt) if row.excerpt else None,
        image=row.image,
        preview=row.preview,
        language=row.language or None,
        delivery=row.delivery,
        quiet=row.quiet,
    )


class ChatStore:
    """Who wants what: every query on chats, subscriptions and keywords."""

    def __init__(self, db: Database) -> None:
        self._db = db
        self.refs = ChatRefs(db)
        self._version = 0
        """Changes this store committed: a routing table read before one is not reused."""
        self._routing: tuple[int, float, tuple[Subscription, ...]] | None = None
        """The last `subscriptions()` read: the version it was read at, when, and what."""

    @asynccontextmanager
    async def _changing(self) -> AsyncIterator[AsyncConnection]:
        """A transaction that may change who gets what: the routing table is read anew after."""
        try:
            async with self._db.transaction() as conn:
                yield conn
        finally:
            self._version += 1

    async def _ref(self, conn: AsyncConnection, recipient: Recipient, now: float) -> int:
        return (await self.refs.ids(conn, [recipient], now))[recipient]

    async def get(self, recipient: Recipient) -> ChatRecord | None:
        async with self._db.reading() as conn:
            row = (await conn.execute(chat_query(recipient))).first()
        if row is None:
            return None
        return ChatRecord(
            row.id,
            recipient_of(row),
            row.active,
            chat_choices(row),
            row.muted_until,
            row.stories,
        )

    async def sync_static(
        self, wanted: Mapping[Recipient, tuple[frozenset[str], frozenset[str]]], now: float
    ) -> None:
        """Make the operator's declared subscriptions (topics, keywords) exactly `wanted`."""
        async with self._changing() as conn:
            await self._db.one_at_a_time(conn, CONFIG_LOCK)
            refs = await self.refs.ids(conn, wanted, now)
            await conn.execute(delete(subscriptions).where(subscriptions.c.origin == "config"))
            await conn.execute(delete(keywords).where(keywords.c.origin == "config"))
            for recipient, (topics, words) in wanted.items():
                ref = refs[recipient]
                for topic in topics:
                    await conn.execute(
                        self._db.insert(subscriptions)
                        .values(chat_ref=ref, topic=topic, origin="config")
                        .on_conflict_do_nothing()
                    )
                for word in words:
                    await conn.execute(
                        self._db.insert(keywords)
                        .values(chat_ref=ref, keyword=word, origin="config")
                        .on_conflict_do_nothing()
                    )

    async def subscribe(self, recipient: Recipient, topics: Iterable[str], now: float) -> list[str]:
        """Add topics; returns those that were new. A chat that was gone (blocked, kicked) and
        subscribes again starts afresh: what it had chosen before is not shown by /list while it
        is gone, and does not come back unasked."""
        added = []
        async with self._changing() as conn:
            ref = await self._ref(conn, recipient, now)
            active = select(chats.c.active).where(chats.c.id == ref)
            if not (await conn.execute(active)).scalar_one():
                for table in (subscriptions, keywords):
                    chosen = and_(table.c.chat_ref == ref, table.c.origin == "user")
                    await conn.execute(delete(table).where(chosen))
            await conn.execute(
                update(chats).where(chats.c.id == ref).values(active=True, inactive_reason=None)
            )
            for topic in topics:
                result = await conn.execute(
                    self._db.insert(subscriptions)
                    .values(chat_ref=ref, topic=topic, origin="user")
                    .on_conflict_do_nothing()
                    .returning(subscriptions.c.topic)
                )
                if result.first() is not None:
                    added.append(topic)
        return added

    async def unsubscribe(self, recipient: Recipient, topics: Iterable[str] | None) -> list[str]:
        """Remove topics (all when None); returns those that were removed."""
        chat = await self.get(recipient)
        if chat is None:
            return []
        async with self._changing() as conn:
            query = select(subscriptions.c.topic).where(subscriptions.c.chat_ref == chat.id)
            present = [r.topic for r in await conn.execute(query)]
            gone = present if topics is None else [t for t in present if t in set(topics)]
            if gone:
                await conn.execute(
                    delete(subscriptions).where(
                        subscriptions.c.chat_ref == chat.id, subscriptions.c.topic.in_(gone)
                    )
                )
            if topics is None:
                await conn.execute(delete(keywords).where(keywords.c.chat_ref == chat.id))
        return gone

    async def set_keyword(self, recipient: Recipient, word: str, add: bool, now: float) -> bool:
        """Add or remove a personal keyword; False when nothing changed."""
        async with self._changing() as conn:
            ref = await self._ref(conn, recipient, now)
            if add:
                result = await conn.execute(
                    self._db.insert(keywords)
                    .values(chat_ref=ref, keyword=word, origin="user")
                    .on_conflict_do_nothing()
                    .returning(keywords.c.keyword)
                )
                return result.first() is not None
            removed = await conn.execute(
                delete(keywords).where(keywords.c.chat_ref == ref, keywords.c.keyword == word)
            )
            return bool(removed.rowcount)

    async def count_keywords(self, recipient: Recipient) -> int:
        chat = await self.get(recipient)
        if chat is None:
            return 0
        async with self._db.reading() as conn:
            query = select(func.count()).where(keywords.c.chat_ref == chat.id)
            return int((await conn.execute(query)).scalar_one())

    async def set_mute(self, recipient: Recipient, until: float | None, now: float) -> None:
        async with self._changing() as conn:
            ref = await self._ref(conn, recipient, now)
            await conn.execute(update(chats).where(chats.c.id == ref).values(muted_until=until))

    async def set_stories(self, recipient: Recipient, on: bool, now: float) -> None:
        """Whether later reports of a story edit the chat's alert (on) or alert again (off)."""
        async with self._changing() as conn:
            ref = await self._ref(conn, recipient, now)
            await conn.execute(update(chats).where(chats.c.id == ref).values(stories=on))

    async def set_choices(self, recipient: Recipient, now: float, **choice: Any) -> None:
        """Store some of the chat's `/timezone`, `/format` and `/lang` choices (None: back to the
        operator's), by name as in `Choices`; the others stay as stored, whatever another command
        of the chat changes meanwhile."""
        values = dict(choice)
        if "timezone" in values:
            values["timezone"] = values["timezone"] or ""  # the column holds '' for none
        if values.get("excerpt") is not None:
            values["excerpt"] = values["excerpt"].value
        async with self._changing() as conn:
            ref = await self._ref(conn, recipient, now)
            await conn.execute(update(chats).where(chats.c.id == ref).values(values))

    async def adopt(
        self, recipient: Recipient, now: float, *, language: str | None, timezone: str | None
    ) -> None:
        """Take the language and timezone of the chat's first speaker, once: where the chat chose
        neither (a language of '' records that the first speaker was seen and gave none)."""
        async with self._changing() as conn:
            ref = await self._ref(conn, recipient, now)
            zone = case((chats.c.timezone == "", timezone or ""), else_=chats.c.timezone)
            await conn.execute(
                update(chats)
                .where(chats.c.id == ref, chats.c.language.is_(None))
                .values(language=language or "", timezone=zone)
            )

    async def set_delivery(
        self,
        recipient: Recipient,
        now: float,
        choice: Literal["delivery", "quiet"],
        value: str | None,
        *,
        holding: bool,
    ) -> None:
        """Store the chat's `/mode` (`delivery`) or `/quiet` as typed: '' for instant, or no
        quiet hours; None for the operator's again.

        Its alerts waiting for a digest follow the change: when the chat no longer `holding`
        alerts (instant without quiet hours, its choices over the operator's), they go out now
        in one digest; otherwise every waiting alert is triaged again.
        """
        async with self._changing() as conn:
            ref = await self._ref(conn, recipient, now)
            await conn.execute(update(chats).where(chats.c.id == ref).values({choice: value}))
            waiting = and_(
                outbox.c.chat_ref == ref,
                outbox.c.status == OutboxStatus.PENDING,
                or_(outbox.c.lease_until.is_(None), outbox.c.lease_until < now),
            )
            if not holding:
                release = waiting & outbox.c.digest_at.is_not(None)
                await conn.execute(update(outbox).where(release).values(digest_at=now))
            else:
                await conn.execute(
                    update(outbox).where(waiting).values(triaged=False, digest_at=None)
                )

    async def routing(self) -> list[Subscription]:
        """The active chats' subscriptions, as a poll routes by them: read at most once per
        ROUTING_TTL seconds while this store changes none of them, so a sweep of many changed
        feeds reads them once (another process's changes show within ROUTING_TTL)."""
        version, now = self._version, time.monotonic()
        if self._routing is not None:
            read_at_version, read_at, table = self._routing
            if read_at_version == version and now - read_at < ROUTING_TTL:
                return list(table)
        table = tuple(await self.subscriptions())
        self._routing = (version, now, table)
        return list(table)

    async def subscriptions(self, *, active_only: bool = True) -> list[Subscription]:
        """Every chat with its topics and keywords (for routing and `/list`)."""
        async with self._db.reading() as conn:
            query = select(chats)
            if active_only:
                query = query.where(chats.c.active)
            chat_rows = {r.id: r for r in await conn.execute(query)}
            recipients = {ref: recipient_of(row) for ref, row in chat_rows.items()}
            self.refs.remember(recipients)
            topic_rows = (await conn.execute(select(subscriptions))).all()
            keyword_rows = (await conn.execute(select(keywords))).all()
        topics: dict[int, set[str]] = {}
        words: dict[int, set[str]] = {}
        for row in topic_rows:
            topics.setdefault(row.chat_ref, set()).add(row.topic)
        for row in keyword_rows:
            words.setdefault(row.chat_ref, set()).add(row.keyword)
        return [
            Subscription(
                recipient=recipients[ref],
                topics=frozenset(topics.get(ref, ())),
                keywords=frozenset(words.get(ref, ())),
                muted_until=row.muted_until,
                stories=row.stories,
            )
            for ref, row in chat_rows.items()
            if ref in topics or ref in words
        ]

    async def deactivate(self, chat_ref: int, reason: str) -> None:
        """The chat is gone (blocked, kicked, deleted): stop routing to it; fail its queue."""
        async with self._changing() as conn:
            await conn.execute(
                update(chats)
                .where(chats.c.id == chat_ref)
                .values(active=False, inactive_reason=reason)
            )
            await conn.execute(
                update(outbox)
                .where(outbox.c.chat_ref == chat_ref, outbox.c.status == OutboxStatus.PENDING)
                .values(
                    status=OutboxStatus.FAILED,
                    last_error=f"chat deactivated: {reason}",
                    lease_until=None,
                )
            )

    async def deactivate_all(self, platform: Platform, chat_id: str, reason: str) -> int:
        """`deactivate` every active row of `chat_id` (a forum's topics too); how many."""
        async with self._db.reading() as conn:
            refs = [row.id for row in await conn.execute(self._active_rows(platform, chat_id))]
        for ref in refs:
            await self.deactivate(ref, reason)
        return len(refs)

    async def move(self, chat_ref: int, new_chat_id: str) -> bool:
        """A group became a supergroup: its subscriptions and queue follow the new id. False
        when it had moved already (Telegram says so in both chats, handled side by side)."""
        async with self._changing() as conn:
            row = (await conn.execute(select(chats).where(chats.c.id == chat_ref))).one()
            if row.chat_id == new_chat_id:
                return False
            target = Recipient(Platform(row.platform), new_chat_id, row.thread_id)
            self.refs.forget(recipient_of(row))
            clash = (await conn.execute(chat_query(target))).first()
            if clash is None:
                await conn.execute(
                    update(chats).where(chats.c.id == chat_ref).values(chat_id=new_chat_id)
                )
                return True
            old_topics = select(subscriptions).where(subscriptions.c.chat_ref == chat_ref)
            for row_s in (await conn.execute(old_topics)).all():
                await conn.execute(
                    self._db.insert(subscriptions)
                    .values(chat_ref=clash.id, topic=row_s.topic, origin=row_s.origin)
                    .on_conflict_do_nothing()
                )
            old_words = select(keywords).where(keywords.c.chat_ref == chat_ref)
            for row_k in (await conn.execute(old_words)).all():
                await conn.execute(
                    self._db.insert(keywords)
                    .values(chat_ref=clash.id, keyword=row_k.keyword, origin=row_k.origin)
                    .on_conflict_do_nothing()
                )
            pending = and_(outbox.c.chat_ref == chat_ref, outbox.c.status == OutboxStatus.PENDING)
            theirs = outbox.alias("theirs")
            queued_there = (
                select(theirs.c.id)
                .where(
                    theirs.c.chat_ref == clash.id,
                    theirs.c.feed_name == outbox.c.feed_name,
                    theirs.c.item_key == outbox.c.item_key,
                )
                .exists()
            )
            await conn.execute(
                update(outbox).where(pending, ~queued_there).values(chat_ref=clash.id)
            )
            # the rest the new chat has already (it subscribed itself before the move was known)
            await conn.execute(
                update(outbox)
                .where(pending)
                .values(
                    status=OutboxStatus.FAILED,
                    last_error=f"moved: {new_chat_id} has this alert already",
                    lease_until=None,
                )
            )
            await conn.execute(
                update(chats)
                .where(chats.c.id == chat_ref)
                .values(active=False, inactive_reason=f"migrated to {new_chat_id}")
            )
        return True

    async def move_all(self, platform: Platform, old_chat_id: str, new_chat_id: str) -> int:
        """A group became a supergroup (its service message said so): every active chat row of
        `old_chat_id` moves as `move` does; how many this call moved."""
        async with self._db.reading() as conn:
            refs = [row.id for row in await conn.execute(self._active_rows(platform, old_chat_id))]
        return sum([await self.move(ref, new_chat_id) for ref in refs])

    @staticmethod
    def _active_rows(platform: Platform, chat_id: str) -> Any:
        """The ids of the active rows of one chat (one per forum topic subscribed)."""
        return select(chats.c.id).where(
            chats.c.platform == platform.value, chats.c.chat_id == chat_id, chats.c.active
        )
