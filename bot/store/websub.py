"""The WebSub aggregate: for each feed whose document names a hub, its push subscription.

A row holds what the hub knows us by (callback token, secret), what we last asked it (the
pending mode, so a verification of intent we did not ask for is refused), and the lease. Every
process on one database shares these rows: a hub's request may reach any of them, and work on
a row (subscribe, renew, unsubscribe) is taken by a compare-and-set on `next_action_at`, like a
feed's poll. A row whose feed was deleted keeps `feed_id` NULL until its hub lets it go.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from sqlalchemy import and_, case, delete, select, update
from sqlalchemy.exc import IntegrityError

from bot.models import FeedState
from bot.store.engine import Database
from bot.store.feeds import feed_record
from bot.store.records import FeedRecord
from bot.store.schema import feeds, websub_subscriptions

subs = websub_subscriptions

RESTING = 10 * 365 * 86400.0
"""When an unsubscribed row is next looked at, unless its feed comes back first."""
SIGNATURE_STRENGTH = {"sha1": 1, "sha256": 2, "sha384": 3, "sha512": 4}
"""The X-Hub-Signature algorithms WebSub names, weakest first."""

_TOKEN = re.compile(r"[A-Za-z0-9_-]{1,64}")
"""The form of a callback token (`secrets.token_urlsafe`)."""


class PushState(StrEnum):
    PENDING = "pending"
    """To be subscribed (new, or retried after a failure) at `next_action_at`."""
    REQUESTED = "requested"
    """Asked the hub; waiting for its verification of intent until `next_action_at`."""
    ACTIVE = "active"
    """Verified; renewed at `next_action_at`, before the lease ends."""
    UNSUBSCRIBING = "unsubscribing"
    """The feed is gone: asked the hub to stop, or about to."""
    UNSUBSCRIBED = "unsubscribed"
    """The feed is disabled or out of the config, and its hub holds nothing for it; the row
    keeps the hub, so the feed is subscribed again if it comes back."""


@dataclass(frozen=True, slots=True)
class PushSubscription:
    id: int
    feed_id: int | None
    hub: str
    topic: str
    callback_token: str
    secret: str
    state: PushState
    pending_mode: str | None
    requested_at: float | None
    lease_seconds: float | None
    lease_expires_at: float | None
    next_action_at: float
    failures: int
    last_error: str | None
    signature_algorithm: str | None
    last_push_at: float | None
    feed_name: str | None = None
    feed_origin: str | None = None
    feed_wanted: bool = False
    """Whether its feed still exists and is polled (else the subscription is cancelled)."""

    def pushed(self, now: float) -> bool:
        """Whether the hub holds a verified subscription for us at `now`."""
        return self.lease_expires_at is not None and self.lease_expires_at > now


_WANTED = and_(feeds.c.id.is_not(None), feeds.c.enabled, feeds.c.state != FeedState.DISABLED.value)
_COLUMNS = (
    *subs.c,
    feeds.c.name.label("feed_name"),
    feeds.c.origin.label("feed_origin"),
    case((_WANTED, True), else_=False).label("feed_wanted"),
)


def _record(row: Any) -> PushSubscription:
    values = dict(row._mapping)
    values["state"] = PushState(values["state"])
    values["feed_wanted"] = bool(values["feed_wanted"])
    return PushSubscription(**values)


def _joined() -> Any:
    return select(*_COLUMNS).select_from(subs.outerjoin(feeds, feeds.c.id == subs.c.feed_id))


class WebSubStore:
    """Push subscriptions, their leases and their hubs' requests."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def hubs(self) -> dict[int, tuple[str, str]]:
        """(hub, topic) of every feed that has a subscription row, by feed id."""
        async with self._db.reading() as conn:
            rows = await conn.execute(select(subs.c.feed_id, subs.c.hub, subs.c.topic))
            return {r.feed_id: (r.hub, r.topic) for r in rows if r.feed_id is not None}

    async def discovered(self, feed_id: int, hub: str, topic: str, now: float) -> bool:
        """Record that feed `feed_id` names `hub` for `topic`; a new pair gets a new callback and
        secret and is due for subscription at once, and the feed's old pair (another hub) is
        cancelled. False when nothing changed."""
        async with self._db.transaction() as conn:
            old = (await conn.execute(select(subs).where(subs.c.feed_id == feed_id))).first()
            if old is not None and (old.hub, old.topic) == (hub, topic):
                return False
            if old is not None:
                await conn.execute(
                    update(subs)
                    .where(subs.c.id == old.id)
                    .values(feed_id=None, state=PushState.UNSUBSCRIBING, next_action_at=now)
                )
            try:
                await conn.execute(
                    subs.insert().values(
                        feed_id=feed_id,
                        hub=hub,
                        topic=topic,
                        callback_token=secrets.token_urlsafe(24),
                        secret=secrets.token_urlsafe(32),
                        state=PushState.PENDING,
                        next_action_at=now,
                    )
                )
            except IntegrityError:  # another process recorded it first
                return False
        return True

    async def all(self) -> list[PushSubscription]:
        async with self._db.reading() as conn:
            return [_record(r) for r in await conn.execute(_joined().order_by(subs.c.id))]

    async def due(self, now: float) -> list[PushSubscription]:
        query = _joined().where(subs.c.next_action_at <= now).order_by(subs.c.next_action_at)
        async with self._db.reading() as conn:
            return [_record(r) for r in await conn.execute(query)]

    async def next_due(self) -> float | None:
        """When the earliest row is due (None: no rows)."""
        async with self._db.reading() as conn:
            rows = await conn.execute(select(subs.c.next_action_at).order_by(subs.c.next_action_at))
            first = rows.first()
        return float(first[0]) if first else None

    async def by_token(self, token: str) -> tuple[PushSubscription, FeedRecord | None] | None:
        """The subscription whose callback ends in `token`, with its feed (None: deleted).
        A token of another form than the bot makes (a NUL, which PostgreSQL refuses) is none."""
        if not _TOKEN.fullmatch(token):
            return None
        async with self._db.reading() as conn:
            row = (await conn.execute(_joined().where(subs.c.callback_token == token))).first()
            if row is None:
                return None
            sub = _record(row)
            query = select(feeds).where(feeds.c.id == sub.feed_id)
            feed_row = (await conn.execute(query)).first() if sub.feed_id is not None else None
        return sub, feed_record(feed_row) if feed_row is not None else None

    async def claim(self, sub_id: int, held: float, until: float) -> bool:
        """Take row `sub_id` for one action if its `next_action_at` is still `held`."""
        return await self._set(sub_id, {"next_action_at": until}, held=held)

    async def requested(self, sub_id: int, mode: str, now: float, verify_by: float) -> None:
        state = PushState.REQUESTED if mode == "subscribe" else PushState.UNSUBSCRIBING
        values = {"state": state, "pending_mode": mode, "requested_at": now}
        await self._set(sub_id, {**values, "next_action_at": verify_by})

    async def failed(
        self,
        sub_id: int,
        state: PushState,
        error: str,
        retry_at: float,
        *,
        poll_by: float,
        lease_ended: bool = False,
    ) -> None:
        """The hub refused, failed or denied: try again at `retry_at`, and have the feed polled
        by `poll_by` at the latest (when its lease ends), so that a feed polled rarely while it
        was pushed is polled at its own interval again once pushes stop. `lease_ended`: the hub
        holds no subscription any more (it denied one it had), whatever lease it had granted."""
        values: dict[str, Any] = {
            "state": state,
            "pending_mode": None,
            "failures": subs.c.failures + 1,
            "last_error": error[:500],
            "next_action_at": retry_at,
        }
        if lease_ended:
            values["lease_expires_at"] = None
        async with self._db.transaction() as conn:
            await conn.execute(update(subs).where(subs.c.id == sub_id).values(values))
            feed_id = select(subs.c.feed_id).where(subs.c.id == sub_id).scalar_subquery()
            await conn.execute(
                update(feeds)
                .where(feeds.c.id == feed_id, feeds.c.next_poll_at > poll_by)
                .values(next_poll_at=poll_by)
            )

    async def verified(self, sub_id: int, lease: float, now: float, renew_at: float) -> None:
        values = {
            "state": PushState.ACTIVE,
            "pending_mode": None,
            "lease_seconds": lease,
            "lease_expires_at": now + lease,
            "failures": 0,
            "last_error": None,
            "next_action_at": renew_at,
        }
        await self._set(sub_id, values)

    async def pushed(self, sub_id: int, algorithm: str, now: float) -> None:
        """A signed push arrived; the strongest algorithm seen is remembered, so a hub that
        signed with sha256 once cannot be impersonated with sha1 later."""
        async with self._db.transaction() as conn:
            old = (
                await conn.execute(select(subs.c.signature_algorithm).where(subs.c.id == sub_id))
            ).scalar_one_or_none()
            strongest = max(
                (a for a in (old, algorithm) if a), key=lambda a: SIGNATURE_STRENGTH.get(a, 0)
            )
            await conn.execute(
                update(subs)
                .where(subs.c.id == sub_id)
                .values(last_push_at=now, signature_algorithm=strongest)
            )

    async def let_go(self, sub: PushSubscription, now: float) -> None:
        """The hub holds nothing for `sub` any more: the row goes with its feed, or waits for
        the feed to come back."""
        if sub.feed_id is None:
            async with self._db.transaction() as conn:
                await conn.execute(delete(subs).where(subs.c.id == sub.id))
            return
        values = {
            "state": PushState.UNSUBSCRIBED,
            "pending_mode": None,
            "lease_seconds": None,
            "lease_expires_at": None,
            "failures": 0,
            "last_error": None,
            "next_action_at": now + RESTING,
        }
        await self._set(sub.id, values)

    async def _set(self, sub_id: int, values: dict[str, Any], *, held: float | None = None) -> bool:
        query = update(subs).where(subs.c.id == sub_id)
        if held is not None:
            query = query.where(subs.c.next_action_at == held)
        async with self._db.transaction() as conn:
            result = await conn.execute(query.values(values).returning(subs.c.id))
            return result.first() is not None
