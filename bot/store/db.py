"""The store: one async engine and every query the bot runs, on SQLite (WAL) or PostgreSQL.

Writes that belong together happen in one transaction: a poll's new seen keys, its outbox rows and
the feed's new HTTP validators commit or vanish together, so a crash can repeat a poll but never
lose an alert. Outbox rows are claimed with `FOR UPDATE SKIP LOCKED` (a no-op on SQLite, where one
process owns the file), head of each chat's queue only, so alerts to one chat go out in order.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config as AlembicConfig
from sqlalchemy import (
    Connection,
    and_,
    bindparam,
    delete,
    event,
    exists,
    func,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from bot.models import Platform, Recipient, Subscription
from bot.store.schema import chats, feeds, keywords, outbox, seen_items, subscriptions

MIGRATIONS = Path(__file__).parent / "migrations"
_MIGRATION_LOCK = 0x6E657773  # pg advisory lock id: two processes starting at once migrate once


@dataclass(frozen=True, slots=True)
class FeedRecord:
    """A feed as stored, with its HTTP validators and poll state."""

    id: int
    name: str
    url: str
    origin: str
    interval_s: float
    backlog: int
    enabled: bool
    state: str
    primed: bool
    etag: str | None
    last_modified: str | None
    body_hash: str | None
    last_polled_at: float | None
    last_success_at: float | None
    next_poll_at: float | None
    failures: int
    failing_since: float | None
    last_error: str | None

    @property
    def condition(self) -> str:
        """What to call the feed: ok, failing (its last poll failed), disabled (410 Gone) or
        removed (no longer in the config)."""
        if not self.enabled:
            return "removed"
        if self.state == "disabled":
            return "disabled"
        return "failing" if self.failures or self.state == "failing" else "ok"


@dataclass(frozen=True, slots=True)
class FeedSpec:
    """A feed the operator declared (or an admin added): what to sync into the store."""

    name: str
    url: str
    interval_s: float
    backlog: int = 0
    enabled: bool = True


@dataclass(frozen=True, slots=True)
class PollRecord:
    """What one poll changes on its feed row."""

    state: str
    etag: str | None
    last_modified: str | None
    body_hash: str | None
    failures: int
    last_error: str | None
    next_poll_at: float | None
    succeeded: bool
    url: str | None = None
    """New URL after a permanent redirect."""
    failing_since: float | None = None
    """When the current run of failures began (None after a success)."""


@dataclass(frozen=True, slots=True)
class QueuedAlert:
    """An alert to write to the outbox: who gets which item (payload from `codec.encode_alert`)."""

    recipient: Recipient
    item_key: str
    payload: str
    published_at: float | None


@dataclass(frozen=True, slots=True)
class OutboxEntry:
    """A claimed outbox row: one alert to send now."""

    id: int
    chat_ref: int
    recipient: Recipient
    payload: str
    attempts: int
    created_at: float
    published_at: float | None
    timezone: str


@dataclass(frozen=True, slots=True)
class ChatRecord:
    id: int
    recipient: Recipient
    active: bool
    timezone: str
    muted_until: float | None


async def connect(url: str) -> Store:
    """A store on `url` with its schema migrated to the newest version."""
    store = Store(make_engine(url))
    await store.migrate()
    return store


def make_engine(url: str) -> AsyncEngine:
    """An async engine; SQLite gets WAL, a busy timeout and foreign keys."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        engine = create_async_engine(url, connect_args={"timeout": 30})

        @event.listens_for(engine.sync_engine, "connect")
        def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            if parsed.database not in (None, "", ":memory:"):
                cursor.execute("PRAGMA journal_mode=WAL")
                # WAL + NORMAL: a commit survives a process crash (kill -9) and only the newest
                # ones can be lost on power failure, which at-least-once delivery absorbs (the
                # poll repeats, a sent mark is sent again); it spares an fsync per commit
                cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.close()

        return engine
    return create_async_engine(url, pool_pre_ping=True)


def _upgrade(connection: Connection) -> None:
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:id)"), {"id": _MIGRATION_LOCK})
    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["connection"] = connection
    command.upgrade(cfg, "head")


