"""Claiming a feed for one poll: of processes sharing one database one wins a due feed, the
others skip it until the poll stores its next time or the winner's lease passes."""

from __future__ import annotations

import asyncio
import time

from bot.store import Store, connect
from bot.store.records import FeedRecord, FeedSpec, PollRecord


async def claim_one(store: Store, now: float, until: float) -> FeedRecord | None:
    """The one feed of a test's database, if a batch claim at `now` takes it."""
    claimed = await store.feeds.claim_due(now, until, limit=1)
    return claimed[0] if claimed else None


async def test_one_claim_wins_and_a_dead_holders_lease_passes(
    store: Store, database_url: str
) -> None:
    await store.feeds.add(FeedSpec("shared", "https://n/shared.xml", 60))
    other = await connect(database_url)
    try:
        now = time.time()
        claims = await asyncio.gather(
            claim_one(store, now, now + 30), claim_one(other, now, now + 30)
        )
        assert sum(c is not None for c in claims) == 1, "exactly one process polls the feed"
        assert await claim_one(other, now + 29, now + 59) is None, "held: skipped"
        # its holder was killed: nobody records the poll, and the lease passes
        taken = await claim_one(other, now + 30, now + 60)
        assert taken is not None and taken.next_poll_at == now + 60
        assert not await store.feeds.renew("shared", now + 30, now + 90), "the dead claim is gone"
        assert await other.feeds.renew("shared", now + 60, now + 90)
    finally:
        await other.close()


async def test_a_disabled_feed_is_never_claimed(store: Store) -> None:
    await store.feeds.sync([FeedSpec("off", "https://n/off.xml", 60, enabled=False)])
    assert await claim_one(store, time.time(), time.time() + 30) is None


async def test_a_new_interval_is_claimed_at_once_not_at_the_old_next_poll(store: Store) -> None:
    now = time.time()
    await store.feeds.sync([FeedSpec("hourly", "https://n/hourly.xml", 3600)])
    assert await claim_one(store, now, now + 3600) is not None  # polled: next in 1 h
    await store.feeds.sync([FeedSpec("hourly", "https://n/hourly.xml", 3600)])
    assert await claim_one(store, now + 60, now + 90) is None, "unchanged: not due"
    await store.feeds.sync([FeedSpec("hourly", "https://n/hourly.xml", 60)])
    assert await claim_one(store, now + 60, now + 90) is not None


async def test_batch_claims_take_the_longest_overdue_first_and_never_twice(
    store: Store, database_url: str
) -> None:
    now = time.time()
    for n in range(40):
        feed = await store.feeds.add(FeedSpec(f"f{n}", f"https://n/{n}.xml", 60))
        assert feed is not None
        await store.polls.record(feed.id, polled(next_poll_at=now - n), now - 100)
    await store.feeds.add(FeedSpec("later", "https://n/later.xml", 60))
    await store.feeds.sync([FeedSpec("off", "https://n/off.xml", 60, enabled=False)])
    first = await store.feeds.claim_due(now, now + 30, 5)
    assert {f.name for f in first} == {"later", "f39", "f38", "f37", "f36"}, "never polled first"
    assert all(f.next_poll_at == now + 30 for f in first)
    other = await connect(database_url)
    try:
        batches = await asyncio.gather(
            *(s.feeds.claim_due(now, now + 30, 7) for s in (store, other, store, other))
        )
        names = [f.name for batch in (first, *batches) for f in batch]
        assert len(names) == len(set(names)), "a feed was claimed twice"
        rest = await other.feeds.claim_due(now, now + 30, 100)
        everything = set(names) | {f.name for f in rest}
        assert everything == {f"f{n}" for n in range(40)} | {"later"}, "every due feed, once"
        assert await store.feeds.claim_due(now + 29, now + 59, 100) == [], "all held"
    finally:
        await other.close()


def polled(*, next_poll_at: float) -> PollRecord:
    return PollRecord("active", None, None, None, 0, None, next_poll_at, succeeded=True)
