"""A poll's writes: the feed's new state, its seen keys and their alerts, in one transaction.

A crash can repeat a poll but never lose an alert: the seen keys and the outbox rows they cause
commit or vanish together. Polls that found nothing new change only their feed's row, and those
rows are gathered into one commit for many polls (`FeedRowWriter`).
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Collection, Iterable, Sequence
from typing import Any

from sqlalchemy import Table, bindparam, func, select, update

from bot.dedupe import FINGERPRINT
from bot.store.chat_refs import ChatRefs
from bot.store.engine import Database
from bot.store.outbox import outbox_rows
from bot.store.records import PollRecord, QueuedAlert
from bot.store.schema import feeds, outbox, seen_items
from bot.store.story_alerts import queue_story_alerts

CHUNK = 500
"""Keys per statement: far below every driver's bound-parameter limit."""

# A changed feed's statements are built once: building one anew (and its cache key) cost more
# than SQLite took to run it. Parameters are prefixed `b_`: an UPDATE takes a parameter named
# like a column as a value to set.
_FEED_KEYS = (
    seen_items.c.feed_id == bindparam("b_feed"),
    seen_items.c.key.in_(bindparam("b_keys", expanding=True)),
)
SEEN = select(seen_items.c.key).where(*_FEED_KEYS)
"""Which of keys `b_keys` feed `b_feed` has seen."""
LISTED_AGAIN = update(seen_items).where(*_FEED_KEYS).values(last_listed_at=bindparam("b_now"))
"""Keys `b_keys` of feed `b_feed` are in its document of `b_now`."""


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


@functools.cache
def _feed_update(columns: tuple[str, ...], *, named: bool = False) -> Any:
    """The UPDATE of a feed row's `columns` (`named`: returning the feed's name), built once
    per set of columns a poll sets (a few); run with `_feed_row`'s parameters."""
    values: dict[str, Any] = {column: bindparam(f"b_{column}") for column in columns}
    statement = update(feeds).where(feeds.c.id == bindparam("b_id")).values(values)
    return statement.returning(feeds.c.name) if named else statement


def _feed_row(feed_id: int, values: dict[str, Any]) -> dict[str, Any]:
    """`_feed_update`'s parameters for feed `feed_id`."""
    return {"b_id": feed_id, **{f"b_{k}": v for k, v in values.items()}}


def _insert_new(db: Database, table: Table, returned: str) -> Any:
    """An INSERT of the rows not there yet, returning column `returned` of those it added, to
    be executed with a list of rows: SQLAlchemy sends them in multi-row batches under one
    compiled statement (a statement built with the rows in it was compiled anew each time,
    which took half of a poll that routes an item to 100,000 chats)."""
    return db.insert(table).on_conflict_do_nothing().returning(table.c[returned])


