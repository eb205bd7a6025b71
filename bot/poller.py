"""One feed's poll, end to end: fetch, parse, dedupe, classify, route, and one commit to the store.

The decisions are the pure functions of `dedupe`, `classify`, `route` and `feeds.schedule`; this
module only sequences them around the I/O (HTTP, the store, a worker thread for parsing).
"""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

from sqlalchemy.exc import DBAPIError, SQLAlchemyError

from bot.classify import ClassifierCache
from bot.dedupe import candidate_keys, decide
from bot.feeds.article import ArticleLeads
from bot.feeds.fetch import FeedClient, FetchError, FetchLimits, HTTPStatusError, fetch_feed
from bot.feeds.options import FeedOptions
from bot.feeds.parse import ParsedFeed, ParseError
from bot.feeds.parse_pool import Parser, parse_in_thread
from bot.feeds.proxy import ProxyRules
from bot.feeds.schedule import FAILING_AFTER, Hints, next_delay, on_slot
from bot.grouping import StoryTracker
from bot.models import FeedState, PollStatus, Recipient, Subscription
from bot.netguard import URLGuard, fetch_checked
from bot.notices import feed_notice
from bot.pushing import DocumentWatcher, row_after_push
from bot.queueing import queued_alerts
from bot.route import route
from bot.store import Store
from bot.store.codec import encode_alert
from bot.store.polls import FeedRowWriter
from bot.store.records import FeedRecord, PollRecord, QueuedAlert
from bot.text.urls import without_secrets

log = logging.getLogger(__name__)
_PLAIN = FeedOptions()


@dataclass(frozen=True, slots=True)
class PollOutcome:
    """What one poll did, for logs, metrics and `--once`."""

    feed: str
    status: PollStatus
    new_items: int = 0
    queued: Mapping[str, int] = dataclasses.field(default_factory=dict)
    """Alerts written to the outbox, by platform."""
    error: str | None = None
    state: FeedState = FeedState.ACTIVE
    """The feed's state after this poll."""
    next_delay: float = 0.0
    duration: float = 0.0


class StoreRefused(Exception):
    """The store refused to commit a poll (the reason is the driver's first line, no SQL)."""

    def __init__(self, error: SQLAlchemyError) -> None:
        cause = error.orig if isinstance(error, DBAPIError) else error
        first_line = (str(cause).splitlines() or [""])[0][:200]
        super().__init__(f"store: poll not recorded: {type(cause).__name__}: {first_line}")


@dataclass(frozen=True, slots=True)
class PollPolicy:
    floor: float = 60.0
    ceiling: float = 86400.0
    max_concurrent: int = 16
    per_host: int = 2
    """Requests at once to one host, unless `hosts` says otherwise for it."""
    hosts: Mapping[str, int] = dataclasses.field(default_factory=dict)
    """Requests at once, by host name (the config's `hosts:`)."""
    limits: FetchLimits = dataclasses.field(default_factory=FetchLimits)


