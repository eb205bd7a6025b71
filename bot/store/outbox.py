"""The outbox aggregate: alerts (and story edits) waiting for their platform, leased
head-of-queue per chat.

Rows are claimed with `FOR UPDATE SKIP LOCKED` (a no-op on SQLite, where the UPDATE re-checks the
lease instead), and only the oldest pending row of each chat is handed out, so alerts to one chat
go out in order. An edit waiting out its coalescing minute does not hold up the alerts behind it.

Each claim writes a fresh lease token, and every outcome (sent, retry later, failed, released) is
written only while the row still carries that token and is pending: a process whose lease ran out
and was taken over can no longer settle the row, so a late "failed" never overwrites "sent".
A sender renews the leases of its sends in flight, so a slow send keeps its row.

A row held for a digest (`digest_at`) is not handed out before its digest is due, and holds up
nothing behind it; a chat with a digest mode or quiet hours has its new rows triaged first (see
`bot.store.digests`). The claim of a due digest leases every held row of its chat due by then,
under the one token, so the digest and its entries are settled together.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from sqlalchemy import and_, case, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.models import OutboxKind, OutboxStatus, Platform, Recipient
from bot.store.chat_refs import ChatRefs
from bot.store.chats import CHOICE_COLUMNS, chat_choices
from bot.store.digests import DigestStore, awaits_triage, lease_digest
from bot.store.engine import Database
from bot.store.records import OutboxEntry, QueuedAlert
from bot.store.schema import chats, outbox

PENDING = OutboxStatus.PENDING


def outbox_rows(
    alerts: Sequence[QueuedAlert], refs: Mapping[Recipient, int], feed_name: str, now: float
) -> list[dict[str, Any]]:
    """The outbox rows of `alerts`, due now."""
    return [
        {
            "chat_ref": refs[a.recipient],
            "platform": a.recipient.platform.value,
            "feed_name": feed_name,
            "item_key": a.item_key,
            "payload": a.payload,
            "not_before": now,
            "created_at": now,
            "published_at": a.published_at,
            "kind": OutboxKind.ALERT,
            "story_id": a.story_id,
        }
        for a in alerts
    ]


class OutboxStore:
    """Queue, lease and settle alerts. Methods take `now` rather than reading a clock."""

    def __init__(self, db: Database, refs: ChatRefs) -> None:
        self._db = db
        self._refs = refs
        self.digests = DigestStore(db)

    async def queue_notices(
        self, notices: Sequence[QueuedAlert], feed_name: str, now: float
    ) -> None:
        """Queue operator notices (a feed failing or back) for the bot's admins."""
        if not notices:
            return
        async with self._db.transaction() as conn:
            refs = await self._refs.ids(conn, {n.recipient for n in notices}, now)
            rows = outbox_rows(notices, refs, feed_name, now)
            await conn.execute(self._db.insert(outbox).on_conflict_do_nothing(), rows)

    async def claim(
        self,
        platform: Platform,
        now: float,
        *,
        limit: int = 50,
        lease: float = 60.0,
        exclude_chats: Iterable[int] = (),
        operator_holds: bool = False,
    ) -> list[OutboxEntry]:
        """Lease the due head of up to `limit` chats (never two of one chat at once): half of
        them the oldest heads, the rest the newest. A broadcast to every chat then goes out
        oldest first at half the rate or more, and an alert queued behind it for other chats
        leaves within seconds instead of after it; every row still becomes the oldest in time.
        Due digests come first, by their time (a quarter of the claim at most); the rows held for
        later digests are never read. `operator_holds`: the config sets a digest mode or quiet
        hours somewhere, so a chat that left either to the operator waits for its triage."""
        older = outbox.alias("older")
        lease_free = or_(outbox.c.lease_until.is_(None), outbox.c.lease_until < now)
        # the chat's first pending row that is an alert or a due edit, alone or in a due digest:
        # a subquery per row met (never an anti-join, whose plan turns into a scan of every
        # pending row per row met while the table's statistics predate a broadcast)
        head_of_queue = outbox.c.id == (
            select(older.c.id)
            .where(
                older.c.chat_ref == outbox.c.chat_ref,
                older.c.status == PENDING,
                or_(older.c.kind == OutboxKind.ALERT, older.c.not_before <= now),
                or_(older.c.digest_at.is_(None), older.c.digest_at <= now),
            )
            .order_by(older.c.id)
            .limit(1)
            .scalar_subquery()
        )
        query = (
            select(outbox.c.id)
            .where(
                outbox.c.platform == platform.value,
                outbox.c.status == PENDING,
                outbox.c.not_before <= now,
                lease_free,
                head_of_queue,
            )
            .with_for_update(skip_locked=True)
        )
        excluded = list(exclude_chats)
        if excluded:
            query = query.where(outbox.c.chat_ref.not_in(excluded))
        # due digests by their time (a quarter of the claim at most), then the rows that go alone
        digests = query.where(outbox.c.digest_at <= now).order_by(outbox.c.digest_at)
        alone = query.where(outbox.c.digest_at.is_(None), ~awaits_triage(operator_holds))
        async with self._db.transaction() as conn:
            ids = [r.id for r in await conn.execute(digests.limit((limit + 3) // 4))]
            room = limit - len(ids)
            oldest = [
                r.id for r in await conn.execute(alone.order_by(outbox.c.id).limit((room + 1) // 2))
            ]
            ids += oldest
            if len(oldest) == (room + 1) // 2 and room > 1:
                newest = alone.where(outbox.c.id.not_in(oldest)).order_by(outbox.c.id.desc())
                ids += [r.id for r in await conn.execute(newest.limit(limit - len(ids)))]
            if not ids:
                return []
            token = secrets.token_hex(16)
            # re-checked in the UPDATE itself: SQLite has no row locks, and another process
            # may have leased a row between our SELECT and this statement
            leased = await conn.execute(
                update(outbox)
                .where(outbox.c.id.in_(ids), outbox.c.status == PENDING, lease_free)
                .values(
                    lease_until=now + lease,
                    lease_token=token,
                    attempts=outbox.c.attempts + 1,
                )
                .returning(outbox.c.id, outbox.c.chat_ref, outbox.c.digest_at)
            )
            heads = leased.all()
            if not heads:
                return []
            for head in heads:
                if head.digest_at is not None:
                    await lease_digest(conn, head.chat_ref, head.id, token, now, now + lease)
            return await _entries(conn, [head.id for head in heads])

    async def mark_sent(self, entry: OutboxEntry, now: float) -> bool:
        """Record that the platform accepted `entry`; False when the lease was no longer ours."""
        return await self._settle(
            entry, status=OutboxStatus.SENT, sent_at=now, lease_until=None, last_error=None
        )

    async def retry_later(self, entry: OutboxEntry, at: float, error: str) -> bool:
        """Put `entry` back, due at `at`; False when the lease was no longer ours."""
        return await self._settle(entry, not_before=at, lease_until=None, last_error=error[:500])

    async def mark_failed(self, entry: OutboxEntry, error: str) -> bool:
        """Give up on `entry` with its reason; False when the lease was no longer ours."""
        return await self._settle(
            entry, status=OutboxStatus.FAILED, lease_until=None, last_error=error[:500]
        )

    async def renew(self, entries: Iterable[OutboxEntry], until: float) -> set[int]:
        """Extend the leases still ours to `until`; returns the ids renewed."""
        renewed: set[int] = set()
        async with self._db.transaction() as conn:
            for entry in entries:
                result = await conn.execute(
                    update(outbox)
                    .where(_held(entry))
                    .values(lease_until=until)
                    .returning(outbox.c.id)
                )
                renewed.update(r.id for r in result)
        return renewed

    async def _settle(self, entry: OutboxEntry, **values: Any) -> bool:
        async with self._db.transaction() as conn:
            result = await conn.execute(
                update(outbox).where(_held(entry)).values(values).returning(outbox.c.id)
            )
            return result.first() is not None

    async def release(self, entries: Iterable[OutboxEntry]) -> None:
        """Give back leases unsent (shutdown): the rows are due again at once."""
        async with self._db.transaction() as conn:
            for entry in entries:
                await conn.execute(
                    update(outbox)
                    .where(_held(entry))
                    .values(lease_until=None, attempts=outbox.c.attempts - 1)
                )

    async def next_due(self, platform: Platform) -> float | None:
        """When the earliest pending alert of `platform` becomes due (None: nothing pending);
        an alert held for a digest is due with its digest."""
        due = case(
            (outbox.c.digest_at > outbox.c.not_before, outbox.c.digest_at),
            else_=outbox.c.not_before,
        )
        async with self._db.reading() as conn:
            query = select(func.min(due)).where(
                outbox.c.platform == platform.value, outbox.c.status == PENDING
            )
            value = (await conn.execute(query)).scalar_one_or_none()
        return float(value) if value is not None else None

    async def recent(self, chat_ref: int, limit: int = 5) -> list[tuple[str, int | None]]:
        """(payload, story id) of the newest alerts sent to this chat (for `/why`: one held
        for a digest or quiet hours has not reached it yet)."""
        async with self._db.reading() as conn:
            rows = await conn.execute(
                select(outbox.c.payload, outbox.c.story_id)
                .where(
                    outbox.c.chat_ref == chat_ref,
                    outbox.c.status == OutboxStatus.SENT,
                    outbox.c.kind == OutboxKind.ALERT,
                )
                .order_by(outbox.c.id.desc())
                .limit(limit)
            )
            return [(r.payload, r.story_id) for r in rows]

    async def counts(self) -> dict[tuple[str, OutboxStatus], int]:
        """(platform, status) -> rows."""
        async with self._db.reading() as conn:
            rows = await conn.execute(
                select(outbox.c.platform, outbox.c.status, func.count()).group_by(
                    outbox.c.platform, outbox.c.status
                )
            )
            return {(r[0], OutboxStatus(r[1])): int(r[2]) for r in rows}


def _held(entry: OutboxEntry) -> Any:
    """The row of `entry`, still pending and still leased under the token of its claim."""
    return and_(
        outbox.c.id == entry.id,
        outbox.c.status == PENDING,
        outbox.c.lease_token == entry.lease_token,
    )


async def _entries(conn: AsyncConnection, ids: list[int]) -> list[OutboxEntry]:
    rows = await conn.execute(
        select(outbox, chats.c.chat_id, chats.c.thread_id, *CHOICE_COLUMNS)
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
            choices=chat_choices(r),
            kind=OutboxKind(r.kind),
            story_id=r.story_id,
            lease_token=r.lease_token,
            digest_at=r.digest_at,
        )
        for r in rows
    ]
