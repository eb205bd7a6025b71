"""One platform's sending, run only while this process is the elected sender for its bot token.

The platform's rate budget belongs to the token, so of all the processes on one database one
sends: it runs the dispatcher (and, where the platform lets one process only receive updates, the
receiver: Telegram long polling); the others stand by and campaign every beat. A process that wins
waits out one rate window before its first send, so the sends of a sender that just died and its
own never share a window; a process that loses its seat stops claiming at once and lets its sends
in flight finish (their leases fence their outcomes).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from enum import StrEnum

from bot.channels.base import FrontEnd
from bot.delivery.dispatcher import Dispatcher
from bot.store.election import Election

log = logging.getLogger(__name__)

BEAT = 3.0
"""Seconds between two campaigns: a standby takes over this long after the sender died, at most."""
HANDOVER_PAUSE = 1.5
"""Seconds a new sender waits before its first send: longer than any platform's rate window
(Telegram counts 30 messages per second)."""

Supervise = Callable[[str, Callable[[], Awaitable[None]]], Awaitable[None]]
"""Runs a task, restarting it with backoff when it crashes (`Ops.supervise`)."""


class Role(StrEnum):
    SENDER = "sender"
    STANDBY = "standby"


class ElectedSender:
    """Starts and stops one platform's dispatcher (and exclusive receiver) on election changes."""

    def __init__(
        self,
        dispatcher: Dispatcher,
        election: Election,
        *,
        supervise: Supervise,
        receiver: FrontEnd | None = None,
        beat: float = BEAT,
        handover_pause: float = HANDOVER_PAUSE,
    ) -> None:
        self.dispatcher = dispatcher
        self.platform = dispatcher.platform
        self._election = election
        self._supervise = supervise
        self.receiver = receiver
        """Started only while elected: updates that one process alone may receive."""
        self._beat = beat
        self._pause = handover_pause if election.contested else 0.0
        self._sending: asyncio.Task[None] | None = None
        self._stop = asyncio.Event()

    @property
    def role(self) -> Role:
        return Role.SENDER if self._sending is not None else Role.STANDBY

    async def start(self) -> None:
        """The first campaign, in the caller's task: a receiver that cannot start (its token
        refused) fails the start as it would without an election."""
        if await self._election.campaign():
            await self._take_over()
        else:
            log.info("%s: standing by: another process is the sender", self.platform)

    async def run(self) -> None:
        """Campaign every beat until `stop`; take over or step down as the seat comes and goes."""
        try:
            while not self._stop.is_set():
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stop.wait(), self._beat)
                if self._stop.is_set():
                    break
                elected = await self._election.campaign()
                if elected and self._sending is None:
                    await self._take_over()
                elif not elected and self._sending is not None:
                    log.warning("%s: no longer the sender; standing by", self.platform)
                    await self._step_down()
        finally:
            await self._step_down()
            await self._election.resign()

    def stop(self) -> None:
        self._stop.set()
        self.dispatcher.stop()

    async def close(self) -> None:
        """Give the seat up if `run` never did (a start that failed half-way)."""
        await self._election.resign()

    async def drain_once(self) -> bool:
        """`run --once`: deliver what is due if elected; False when another process sends."""
        try:
            if not await self._election.campaign():
                return False
            await asyncio.sleep(self._pause)
            await self.dispatcher.drain()
            return True
        finally:
            await self._election.resign()

    async def _take_over(self) -> None:
        log.info("%s: this process is the sender", self.platform)
        if self.receiver is not None:
            await self.receiver.start()
        self.dispatcher.resume()
        name = f"dispatch-{self.platform}"
        self._sending = asyncio.create_task(self._send(name), name=name)

    async def _send(self, name: str) -> None:
        await asyncio.sleep(self._pause)
        await self._supervise(name, self.dispatcher.run)

    async def _step_down(self) -> None:
        sending, self._sending = self._sending, None
        if sending is None:
            return
        self.dispatcher.stop()  # in its handover pause, it then returns without a send
        await asyncio.gather(sending, return_exceptions=True)
        if self.receiver is not None:
            try:
                await self.receiver.stop()
            except Exception:
                log.exception("%s: stopping the update receiver failed", self.platform)