class Poller:
    """Polls feeds and queues their alerts; safe to call for many feeds at once."""

    def __init__(
        self,
        store: Store,
        client: FeedClient,
        classifiers: ClassifierCache,
        *,
        extra_subscriptions: Sequence[Subscription] = (),
        explicit_intervals: frozenset[str] = frozenset(),
        policy: PollPolicy = PollPolicy(),
        clock: Callable[[], float] = time.time,
        chat_guard: Callable[[], URLGuard] | None = None,
        admins: Sequence[Recipient] = (),
        stories: StoryTracker | None = None,
        realert: frozenset[str] = frozenset(),
        feed_options: Mapping[str, FeedOptions] | None = None,
        proxies: ProxyRules | None = None,
        parser: Parser = parse_in_thread,
        articles: ArticleLeads | None = None,
        article_feeds: frozenset[str] = frozenset(),
        watcher: DocumentWatcher | None = None,
    ) -> None:
        self.store = store
        self.client = client
        self.classifiers = classifiers
        self.extra_subscriptions = tuple(extra_subscriptions)
        self.explicit_intervals = explicit_intervals
        self.policy = policy
        self._clock = clock
        self._chat_guard = chat_guard
        """Checks feeds added from chat on every poll (their DNS may change after /addfeed)."""
        self.admins = tuple(admins)
        """Who hears about feeds that fail for a day, are disabled, or recover."""
        self.stories = stories
        """Groups reports of one event (None: every item alerts on its own)."""
        self.realert = realert
        """Topics whose arrival in a story alerts again rather than edits."""
        self.feed_options = dict(feed_options or {})
        """Extra headers and proxy of the config's feeds, by feed name."""
        self.proxies = proxies or ProxyRules()
        self._parse = parser
        self.articles = articles
        self.article_feeds = article_feeds
        """Feeds whose new items take their summary from their page (`fetch_article`)."""
        self.watcher = watcher
        self._rows = FeedRowWriter(store.polls)
        self._all = asyncio.Semaphore(policy.max_concurrent)
        self._hosts: dict[str, asyncio.Semaphore] = {}

    async def poll(self, feed: FeedRecord) -> PollOutcome:
        """Poll `feed` once; never raises for anything the feed or the network did."""
        started = time.monotonic()
        per_host = self._host_slots(feed.url)
        deferred: PollRecord | None = None
        async with per_host, self._all:  # a feed waiting for its host holds no global slot
            try:
                outcome, deferred = await self._poll(feed)
            except (FetchError, ParseError) as exc:
                outcome = await self._failed(feed, exc)
            except SQLAlchemyError as exc:
                # the poll's commit was refused and rolled back, seen keys and all: the feed
                # failed this poll (status, /healthz and metrics say so) and is retried with
                # backoff; if the store cannot record even that, the error goes up
                outcome = await self._failed(feed, StoreRefused(exc))
        if deferred is not None:
            # outside the semaphores, so that the rows of many polls gather into one commit
            await self._rows.write(feed.id, deferred, self._clock())
        if outcome.state != feed.state and self.admins:
            await self._tell_admins(feed, outcome)
        return _with_duration(outcome, time.monotonic() - started)

    def _host_slots(self, url: str) -> asyncio.Semaphore:
        """The requests one server takes at once: a host name and port (the config's `hosts:`
        names the host)."""
        parts = urlsplit(url)
        host = parts.hostname or ""
        server = parts.netloc.rpartition("@")[2].lower()  # the port as written, if any
        slots = self._hosts.get(server)
        if slots is None:
            limit = self.policy.hosts.get(host, self.policy.per_host)
            slots = self._hosts[server] = asyncio.Semaphore(limit)
        return slots

    async def _tell_admins(self, feed: FeedRecord, outcome: PollOutcome) -> None:
        """Once per change of state: a feed starts failing, is disabled, or is back."""
        now = self._clock()
        notice = feed_notice(feed, outcome.state, outcome.error, now)
        payload = encode_alert(notice, ())
        await self.store.outbox.queue_notices(
            [QueuedAlert(r, notice.key, payload, None) for r in self.admins], feed.name, now
        )
        log.warning("feed %s: %s", feed.name, notice.title)

    async def _poll(self, feed: FeedRecord) -> tuple[PollOutcome, PollRecord | None]:
        """Poll; an outcome that changed only the feed's row returns that row to write."""
        if feed.origin == "chat" and self._chat_guard is not None:
            result = await fetch_checked(
                feed.url,
                self._chat_guard(),
                etag=feed.etag,
                last_modified=feed.last_modified,
                limits=self.policy.limits,
            )
        else:
            options = self.feed_options.get(feed.name, _PLAIN)
            result = await fetch_feed(
                self.client,
                feed.url,
                etag=feed.etag,
                last_modified=feed.last_modified,
                limits=self.policy.limits,
                headers=options.headers,
                proxy=self.proxies.route(feed.url, options.proxy),
            )
        now = self._clock()
        if result.moved_to:  # polled there from now on; the config, read again, names the old one
            hint = "; write it in the config" if feed.origin == "config" else ""
            log.warning("feed %s: moved permanently to %s%s", feed.name, result.moved_to, hint)
        hints = Hints(retry_after=result.retry_after, max_age=result.max_age)
        body_hash = feed.body_hash
        if not result.not_modified:
            body_hash = hashlib.sha256(result.body).hexdigest()
        if result.not_modified or (body_hash == feed.body_hash and feed.primed):
            delay = _next_poll_at(feed, now, self._delay(feed, hints), hints) - now
            record = self._record(
                feed,
                # a 304 may leave out the validators: the ones we sent stay valid
                result.etag or (feed.etag if result.not_modified else None),
                result.last_modified or (feed.last_modified if result.not_modified else None),
                body_hash,
                now + delay,
                url=result.moved_to,
            )
            status = PollStatus.NOT_MODIFIED if result.not_modified else PollStatus.UNCHANGED
            outcome = PollOutcome(feed.name, status, next_delay=delay)
            if record.url:  # a moved feed is rare: committed on its own, at once
                await self.store.polls.record(feed.id, record, now)
                return outcome, None
            return outcome, record

        def settle(parsed: ParsedFeed) -> tuple[PollRecord, float]:
            hints = Hints(result.retry_after, result.max_age, parsed.ttl)
            delay = _next_poll_at(feed, now, self._delay(feed, hints), hints) - now
            record = self._record(
                feed,
                result.etag,
                result.last_modified,
                body_hash,
                now + delay,
                url=result.moved_to,
            )
            return record, delay

        return await self._ingest(feed, result.body, result.headers, result.url, now, settle), None

    async def push(self, feed: FeedRecord, body: bytes, headers: Mapping[str, str]) -> PollOutcome:
        """A document a WebSub hub pushed for `feed`, taken exactly like a polled one; the
        feed's poll state stays as its polls left it (`row_after_push`)."""
        started, now = time.monotonic(), self._clock()
        settled = row_after_push(feed), max(0.0, (feed.next_poll_at or now) - now)
        outcome = await self._ingest(feed, body, headers, feed.url, now, lambda _: settled)
        return _with_duration(outcome, time.monotonic() - started)

    async def _ingest(
        self,
        feed: FeedRecord,
        body: bytes,
        headers: Mapping[str, str],
        url: str,
        now: float,
        settle: Callable[[ParsedFeed], tuple[PollRecord, float]],
    ) -> PollOutcome:
        """One document's way: parse, dedupe, classify, stories, route, and one commit of the
        feed row `settle` gives with the seen keys and the alerts."""
        try:
            parsed = await self._parse(body, headers, feed.name, url)
        except ParseError:
            raise
        except Exception as exc:  # a parser bug on one document must not stop the poller
            raise ParseError(f"parser failed: {type(exc).__name__}: {exc}") from exc
        if self.watcher is not None:
            await self.watcher.document(feed, parsed, headers, url)
        record, delay = settle(parsed)
        seen = await self.store.polls.seen_keys(feed.id, candidate_keys(parsed.items))
        decision = decide(parsed.items, seen, primed=feed.primed, backlog=feed.backlog)
        subscriptions = list(self.extra_subscriptions) + await self.store.chats.routing()
        classifier = self.classifiers.get(k for s in subscriptions for k in s.keywords)
        grouped = {s.recipient: s.stories for s in subscriptions}
        queued: list[QueuedAlert] = []
        alerting = decision.alert
        if self.articles is not None and feed.name in self.article_feeds:
            alerting = await self.articles.fill(alerting, feed=feed.name)
        for item in alerting:
            classification = classifier.classify(item)
            story = None
            if self.stories is not None:
                story = await self.stories.assign(item, feed.name, classification.topics, now)
            alerts = route(item, classification, subscriptions, now)
            queued += queued_alerts(item, alerts, story, grouped, self.realert)
        queued_by_platform = await self.store.polls.record(
            feed.id,
            record,
            now,
            listed_keys=decision.listed,
            seen=seen,
            alerts=queued,
            primed=True if decision.primes else None,
        )
        status = (
            PollStatus.PRIMED
            if decision.primes
            else (PollStatus.NEW if decision.alert else PollStatus.UNCHANGED)
        )
        new = decision.new_items
        log.info(
            "feed %s: %s, %d new item(s), %d alert(s) queued",
            feed.name,
            status,
            new,
            sum(queued_by_platform.values()),
        )
        outcome = PollOutcome(
            feed.name, status, new_items=new, queued=queued_by_platform, next_delay=delay
        )
        return outcome

    def _record(
        self,
        feed: FeedRecord,
        etag: str | None,
        last_modified: str | None,
        body_hash: str | None,
        next_poll_at: float,
        *,
        url: str | None,
    ) -> PollRecord:
        return PollRecord(
            state=FeedState.ACTIVE,
            etag=etag,
            last_modified=last_modified,
            body_hash=body_hash,
            failures=0,
            last_error=None,
            next_poll_at=next_poll_at,
            succeeded=True,
            url=url,
        )

    def _delay(self, feed: FeedRecord, hints: Hints, failures: int = 0) -> float:
        floor = self.watcher.poll_floor(feed) if self.watcher and not failures else None
        delay = next_delay(
            feed.interval_s,
            explicit=feed.name in self.explicit_intervals,
            hints=hints,
            failures=failures,
            floor=self.policy.floor,
            ceiling=self.policy.ceiling,
        )
        return max(delay, floor) if floor else delay

    async def _failed(self, feed: FeedRecord, error: Exception) -> PollOutcome:
        now = self._clock()
        failures = feed.failures + 1
        retry_after = getattr(error, "retry_after", None)
        gone = isinstance(error, HTTPStatusError) and error.status == 410
        reason = without_secrets(str(error))  # a feed's URL may hold one, and errors name it
        failing_since = feed.failing_since or now
        since = max(failing_since, feed.last_success_at or 0.0)
        if gone:
            state = FeedState.DISABLED
        elif now - since >= FAILING_AFTER:
            state = FeedState.FAILING
        else:
            state = FeedState.ACTIVE
        delay = self._delay(feed, Hints(retry_after=retry_after), failures)
        record = PollRecord(
            state=state,
            etag=feed.etag,
            last_modified=feed.last_modified,
            body_hash=feed.body_hash,
            failures=failures,
            last_error=reason[:500],
            next_poll_at=None if gone else now + delay,
            succeeded=False,
            failing_since=failing_since,
        )
        await self.store.polls.record(feed.id, record, now)
        log.warning("feed %s: poll failed (%d in a row): %s", feed.name, failures, reason)
        return PollOutcome(
            feed.name,
            PollStatus.DISABLED if gone else PollStatus.ERROR,
            error=reason,
            state=state,
            next_delay=delay,
        )


def _next_poll_at(feed: FeedRecord, now: float, delay: float, hints: Hints) -> float:
    """After a successful poll: `delay` from now, plus up to a tenth of it toward the feed's
    own slot of that period (feeds of one interval spread over it by a hash of their URLs,
    within ten polls); a Retry-After is kept as given."""
    if hints.retry_after:
        return now + delay
    return on_slot(now + delay, delay, feed.url, reach=delay / 10)


def _with_duration(outcome: PollOutcome, seconds: float) -> PollOutcome:
    return dataclasses.replace(outcome, duration=seconds)
