"""The hub's requests to the bot's web server, at `/websub/<token>`: one callback per subscription.

`GET` is the hub's verification of intent: answered with its `hub.challenge` only when the topic
is the subscription's and the mode is one we asked for (a subscribe we requested or hold, an
unsubscribe we requested); only our own pending request sets the lease (a hub confirming what it
holds changes nothing); a `denied` subscription falls back to polling and is retried later.
`POST` is content: refused (403, counted) unless its `X-Hub-Signature` is a valid HMAC under the
subscription's secret; its body is capped like a fetched one, then goes through the poller's
document path (`ingest`), or, when empty (a thin ping), makes the bot fetch the feed now. A
callback whose subscription is gone answers 410, which tells the hub to stop.

Everything is read from the store, so the hub may reach any process, before or after a restart.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Coroutine, Mapping
from typing import Any

from aiohttp import web
from sqlalchemy.exc import SQLAlchemyError

from bot.feeds.fetch import FetchLimits
from bot.feeds.parse import ParseError
from bot.poller import PollOutcome
from bot.store.records import FeedRecord
from bot.store.websub import PushState, WebSubStore
from bot.text.plain import ascii_count, clean_line
from bot.websub.signature import SignatureRefused, check_signature
from bot.websub.subscriber import CALLBACK_PATH, PushTiming

log = logging.getLogger(__name__)

Ingest = Callable[[FeedRecord, bytes, Mapping[str, str]], Awaitable[PollOutcome]]
"""Processes a pushed document of a feed like a polled one."""
PollNow = Callable[[FeedRecord], Coroutine[Any, Any, object]]
"""Polls a feed at once (a thin ping)."""


class BodyTooLarge(Exception):
    pass


class PushReceiver:
    """The callback routes; `count` hears each push's outcome (for the metrics)."""

    def __init__(
        self,
        store: WebSubStore,
        ingest: Ingest,
        poll_now: PollNow,
        *,
        count: Callable[[str], None] = lambda outcome: None,
        changed: Callable[[], None] = lambda: None,
        timing: PushTiming | None = None,
        max_body_bytes: int = FetchLimits().max_body_bytes,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.store = store
        self._ingest = ingest
        self._poll_now = poll_now
        self._count = count
        self._changed = changed
        """Told when a subscription is verified or dropped (the poll floor follows it)."""
        self.timing = timing or PushTiming()
        self.max_body_bytes = max_body_bytes
        self._clock = clock
        self._thin_polls: set[asyncio.Task[object]] = set()

    async def drain(self, wait_up_to: float = 30.0) -> None:
        """Let the fetches thin pings started finish (each commits whole), at shutdown."""
        if self._thin_polls:
            await asyncio.wait(set(self._thin_polls), timeout=wait_up_to)

    def routes(self) -> list[web.RouteDef]:
        path = CALLBACK_PATH + "{token}"
        return [web.get(path, self.verify), web.post(path, self.receive)]

    async def verify(self, request: web.Request) -> web.Response:
        """The hub's verification of intent (or its denial of a subscription)."""
        found = await self.store.by_token(request.match_info["token"])
        query = request.query
        if found is None or query.get("hub.topic") != found[0].topic:
            return web.Response(status=404, text="no such subscription\n")
        sub, _feed = found
        mode = query.get("hub.mode", "")
        now = self._clock()
        if mode == "denied":
            reason = clean_line(query.get("hub.reason", "no reason given"))[:200]
            state = PushState.PENDING if sub.feed_wanted else PushState.UNSUBSCRIBING
            error = f"{sub.hub} denied the subscription: {reason}"
            retry_at = self.timing.retry_at(now, sub.failures)
            await self.store.failed(sub.id, state, error, retry_at, poll_by=now, lease_ended=True)
            log.warning("websub: %s; polling meanwhile", error)
            return web.Response(text="")
        challenge = query.get("hub.challenge", "")
        if not challenge:
            return web.Response(status=400, text="hub.challenge missing\n")
        if mode == "subscribe":
            asked = sub.pending_mode == "subscribe"
            held = sub.state is PushState.ACTIVE
            lease = lease_seconds(query.get("hub.lease_seconds", ""))
            if not ((asked or held) and sub.feed_wanted):
                return web.Response(status=404, text="not asked for\n")
            if lease is None:
                return web.Response(
                    status=400, text="hub.lease_seconds must be a positive integer\n"
                )
            if not asked:
                # a hub confirming what it holds: yes, but the lease and its renewal stay as
                # the answer to our own request set them (nobody else moves them)
                log.info("websub: %s confirmed %s; lease unchanged", sub.hub, sub.topic)
                return web.Response(text=challenge, content_type="text/plain")
            await self.store.verified(sub.id, lease, now, self.timing.renew_at(now, lease))
            log.info("websub: %s pushes %s for %.0fs", sub.hub, sub.topic, lease)
        elif mode == "unsubscribe":
            if sub.pending_mode != "unsubscribe":
                return web.Response(status=404, text="not asked for\n")
            await self.store.let_go(sub, now)
            log.info("websub: %s stopped pushing %s", sub.hub, sub.topic)
        else:
            return web.Response(status=400, text="hub.mode must be subscribe or unsubscribe\n")
        self._changed()
        return web.Response(text=challenge, content_type="text/plain")

    async def receive(self, request: web.Request) -> web.Response:
        """Content distribution: a signed document (fat ping) or an empty body (thin ping)."""
        found = await self.store.by_token(request.match_info["token"])
        sub, feed = found if found is not None else (None, None)
        if sub is None or feed is None or not sub.feed_wanted:
            self._count("gone")
            return web.Response(status=410, text="no such subscription\n")
        try:
            body = await _read_capped(request, self.max_body_bytes)
        except BodyTooLarge:
            self._count("too_large")
            log.warning(
                "websub: push for feed %s refused: over %d bytes", feed.name, self.max_body_bytes
            )
            return web.Response(status=413, text="body too large\n")
        try:
            algorithm = check_signature(
                request.headers.get("X-Hub-Signature"), body, sub.secret, sub.signature_algorithm
            )
        except SignatureRefused as exc:
            self._count("bad_signature")
            log.warning("websub: push for feed %s refused: %s", feed.name, exc)
            return web.Response(status=403, text="signature refused\n")
        await self.store.pushed(sub.id, algorithm, self._clock())
        if not body.strip():
            self._count("thin")
            task = asyncio.create_task(self._poll_now(feed), name=f"thin-ping-{feed.name}")
            self._thin_polls.add(task)
            task.add_done_callback(self._thin_polls.discard)
            return web.Response(status=202, text="fetching\n")
        headers = {k.lower(): v for k, v in request.headers.items()}
        try:
            outcome = await self._ingest(feed, body, headers)
        except ParseError as exc:
            self._count("unparsable")
            log.warning("websub: push for feed %s is no feed: %s", feed.name, exc)
            return web.Response(status=202, text="not a feed\n")
        except SQLAlchemyError as exc:
            self._count("error")
            log.warning("websub: push for feed %s not recorded: %s", feed.name, type(exc).__name__)
            return web.Response(status=503, text="try again\n")
        self._count("accepted")
        log.info(
            "feed %s: pushed, %s, %d new item(s)", feed.name, outcome.status, outcome.new_items
        )
        return web.Response(status=200, text="ok\n")


async def _read_capped(request: web.Request, cap: int) -> bytes:
    """The body (decompressed by aiohttp), refused past `cap` bytes without holding more."""
    if request.content_length is not None and request.content_length > cap:
        raise BodyTooLarge
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.content.iter_chunked(64 * 1024):
        size += len(chunk)
        if size > cap:
            raise BodyTooLarge
        chunks.append(chunk)
    return b"".join(chunks)


def lease_seconds(text: str) -> float | None:
    """A hub's `hub.lease_seconds`: a positive count of ten digits at most (no lease outlasts
    what a date holds); else None."""
    lease = ascii_count(text, most_digits=10)
    return float(lease) if lease else None
