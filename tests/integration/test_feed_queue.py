"""The due queue: feeds are claimed in batches, a hanging poll delays no other feed, and a feed is
polled again when the next poll its last poll stored comes."""

from __future__ import annotations

import asyncio
import itertools
import time

from bot.models import PollStatus
from bot.poller import PollOutcome
from bot.scheduling import FeedScheduler
from bot.store import Store
from bot.store.feeds import FeedStore
from bot.store.records import FeedRecord, FeedSpec, PollRecord
from tests.helpers import eventually


class CountingFeeds(FeedStore):
    """The real feed store, counting the claim statements it runs."""

    claims = 0

    async def claim_due(
        self, now: float, until: float, limit: int, *, after_id: int | None = None
    ) -> list[FeedRecord]:
        self.claims += 1
        return await super().claim_due(now, until, limit, after_id=after_id)


async def no_prune() -> None:
    return None


async def test_a_sweep_of_a_hundred_feeds_takes_them_in_a_few_batches(store: Store) -> None:
    await store.feeds.sync([FeedSpec(f"f{n}", f"https://n/{n}.xml", 300) for n in range(100)])
    feeds = CountingFeeds(store.db)
    polled: list[str] = []

    async def poll(feed: FeedRecord) -> PollOutcome:
        await asyncio.sleep(0.001 * (feed.id % 7))
        polled.append(feed.name)
        next_poll_at = time.time() + 300
        await store.polls.record(feed.id, ok(next_poll_at), time.time())
        return PollOutcome(feed.name, PollStatus.NOT_MODIFIED, next_delay=300)

    scheduler = FeedScheduler(feeds, poll, no_prune, in_flight=20)
    outcomes = await scheduler.poll_due()
    assert sorted(polled) == sorted(f"f{n}" for n in range(100)), "each feed once"
    assert len(outcomes) == 100
    assert feeds.claims <= 12, f"{feeds.claims} claim statements for 100 feeds"
    assert await scheduler.poll_due() == [], "nothing is due until the stored next poll"


async def test_a_hanging_poll_delays_no_other_feed(store: Store) -> None:
    await store.feeds.sync([FeedSpec(f"f{n}", f"https://n/{n}.xml", 300) for n in range(12)])
    release = asyncio.Event()
    polled: list[str] = []

    async def poll(feed: FeedRecord) -> PollOutcome:
        if feed.name == "f0":
            await release.wait()
        polled.append(feed.name)
        await store.polls.record(feed.id, ok(time.time() + 300), time.time())
        return PollOutcome(feed.name, PollStatus.NOT_MODIFIED, next_delay=300)

    scheduler = FeedScheduler(store.feeds, poll, no_prune, in_flight=4)
    await scheduler.start()
    try:
        others = {f"f{n}" for n in range(1, 12)}
        await eventually(lambda: others <= set(polled), what="every other feed polled")
        assert "f0" not in polled
        release.set()
        await eventually(lambda: "f0" in polled, what="the hanging feed finished")
    finally:
        release.set()
        await scheduler.shutdown()


async def test_a_stop_cuts_short_a_poll_that_does_not_end(store: Store) -> None:
    """A feed trickling its answer held a SIGTERM for the fetch's whole 45 s."""
    await store.feeds.sync([FeedSpec("slow", "https://n/slow.xml", 300)])
    started, cut = asyncio.Event(), asyncio.Event()

    async def poll(feed: FeedRecord) -> PollOutcome:
        started.set()
        try:
            await asyncio.sleep(3600)
        finally:
            cut.set()
        raise AssertionError("not reached")

    scheduler = FeedScheduler(store.feeds, poll, no_prune)
    await scheduler.start()
    await asyncio.wait_for(started.wait(), 5)
    await scheduler.shutdown(wait_up_to=0.2)
    assert cut.is_set(), "the poll was cut short, not left running"


async def test_a_feed_comes_back_when_its_next_poll_is_due(store: Store) -> None:
    await store.feeds.sync([FeedSpec("quick", "https://n/quick.xml", 1)])
    polls: list[float] = []

    async def poll(feed: FeedRecord) -> PollOutcome:
        polls.append(time.time())
        await store.polls.record(feed.id, ok(time.time() + 0.5), time.time())
        return PollOutcome(feed.name, PollStatus.NOT_MODIFIED, next_delay=0.5)

    scheduler = FeedScheduler(store.feeds, poll, no_prune)
    await scheduler.start()
    try:
        await eventually(lambda: len(polls) >= 3, what="three polls of a feed due every 0.5 s")
    finally:
        await scheduler.shutdown()
    gaps = [b - a for a, b in itertools.pairwise(polls)]
    assert all(gap >= 0.45 for gap in gaps), gaps


def ok(next_poll_at: float) -> PollRecord:
    return PollRecord("active", None, None, None, 0, None, next_poll_at, succeeded=True)


async def test_a_poll_longer_than_the_lease_keeps_its_claim(store: Store) -> None:
    await store.feeds.sync([FeedSpec("slow", "https://n/slow.xml", 300)])

    async def poll(feed: FeedRecord) -> PollOutcome:
        await asyncio.sleep(1.0)
        await store.polls.record(feed.id, ok(time.time() + 300), time.time())
        return PollOutcome(feed.name, PollStatus.NOT_MODIFIED, next_delay=300)

    scheduler = FeedScheduler(store.feeds, poll, no_prune, lease=0.3)
    sweep = asyncio.create_task(scheduler.poll_due())
    await asyncio.sleep(0.7)  # two lease lengths: held only because it was renewed
    now = time.time()
    assert await store.feeds.claim_due(now, now + 1, 10) == [], "another process took it"
    (outcome,) = await sweep
    assert outcome.feed == "slow"
