"""Composition root: builds everything from settings and config, runs it, shuts it down cleanly.

No other module starts, reads or connects anything on its own; they all get what they need here.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import os
import signal
import time
from collections.abc import Callable, Mapping
from typing import Any, TextIO

import aiohttp
import httpx
from aiohttp import web

from bot.admin import ChatFeedAdmin
from bot.channels.base import Channel, FrontEnd
from bot.channels.console import CONSOLE_RECIPIENT, ConsoleChannel
from bot.classify import ClassifierCache
from bot.commands import Commands
from bot.config import LoadedConfig
from bot.config_watch import ConfigWatch
from bot.db_watch import DatabaseWatch
from bot.declared import admin_recipients, feed_specs, static_subscriptions
from bot.delivery import Dispatcher, ElectedSender
from bot.feeds.article import ArticleLeads
from bot.feeds.fetch import FeedClient, FetchResult, make_client, make_session
from bot.feeds.options import FeedOptions
from bot.feeds.parse_pool import ParsePool
from bot.feeds.proxy import ProxyRules
from bot.grouping import StoryTracker, tracker_for
from bot.models import Platform, Subscription
from bot.netguard import URLGuard, fetch_checked
from bot.ops import Ops
from bot.poll_summary import once_summary
from bot.poller import Poller, PollOutcome, PollPolicy
from bot.scheduling import FeedScheduler
from bot.settings import Settings
from bot.store import Store, connect
from bot.store.election import Election, Presence, election_for, once_turn, runs_alone
from bot.store.records import FeedRecord
from bot.web import build_web_app, serve
from bot.websub import Push, PushTiming

log = logging.getLogger(__name__)


class App:
    """The running bot: store, poller, scheduler, dispatchers and chat front ends."""

    def __init__(
        self,
        settings: Settings,
        loaded: LoadedConfig,
        *,
        stdout: TextIO | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        clock: Callable[[], float] = time.time,
        poll_policy: PollPolicy | None = None,
        push_timing: PushTiming | None = None,
    ) -> None:
        self.settings = settings
        self.loaded = loaded
        self.config = loaded.config
        self.clock = clock
        self._stdout = stdout
        self._transport = transport
        self._poll_policy = poll_policy or PollPolicy()
        """Concurrency and fetch limits; the interval bounds come from the config."""
        self.store: Store | None = None
        self.client: httpx.AsyncClient | None = None
        self.poller: Poller | None = None
        self.channels: dict[Platform, Channel] = {}
        self.dispatchers: dict[Platform, Dispatcher] = {}
        self.senders: dict[Platform, ElectedSender] = {}
        """Each platform's sending, run while this process is elected sender for its token."""
        self._presence: Presence | None = None
        self.scheduler: FeedScheduler | None = None
        self.ops: Ops | None = None
        self.admin: ChatFeedAdmin | None = None
        self._stories: StoryTracker | None = None
        self.front_ends: list[FrontEnd] = []
        self.web_runner: web.AppRunner | None = None
        self.url_guard = URLGuard()
        self.feed_client: FeedClient | None = None
        """The config's feeds: a pooled aiohttp session (`client`, httpx, with a test transport)."""
        self.parse_pool = ParsePool()
        self.articles = ArticleLeads(self._fetch_article)
        """Kept across reloads: a link read once is not read again."""
        self._push_timing = push_timing or PushTiming(poll_interval=settings.push_poll_interval)
        self.push: Push | None = None
        """WebSub push (None: no public URL, feeds are only polled)."""
        self._tasks: list[asyncio.Task[Any]] = []
        self._stop = asyncio.Event()

    def commands_for(self, platform: Platform) -> Commands:
        """The command handler of one platform (commands are written `/x` or `/news x`)."""
        assert self.store is not None
        return Commands(
            self.store,
            lambda: self.config,
            feed_admin=self.admin,
            clock=self.clock,
            prefix="/news " if platform is Platform.SLACK else "/",
        )

    # building ------------------------------------------------------------------------------

    async def start(self) -> None:
        """Connect, migrate, sync the config into the store, build the pipeline."""
        self.store = store = await connect(self.settings.database_url)
        self.parse_pool.warm()  # the workers import the parser while the rest starts
        self.client = make_client(transport=self._transport)
        self.feed_client = self.client if self._transport else make_session()
        limit = self._poll_policy.max_concurrent
        self.scheduler = FeedScheduler(
            store.feeds, self._poll_feed, self.prune, clock=self.clock, in_flight=4 * limit
        )
        scheduler = self.scheduler
        self.ops = Ops(
            store,
            self.dispatchers,
            lambda: scheduler.running,
            roles=lambda: {p: s.role for p, s in self.senders.items()},
        )
        if self.settings.public_url:
            self.push = Push(
                store.websub,
                self.client,
                self.settings.public_url,
                ingest=self._push,
                poll_now=self._poll_feed,
                count=self.ops.count_push,
                timing=self._push_timing,
                max_body_bytes=self._poll_policy.limits.max_body_bytes,
                chat_guard=lambda: self.url_guard,
                clock=self.clock,
            )
        self.admin = ChatFeedAdmin(
            store.feeds,
            lambda: self.url_guard,
            loaded=lambda: self.loaded,
            apply=self.apply_config,
            feeds_changed=scheduler.sync,
        )
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
                store.outbox,
                store.chats,
                channel,
                stories=store.stories,
                clock=self.clock,
                observer=self.ops.observe_delivery,
                config=lambda: self.config,
            )
            self.senders[platform] = ElectedSender(
                self.dispatchers[platform],
                self._election(platform),
                supervise=self.ops.supervise,
                receiver=self._exclusive_receiver(platform),
            )
        await self.apply_config(self.loaded)

    def _election(self, platform: Platform) -> Election:
        """Who sends for this platform's bot token: one process of all on the database (the
        console has none: it prints in every process, each alert once, by its lease)."""
        assert self.store is not None
        settings = self.settings
        tokens = {"telegram": settings.telegram_bot_token, "slack": settings.slack_bot_token}
        return election_for(self.store.db, platform.value, tokens.get(platform.value, ""))

    def _exclusive_receiver(self, platform: Platform) -> FrontEnd | None:
        """The front end that one process only may run: Telegram's long polling (two get 409
        Conflict); a webhook, Socket Mode and Slack's HTTP mode take any process."""
        if platform is Platform.TELEGRAM and not self.settings.telegram_webhook_url:
            channel: object = self.channels[platform]
            return next((f for f in self.front_ends if f is channel), None)
        return None

    async def apply_config(self, loaded: LoadedConfig) -> None:
        """Make `loaded` the config in force: feeds, static subscriptions, topics."""
        assert self.store is not None and self.client is not None and self.scheduler is not None
        config = loaded.config
        self.loaded, self.config = loaded, config
        now = self.clock()
        self._stories = tracker_for(config.stories, self.store.stories, self._stories)
        await self.store.feeds.sync(feed_specs(config))
        await self.store.chats.sync_static(static_subscriptions(config), now)
        extra = []
        if Platform.CONSOLE in self.channels:
            topics = frozenset(config.topics)
            extra.append(Subscription(CONSOLE_RECIPIENT, topics))
        self.poller = Poller(
            self.store,
            self.feed_client or self.client,
            ClassifierCache(config.topic_rules()),
            extra_subscriptions=extra,
            explicit_intervals=config.explicit_intervals(),
            policy=dataclasses.replace(
                self._poll_policy,
                floor=config.defaults.min_interval,
                ceiling=config.defaults.max_interval,
                hosts={host: h.concurrency for host, h in config.hosts.items()},
            ),
            clock=self.clock,
            admins=admin_recipients(config, self.channels, CONSOLE_RECIPIENT),
            chat_guard=lambda: self.url_guard,
            stories=self._stories,
            realert=frozenset(config.stories.realert),
            feed_options={f.name: FeedOptions(f.headers, f.proxy) for f in config.feeds},
            proxies=ProxyRules.from_environment(os.environ),
            parser=self.parse_pool,
            articles=self.articles,
            article_feeds=frozenset(f.name for f in config.feeds if f.fetch_article),
            watcher=self.push.subscriber if self.push else None,
        )
        await self.scheduler.sync()

    async def _fetch_article(self, url: str) -> FetchResult:
        """An item's page: a link from a feed's content is a stranger's URL, so it is checked
        like a feed added from chat (public addresses only, every redirect too)."""
        return await fetch_checked(url, self.url_guard, limits=self._poll_policy.limits)

    async def close(self) -> None:
        if self.scheduler is not None:
            await self.scheduler.shutdown()
        for sender in self.senders.values():
            await sender.close()
        await self._stop_front_ends()  # also closes the connections of sends-only use
        if self.client is not None:
            await self.client.aclose()
        if isinstance(self.feed_client, aiohttp.ClientSession):
            await self.feed_client.close()
        await asyncio.to_thread(self.parse_pool.close)
        if self.store is not None:
            await self.store.close()

    # polling -------------------------------------------------------------------------------

    async def _poll_feed(self, feed: FeedRecord) -> PollOutcome | None:
        """One poll, counted; an abort (the store down, a bug) is logged and the schedule kept."""
        assert self.poller is not None and self.ops is not None
        try:
            outcome = await self.poller.poll(feed)
        except Exception as exc:
            log.error("feed %s: poll aborted: %s: %s", feed.name, type(exc).__name__, exc)
            self.ops.count_aborted_poll()
            return None
        self.ops.count_poll(outcome)
        self._wake_dispatchers(outcome)
        return outcome

    async def _push(self, feed: FeedRecord, body: bytes, headers: Mapping[str, str]) -> PollOutcome:
        """A document a hub pushed: the poller's document path, counted, dispatchers woken."""
        assert self.poller is not None and self.ops is not None
        outcome = await self.poller.push(feed, body, headers)
        self.ops.count_document(outcome)
        self._wake_dispatchers(outcome)
        return outcome

    def _wake_dispatchers(self, outcome: PollOutcome) -> None:
        for dispatcher in self.dispatchers.values() if outcome.queued else ():
            dispatcher.wake()

    async def poll_all(self) -> list[PollOutcome]:
        """Poll every feed once, under claims as `run` takes them: alone on the database every
        feed; beside a running `run` or after another pass, only those due (none polled twice)."""
        assert self.store is not None and self.scheduler is not None
        async with once_turn(self.store.db) as waited:
            alone = not waited and await runs_alone(self.store.db)
            return await self.scheduler.poll_once(due_only=not alone)

    async def run_once(self) -> list[PollOutcome]:
        """`newsbot run --once`: poll every feed, deliver what is due (unless another process is
        the sender for a platform's token: its alerts are left to it), return."""
        outcomes = await self.poll_all()
        log.info("run --once: %s", once_summary(outcomes))
        sent = await asyncio.gather(*(s.drain_once() for s in self.senders.values()))
        for platform, drained in zip(self.senders, sent, strict=True):
            if not drained:
                log.info("%s: another process is the sender; alerts left to it", platform)
        return outcomes

    async def prune(self) -> None:
        """Retention: drop old sent alerts and seen keys no feed lists any more."""
        assert self.store is not None
        sent, seen = await self.store.prune(self.clock() - self.config.defaults.retention)
        if sent or seen:
            log.info("retention: pruned %d sent alert(s) and %d seen key(s)", sent, seen)

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
        """Start what `run_forever` keeps running: the web server (first: a port it cannot have
        stops the start before anything is polled), scheduler, dispatchers, front ends, watchers;
        each task restarted with backoff when it crashes (/healthz is 503 meanwhile)."""
        assert self.scheduler is not None and self.ops is not None and self.store is not None
        if self.settings.http_port is not None:
            routes = [r for f in self.front_ends for r in f.web_routes()]
            routes += self.push.routes() if self.push else []
            site = build_web_app(self.ops.health, self.ops.metrics_text, routes)
            self.web_runner = await serve(site, self.settings.http_port)
        self._presence = Presence(self.store.db)  # `run --once` sees it and polls only what is due
        await self._presence.enter()
        await self.scheduler.start()
        supervised = {"database-watch": DatabaseWatch(self.store.db.ping).run}
        supervised["config-watch"] = ConfigWatch(self.loaded.path, self.reload).run
        supervised["presence"] = self._presence.keep
        for platform, sender in self.senders.items():
            await sender.start()
            supervised[f"election-{platform}"] = sender.run
        if self.push is not None:
            supervised["websub"] = self.push.subscriber.run
        for name, run in supervised.items():
            self._tasks.append(asyncio.create_task(self.ops.supervise(name, run), name=name))
        elected = [s.receiver for s in self.senders.values()]
        for front_end in self.front_ends:
            if not any(front_end is r for r in elected):
                await front_end.start()
        log.info(
            "newsbot running: %d feed(s), channels: %s%s",
            len(self.config.feeds),
            ", ".join(self.channels) or "none",
            f", web on port {self.settings.http_port}" if self.settings.http_port else "",
        )

    async def stop_services(self) -> None:
        """Stop polling and listening; let sends in flight finish (the rest stays queued)."""
        if self.scheduler is not None and self.scheduler.running:  # else nothing started
            log.info("stopping: finishing sends in flight")
        if self.scheduler is not None:
            await self.scheduler.shutdown()
        for sender in self.senders.values():
            sender.stop()
        for task in self._tasks:
            if not task.get_name().startswith("election-"):  # no send of theirs to finish
                task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks = []
        await self._stop_front_ends()
        if self.web_runner is not None:
            await self.web_runner.cleanup()
            self.web_runner = None
        if self.push is not None:
            await self.push.receiver.drain()
        if self._presence is not None:
            await self._presence.leave()
            self._presence = None

    async def _stop_front_ends(self) -> None:
        for front_end in self.front_ends:
            try:
                await front_end.stop()
            except Exception:
                log.exception("stopping a chat front end failed")

    async def reload(self) -> str:
        """Re-read the config file (SIGHUP, `/reload`); a bad one is refused."""
        assert self.admin is not None
        return await self.admin.reload()

    def _reload_in_background(self) -> None:
        self._tasks.append(asyncio.create_task(self.reload(), name="reload"))