class PollStore:
    """What the poller reads (seen keys) and writes (one commit per poll)."""

    def __init__(self, db: Database, refs: ChatRefs) -> None:
        self._db = db
        self._refs = refs
        self._insert_seen = _insert_new(db, seen_items, "key")
        self._insert_alerts = _insert_new(db, outbox, "platform")

    async def seen_keys(self, feed_id: int, keys: Iterable[str]) -> set[str]:
        """Which of `keys` this feed has seen before."""
        wanted = list(dict.fromkeys(keys))
        found: set[str] = set()
        async with self._db.reading() as conn:
            for start in range(0, len(wanted), CHUNK):
                chunk = wanted[start : start + CHUNK]
                rows = await conn.execute(SEEN, {"b_feed": feed_id, "b_keys": chunk})
                found.update(r.key for r in rows)
        return found

    async def seen_counts(self) -> dict[int, int]:
        """Seen items per feed id (their keys; not the fingerprints kept beside them)."""
        async with self._db.reading() as conn:
            rows = await conn.execute(
                select(seen_items.c.feed_id, func.count())
                .where(~seen_items.c.key.startswith(FINGERPRINT, autoescape=True))
                .group_by(seen_items.c.feed_id)
            )
            return {int(r[0]): int(r[1]) for r in rows}

    async def record(
        self,
        feed_id: int,
        record: PollRecord,
        now: float,
        *,
        listed_keys: Sequence[str] = (),
        seen: Collection[str] = (),
        alerts: Sequence[QueuedAlert] = (),
        primed: bool | None = None,
    ) -> dict[str, int]:
        """Commit one poll: validators and state, seen keys and their alerts, all or nothing.

        `seen` are the listed keys `seen_keys` found: they are only marked listed again, and
        the others inserted (a document of fifty keys with one new inserts one row, which costs
        a fraction of a fifty-row insert). Only keys this call inserts get their alerts queued,
        so two processes polling one feed at once cannot both queue the same item. Returns the
        alerts queued, by platform.
        """
        values = _feed_values(record, now)
        if record.url:
            values["url"] = record.url
        if primed is not None:
            values["primed"] = primed
        queued: dict[str, int] = {}
        async with self._db.transaction() as conn:
            updated = await conn.execute(
                _feed_update(tuple(values), named=True), _feed_row(feed_id, values)
            )
            # None: the feed left the config while it was polled, and its rows with it
            feed_name = updated.scalar_one_or_none()
            keys = list(dict.fromkeys(listed_keys))
            new_keys: set[str] = set()
            fresh = [
                {"feed_id": feed_id, "key": k, "first_seen_at": now, "last_listed_at": now}
                for k in keys
                if k not in seen
            ]
            if fresh:
                inserted = await conn.execute(self._insert_seen, fresh)
                new_keys.update(r.key for r in inserted)
            old = [k for k in keys if k not in new_keys]
            for start in range(0, len(old), CHUNK):
                chunk = old[start : start + CHUNK]
                await conn.execute(LISTED_AGAIN, {"b_feed": feed_id, "b_keys": chunk, "b_now": now})
            due = [a for a in alerts if a.item_key in new_keys]
            if due and feed_name is not None:
                refs = await self._refs.ids(conn, {a.recipient for a in due}, now)
                due = await queue_story_alerts(self._db, conn, due, refs, feed_name, now)
                rows = outbox_rows(due, refs, feed_name, now)
                if rows:
                    result = await conn.execute(self._insert_alerts, rows)
                    for row in result:
                        queued[row.platform] = queued.get(row.platform, 0) + 1
        return queued

    async def record_unchanged(self, polls: Sequence[tuple[int, PollRecord, float]]) -> None:
        """Commit many successful polls that changed only their feed rows (304, same body) in
        one transaction: a poll of a thousand unchanged feeds is a thousand rows, one commit."""
        by_columns: dict[tuple[str, ...], list[dict[str, Any]]] = {}
        for feed_id, record, now in polls:
            values = _feed_values(record, now)
            by_columns.setdefault(tuple(values), []).append(_feed_row(feed_id, values))
        async with self._db.transaction() as conn:
            for columns, rows in by_columns.items():
                await conn.execute(_feed_update(columns), rows)


class FeedRowWriter:
    """Gathers the feed-row updates of polls that found nothing new into one commit.

    A caller's `write` returns once its row is committed, so an outcome still means "stored";
    the rows that arrive while a commit is running go into the next one.
    """

    def __init__(self, polls: PollStore, *, max_rows: int = 500) -> None:
        self.polls = polls
        self.max_rows = max_rows
        self._pending: list[tuple[int, PollRecord, float, asyncio.Future[None]]] = []
        self._flushing: asyncio.Task[None] | None = None

    async def write(self, feed_id: int, record: PollRecord, now: float) -> None:
        done = asyncio.get_running_loop().create_future()
        self._pending.append((feed_id, record, now, done))
        if self._flushing is None or self._flushing.done():
            self._flushing = asyncio.create_task(self._flush())
        await done

    async def _flush(self) -> None:
        await asyncio.sleep(0)  # let the polls finishing in this loop turn join the batch
        while self._pending:
            batch, self._pending = self._pending[: self.max_rows], self._pending[self.max_rows :]
            try:
                await self.polls.record_unchanged([(f, r, n) for f, r, n, _ in batch])
            except Exception as exc:
                for *_, done in batch:
                    if not done.done():
                        done.set_exception(exc)
                continue
            for *_, done in batch:
                if not done.done():
                    done.set_result(None)
