"""When feeds are polled: one due queue over the stored `next_poll_at`, and the retention job.

Feeds are taken for polling in batches by one statement (`FeedStore.claim_due`): the feeds whose
`next_poll_at` has come, the longest overdue first, as many as there are free places for polls in
flight. A batch is taken again once half the places are free, so a sweep of a thousand feeds
costs a few dozen claims rather than a thousand; a feed that hangs holds one place and delays no
other. With nothing due the queue sleeps until the earliest `next_poll_at`, or until the feeds
change (`sync`). Each poll stores its feed's next poll time (in the feed's own slot of its
interval, see `feeds.schedule.on_slot`), so a restart keeps Retry-After, error backoff and the
schedule.

Several processes on one database each run this queue, and a feed is polled only by the process
whose claim moved its `next_poll_at`: one process polls a feed at a time, once per interval. The
claim is a lease renewed while the poll runs, so a process killed mid-poll gives its feeds up a
lease later.

`run --once` takes its feeds through the same queue and claims: beside a running process only the
feeds that are due (that process keeps the schedule), alone on the database every feed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from sqlalchemy.exc import SQLAlchemyError

from bot.poller import PollOutcome
from bot.store.feeds import FeedStore
from bot.store.records import FeedRecord

log = logging.getLogger(__name__)

PRUNE_EVERY_HOURS = 6
PRUNE_RETRY_SECONDS = 600.0
"""A retention pass the database could not take is tried again this soon, not hours later."""
POLL_LEASE = 30.0
"""Seconds a claim on a feed lasts; a poll renews it every third of that while it runs, so a live
poll keeps its feed however long it takes, and a feed whose poller died is polled again soon."""
POLL_GRACE = 5.0
"""Seconds a stop lets the polls in flight finish before it cuts them short."""
IN_FLIGHT = 64
"""Polls claimed and not finished, at most (the poller's own limits decide how many fetch)."""
IDLE_CHECK = 10.0
"""Longest sleep with nothing due: another process may have moved a feed's next poll."""
SHORTEST_NAP = 0.25
"""Shortest sleep after a claim that found nothing to take."""

ONCE_HORIZON = 366 * 86400.0
"""How far ahead `run --once` alone takes feeds: all of them, whatever their next poll time."""

PollFeed = Callable[[FeedRecord], Awaitable[PollOutcome | None]]
"""Polls one feed; None when the poll was aborted (it logged why)."""


def _utc(epoch: float) -> datetime:
    return datetime.fromtimestamp(epoch, UTC)


class FeedScheduler:
    """The due queue of feeds, and an `AsyncIOScheduler` in our event loop for retention."""

    def __init__(
        self,
        feeds: FeedStore,
        poll_feed: PollFeed,
        prune: Callable[[], Awaitable[None]],
        *,
        clock: Callable[[], float] = time.time,
        lease: float = POLL_LEASE,
        in_flight: int = IN_FLIGHT,
    ) -> None:
        self._feeds = feeds
        self._poll_feed = poll_feed
        self._prune = prune
        self._clock = clock
        self._lease = lease
        self._capacity = max(1, in_flight)
        self._scheduler: AsyncIOScheduler | None = None
        self._runner: asyncio.Task[None] | None = None
        self._wake = asyncio.Event()
        self._in_flight: set[asyncio.Task[None]] = set()
        self._next: dict[str, float] = {}
        self._drained = False
        """The last claim took every feed due: a poll finishing is no reason to claim again."""
        self._wake_at = float("inf")
        """When the queue looks for due feeds next; a poll setting an earlier next poll wakes it."""

    @property
    def running(self) -> bool:
        return self._scheduler is not None and bool(self._scheduler.running)

    async def start(self) -> None:
        self._scheduler = AsyncIOScheduler(event_loop=asyncio.get_running_loop(), timezone="UTC")
        self._scheduler.start()
        self._scheduler.add_job(
            self._prune_or_retry,
            "interval",
            hours=PRUNE_EVERY_HOURS,
            id="prune",
            next_run_time=_utc(self._clock() + 60),
            max_instances=1,
            coalesce=True,
            misfire_grace_time=None,  # late (a busy loop) is still run, not skipped for 6 hours
            replace_existing=True,
        )
        await self.sync()
        self._runner = asyncio.create_task(self._run(), name="feed-queue")

    async def _prune_or_retry(self) -> None:
        """Retention; a database that cannot take it now is one line, and a try ten minutes on."""
        try:
            await self._prune()
        except (SQLAlchemyError, OSError) as exc:
            cause = getattr(exc, "orig", None) or exc
            log.warning(
                "retention: cannot prune now (%s); trying again in %.0f minutes",
                type(cause).__name__,
                PRUNE_RETRY_SECONDS / 60,
            )
            if self._scheduler is not None and self._scheduler.running:
                self._scheduler.add_job(
                    self._prune_or_retry,
                    "date",
                    run_date=_utc(self._clock() + PRUNE_RETRY_SECONDS),
                    id="prune-retry",
                    misfire_grace_time=None,
                    replace_existing=True,
                )

    async def shutdown(self, *, wait_up_to: float = POLL_GRACE) -> None:
        """Start no more polls, let the polls in flight finish for `wait_up_to` seconds, and cut
        the rest short: a poll commits whole or not at all, and its feed is polled again once
        its claim lapses (a feed trickling its answer held a stop for 45 s)."""
        if self._runner is not None:
            self._runner.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._runner
            self._runner = None
        if self._scheduler is not None and self._scheduler.running:
            self._scheduler.shutdown(wait=False)
        if not self._in_flight:
            return
        _, unfinished = await asyncio.wait(set(self._in_flight), timeout=wait_up_to)
        for poll in unfinished:
            poll.cancel()
        if unfinished:
            await asyncio.wait(unfinished, timeout=wait_up_to)
            log.info("stopping: %d poll(s) cut short, to be polled again", len(unfinished))

    async def sync(self) -> None:
        """The feeds changed (config, /addfeed): look again at what is due."""
        now = self._clock()
        self._next = {f.name: f.next_poll_at or now for f in await self._feeds.pollable()}
        self._wake.set()

    def next_run(self, name: str) -> float | None:
        """When feed `name` is polled next, as far as this process knows (epoch seconds; None:
        it is not polled)."""
        return self._next.get(name)

    async def poll_once(self, *, due_only: bool) -> list[PollOutcome]:
        """`run --once`: claim and poll every pollable feed (only those due now with
        `due_only`); the outcomes of the polls that ran."""
        return await self.poll_due(horizon=0.0 if due_only else ONCE_HORIZON)

    async def poll_due(self, horizon: float = 0.0) -> list[PollOutcome]:
        """One pass of the queue: poll each feed due within `horizon` seconds once, in batches
        as `newsbot run` does; return when all have been polled."""
        outcomes: list[PollOutcome] = []
        after = 0
        while True:
            claimed = []
            if not (self._drained and self._in_flight):
                claimed = await self._fill(outcomes, horizon, after)
                after = max((feed.id for feed in claimed), default=after)
            if not self._in_flight:
                if not claimed:
                    return outcomes
                continue
            await asyncio.wait(set(self._in_flight), return_when=asyncio.FIRST_COMPLETED)

    async def _run(self) -> None:
        while True:
            self._wake.clear()
            self._wake_at = float("inf")  # a poll ending before the timeout is set wakes it
            try:
                claimed = len(await self._fill())
            except (SQLAlchemyError, OSError) as exc:
                log.warning("feed queue: cannot claim the feeds due: %s", exc)
                claimed = 0
            if len(self._in_flight) > self._capacity // 2:
                timeout = IDLE_CHECK  # a poll finishing wakes the queue
            else:
                timeout = await self._until_next_due()
                if not claimed:  # what is due but was not claimed is another process's
                    timeout = max(timeout, SHORTEST_NAP)
            self._wake_at = self._clock() + timeout
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(timeout):
                    await self._wake.wait()

    async def _until_next_due(self) -> float:
        """Seconds until the earliest next poll (at most IDLE_CHECK)."""
        try:
            due = await self._feeds.next_due()
        except (SQLAlchemyError, OSError):
            return IDLE_CHECK
        if due is None:
            return IDLE_CHECK
        return min(IDLE_CHECK, max(0.0, due - self._clock()))

    async def _fill(
        self,
        outcomes: list[PollOutcome] | None = None,
        horizon: float = 0.0,
        after_id: int | None = None,
    ) -> list[FeedRecord]:
        """Claim the feeds due (within `horizon` seconds; past `after_id` in a pass) into the
        free places once half of them are free, and start their polls; the feeds claimed."""
        free = self._capacity - len(self._in_flight)
        if free < max(1, self._capacity // 2):
            return []
        now = self._clock()
        claimed = await self._feeds.claim_due(
            now + horizon, now + self._lease, free, after_id=after_id
        )
        self._drained = len(claimed) < free
        for feed in claimed:
            self._next[feed.name] = now + self._lease
            # a task of its own: shutdown lets it finish rather than cut it inside a database
            # call, which would leave its connection half-closed
            task = asyncio.create_task(self._poll_claimed(feed, outcomes), name=f"poll-{feed.name}")
            self._in_flight.add(task)
            task.add_done_callback(self._finished)
        return claimed

    def _finished(self, task: asyncio.Task[None]) -> None:
        self._in_flight.discard(task)
        if not self._drained and len(self._in_flight) <= self._capacity // 2:
            self._wake.set()

    async def _poll_claimed(self, feed: FeedRecord, outcomes: list[PollOutcome] | None) -> None:
        async with self._holding(feed) as lease_end:
            outcome = await self._poll_feed(feed)
        if outcome is not None:
            self._next[feed.name] = self._clock() + outcome.next_delay
            if self._next[feed.name] < self._wake_at:
                self._wake.set()
            if outcomes is not None:
                outcomes.append(outcome)
            return
        # aborted (the store failed mid-poll): hand the claim back for the feed's next interval
        # rather than the lease's end; if even that fails, the lease runs out
        retry_at = self._clock() + min(feed.interval_s, self._lease)
        self._next[feed.name] = retry_at
        with contextlib.suppress(SQLAlchemyError, OSError):
            await self._feeds.renew(feed.name, lease_end(), retry_at)

    @contextlib.asynccontextmanager
    async def _holding(self, feed: FeedRecord) -> AsyncIterator[Callable[[], float]]:
        """Renew the claim on `feed` every third of the lease while the body runs (most polls
        end before the first renewal is due, and cost no more than a timer); yields what tells
        when the claim ends now."""
        assert feed.next_poll_at is not None
        held = feed.next_poll_at

        async def renew() -> None:
            nonlocal held
            while True:
                until = self._clock() + self._lease
                try:
                    renewed = await self._feeds.renew(feed.name, held, until)
                except SQLAlchemyError as exc:
                    log.warning("feed %s: claim not renewed: %s", feed.name, exc)
                else:
                    if not renewed:
                        log.info("feed %s: claim not renewed: its row moved on", feed.name)
                        return
                    held = until
                await asyncio.sleep(self._lease / 3)

        renewing: list[asyncio.Task[None]] = []
        timer = asyncio.get_running_loop().call_later(
            self._lease / 3,
            lambda: renewing.append(asyncio.create_task(renew(), name=f"claim-{feed.name}")),
        )
        try:
            yield lambda: held
        finally:
            timer.cancel()
            for task in renewing:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
