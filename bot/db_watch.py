"""Says in the log when the database stops answering, and when it answers again.

A database that refuses connections fails each poll and send with its reason, in the log. One
that accepts them and never answers (a server stuck on a full disk, a network that drops packets)
fails nothing: every poll and send waits on it, and without this watch the log says nothing.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable

from sqlalchemy.exc import SQLAlchemyError

from bot.durations import format_duration

log = logging.getLogger(__name__)

ANSWER_WITHIN = 20.0
"""Seconds a `SELECT 1` may take before the database counts as not answering."""
WATCH_EVERY = 30.0
"""Seconds between two looks."""


class DatabaseWatch:
    def __init__(
        self,
        ping: Callable[[], Awaitable[None]],
        *,
        answer_within: float = ANSWER_WITHIN,
        every: float = WATCH_EVERY,
    ) -> None:
        self._ping = ping
        self._answer_within = answer_within
        self._every = every
        self.silent_since: float | None = None
        """When the look that found the database silent began (monotonic); None while it answers."""

    async def run(self) -> None:
        while True:
            await self.look()
            await asyncio.sleep(self._every)

    async def look(self) -> None:
        started = time.monotonic()
        try:
            await asyncio.wait_for(self._ping(), self._answer_within)
        except TimeoutError:
            if self.silent_since is None:
                self.silent_since = started
                log.warning(
                    "database: no answer in %s; polls and alerts wait until it answers",
                    format_duration(self._answer_within),
                )
        except (SQLAlchemyError, OSError):
            pass  # an error, not a silence: the poll or send it stops logs it
        else:
            if self.silent_since is not None:
                silent = format_duration(max(1.0, time.monotonic() - self.silent_since))
                log.warning("database: answering again (silent for about %s)", silent)
                self.silent_since = None
