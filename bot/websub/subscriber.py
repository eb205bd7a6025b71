"""Keeps each feed's push subscription asked for, renewed and cancelled at its hub.

The poller tells it about every document (`document`); a hub seen for the first time is stored
and subscribed to at once, with a callback under the public URL and a secret of its own. The
loop (`run`) takes the rows that are due, one process per row: it subscribes new ones, renews
active ones before their lease ends, retries failures with growing waits (meanwhile the feed is
polled as usual), and unsubscribes the feeds that were removed. A verification of intent that
never comes counts as a failure. `poll_floor` is how the poller learns to poll a pushed feed
only rarely.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import httpx
from sqlalchemy.exc import SQLAlchemyError

from bot.feeds.fetch import FetchError, URLRefused
from bot.feeds.parse import ParsedFeed
from bot.netguard import PinnedTransport, URLGuard
from bot.store.records import FeedRecord
from bot.store.websub import PushState, PushSubscription, WebSubStore
from bot.websub.discover import discover

log = logging.getLogger(__name__)

UNSUBSCRIBE_TRIES = 3
CALLBACK_PATH = "/websub/"
"""Callbacks are `<public URL>/websub/<token>`: one per subscription."""


@dataclass(frozen=True, slots=True)
class PushTiming:
    poll_interval: float = 3600.0
    """How often a pushed feed is still polled."""
    verify_wait: float = 120.0
    """How long a hub has to verify a request before it counts as failed."""
    retry_first: float = 60.0
    retry_max: float = 6 * 3600.0
    """Waits before retrying a failed subscription: doubling from the first to the most."""
    renew_share: float = 0.8
    """Renew once this share of the lease has passed."""
    longest_renewal: float = 30 * 86400.0
    """Renew at least this often, whatever lease the hub grants (or whoever claims to be it)."""
    shortest_renewal: float = 60.0
    """Renew at most this often: a hub granting leases of seconds would have the bot ask again
    and again (between the lease's end and the renewal, the feed is polled as usual)."""
    tick: float = 30.0
    """The longest the loop sleeps (it also wakes when a hub is found)."""
    claim_lease: float = 60.0
    """How long a process holds a row while it talks to the hub."""
    request_timeout: float = 10.0
    lease_seconds: int | None = None
    """The lease to ask for (None: the hub's default)."""

    def retry_at(self, now: float, failures: int) -> float:
        return now + min(self.retry_first * 2.0 ** max(0, failures), self.retry_max)

    def renew_at(self, now: float, lease: float) -> float:
        wait = min(lease * self.renew_share, self.longest_renewal)
        return now + max(wait, self.shortest_renewal)


class Subscriber:
    """Subscriptions at hubs, kept in the store so that every process and restart shares them."""

    def __init__(
        self,
        store: WebSubStore,
        client: httpx.AsyncClient,
        public_url: str,
        *,
        timing: PushTiming | None = None,
        clock: Callable[[], float] = time.time,
        chat_guard: Callable[[], URLGuard] | None = None,
        chat_transport: Callable[[URLGuard], httpx.AsyncBaseTransport] = PinnedTransport,
    ) -> None:
        self.store = store
        self.client = client
        self.public_url = public_url.rstrip("/")
        self.timing = timing or PushTiming()
        self._clock = clock
        self._chat_guard = chat_guard
        """Checks hubs named by feeds added from chat, like the feeds themselves."""
        self._chat_transport = chat_transport
        """Connects to such a hub only at the address its guard approved (no DNS rebinding)."""
        self._known: dict[int, tuple[str, str]] | None = None
        self._refused_hubs: set[tuple[int, str]] = set()
        self._leases: dict[int, float] = {}
        self._wake = asyncio.Event()

    def callback_url(self, sub: PushSubscription) -> str:
        return f"{self.public_url}{CALLBACK_PATH}{sub.callback_token}"

    # what the poller calls ---------------------------------------------------------------------

    async def document(
        self, feed: FeedRecord, parsed: ParsedFeed, headers: Mapping[str, str], url: str
    ) -> None:
        """A document of `feed` was read: store its hub when it names a new one. A failure is
        logged, never raised: the poll that read the document goes on."""
        links = discover(parsed.links, headers, url)
        if links is None:
            return
        try:
            if self._known is None:
                self._known = await self.store.hubs()
            if self._known.get(feed.id) == (links.hub, links.topic):
                return
            if await self._hub_refused(feed, links.hub):  # looked up once a hub is new
                return
            if await self.store.discovered(feed.id, links.hub, links.topic, self._clock()):
                log.info("feed %s: WebSub hub %s found; subscribing", feed.name, links.hub)
                self._wake.set()
            self._known[feed.id] = (links.hub, links.topic)
        except (SQLAlchemyError, OSError) as exc:
            log.warning("feed %s: hub not recorded: %s", feed.name, type(exc).__name__)

    async def _hub_refused(self, feed: FeedRecord, hub: str) -> bool:
        """Whether the hub a document names is inside (loopback, private...) while its feed is
        outside: whoever writes a public feed must not make the bot post to the operator's own
        network. A feed inside may name a hub beside it. Said once per feed and hub."""
        if self._chat_guard is None or feed.origin == "chat":  # chat feeds: checked at each ask
            return False
        if (feed.id, hub) in self._refused_hubs:
            return True
        guard = self._chat_guard()
        try:
            await guard(hub)
            return False
        except URLRefused as refused:
            try:
                await guard(feed.url)
            except URLRefused:
                return False
            self._refused_hubs.add((feed.id, hub))
            log.warning("feed %s: names a WebSub hub the bot will not use: %s", feed.name, refused)
            return True

    def poll_floor(self, feed: FeedRecord) -> float | None:
        """The slower interval of a feed its hub pushes (None: not pushed now)."""
        expires = self._leases.get(feed.id)
        if expires is None or expires <= self._clock():
            return None
        return self.timing.poll_interval

    def wake(self) -> None:
        self._wake.set()

    # the loop ----------------------------------------------------------------------------------

    async def run(self) -> None:
        """Act on due subscriptions until cancelled."""
        while True:
            try:
                await self.step()
                next_due = await self.store.next_due()
            except (SQLAlchemyError, OSError) as exc:
                log.warning("websub: store unreachable: %s", type(exc).__name__)
                next_due = None
            now = self._clock()
            wait = self.timing.tick if next_due is None else min(self.timing.tick, next_due - now)
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=max(0.05, wait))

    async def step(self) -> None:
        """One pass: every row that is due and that this process claims is acted on."""
        now = self._clock()
        everything = await self.store.all()
        # what every process has stored (a hub another process found, or one now gone)
        self._known = {s.feed_id: (s.hub, s.topic) for s in everything if s.feed_id is not None}
        self._leases = {
            s.feed_id: s.lease_expires_at
            for s in everything
            if s.feed_id is not None and s.lease_expires_at is not None and s.pushed(now)
        }
        resting = (PushState.UNSUBSCRIBING, PushState.UNSUBSCRIBED)
        for sub in everything:
            # a feed removed meanwhile is let go at once, not at its lease's renewal time; one
            # listed again is subscribed again at once
            changed = sub.feed_wanted == (sub.state in resting)
            if sub.next_action_at > now and not changed:
                continue
            if not await self.store.claim(
                sub.id, sub.next_action_at, now + self.timing.claim_lease
            ):
                continue
            await self._act(sub, now)

    async def _act(self, sub: PushSubscription, now: float) -> None:
        if not sub.feed_wanted:
            await self._cancel(sub, now)
        elif sub.state is PushState.REQUESTED and sub.requested_at is not None:
            # the hub never verified: fall back to polling, try again later
            waited = now - sub.requested_at
            await self._failed(sub, now, f"the hub did not verify within {waited:.0f}s")
        else:
            await self._ask(sub, "subscribe", now)

    async def _cancel(self, sub: PushSubscription, now: float) -> None:
        """The feed is gone: unsubscribe, unless the hub holds nothing for us any more."""
        never_verified = sub.lease_expires_at is None
        lapsed = sub.lease_expires_at is not None and sub.lease_expires_at <= now
        unanswered = sub.pending_mode == "unsubscribe" or sub.failures >= UNSUBSCRIBE_TRIES
        if never_verified or lapsed or unanswered:
            # nothing held, or the hub ignored our unsubscribe: its lease ends on its own, and
            # a push meanwhile is answered 410 Gone, which tells the hub to drop it
            await self.store.let_go(sub, now)
            log.info("websub: subscription to %s at %s dropped", sub.topic, sub.hub)
            return
        await self._ask(sub, "unsubscribe", now)

    async def _ask(self, sub: PushSubscription, mode: str, now: float) -> None:
        form = {
            "hub.mode": mode,
            "hub.topic": sub.topic,
            "hub.callback": self.callback_url(sub),
        }
        if mode == "subscribe":
            form["hub.secret"] = sub.secret
            if self.timing.lease_seconds:
                form["hub.lease_seconds"] = str(self.timing.lease_seconds)
        guard = None
        if sub.feed_origin == "chat" and self._chat_guard is not None:
            guard = self._chat_guard()
        try:
            if guard is not None:
                await guard(sub.hub)
            # the row says what we asked before the hub can verify it (it may answer at once)
            await self.store.requested(sub.id, mode, now, now + self.timing.verify_wait)
            response = await self._post(sub.hub, form, guard)
        except (httpx.HTTPError, FetchError) as exc:
            await self._failed(sub, now, f"{mode} at {sub.hub}: {type(exc).__name__}: {exc}")
            return
        if response.status_code // 100 != 2:
            first = (response.text.strip().splitlines() or [""])[0][:200]
            await self._failed(
                sub, now, f"{mode} at {sub.hub}: HTTP {response.status_code} {first}"
            )
            return
        log.info("websub: asked %s to %s %s", sub.hub, mode, sub.topic)

    async def _post(self, url: str, form: dict[str, str], guard: URLGuard | None) -> httpx.Response:
        """POST to a hub; to a chat-added feed's hub only at the address `guard` approved."""
        timeout = self.timing.request_timeout
        if guard is None:
            return await self.client.post(url, data=form, timeout=timeout)
        async with httpx.AsyncClient(transport=self._chat_transport(guard)) as pinned:
            return await pinned.post(url, data=form, timeout=timeout)

    async def _failed(self, sub: PushSubscription, now: float, error: str) -> None:
        state = PushState.PENDING if sub.feed_wanted else PushState.UNSUBSCRIBING
        retry_at = self.timing.retry_at(now, sub.failures)
        # pushes may still come until the lease ends; polling takes over then
        poll_by = max(now, sub.lease_expires_at or now)
        await self.store.failed(sub.id, state, error, retry_at, poll_by=poll_by)
        log.warning(
            "websub: %s (%d in a row); retrying in %.0fs, polling meanwhile",
            error,
            sub.failures + 1,
            retry_at - now,
        )
