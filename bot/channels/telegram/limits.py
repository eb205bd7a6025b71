"""Telegram's limits (Bot API documentation and FAQ), and the limiter that holds its 30/s at
the wire."""

from __future__ import annotations

import asyncio
import contextlib
import time
import warnings
from collections import deque
from collections.abc import AsyncIterator, Callable
from datetime import timedelta
from typing import Final

from telegram.error import RetryAfter
from telegram.warnings import PTBDeprecationWarning

# Bot API limits (https://core.telegram.org/bots/api#sendmessage, /bots/faq#broadcasting-to-users)
MAX_TEXT: Final = 4096
"""UTF-16 code units of a message's text after markup parsing."""
MAX_CAPTION: Final = 1024
MAX_CALLBACK_DATA: Final = 64
"""Bytes of an inline button's callback_data."""
MAX_CALLBACK_ANSWER: Final = 200
GLOBAL_RATE: Final = 30.0
"""Messages per second per bot, to all chats together."""
GLOBAL_INTERVAL: Final = 1 / 29.7
"""The dispatcher's pacing: a little above 1/30 s, so 30 sends span more than a second."""
WIRE_WINDOW: Final = 1.005
"""At most GLOBAL_RATE messages reach Telegram within this many seconds, whatever the scheduling:
a send that starts late (a busy event loop, the first getMe) must not bunch up with the next."""
PRIVATE_CHAT_INTERVAL: Final = 1.0
"""About one message per second to one private chat."""
GROUP_CHAT_INTERVAL: Final = 3.0
"""20 messages per minute to one group, supergroup or channel."""
CONNECTION_POOL: Final = 80
"""Connections for sends and replies: above the dispatcher's ~60 sends in flight at 30/s."""
MAX_REPLY_WAIT: Final = 10.0
"""A command reply that hits flood control waits this long at most, once."""
START_RETRY: Final = 30.0
"""Seconds between attempts to reach the Bot API when it is unreachable at start."""


class SlidingWindow:
    """At most `limit` requests in any `window` seconds as the server sees them, in arrival order.

    A request reaches the server somewhere between its start and its end, so it holds a slot
    from its start until `window` after its end: then no latency, slow start or busy event loop
    can make `limit + 1` of them land in one window. (Of any `limit + 1` requests that land in
    one window, the one started last would have found the other `limit` still holding slots.)
    The dispatcher schedules sends a little below the rate; this holds the line at the wire,
    for command replies too, which the dispatcher does not schedule.
    """

    def __init__(
        self, limit: int, window: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.limit = limit
        self.window = window
        self._clock = clock
        self._ends: deque[float] = deque()
        self._running = 0
        self._lock = asyncio.Lock()
        self._released = asyncio.Event()

    @contextlib.asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        """Hold a slot while the request runs (first come, first served)."""
        await self._acquire()
        try:
            yield
        finally:
            self._running -= 1
            self._ends.append(self._clock())
            self._released.set()

    async def _acquire(self) -> None:
        async with self._lock:
            while True:
                now = self._clock()
                while self._ends and self._ends[0] <= now - self.window:
                    self._ends.popleft()
                if self._running + len(self._ends) < self.limit:
                    self._running += 1
                    return
                self._released.clear()
                timeout = self._ends[0] + self.window - now if self._ends else None
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._released.wait(), timeout)


def retry_after_wait(exc: RetryAfter) -> float:
    """`retry_after` in seconds (PTB 22 returns an int or a timedelta, with a warning)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PTBDeprecationWarning)
        value = exc.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)
