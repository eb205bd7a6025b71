"""Composition root: builds everything from settings and config, runs it, shuts it down cleanly.

No other module starts, reads or connects anything on its own; they all get what they need here.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import signal
import time
from collections.abc import Callable
from typing import TextIO

import httpx
from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.channels.base import Channel
from bot.channels.console import CONSOLE_RECIPIENT, ConsoleChannel
from bot.classify import ClassifierCache, rules_from_config
from bot.config import Config, LoadedConfig
from bot.delivery import Dispatcher
from bot.feeds.fetch import make_client
from bot.feeds.schedule import jitter
from bot.models import Platform, Recipient, Subscription
from bot.poller import PollOutcome, Poller, PollPolicy
from bot.settings import Settings
from bot.store import Store, connect
from bot.store.db import FeedSpec

log = logging.getLogger(__name__)


def feed_specs(config: Config) -> list[FeedSpec]:
    return [
        FeedSpec(f.name, f.url, config.feed_interval(f), f.backlog, f.enabled)
        for f in config.feeds
    ]


def static_subscriptions(config: Config) -> dict[Recipient, tuple[frozenset[str], frozenset[str]]]:
    """The operator's declared subscriptions, by recipient: (topic ids, keywords)."""
    wanted: dict[Recipient, tuple[frozenset[str], frozenset[str]]] = {}
    for sub in config.subscriptions:
        recipient = Recipient(sub.platform, sub.chat_id, str(sub.thread or ""))
        topics = frozenset(t for name in sub.topics if (t := config.topic_for(name)))
        old_topics, old_words = wanted.get(recipient, (frozenset(), frozenset()))
        wanted[recipient] = (old_topics | topics, old_words | frozenset(sub.keywords))
    return wanted


class App:
    """The running bot: store, poller, scheduler, dispatchers and chat front-ends."""

    def __init__(
        self,
        settings: Settings,
        loaded: LoadedConfig,
        *,
        stdout: TextIO | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.settings = settings
        self.loaded = loaded
        self.config = loaded.config
        self.clock = clock
        self._stdout = stdout
        self._transport = transport
        self.store: Store | None = None
        self.client: httpx.AsyncClient | None = None
        self.poller: Poller | None = None
        self.channels: dict[Platform, Channel] = {}
        self.dispatchers: dict[Platform, Dispatcher] = {}
        self.scheduler: AsyncIOScheduler | None = None
        self._stop = asyncio.Event()

    # building ------------------------------------------------------------------------------

    async def start(self) -> None:
        """Connect, migrate, sync the config into the store, build the pipeline."""
        self.store = await connect(self.settings.database_url)
        self.client = make_client(transport=self._transport)
        if self.settings.console_enabled:
            self.channels[Platform.CONSOLE] = ConsoleChannel(self._stdout)
        for platform, channel in self.channels.items():
            self.dispatchers[platform] = Dispatcher(self.store, channel, clock=self.clock)
        await self.apply_config(self.loaded)

    async def apply_config(self, loaded: LoadedConfig) -> None:
        """Make `loaded` the config in force: feeds, static subscriptions, topics."""
        assert self.store is not None and self.client is not None
        config = loaded.config
        self.loaded, self.config = loaded, config
        now = self.clock()
        await self.store.sync_feeds(feed_specs(config))
        await self.store.sync_static_subscriptions(static_subscriptions(config), now)
        extra = []
        if Platform.CONSOLE in self.channels:
            topics = frozenset(config.topics)
            extra.append(Subscription(CONSOLE_RECIPIENT, topics, timezone=config.defaults.timezone))
        self.poller = Poller(
            self.store,
            self.client,
            ClassifierCache(rules_from_config(config.topics)),
            extra_subscriptions=extra,
            explicit_intervals=frozenset(f.name for f in config.feeds if f.interval is not None),
            policy=PollPolicy(floor=config.defaults.min_interval, ceiling=config.defaults.max_interval),
            clock=self.clock,
        )
        if self.scheduler is not None:
            await self._schedule_feeds()

    async def close(self) -> None:
        if self.scheduler is not None and self.scheduler.running:
            self.scheduler.shutdown(wait=False)
        if self.client is not None:
            await self.client.aclose()
        if self.store is not None:
            await self.store.close()

    # one-shot ------------------------------------------------------------------------------

    async def poll_all(self) -> list[PollOutcome]:
        """Poll every enabled feed once, concurrently."""
        assert self.store is not None and self.poller is not None
        feeds = [f for f in await self.store.feeds(enabled_only=True) if f.state != "disabled"]
        outcomes = await asyncio.gather(*(self.poller.poll(feed) for feed in feeds))
        return list(outcomes)

    async def run_once(self) -> list[PollOutcome]:
        """`newsbot run --once`: poll every feed, deliver what is due, return."""
        outcomes = await self.poll_all()
        await asyncio.gather(*(d.drain() for d in self.dispatchers.values()))
        return outcomes

    # long-running --------------------------------------------------------------------------

    def request_stop(self) -> None:
        self._stop.set()

    async def run_forever(self) -> None:
        """Poll on schedule and deliver until SIGINT/SIGTERM."""
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.add_signal_handler(sig, self.request_stop)
        self.scheduler = AsyncIOScheduler(event_loop=loop, timezone="UTC")
        self.scheduler.start()
        await self._schedule_feeds()
        tasks = [
            asyncio.create_task(d.run(), name=f"dispatch-{p}") for p, d in self.dispatchers.items()
        ]
        log.info(
            "newsbot running: %d feed(s), channels: %s",
            len(self.config.feeds),
            ", ".join(self.channels) or "none",
        )
        try:
            await self._stop.wait()
        finally:
            log.info("stopping: finishing sends in flight")
            self.scheduler.shutdown(wait=False)
            for dispatcher in self.dispatchers.values():
                dispatcher.stop()
            await asyncio.gather(*tasks, return_exceptions=True)

    async def _schedule_feeds(self) -> None:
        assert self.store is not None and self.scheduler is not None
        wanted = {
            f"feed:{f.name}": f
            for f in await self.store.feeds(enabled_only=True)
            if f.state != "disabled"
        }
        for job in self.scheduler.get_jobs():
            if job.id.startswith("feed:") and job.id not in wanted:
                job.remove()
        rng = random.Random()
        for job_id, feed in wanted.items():
            first = min(feed.interval_s, 3.0) * rng.random()
            self.scheduler.add_job(
                self._poll_job,
                "interval",
                seconds=max(1.0, feed.interval_s),
                jitter=jitter(feed.interval_s),
                id=job_id,
                args=[feed.name],
                max_instances=1,
                coalesce=True,
                replace_existing=True,
                next_run_time=_utc(self.clock() + first),
                misfire_grace_time=None,
            )

    async def _poll_job(self, name: str) -> None:
        assert self.store is not None and self.poller is not None and self.scheduler is not None
        feed = await self.store.feed(name)
        if feed is None or not feed.enabled or feed.state == "disabled":
            return
        try:
            outcome = await self.poller.poll(feed)
        except Exception:  # the store can be down for a while: log, keep the schedule
            log.exception("feed %s: poll aborted", name)
            return
        if outcome.alerts:
            for dispatcher in self.dispatchers.values():
                dispatcher.wake()
        job = self.scheduler.get_job(f"feed:{name}")
        if job is not None and outcome.next_delay > feed.interval_s * 1.2:
            job.modify(next_run_time=_utc(self.clock() + outcome.next_delay))


def _utc(epoch: float) -> object:
    from datetime import UTC, datetime

    return datetime.fromtimestamp(epoch, UTC)
