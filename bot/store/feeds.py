"""The feeds aggregate: which feeds exist, where they came from, and their poll state."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import delete, or_, select, update

from bot.models import FeedState
from bot.store.engine import Database
from bot.store.records import FeedRecord, FeedSpec
from bot.store.schema import feeds


def feed_record(row: Any) -> FeedRecord:
    values = dict(row._mapping)
    values["state"] = FeedState(values["state"])
    return FeedRecord(**values)


class FeedStore:
    """Feeds from the config, from OPML and from chats (`/addfeed`)."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def sync(self, specs: Sequence[FeedSpec]) -> None:
        """Make the config's feeds present and enabled; disable config feeds no longer listed."""
        async with self._db.transaction() as conn:
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

    async def add(self, spec: FeedSpec, origin: str = "chat") -> FeedRecord | None:
        """Add a feed; None when one of that name or URL exists already."""
        async with self._db.transaction() as conn:
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
        return await self.get(spec.name)

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
