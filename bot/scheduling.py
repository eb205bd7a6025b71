"""When feeds are polled: one APScheduler job per pollable feed, plus the retention job.

Each feed job runs at its interval with jitter, never twice at once (`max_instances=1`, missed runs
coalesced); a first run is spread over the first seconds so a restart does not fire every feed in
the same instant; a poll that asks for more time (Retry-After, error backoff) moves its next run.
A feed's first run after a start is never before the `next_poll_at` its last poll stored, so a
restart keeps Retry-After, error backoff and the schedule.

Several processes on one database each keep these jobs, and a job polls only once it has claimed
its feed (`FeedStore.claim`): one process polls a feed at a time, once per interval. The claim is
a lease renewed while the poll runs, so a process killed mid-poll gives its feeds up a lease
later. After each run a job follows the `next_poll_at` stored, whoever polled, so the process that
lost a claim tries again when the feed is next due or the winner's lease ends.

`run --once` takes its feeds by the same claim: beside a running process only the feeds that are
due (that process keeps the schedule), alone on the database every feed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from sqlalchemy.exc import SQLAlchemyError

from bot.feeds.schedule import jitter
from bot.poller import PollOutcome
from bot.store.feeds import FeedStore
from bot.store.records import FeedRecord

log = logging.getLogger(__name__)

PRUNE_EVERY_HOURS = 6
FIRST_RUN_SPREAD = 3.0
"""Seconds over which the first polls after a start are spread."""
_FEED_JOB = "feed:"
POLL_LEASE = 30.0
"""Seconds a claim on a feed lasts; a poll renews it every third of that while it runs, so a live
poll keeps its feed however long it takes, and a feed whose poller died is polled again soon."""

ONCE_HORIZON = 366 * 86400.0
"""How far ahead `run --once` alone takes feeds: all of them, whatever their next poll time."""

PollFeed = Callable[[FeedRecord], Awaitable[PollOutcome | None]]
"""Polls one feed; None when the poll was aborted (it logged why)."""


def _utc(epoch: float) -> datetime:
    return datetime.fromtimestamp(epoch, UTC)


class FeedScheduler:
    """Keeps one job per pollable feed in an `AsyncIOScheduler` running in our event loop."""

    def __init__(
        self,
        feeds: FeedStore,
        poll_feed: PollFeed,
        prune: Callable[[], Awaitable[None]],
        *,
        clock: Callable[[], float] = time.time,
        lease: float = POLL_LEASE,
    ) -> None:
        self._feeds = feeds
        self._poll_feed = poll_feed
        self._prune = prune
        self._clock = clock
        self._lease = lease
        self._rng = random.Random()
        self._scheduler: AsyncIOScheduler | None = None
        self._in_flight: set[asyncio.Task[PollOutcome | None]] = set()

    @property
    def running(self) -> bool:
        return self._scheduler is not None and bool(self._scheduler.running)

    async def start(self) -> None:
        self._scheduler = AsyncIOScheduler(event_loop=asyncio.get_running_loop(), timezone="UTC")
        self._scheduler.start()
        await self.sync()
        self._scheduler.add_job(
            self._prune,
            "interval",
            hours=PRUNE_EVERY_HOURS,
            id="prune",
            next_run_time=_utc(self._clock() + 60),
            max_instances=1,
            coalesce=True,
            replace_existing=True,
        )

    async def shutdown(self, *, wait_up_to: float = 30.0) -> None:
        """Start no more polls, and let the polls in flight finish (each commits whole)."""
        if self._scheduler is not None and self._scheduler.running:
            self._scheduler.shutdown(wait=False)
        if self._in_flight:
            await asyncio.wait(set(self._in_flight), timeout=wait_up_to)

    async def sync(self) -> None:
        """One job per pollable feed: new feeds get one, gone feeds lose theirs, a feed whose
        interval is unchanged keeps its place in the schedule."""
        scheduler = self._scheduler
        if scheduler is None:
            return
        wanted = {_FEED_JOB + f.name: f for f in await self._feeds.pollable()}
        for job in scheduler.get_jobs():
            if job.id.startswith(_FEED_JOB) and job.id not in wanted:
                job.remove()
        rng = random.Random()
        for job_id, feed in wanted.items():
            interval = max(1.0, feed.interval_s)
            existing = scheduler.get_job(job_id)
            if existing is not None and existing.trigger.interval.total_seconds() == interval:
                continue
            first = self._clock() + min(interval, FIRST_RUN_SPREAD) * rng.random()
            if existing is None and feed.next_poll_at is not None:
                first = max(first, feed.next_poll_at)
            scheduler.add_job(
                self._poll_job,
                "interval",
                seconds=interval,
                jitter=jitter(interval),
                id=job_id,
                args=[feed.name],
                max_instances=1,
                coalesce=True,
                replace_existing=True,
                next_run_time=_utc(first),
                misfire_grace_time=None,
            )

    def next_run(self, name: str) -> float | None:
        """When feed `name` is polled next (epoch seconds; None: it has no job)."""
        job = self._scheduler.get_job(_FEED_JOB + name) if self._scheduler else None
        if job is None or job.next_run_time is None:
            return None
        return float(job.next_run_time.timestamp())

    async def _poll_job(self, name: str) -> None:
        # the poll runs as a task of its own, shielded: shutting the scheduler down cancels the
        # jobs in flight, and a poll cut inside a database call would leave its connection
        # half-closed; `shutdown` waits for these tasks instead
        task = asyncio.create_task(self._claim_and_poll(name), name=f"poll-{name}")
        self._in_flight.add(task)
        task.add_done_callback(self._in_flight.discard)
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.shield(task)

    async def poll_once(self, *, due_only: bool) -> list[PollOutcome]:
        """`run --once`: claim and poll every pollable feed (only those due now with
        `due_only`), concurrently; the outcomes of the polls that ran."""
        horizon = 0.0 if due_only else ONCE_HORIZON
        feeds = await self._feeds.pollable()
        polled = await asyncio.gather(*(self._claim_and_poll(f.name, horizon) for f in feeds))
        return [outcome for outcome in polled if outcome is not None]

    async def _claim_and_poll(self, name: str, horizon: float = 0.0) -> PollOutcome | None:
        """Poll feed `name` if it is due within `horizon` seconds and the claim is ours."""
        now = self._clock()
        feed = await self._feeds.claim(name, now + horizon, now + self._lease)
        outcome = None
        if feed is not None:
            async with self._holding(feed) as lease_end:
                outcome = await self._poll_feed(feed)
            if outcome is None:
                # aborted (the store failed mid-poll): hand the claim back for the feed's next
                # interval rather than the lease's end; if even that fails, the lease runs out
                retry_at = self._clock() + min(feed.interval_s, self._lease)
                with contextlib.suppress(SQLAlchemyError, OSError):
                    await self._feeds.renew(feed.name, lease_end(), retry_at)
                return None
        await self._follow(name)
        return outcome

    @contextlib.asynccontextmanager
    async def _holding(self, feed: FeedRecord) -> AsyncIterator[Callable[[], float]]:
        """Renew the claim on `feed` every third of the lease while the body runs; yields what
        tells when the claim ends now."""
        assert feed.next_poll_at is not None
        held = feed.next_poll_at

        async def renew() -> None:
            nonlocal held
            while True:
                await asyncio.sleep(self._lease / 3)
                until = self._clock() + self._lease
                try:
                    renewed = await self._feeds.renew(feed.name, held, until)
                except SQLAlchemyError as exc:
                    log.warning("feed %s: claim not renewed: %s", feed.name, exc)
                    continue
                if not renewed:
                    log.info("feed %s: claim not renewed: its row moved on", feed.name)
                    return
                held = until

        renewing = asyncio.create_task(renew(), name=f"claim-{feed.name}")
        try:
            yield lambda: held
        finally:
            renewing.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await renewing

    async def _follow(self, name: str) -> None:
        """Move the job of feed `name` to the `next_poll_at` stored (a poll's, or a claim's end)."""
        feed = await self._feeds.get(name)
        job = self._scheduler.get_job(_FEED_JOB + name) if self._scheduler else None
        if feed is None or not feed.pollable or feed.next_poll_at is None or job is None:
            return
        spread = jitter(max(1.0, feed.interval_s)) * self._rng.random()
        job.modify(next_run_time=_utc(max(feed.next_poll_at, self._clock()) + spread))
