"""The feeds aggregate: which feeds exist, where they came from, and their poll state.

Processes sharing one database take a feed for one poll by a compare-and-set on its
`next_poll_at` (`claim`): the first to move a due feed's `next_poll_at` to the end of its lease
polls it, the others find it not due. The poll's commit then stores the real next poll time; a
process that died holding a claim gives the feed up when the lease passes.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from sqlalchemy import bindparam, delete, func, or_, select, update

from bot.feeds.identity import feed_identity
from bot.models import FeedState
from bot.store.engine import CONFIG_LOCK, Database
from bot.store.records import FeedRecord, FeedSpec
from bot.store.schema import feeds

log = logging.getLogger(__name__)


def feed_record(row: Any) -> FeedRecord:
    values = dict(row._mapping)
    values["state"] = FeedState(values["state"])
    return FeedRecord(**values)


def _claim(dialect: str, *, in_id_order: bool) -> Any:
    """`FeedStore.claim_due`'s statement: the longest overdue first, or (`in_id_order`) feeds of
    ids above `b_after` in id order."""
    due = or_(feeds.c.next_poll_at.is_(None), feeds.c.next_poll_at <= bindparam("b_now"))
    pick = select(feeds.c.id).where(feeds.c.enabled, feeds.c.state != FeedState.DISABLED.value, due)
    if in_id_order:
        pick = pick.where(feeds.c.id > bindparam("b_after")).order_by(feeds.c.id)
    else:
        pick = pick.order_by(feeds.c.next_poll_at.asc().nulls_first(), feeds.c.id)
    pick = pick.limit(bindparam("b_limit"))
    if dialect == "postgresql":
        pick = pick.with_for_update(skip_locked=True)
    return (
        update(feeds)
        .where(feeds.c.id.in_(pick.scalar_subquery()), due)
        .values(next_poll_at=bindparam("b_until"))
        .returning(*feeds.c)
    )


class FeedStore:
    """Feeds from the config, from OPML and from chats (`/addfeed`)."""

    def __init__(self, db: Database) -> None:
        self._db = db
        # built once (a sweep claims often): parameters b_now, b_until, b_limit, b_after
        self._claim_oldest = _claim(db.dialect, in_id_order=False)
        self._claim_after = _claim(db.dialect, in_id_order=True)

    async def sync(self, specs: Sequence[FeedSpec]) -> None:
        """Make the config's feeds present and enabled; disable config feeds no longer listed.

        A feed is named by its URL's identity (`feed_identity`): a config feed whose URL another
        row already polls (imported from OPML, added from a chat, renamed in the config) takes
        that row over with its seen items, so nothing it saw alerts again; a second config entry
        for the same feed is skipped, and any other row for it is disabled. A feed whose interval
        changed is due at once, not when its old interval would have polled it.
        """
        listed = {spec.name for spec in specs}
        async with self._db.transaction() as conn:
            await self._db.one_at_a_time(conn, CONFIG_LOCK)
            rows = (
                await conn.execute(
                    select(
                        feeds.c.id, feeds.c.name, feeds.c.url, feeds.c.origin, feeds.c.interval_s
                    )
                )
            ).all()
            by_name = {r.name: r for r in rows}
            kept: set[int] = set()
            claimed: dict[str, str] = {}
            for spec in specs:
                identity = feed_identity(spec.url)
                if identity in claimed:
                    log.warning(
                        "feeds %s and %s are one feed (%s): polling it once, as %s",
                        claimed[identity],
                        spec.name,
                        identity,
                        claimed[identity],
                    )
                    continue
                claimed[identity] = spec.name
                values = {
                    "name": spec.name,
                    "url": spec.url,
                    "interval_s": spec.interval_s,
                    "backlog": spec.backlog,
                    "enabled": spec.enabled,
                    "origin": "config",
                }
                row = by_name.get(spec.name) or next(
                    (
                        r
                        for r in rows
                        if r.name not in listed
                        and r.id not in kept
                        and feed_identity(r.url) == identity
                    ),
                    None,
                )
                if row is None:
                    inserted = await conn.execute(feeds.insert().values(values))
                    key = inserted.inserted_primary_key
                    assert key is not None
                    kept.add(key[0])
                else:
                    if row.interval_s != spec.interval_s:  # a new interval counts from now
                        values["next_poll_at"] = None
                    await conn.execute(update(feeds).where(feeds.c.id == row.id).values(values))
                    kept.add(row.id)
            stale = [
                r.id
                for r in rows
                if r.id not in kept
                and (r.origin == "config" or feed_identity(r.url) in claimed)
                and r.name not in listed
            ]
            if stale:
                await conn.execute(update(feeds).where(feeds.c.id.in_(stale)).values(enabled=False))

    async def add(self, spec: FeedSpec, origin: str = "chat") -> FeedRecord | None:
        """Add a feed; None when one of that name, or of that URL once normalised, exists."""
        [added] = await self.add_many([spec], origin)
        return await self.get(spec.name) if added else None

    async def add_many(self, specs: Sequence[FeedSpec], origin: str) -> list[bool]:
        """Add feeds in one transaction (an OPML list of thousands: the stored feeds are read
        once); whether each was added, not when a feed of its name or of its URL once normalised
        is stored or comes earlier in `specs`."""
        async with self._db.transaction() as conn:
            stored = (await conn.execute(select(feeds.c.name, feeds.c.url))).all()
            names = {row.name for row in stored}
            identities = {feed_identity(row.url) for row in stored}
            added: list[bool] = []
            rows: list[dict[str, Any]] = []
            for spec in specs:
                identity = feed_identity(spec.url)
                fresh = spec.name not in names and identity not in identities
                added.append(fresh)
                if fresh:
                    names.add(spec.name)
                    identities.add(identity)
                    rows.append(
                        {
                            "name": spec.name,
                            "url": spec.url,
                            "interval_s": spec.interval_s,
                            "backlog": spec.backlog,
                            "enabled": True,
                            "origin": origin,
                        }
                    )
            if rows:
                await conn.execute(feeds.insert(), rows)
        return added

    async def remove(self, name: str) -> bool:
        async with self._db.transaction() as conn:
            result = await conn.execute(delete(feeds).where(feeds.c.name == name))
            return bool(result.rowcount)

    async def all(self, *, enabled_only: bool = False) -> list[FeedRecord]:
        query = select(feeds).order_by(feeds.c.id)
        if enabled_only:
            query = query.where(feeds.c.enabled)
        async with self._db.reading() as conn:
            return [feed_record(row) for row in await conn.execute(query)]

    async def pollable(self) -> list[FeedRecord]:
        """The feeds the scheduler polls: enabled and not gone."""
        return [feed for feed in await self.all(enabled_only=True) if feed.pollable]

    async def get(self, name: str) -> FeedRecord | None:
        async with self._db.reading() as conn:
            row = (await conn.execute(select(feeds).where(feeds.c.name == name))).first()
        return feed_record(row) if row else None

    async def claim_due(
        self, now: float, until: float, limit: int, *, after_id: int | None = None
    ) -> list[FeedRecord]:
        """Take up to `limit` feeds due at `now` (the longest overdue first) for one poll each,
        in one statement: their `next_poll_at` becomes `until`, the end of the lease, only where
        it is still due (a compare-and-set: two processes never take one feed). PostgreSQL skips
        rows another process is claiming at that moment rather than wait for them. With
        `after_id`, only feeds of a greater id, in id order: a pass takes each feed once."""
        params: dict[str, float | int] = {"b_now": now, "b_until": until, "b_limit": limit}
        claim = self._claim_oldest
        if after_id is not None:
            claim, params["b_after"] = self._claim_after, after_id
        async with self._db.transaction() as conn:
            rows = await conn.execute(claim, params)
            claimed = [feed_record(row) for row in rows]
        return sorted(claimed, key=lambda feed: feed.id)

    async def next_due(self) -> float | None:
        """The earliest `next_poll_at` of the pollable feeds (-inf: one has none yet)."""
        async with self._db.reading() as conn:
            row = (
                await conn.execute(
                    select(
                        func.count().filter(feeds.c.next_poll_at.is_(None)),
                        func.min(feeds.c.next_poll_at),
                    ).where(feeds.c.enabled, feeds.c.state != FeedState.DISABLED.value)
                )
            ).one()
        if row[0]:
            return float("-inf")
        return None if row[1] is None else float(row[1])

    async def renew(self, name: str, held: float, until: float) -> bool:
        """Extend a claim that ends at `held` to `until`; False when the claim is no longer
        there (the poll stored its next poll time, or the lease ran out and another process
        claimed the feed)."""
        async with self._db.transaction() as conn:
            result = await conn.execute(
                update(feeds)
                .where(feeds.c.name == name, feeds.c.next_poll_at == held)
                .values(next_poll_at=until)
                .returning(feeds.c.id)
            )
            return result.first() is not None
