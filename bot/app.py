"""Composition root: builds everything from settings and config, runs it, shuts it down cleanly.

No other module starts, reads or connects anything on its own; they all get what they need here.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import re
import signal
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, TextIO

import httpx
from aiohttp import web
from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.channels.base import Channel, FrontEnd
from bot.channels.console import CONSOLE_RECIPIENT, ConsoleChannel
from bot.classify import ClassifierCache
from bot.commands import Commands, FeedAdmin
from bot.config import Config, ConfigError, LoadedConfig, load_config
from bot.delivery import Dispatcher
from bot.feeds.fetch import FetchError, fetch_feed, make_client
from bot.feeds.parse import ParseError, parse_feed
from bot.feeds.schedule import jitter
from bot.metrics import Metrics
from bot.models import Platform, Recipient, Subscription
from bot.netguard import PinnedTransport, URLGuard
from bot.opml import slug
from bot.poller import Poller, PollOutcome, PollPolicy
from bot.settings import Settings
from bot.store import Store, connect
from bot.store.db import FeedSpec, OutboxEntry
from bot.web import build_web_app, serve

log = logging.getLogger(__name__)


def feed_specs(config: Config) -> list[FeedSpec]:
    return [
        FeedSpec(f.name, f.url, config.feed_interval(f), f.backlog, f.enabled) for f in config.feeds
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
        self.front_ends: list[FrontEnd] = []
        self.web_runner: web.AppRunner | None = None
        self.url_guard = URLGuard()
        self.metrics = Metrics()
        self._tasks: list[asyncio.Task[Any]] = []
        self._stop = asyncio.Event()

    def commands_for(self, platform: Platform) -> Commands:
        """The command handler of one platform (commands are written `/x` or `/news x`)."""
        assert self.store is not None
        return Commands(
            self.store,
            lambda: self.config,
            feed_admin=FeedAdmin(self.add_feed_from_chat, self.remove_feed, self.reload),
            clock=self.clock,
            prefix="/news " if platform is Platform.SLACK else "/",
        )

    # building ------------------------------------------------------------------------------

    async def start(self) -> None:
        """Connect, migrate, sync the config into the store, build the pipeline."""
        self.store = await connect(self.settings.database_url)
        self.client = make_client(transport=self._transport)
        if self.settings.console_enabled:
            self.channels[Platform.CONSOLE] = ConsoleChannel(self._stdout)
        if self.settings.telegram_bot_token:
            from bot.channels.telegram import TelegramChannel

            telegram = TelegramChannel(self.settings, self.commands_for(Platform.TELEGRAM))
            self.channels[Platform.TELEGRAM] = telegram
            self.front_ends.append(telegram)
        if self.settings.slack_bot_token:
            from bot.channels.slack import SlackChannel

            slack = SlackChannel(self.settings, self.commands_for(Platform.SLACK))
            self.channels[Platform.SLACK] = slack
            self.front_ends.append(slack)
        for platform, channel in self.channels.items():
            self.dispatchers[platform] = Dispatcher(
                self.store,
                channel,
                clock=self.clock,
                observer=self._observe_delivery,
                default_timezone=lambda: self.config.defaults.timezone,
            )
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
            ClassifierCache(config.topic_rules()),
            extra_subscriptions=extra,
            explicit_intervals=frozenset(f.name for f in config.feeds if f.interval is not None),
            policy=PollPolicy(
                floor=config.defaults.min_interval, ceiling=config.defaults.max_interval
            ),
            clock=self.clock,
            admins=self._admin_recipients(config),
            chat_guard=lambda: self.url_guard,
        )
        if self.scheduler is not None:
            await self._schedule_feeds()

    def _admin_recipients(self, config: Config) -> list[Recipient]:
        """Where feed trouble is reported: the bot admins' private chats, or the console."""
        out = []
        if Platform.TELEGRAM in self.channels:
            out += [Recipient(Platform.TELEGRAM, str(a)) for a in config.admins.telegram]
        if Platform.SLACK in self.channels:
            out += [Recipient(Platform.SLACK, a) for a in config.admins.slack]
        if Platform.CONSOLE in self.channels:
            out.append(CONSOLE_RECIPIENT)
        return out

    async def close(self) -> None:
        if self.scheduler is not None and self.scheduler.running:
            self.scheduler.shutdown(wait=False)
        for front_end in self.front_ends:  # also closes the connections of sends-only use
            try:
                await front_end.stop()
            except Exception:
                log.exception("closing a chat front end failed")
        if self.client is not None:
            await self.client.aclose()
        if self.store is not None:
            await self.store.close()

    # one-shot ------------------------------------------------------------------------------

    async def poll_all(self) -> list[PollOutcome]:
        """Poll every enabled feed once, concurrently."""
        assert self.store is not None and self.poller is not None
        feeds = [f for f in await self.store.feeds(enabled_only=True) if f.state != "disabled"]
        results = await asyncio.gather(
            *(self.poller.poll(feed) for feed in feeds), return_exceptions=True
        )
        outcomes = []
        for feed, result in zip(feeds, results, strict=True):
            if isinstance(result, BaseException):
                log.error("feed %s: poll aborted: %s: %s", feed.name, type(result).__name__, result)
                continue
            self._count(result)
            outcomes.append(result)
        return outcomes

    async def run_once(self) -> list[PollOutcome]:
        """`newsbot run --once`: poll every feed, deliver what is due, return."""
        outcomes = await self.poll_all()
        await asyncio.gather(*(d.drain() for d in self.dispatchers.values()))
        return outcomes

    # long-running --------------------------------------------------------------------------

    def request_stop(self) -> None:
        self._stop.set()

    async def run_forever(self) -> None:
        """Poll on schedule and deliver until SIGINT/SIGTERM; SIGHUP reloads the config."""
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.add_signal_handler(sig, self.request_stop)
        with contextlib.suppress(NotImplementedError, RuntimeError, AttributeError):
            loop.add_signal_handler(signal.SIGHUP, self._reload_in_background)
        try:
            await self.start_services()
            await self._stop.wait()
        finally:
            await self.stop_services()

    async def start_services(self) -> None:
        """Start what `run_forever` keeps running: scheduler, dispatchers, front ends, web."""
        assert self.store is not None
        loop = asyncio.get_running_loop()
        self.scheduler = AsyncIOScheduler(event_loop=loop, timezone="UTC")
        self.scheduler.start()
        await self._schedule_feeds()
        self.scheduler.add_job(
            self.prune,
            "interval",
            hours=6,
            id="prune",
            next_run_time=_utc(self.clock() + 60),
            max_instances=1,
            coalesce=True,
            replace_existing=True,
        )
        self._tasks = [
            asyncio.create_task(d.run(), name=f"dispatch-{p}") for p, d in self.dispatchers.items()
        ]
        for front_end in self.front_ends:
            await front_end.start()
        if self.settings.http_port is not None:
            routes = [r for f in self.front_ends for r in f.web_routes()]
            self.web_runner = await serve(
                build_web_app(self.health, self.metrics_text, routes), self.settings.http_port
            )
        log.info(
            "newsbot running: %d feed(s), channels: %s%s",
            len(self.config.feeds),
            ", ".join(self.channels) or "none",
            f", web on port {self.settings.http_port}" if self.settings.http_port else "",
        )

    async def stop_services(self) -> None:
        """Stop polling and listening; let sends in flight finish (the rest stays queued)."""
        log.info("stopping: finishing sends in flight")
        if self.scheduler is not None and self.scheduler.running:
            self.scheduler.shutdown(wait=False)
        for front_end in self.front_ends:
            try:
                await front_end.stop()
            except Exception:
                log.exception("stopping a chat front end failed")
        if self.web_runner is not None:
            await self.web_runner.cleanup()
            self.web_runner = None
        for dispatcher in self.dispatchers.values():
            dispatcher.stop()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks = []

    def _reload_in_background(self) -> None:
        task = asyncio.create_task(self.reload(), name="reload")
        self._tasks.append(task)

    async def prune(self) -> None:
        """Retention: drop old sent alerts and seen keys no feed lists any more."""
        assert self.store is not None
        sent, seen = await self.store.prune(self.clock() - self.config.defaults.retention)
        if sent or seen:
            log.info("retention: pruned %d sent alert(s) and %d seen key(s)", sent, seen)

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
            interval = max(1.0, feed.interval_s)
            existing = self.scheduler.get_job(job_id)
            if existing is not None and existing.trigger.interval.total_seconds() == interval:
                continue  # keep its place in the schedule across reloads
            first = min(interval, 3.0) * rng.random()
            self.scheduler.add_job(
                self._poll_job,
                "interval",
                seconds=interval,
                jitter=jitter(interval),
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
        try:
            feed = await self.store.feed(name)
            if feed is None or not feed.enabled or feed.state == "disabled":
                return
            outcome = await self.poller.poll(feed)
        except Exception as exc:  # the store can be down for a while: log, keep the schedule
            log.error("feed %s: poll aborted: %s: %s", name, type(exc).__name__, exc)
            self.metrics.polls.labels("aborted").inc()
            return
        self._count(outcome)
        if outcome.queued:
            for dispatcher in self.dispatchers.values():
                dispatcher.wake()
        job = self.scheduler.get_job(f"feed:{name}")
        if job is not None and outcome.next_delay > feed.interval_s * 1.2:
            job.modify(next_run_time=_utc(self.clock() + outcome.next_delay))

    def _count(self, outcome: PollOutcome) -> None:
        self.metrics.polls.labels(outcome.status).inc()
        self.metrics.new_items.inc(outcome.new_items)
        self.metrics.poll_duration.observe(outcome.duration)
        for platform, count in outcome.queued.items():
            self.metrics.alerts_queued.labels(platform).inc(count)

    def _observe_delivery(self, outcome: str, entry: OutboxEntry, now: float) -> None:
        platform = entry.recipient.platform.value
        if outcome == "sent":
            self.metrics.alerts_sent.labels(platform).inc()
            if entry.published_at:
                self.metrics.publish_to_send.labels(platform).observe(
                    max(0.0, now - entry.published_at)
                )
        elif outcome in ("failed", "gone") or outcome in ("rate_limited", "retry"):
            self.metrics.alerts_failed.labels(platform, outcome).inc()

    # chat admin side -----------------------------------------------------------------------

    async def add_feed_from_chat(self, url: str, name: str) -> str:
        """`/addfeed`: the URL must pass the SSRF guard and serve a feed before it is stored."""
        assert self.store is not None
        url = url.strip()
        if not url.startswith(("http://", "https://")):
            raise ValueError("give an http(s) URL")
        name = name or slug("", url)
        if not re.fullmatch(r"[\w.\-]{1,64}", name):
            raise ValueError("a feed name is 1-64 letters, digits, '.', '_' or '-'")
        try:
            async with make_client(transport=PinnedTransport(self.url_guard)) as client:
                result = await fetch_feed(client, url, guard=self.url_guard)
            parsed = await asyncio.to_thread(parse_feed, result.body, headers=result.headers)
        except (FetchError, ParseError) as exc:
            raise ValueError(str(exc)) from None
        interval = self.config.defaults.min_interval * 5
        record = await self.store.add_feed(FeedSpec(name, url, interval))
        if record is None:
            raise ValueError(f"a feed named {name} or with that URL exists already")
        if self.scheduler is not None:
            await self._schedule_feeds()
        return f"Added feed {name} ({len(parsed.items)} items now; new ones will alert)."

    async def remove_feed(self, name: str) -> bool:
        assert self.store is not None
        removed = await self.store.remove_feed(name)
        if removed and self.scheduler is not None:
            await self._schedule_feeds()
        return removed

    async def reload(self) -> str:
        """Re-read the config file; a bad one is refused and the running config stays."""
        try:
            loaded = load_config(self.loaded.path)
        except ConfigError as exc:
            log.error("reload refused:\n%s", exc)
            return f"Reload refused, the running config stays:\n{exc}"
        await self.apply_config(loaded)
        log.info(
            "config reloaded from %s: %d feed(s), topics %s",
            loaded.path,
            len(loaded.config.feeds),
            ", ".join(loaded.config.topics),
        )
        return f"Reloaded: {len(loaded.config.feeds)} feeds, {len(loaded.config.topics)} topics."

    # health --------------------------------------------------------------------------------

    async def health(self) -> tuple[bool, dict[str, Any]]:
        details: dict[str, Any] = {"status": "ok"}
        healthy = True
        if self.scheduler is None or not self.scheduler.running:
            healthy, details["status"] = False, "scheduler not running"
        try:
            assert self.store is not None
            feeds = await asyncio.wait_for(self.store.feeds(enabled_only=True), timeout=5)
        except Exception as exc:
            healthy, details["status"] = False, f"database unreachable: {type(exc).__name__}"
            return healthy, details
        # failing feeds are the web's fault, not ours: reported, never unhealthy
        details["feeds"] = len(feeds)
        details["failing_feeds"] = sorted(f.name for f in feeds if f.condition != "ok")
        details["channels"] = {
            str(p): "stopped: " + d.stopped_reason if d.stopped_reason else "running"
            for p, d in self.dispatchers.items()
        }
        return healthy, details

    async def metrics_text(self) -> tuple[bytes, str]:
        """The Prometheus text page; gauges are read from the store at scrape time."""
        if self.store is not None:
            try:
                counts = await self.store.outbox_counts()
                self.metrics.set_outbox({p: n for (p, s), n in counts.items() if s == "pending"})
                states: dict[str, int] = {}
                for feed in await self.store.feeds():
                    states[feed.condition] = states.get(feed.condition, 0) + 1
                self.metrics.set_feed_states(states)
            except Exception as exc:
                log.warning("metrics: store unreachable: %s", type(exc).__name__)
        return self.metrics.render()


def _utc(epoch: float) -> datetime:
    return datetime.fromtimestamp(epoch, UTC)