class Store:
    """Every query of the bot. Methods take `now` (epoch seconds) rather than reading a clock."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    async def migrate(self) -> None:
        async with self.engine.begin() as conn:
            await conn.run_sync(_upgrade)

    async def close(self) -> None:
        await self.engine.dispose()

    @asynccontextmanager
    async def _tx(self) -> AsyncIterator[AsyncConnection]:
        async with self.engine.begin() as conn:
            yield conn

    def _insert(self, table: Any) -> Any:
        dialect = postgresql if self.dialect == "postgresql" else sqlite
        return dialect.insert(table)

    # feeds ---------------------------------------------------------------------------------

    async def sync_feeds(self, specs: Sequence[FeedSpec]) -> None:
        """Make the config's feeds present and enabled; disable config feeds no longer listed."""
        async with self._tx() as conn:
            rows = (await conn.execute(select(feeds.c.name, feeds.c.origin))).all()
            existing = {r.name: r.origin for r in rows}
            for spec in specs:
                values = {
                    "url": spec.url,
                    "interval_s": spec.interval_s,
                    "backlog": spec.backlog,
                    "enabled": spec.enabled,
                    "origin": "config",
                }
                if spec.name in existing:
                    await conn.execute(
                        update(feeds).where(feeds.c.name == spec.name).values(values)
                    )
                else:
                    await conn.execute(feeds.insert().values(name=spec.name, **values))
            listed = {spec.name for spec in specs}
            gone = [n for n, origin in existing.items() if origin == "config" and n not in listed]
            if gone:
                await conn.execute(
                    update(feeds).where(feeds.c.name.in_(gone)).values(enabled=False)
                )

    async def add_feed(self, spec: FeedSpec, origin: str = "chat") -> FeedRecord | None:
        """Add a feed; None when one of that name or URL exists already."""
        async with self._tx() as conn:
            clash = await conn.execute(
                select(feeds.c.id).where(or_(feeds.c.name == spec.name, feeds.c.url == spec.url))
            )
            if clash.first() is not None:
                return None
            await conn.execute(
                feeds.insert().values(
                    name=spec.name,
                    url=spec.url,
                    interval_s=spec.interval_s,
                    backlog=spec.backlog,
                    enabled=True,
                    origin=origin,
                )
            )
        return await self.feed(spec.name)

    async def remove_feed(self, name: str) -> bool:
        async with self._tx() as conn:
            result = await conn.execute(delete(feeds).where(feeds.c.name == name))
            return bool(result.rowcount)

    async def feeds(self, *, enabled_only: bool = False) -> list[FeedRecord]:
        query = select(feeds).order_by(feeds.c.id)
        if enabled_only:
            query = query.where(feeds.c.enabled)
        async with self.engine.connect() as conn:
            return [FeedRecord(**row._mapping) for row in await conn.execute(query)]

    async def feed(self, name: str) -> FeedRecord | None:
        async with self.engine.connect() as conn:
            row = (await conn.execute(select(feeds).where(feeds.c.name == name))).first()
        return FeedRecord(**row._mapping) if row else None

    async def seen_keys(self, feed_id: int, keys: Iterable[str]) -> set[str]:
        """Which of `keys` this feed has seen before."""
        wanted = list(dict.fromkeys(keys))
        found: set[str] = set()
        async with self.engine.connect() as conn:
            for start in range(0, len(wanted), 500):
                chunk = wanted[start : start + 500]
                query = select(seen_items.c.key).where(
                    seen_items.c.feed_id == feed_id, seen_items.c.key.in_(chunk)
                )
                found.update(r.key for r in await conn.execute(query))
        return found

    async def record_poll(
        self,
        feed_id: int,
        record: PollRecord,
        now: float,
        *,
        listed_keys: Sequence[str] = (),
        alerts: Sequence[QueuedAlert] = (),
        primed: bool | None = None,
    ) -> dict[str, int]:
        """Commit one poll: validators and state, seen keys and their alerts, all or nothing.

        Only keys this call inserts get their alerts queued, so two processes polling one feed
        at once cannot both queue the same item. Returns the alerts queued, by platform.
        """
        values = _feed_values(record, now)
        if record.url:
            values["url"] = record.url
        if primed is not None:
            values["primed"] = primed
        queued: dict[str, int] = {}
        async with self._tx() as conn:
            await conn.execute(update(feeds).where(feeds.c.id == feed_id).values(values))
            keys = list(dict.fromkeys(listed_keys))
            new_keys: set[str] = set()
            for start in range(0, len(keys), 500):
                chunk = keys[start : start + 500]
                rows = [
                    {"feed_id": feed_id, "key": k, "first_seen_at": now, "last_listed_at": now}
                    for k in chunk
                ]
                inserted = await conn.execute(
                    self._insert(seen_items)
                    .values(rows)
                    .on_conflict_do_nothing()
                    .returning(seen_items.c.key)
                )
                new_keys.update(r.key for r in inserted)
                old = [k for k in chunk if k not in new_keys]
                if old:
                    await conn.execute(
                        update(seen_items)
                        .where(seen_items.c.feed_id == feed_id, seen_items.c.key.in_(old))
                        .values(last_listed_at=now)
                    )
            due = [a for a in alerts if a.item_key in new_keys]
            if due:
                refs = await self._chat_refs(conn, {a.recipient for a in due}, now)
                feed_name = (
                    await conn.execute(select(feeds.c.name).where(feeds.c.id == feed_id))
                ).scalar_one()
                rows = [
                    {
                        "chat_ref": refs[a.recipient],
                        "platform": a.recipient.platform.value,
                        "feed_name": feed_name,
                        "item_key": a.item_key,
                        "payload": a.payload,
                        "not_before": now,
                        "created_at": now,
                        "published_at": a.published_at,
                    }
                    for a in due
                ]
                result = await conn.execute(
                    self._insert(outbox)
                    .values(rows)
                    .on_conflict_do_nothing()
                    .returning(outbox.c.platform)
                )
                for row in result:
                    queued[row.platform] = queued.get(row.platform, 0) + 1
        return queued

    async def record_polls(self, polls: Sequence[tuple[int, PollRecord, float]]) -> None:
        """Commit many successful polls that changed only their feed rows (304, same body) in
        one transaction: a poll of a thousand unchanged feeds is a thousand rows, one commit."""
        by_columns: dict[tuple[str, ...], list[dict[str, Any]]] = {}
        for feed_id, record, now in polls:
            values = _feed_values(record, now)
            row = {"b_id": feed_id, **{f"b_{k}": v for k, v in values.items()}}
            by_columns.setdefault(tuple(values), []).append(row)
        async with self._tx() as conn:
            for columns, rows in by_columns.items():
                statement = (
                    update(feeds)
                    .where(feeds.c.id == bindparam("b_id"))
                    .values({column: bindparam(f"b_{column}") for column in columns})
                )
                await conn.execute(statement, rows)

    async def queue_notices(
        self, notices: Sequence[QueuedAlert], feed_name: str, now: float
    ) -> None:
        """Queue operator notices (a feed failing or back) for the bot's admins."""
        if not notices:
            return
        async with self._tx() as conn:
            refs = await self._chat_refs(conn, {n.recipient for n in notices}, now)
            rows = [
                {
                    "chat_ref": refs[n.recipient],
                    "platform": n.recipient.platform.value,
                    "feed_name": feed_name,
                    "item_key": n.item_key,
                    "payload": n.payload,
                    "not_before": now,
                    "created_at": now,
                    "published_at": None,
                }
                for n in notices
            ]
            await conn.execute(self._insert(outbox).values(rows).on_conflict_do_nothing())

    # chats and subscriptions ---------------------------------------------------------------

    async def _chat_refs(
        self, conn: AsyncConnection, recipients: Iterable[Recipient], now: float
    ) -> dict[Recipient, int]:
        refs: dict[Recipient, int] = {}
        for recipient in recipients:
            await conn.execute(
                self._insert(chats)
                .values(
                    platform=recipient.platform.value,
                    chat_id=recipient.chat_id,
                    thread_id=recipient.thread_id,
                    created_at=now,
                )
                .on_conflict_do_nothing()
            )
            row = (await conn.execute(_chat_query(recipient))).one()
            refs[recipient] = row.id
        return refs

    async def chat(self, recipient: Recipient) -> ChatRecord | None:
        async with self.engine.connect() as conn:
            row = (await conn.execute(_chat_query(recipient))).first()
        return _chat_record(row) if row else None

    async def sync_static_subscriptions(
        self, wanted: Mapping[Recipient, tuple[frozenset[str], frozenset[str]]], now: float
    ) -> None:
        """Make the operator's declared subscriptions (topics, keywords) exactly `wanted`."""
        async with self._tx() as conn:
            refs = await self._chat_refs(conn, wanted, now)
            await conn.execute(delete(subscriptions).where(subscriptions.c.origin == "config"))
            await conn.execute(delete(keywords).where(keywords.c.origin == "config"))
            for recipient, (topics, words) in wanted.items():
                ref = refs[recipient]
                for topic in topics:
                    await conn.execute(
                        self._insert(subscriptions)
                        .values(chat_ref=ref, topic=topic, origin="config")
                        .on_conflict_do_nothing()
                    )
                for word in words:
                    await conn.execute(
                        self._insert(keywords)
                        .values(chat_ref=ref, keyword=word, origin="config")
                        .on_conflict_do_nothing()
                    )

    async def subscribe(self, recipient: Recipient, topics: Iterable[str], now: float) -> list[str]:
        """Add topics; returns those that were new."""
        added = []
        async with self._tx() as conn:
            ref = (await self._chat_refs(conn, [recipient], now))[recipient]
            await conn.execute(update(chats).where(chats.c.id == ref).values(active=True))
            for topic in topics:
                result = await conn.execute(
                    self._insert(subscriptions)
                    .values(chat_ref=ref, topic=topic, origin="user")
                    .on_conflict_do_nothing()
                    .returning(subscriptions.c.topic)
                )
                if result.first() is not None:
                    added.append(topic)
        return added

    async def unsubscribe(self, recipient: Recipient, topics: Iterable[str] | None) -> list[str]:
        """Remove topics (all when None); returns those that were removed."""
        chat = await self.chat(recipient)
        if chat is None:
            return []
        async with self._tx() as conn:
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
        async with self._tx() as conn:
            ref = (await self._chat_refs(conn, [recipient], now))[recipient]
            if add:
                result = await conn.execute(
                    self._insert(keywords)
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
        chat = await self.chat(recipient)
        if chat is None:
            return 0
        async with self.engine.connect() as conn:
            query = select(func.count()).where(keywords.c.chat_ref == chat.id)
            return int((await conn.execute(query)).scalar_one())

    async def set_mute(self, recipient: Recipient, until: float | None, now: float) -> None:
        async with self._tx() as conn:
            ref = (await self._chat_refs(conn, [recipient], now))[recipient]
            await conn.execute(update(chats).where(chats.c.id == ref).values(muted_until=until))

    async def subscriptions(self, *, active_only: bool = True) -> list[Subscription]:
        """Every chat with its topics and keywords (for routing and `/list`)."""
        async with self.engine.connect() as conn:
            query = select(chats)
            if active_only:
                query = query.where(chats.c.active)
            chat_rows = {r.id: r for r in await conn.execute(query)}
            topic_rows = (await conn.execute(select(subscriptions))).all()
            keyword_rows = (await conn.execute(select(keywords))).all()
        topics: dict[int, set[str]] = {}
        words: dict[int, set[str]] = {}
        for row in topic_rows:
            topics.setdefault(row.chat_ref, set()).add(row.topic)
        for row in keyword_rows:
            words.setdefault(row.chat_ref, set()).add(row.keyword)
        out = []
        for ref, row in chat_rows.items():
            if ref not in topics and ref not in words:
                continue
            out.append(
                Subscription(
                    recipient=_recipient(row),
                    topics=frozenset(topics.get(ref, ())),
                    keywords=frozenset(words.get(ref, ())),
                    muted_until=row.muted_until,
                    timezone=row.timezone,
                )
            )
        return out

    async def deactivate_chat(self, chat_ref: int, reason: str) -> None:
        """The chat is gone (blocked, kicked, deleted): stop routing to it; fail its queue."""
        async with self._tx() as conn:
            await conn.execute(
                update(chats)
                .where(chats.c.id == chat_ref)
                .values(active=False, inactive_reason=reason)
            )
            await conn.execute(
                update(outbox)
                .where(outbox.c.chat_ref == chat_ref, outbox.c.status == "pending")
                .values(status="failed", last_error=f"chat deactivated: {reason}", lease_until=None)
            )

    async def move_chat(self, chat_ref: int, new_chat_id: str, now: float) -> None:
        """A group became a supergroup: its subscriptions and queue follow the new id."""
        async with self._tx() as conn:
            row = (await conn.execute(select(chats).where(chats.c.id == chat_ref))).one()
            target = Recipient(Platform(row.platform), new_chat_id, row.thread_id)
            clash = (await conn.execute(_chat_query(target))).first()
            if clash is None:
                await conn.execute(
                    update(chats).where(chats.c.id == chat_ref).values(chat_id=new_chat_id)
                )
                return
            old_topics = select(subscriptions).where(subscriptions.c.chat_ref == chat_ref)
            for row_s in (await conn.execute(old_topics)).all():
                await conn.execute(
                    self._insert(subscriptions)
                    .values(chat_ref=clash.id, topic=row_s.topic, origin=row_s.origin)
                    .on_conflict_do_nothing()
                )
            old_words = select(keywords).where(keywords.c.chat_ref == chat_ref)
            for row_k in (await conn.execute(old_words)).all():
                await conn.execute(
                    self._insert(keywords)
                    .values(chat_ref=clash.id, keyword=row_k.keyword, origin=row_k.origin)
                    .on_conflict_do_nothing()
                )
            await conn.execute(
                update(outbox)
                .where(outbox.c.chat_ref == chat_ref, outbox.c.status == "pending")
                .values(chat_ref=clash.id)
            )
            await conn.execute(
                update(chats)
                .where(chats.c.id == chat_ref)
                .values(active=False, inactive_reason=f"migrated to {new_chat_id}")
            )

    # outbox --------------------------------------------------------------------------------

    async def claim(
        self,
        platform: Platform,
        now: float,
        *,
        limit: int = 50,
        lease: float = 60.0,
        exclude_chats: Iterable[int] = (),
    ) -> list[OutboxEntry]:
        """Lease the oldest due alert of up to `limit` chats (never two of one chat at once)."""
        older = outbox.alias("older")
        lease_free = or_(outbox.c.lease_until.is_(None), outbox.c.lease_until < now)
        head_of_queue = ~exists().where(
            older.c.chat_ref == outbox.c.chat_ref,
            older.c.status == "pending",
            older.c.id < outbox.c.id,
        )
        query = (
            select(outbox.c.id)
            .where(
                outbox.c.platform == platform.value,
                outbox.c.status == "pending",
                outbox.c.not_before <= now,
                lease_free,
                head_of_queue,
            )
            .order_by(outbox.c.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        excluded = list(exclude_chats)
        if excluded:
            query = query.where(outbox.c.chat_ref.not_in(excluded))
        async with self._tx() as conn:
            ids = [r.id for r in await conn.execute(query)]
            if not ids:
                return []
            # re-checked in the UPDATE itself: SQLite has no row locks, and another process
            # may have leased a row between our SELECT and this statement
            leased = await conn.execute(
                update(outbox)
                .where(outbox.c.id.in_(ids), outbox.c.status == "pending", lease_free)
                .values(lease_until=now + lease, attempts=outbox.c.attempts + 1)
                .returning(outbox.c.id)
            )
            ids = [r.id for r in leased]
            if not ids:
                return []
            rows = await conn.execute(
                select(outbox, chats.c.chat_id, chats.c.thread_id, chats.c.timezone)
                .join(chats, chats.c.id == outbox.c.chat_ref)
                .where(outbox.c.id.in_(ids))
                .order_by(outbox.c.id)
            )
            return [
                OutboxEntry(
                    id=r.id,
                    chat_ref=r.chat_ref,
                    recipient=Recipient(Platform(r.platform), r.chat_id, r.thread_id),
                    payload=r.payload,
                    attempts=r.attempts,
                    created_at=r.created_at,
                    published_at=r.published_at,
                    timezone=r.timezone,
                )
                for r in rows
            ]

    async def mark_sent(self, entry_id: int, now: float) -> None:
        async with self._tx() as conn:
            await conn.execute(
                update(outbox)
                .where(outbox.c.id == entry_id)
                .values(status="sent", sent_at=now, lease_until=None, last_error=None)
            )

    async def retry_later(self, entry_id: int, at: float, error: str) -> None:
        async with self._tx() as conn:
            await conn.execute(
                update(outbox)
                .where(outbox.c.id == entry_id)
                .values(not_before=at, lease_until=None, last_error=error[:500])
            )

    async def mark_failed(self, entry_id: int, error: str) -> None:
        async with self._tx() as conn:
            await conn.execute(
                update(outbox)
                .where(outbox.c.id == entry_id)
                .values(status="failed", lease_until=None, last_error=error[:500])
            )

    async def release(self, entry_ids: Iterable[int]) -> None:
        """Give back leases unsent (shutdown): the rows are due again at once."""
        ids = list(entry_ids)
        if not ids:
            return
        async with self._tx() as conn:
            await conn.execute(
                update(outbox)
                .where(outbox.c.id.in_(ids), outbox.c.status == "pending")
                .values(lease_until=None, attempts=outbox.c.attempts - 1)
            )

    async def next_due(self, platform: Platform) -> float | None:
        """When the earliest pending alert of `platform` becomes due (None: nothing pending)."""
        async with self.engine.connect() as conn:
            query = select(func.min(outbox.c.not_before)).where(
                outbox.c.platform == platform.value, outbox.c.status == "pending"
            )
            value = (await conn.execute(query)).scalar_one_or_none()
        return float(value) if value is not None else None

    async def recent_alerts(self, recipient: Recipient, limit: int = 5) -> list[str]:
        """Payloads of the newest alerts queued for this chat (for `/why`)."""
        chat = await self.chat(recipient)
        if chat is None:
            return []
        async with self.engine.connect() as conn:
            rows = await conn.execute(
                select(outbox.c.payload)
                .where(outbox.c.chat_ref == chat.id)
                .order_by(outbox.c.id.desc())
                .limit(limit)
            )
            return [r.payload for r in rows]

    async def outbox_counts(self) -> dict[tuple[str, str], int]:
        """(platform, status) -> rows."""
        async with self.engine.connect() as conn:
            rows = await conn.execute(
                select(outbox.c.platform, outbox.c.status, func.count()).group_by(
                    outbox.c.platform, outbox.c.status
                )
            )
            return {(r[0], r[1]): int(r[2]) for r in rows}

    async def seen_counts(self) -> dict[int, int]:
        async with self.engine.connect() as conn:
            rows = await conn.execute(
                select(seen_items.c.feed_id, func.count()).group_by(seen_items.c.feed_id)
            )
            return {int(r[0]): int(r[1]) for r in rows}

    async def prune(self, before: float) -> tuple[int, int]:
        """Drop sent/failed alerts and seen keys older than `before`, except keys still listed.

        A key is kept while its feed's latest document lists it (`last_listed_at` moves on every
        poll that sees it), so an old item cannot come back as new.
        """
        async with self._tx() as conn:
            sent = await conn.execute(
                delete(outbox).where(
                    outbox.c.status.in_(("sent", "failed")), outbox.c.created_at < before
                )
            )
            listed_recently = and_(
                seen_items.c.first_seen_at < before, seen_items.c.last_listed_at < before
            )
            seen = await conn.execute(delete(seen_items).where(listed_recently))
            return int(sent.rowcount or 0), int(seen.rowcount or 0)


def _feed_values(record: PollRecord, now: float) -> dict[str, Any]:
    """The feed row's columns a poll sets (a successful poll also its last success)."""
    values: dict[str, Any] = {
        "state": record.state,
        "etag": record.etag,
        "last_modified": record.last_modified,
        "body_hash": record.body_hash,
        "failures": record.failures,
        "last_error": record.last_error,
        "next_poll_at": record.next_poll_at,
        "last_polled_at": now,
        "failing_since": record.failing_since,
    }
    if record.succeeded:
        values["last_success_at"] = now
    return values


def _chat_query(recipient: Recipient) -> Any:
    return select(chats).where(
        chats.c.platform == recipient.platform.value,
        chats.c.chat_id == recipient.chat_id,
        chats.c.thread_id == recipient.thread_id,
    )


def _recipient(row: Any) -> Recipient:
    return Recipient(Platform(row.platform), row.chat_id, row.thread_id)


def _chat_record(row: Any) -> ChatRecord:
    return ChatRecord(row.id, _recipient(row), row.active, row.timezone, row.muted_until)
