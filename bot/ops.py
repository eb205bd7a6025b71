"""What operators watch: `/healthz`, the Prometheus page, and the counters polls and sends feed.

Also the supervision of the long-running tasks (the dispatchers): a task that crashes is logged,
restarted with backoff, and `/healthz` answers 503 until it runs again, as it does while a
platform cannot deliver at all (its token refused).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from bot.delivery import Dispatcher
from bot.metrics import Metrics
from bot.models import DeliveryOutcome, FeedCondition, OutboxStatus, Platform
from bot.poller import PollOutcome
from bot.store import Store
from bot.store.records import OutboxEntry

log = logging.getLogger(__name__)

HEALTH_TIMEOUT = 5.0
RESTART_BACKOFF = (1.0, 60.0)
"""Seconds before the first restart of a crashed task, and the most it waits between restarts."""
STEADY = 60.0
"""A task that ran this long before it crashed restarts after the shortest wait again."""
_FAILED_SENDS = frozenset(
    {
        DeliveryOutcome.FAILED,
        DeliveryOutcome.GONE,
        DeliveryOutcome.RATE_LIMITED,
        DeliveryOutcome.RETRY,
    }
)


class Ops:
    """Health and metrics of the running bot, read from the store when asked."""

    def __init__(
        self,
        store: Store,
        dispatchers: Mapping[Platform, Dispatcher],
        scheduler_running: Callable[[], bool],
        metrics: Metrics | None = None,
        *,
        roles: Callable[[], Mapping[Platform, str]] = dict,
    ) -> None:
        self._store = store
        self._dispatchers = dispatchers
        self._scheduler_running = scheduler_running
        self.metrics = metrics or Metrics()
        self._roles = roles
        """Platform -> this process's part in sending for it: sender, or standby."""
        self._down: dict[str, str] = {}
        """Supervised tasks that crashed and wait for their restart: name -> why."""

    async def supervise(self, name: str, run: Callable[[], Awaitable[None]]) -> None:
        """Run `run` until it returns; when it raises, report `name` down, wait, run it again."""
        first, longest = RESTART_BACKOFF
        wait = first
        while True:
            started = time.monotonic()
            try:
                await run()
                return
            except Exception as exc:
                if time.monotonic() - started >= STEADY:
                    wait = first
                # the type only: an exception's text may hold a URL with a token in it
                self._down[name] = f"crashed ({type(exc).__name__}), restarting"
                log.exception("%s crashed; restarting in %.0fs", name, wait)
                await asyncio.sleep(wait)
                wait = min(wait * 2, longest)
            self._down.pop(name, None)

    def count_poll(self, outcome: PollOutcome) -> None:
        self.metrics.polls.labels(outcome.status).inc()
        self.metrics.poll_duration.observe(outcome.duration)
        self.count_document(outcome)

    def count_document(self, outcome: PollOutcome) -> None:
        """The new items and alerts of a document, polled or pushed."""
        self.metrics.new_items.inc(outcome.new_items)
        for platform, count in outcome.queued.items():
            self.metrics.alerts_queued.labels(platform).inc(count)

    def count_push(self, outcome: str) -> None:
        self.metrics.websub_pushes.labels(outcome).inc()

    def count_aborted_poll(self) -> None:
        self.metrics.polls.labels("aborted").inc()

    def observe_delivery(self, outcome: DeliveryOutcome, entry: OutboxEntry, now: float) -> None:
        platform = entry.recipient.platform.value
        if outcome is DeliveryOutcome.SENT:
            self.metrics.alerts_sent.labels(platform).inc()
            if entry.published_at:
                self.metrics.publish_to_send.labels(platform).observe(
                    max(0.0, now - entry.published_at)
                )
        elif outcome in _FAILED_SENDS:
            self.metrics.alerts_failed.labels(platform, outcome).inc()

    async def health(self) -> tuple[bool, dict[str, Any]]:
        """(healthy, details) for `/healthz`: failing feeds are reported, never unhealthy (they
        are the web's fault, not ours)."""
        details: dict[str, Any] = {"status": "ok"}
        healthy = True
        if not self._scheduler_running():
            healthy, details["status"] = False, "scheduler not running"
        try:
            feeds = await asyncio.wait_for(
                self._store.feeds.all(enabled_only=True), timeout=HEALTH_TIMEOUT
            )
        except Exception as exc:
            healthy, details["status"] = False, f"database unreachable: {type(exc).__name__}"
            return healthy, details
        details["feeds"] = len(feeds)
        details["failing_feeds"] = sorted(
            f.name for f in feeds if f.condition is not FeedCondition.OK
        )
        roles = self._roles()
        details["channels"] = {
            str(p): "stopped: " + d.stopped_reason
            if d.stopped_reason and roles.get(p) != "standby"
            else roles.get(p, "running")
            for p, d in self._dispatchers.items()
        }
        if self._down:
            details["down"] = dict(self._down)
        cannot_deliver = [
            str(p)
            for p, d in self._dispatchers.items()
            if d.stopped_reason not in (None, "stopping")
        ]
        if (self._down or cannot_deliver) and healthy:
            healthy = False
            details["status"] = "cannot deliver: " + ", ".join(
                sorted({*self._down, *cannot_deliver})
            )
        return healthy, details

    async def metrics_text(self) -> tuple[bytes, str]:
        """The Prometheus text page; gauges are read from the store at scrape time, within
        HEALTH_TIMEOUT (a database that does not answer leaves them as last read, and the page
        comes before Prometheus gives up on it)."""
        try:
            await asyncio.wait_for(self._read_gauges(), HEALTH_TIMEOUT)
        except Exception as exc:
            log.warning("metrics: store unreachable: %s", type(exc).__name__)
        return self.metrics.render()

    async def _read_gauges(self) -> None:
        counts = await self._store.outbox.counts()
        self.metrics.set_outbox({p: n for (p, s), n in counts.items() if s is OutboxStatus.PENDING})
        conditions: dict[str, int] = {}
        for feed in await self._store.feeds.all():
            conditions[feed.condition] = conditions.get(feed.condition, 0) + 1
        self.metrics.set_feed_states(conditions)
        now = time.time()
        pushes = await self._store.websub.all()
        states: dict[str, int] = {}
        for sub in pushes:
            states[sub.state] = states.get(sub.state, 0) + 1
        leases = {
            s.feed_name: s.lease_expires_at
            for s in pushes
            if s.feed_name and s.lease_expires_at and s.pushed(now)
        }
        self.metrics.set_websub(states, leases)
