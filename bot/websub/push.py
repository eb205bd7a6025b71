"""One process's WebSub side, as the app composes it: the subscriber (its loop, and the hooks the
poller calls) and the callback routes, sharing one timing and one store."""

from __future__ import annotations

import time
from collections.abc import Callable

import httpx
from aiohttp import web

from bot.netguard import URLGuard
from bot.store.websub import WebSubStore
from bot.websub.callback import Ingest, PollNow, PushReceiver
from bot.websub.subscriber import PushTiming, Subscriber


class Push:
    """Built only when the bot has a public URL."""

    def __init__(
        self,
        store: WebSubStore,
        client: httpx.AsyncClient,
        public_url: str,
        *,
        ingest: Ingest,
        poll_now: PollNow,
        count: Callable[[str], None],
        timing: PushTiming,
        max_body_bytes: int,
        chat_guard: Callable[[], URLGuard],
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.subscriber = Subscriber(
            store, client, public_url, timing=timing, clock=clock, chat_guard=chat_guard
        )
        self.receiver = PushReceiver(
            store,
            ingest,
            poll_now,
            count=count,
            changed=self.subscriber.wake,
            timing=timing,
            max_body_bytes=max_body_bytes,
            clock=clock,
        )

    def routes(self) -> list[web.RouteDef]:
        return self.receiver.routes()
