"""Outbox rows held for digests: which rows wait to be triaged, the lease of a due digest's
entries, and settling a digest's entries together.

A chat with a digest mode (`/mode daily 08:00`) or quiet hours, its own or the operator's
(`defaults:` in the config, while the chat chose nothing), has each new outbox row triaged
before it can be claimed: the dispatcher decides, in the chat's timezone, whether it goes out on
its own or waits in a digest until `digest_at`. The decision depends only on the row's creation
time and the chat's settings, so two processes triaging the same row agree. A digest's entries
are leased, renewed and settled under the claim's token like any send, so a process whose lease
was taken over cannot mark them sent, and an entry is marked sent in the same transaction as
the other entries of the message that carried it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, exists, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.models import Choices, OutboxKind, OutboxStatus, Platform, Recipient
from bot.store.chats import CHOICE_COLUMNS, chat_choices
from bot.store.engine import Database
from bot.store.schema import chats, outbox

PENDING = OutboxStatus.PENDING


@dataclass(frozen=True, slots=True)
class Untriaged:
    """A new row of a chat with a digest mode or quiet hours, with what its triage needs."""

    id: int
    recipient: Recipient
    kind: OutboxKind
    payload: str
    created_at: float
    choices: Choices
    """What the chat chose itself (timezone, delivery mode, quiet hours)."""


@dataclass(frozen=True, slots=True)
class DigestEntry:
    """One leased entry of a due digest."""

    id: int
    payload: str
    lease_token: str
    created_at: float
    story_id: int | None = None


def holds(chat: Any, operator_holds: bool) -> Any:
    """Whether the chat of the `chats` table (or alias) `chat` may hold alerts: it chose a digest
    mode or quiet hours, or it left one of them to an operator who sets one somewhere in the
    config (`operator_holds`; its triage then settles what applies to this chat)."""
    chosen = or_(chat.c.delivery != "", chat.c.quiet != "")
    if not operator_holds:
        return chosen
    return or_(chosen, chat.c.delivery.is_(None), chat.c.quiet.is_(None))


def awaits_triage(operator_holds: bool) -> Any:
    """Outbox rows that may not be claimed yet: their chat may hold alerts and they were not
    triaged."""
    chat = chats.alias("holding_chat")  # apart from any `chats` of the enclosing query
    scheduled = exists().where(chat.c.id == outbox.c.chat_ref, holds(chat, operator_holds))
    return and_(~outbox.c.triaged, scheduled)


async def lease_digest(
    conn: AsyncConnection, chat_ref: int, head: int, token: str, now: float, until: float
) -> None:
    """Lease, with the claim's token, every other held row of the chat due by `now`."""
    await conn.execute(
        update(outbox)
        .where(
            outbox.c.chat_ref == chat_ref,
            outbox.c.id != head,
            outbox.c.status == PENDING,
            outbox.c.digest_at <= now,
            outbox.c.not_before <= now,
            or_(outbox.c.lease_until.is_(None), outbox.c.lease_until < now),
        )
        .values(lease_until=until, lease_token=token, attempts=outbox.c.attempts + 1)
    )


def _ours(entries: Sequence[DigestEntry]) -> Any:
    """The rows of `entries` still pending under the token of their claim."""
    return or_(
        *(and_(outbox.c.id == e.id, outbox.c.lease_token == e.lease_token) for e in entries)
    ) & (outbox.c.status == PENDING)


class DigestStore:
    """Triage, gather and settle the rows held for digests. Methods take `now`."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def untriaged(
        self, platform: Platform, *, operator_holds: bool, limit: int = 500
    ) -> list[Untriaged]:
        """The oldest rows of `platform` waiting for their triage."""
        query = (
            select(
                outbox.c.id,
                outbox.c.kind,
                outbox.c.payload,
                outbox.c.created_at,
                chats.c.platform,
                chats.c.chat_id,
                chats.c.thread_id,
                *CHOICE_COLUMNS,
            )
            .join(chats, chats.c.id == outbox.c.chat_ref)
            .where(
                # from the few chats that hold alerts to their new rows, not the other way
                holds(chats, operator_holds),
                outbox.c.platform == platform.value,
                outbox.c.status == PENDING,
                ~outbox.c.triaged,
            )
            .order_by(outbox.c.id)
            .limit(limit)
        )
        async with self._db.reading() as conn:
            rows = (await conn.execute(query)).all()
        return [
            Untriaged(
                r.id,
                Recipient(Platform(r.platform), r.chat_id, r.thread_id),
                OutboxKind(r.kind),
                r.payload,
                r.created_at,
                chat_choices(r),
            )
            for r in rows
        ]

    async def triage(self, decisions: Iterable[tuple[int, float | None]]) -> None:
        """Record, per row id, when it goes out in a digest (None: on its own)."""
        async with self._db.transaction() as conn:
            for row_id, digest_at in decisions:
                await conn.execute(
                    update(outbox)
                    .where(outbox.c.id == row_id, outbox.c.status == PENDING, ~outbox.c.triaged)
                    .values(triaged=True, digest_at=digest_at)
                )

    async def entries(self, chat_ref: int, token: str) -> list[DigestEntry]:
        """The entries a claim leased for the digest of `chat_ref`, oldest first."""
        async with self._db.reading() as conn:
            rows = await conn.execute(
                select(outbox.c.id, outbox.c.payload, outbox.c.lease_token, outbox.c.created_at)
                .add_columns(outbox.c.story_id)
                .where(
                    outbox.c.chat_ref == chat_ref,
                    outbox.c.lease_token == token,
                    outbox.c.status == PENDING,
                    outbox.c.digest_at.is_not(None),
                )
                .order_by(outbox.c.id)
            )
            return [
                DigestEntry(r.id, r.payload, r.lease_token, r.created_at, r.story_id) for r in rows
            ]

    async def mark_sent(self, entries: Sequence[DigestEntry], now: float) -> int:
        """The entries of one delivered digest message, sent together; returns how many were
        still ours."""
        return await self._settle(
            entries, status=OutboxStatus.SENT, sent_at=now, lease_until=None, last_error=None
        )

    async def mark_failed(self, entries: Sequence[DigestEntry], reason: str) -> int:
        """Give up on these entries (a digest message the platform refuses as it is)."""
        return await self._settle(
            entries, status=OutboxStatus.FAILED, lease_until=None, last_error=reason[:500]
        )

    async def renew(self, entries: Sequence[DigestEntry], until: float) -> int:
        """Extend the leases of a digest in flight; returns how many were still ours."""
        return await self._settle(entries, lease_until=until)

    async def release(self, entries: Sequence[DigestEntry]) -> None:
        """Give these entries back unsent: they are due again with their chat's next claim."""
        await self._settle(entries, lease_until=None, attempts=outbox.c.attempts - 1)

    async def _settle(self, entries: Sequence[DigestEntry], **values: Any) -> int:
        if not entries:
            return 0
        async with self._db.transaction() as conn:
            result = await conn.execute(
                update(outbox).where(_ours(entries)).values(values).returning(outbox.c.id)
            )
            return len(result.all())
