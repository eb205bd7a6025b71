"""What operators watch: `/healthz`, the Prometheus page, and the counters polls and sends feed."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping
from typing import Any

from bot.delivery import Dispatcher
from bot.metrics import Metrics
from bot.models import DeliveryOutcome, FeedCondition, OutboxStatus, Platform
from bot.poller import PollOutcome
from bot.store import Store
from bot.store.records import OutboxEntry

log = logging.getLogger(__name__)

HEALTH_TIMEOUT = 5.0
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
    ) -> None:
        self._store = store
        self._dispatchers = dispatchers
        self._scheduler_running = scheduler_running
        self.metrics = metrics or Metrics()

    def count_poll(self, outcome: PollOutcome) -> None:
        self.metrics.polls.labels(outcome.status).inc()
        self.metrics.new_items.inc(outcome.new_items)
        self.metrics.poll_duration.observe(outcome.duration)
        for platform, count in outcome.queued.items():
            self.metrics.alerts_queued.labels(platform).inc(count)

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
        details["channels"] = {
            str(p): "stopped: " + d.stopped_reason if d.stopped_reason else "running"
            for p, d in self._dispatchers.items()
        }
        return healthy, details

    async def metrics_text(self) -> tuple[bytes, str]:
        """The Prometheus text page; gauges are read from the store at scrape time."""
        try:
            counts = await self._store.outbox.counts()
            self.metrics.set_outbox(
                {p: n for (p, s), n in counts.items() if s is OutboxStatus.PENDING}
            )
            conditions: dict[str, int] = {}
            for feed in await self._store.feeds.all():
                conditions[feed.condition] = conditions.get(feed.condition, 0) + 1
            self.metrics.set_feed_states(conditions)
        except Exception as exc:
            log.warning("metrics: store unreachable: %s", type(exc).__name__)
        return self.metrics.render()
