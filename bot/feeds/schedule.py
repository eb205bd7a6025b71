"""When to poll a feed next: pure arithmetic over its interval, server hints and failures, and
the place in its interval that a hash of its URL gives it."""

from __future__ import annotations

import hashlib
import math
import random
from dataclasses import dataclass

FAILING_AFTER = 86400.0
"""A feed failing for this long is marked failing and its admins are told."""
FAILING_RETRY = 6 * 3600.0
"""How often a failing feed is retried."""
_RNG = random.Random()


@dataclass(frozen=True, slots=True)
class Hints:
    """What the last response said about polling again."""

    retry_after: float | None = None
    max_age: float | None = None
    ttl: float | None = None


def next_delay(
    interval: float,
    *,
    explicit: bool,
    hints: Hints = Hints(),
    failures: int = 0,
    floor: float = 60.0,
    ceiling: float = 86400.0,
    rng: random.Random | None = None,
) -> float:
    """Seconds until the next poll.

    An interval the operator wrote is kept as written (down to 1 s); one the bot chose (the
    default, or a feed added from chat) is raised to `floor`. Cache-Control max-age and RSS `<ttl>`
    stretch a chosen interval, up to `ceiling`, but never an explicit one; Retry-After always
    wins. Failures back off exponentially with jitter, up to FAILING_RETRY.
    """
    rng = rng or _RNG
    delay = max(interval, 1.0) if explicit else max(interval, floor)
    if not explicit:
        delay = max(delay, min(max(hints.max_age or 0.0, hints.ttl or 0.0), ceiling))
    if failures:
        backoff = delay * 2 ** min(failures - 1, 16)
        delay = min(backoff, max(FAILING_RETRY, delay)) * (1 + rng.uniform(0, 0.2))
    if hints.retry_after:
        delay = max(delay, min(hints.retry_after, max(ceiling, FAILING_RETRY)))
    return delay


def slot_offset(url: str, period: float) -> float:
    """Where in every `period` a feed's polls fall: a stable hash of its URL, so that feeds
    polled at one interval spread evenly over it, and each keeps its place across restarts."""
    digest = hashlib.blake2b(url.encode("utf-8", "surrogatepass"), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2**64 * period


def on_slot(when: float, period: float, url: str, *, reach: float) -> float:
    """`when`, moved later toward the feed's next slot (`slot_offset` in a grid of `period`
    seconds) by at most `reach` seconds. Never earlier: a feed is polled at most once per period;
    a feed off its slot comes a step closer each poll, and one on it stays there."""
    if period <= 0:
        return when
    offset = slot_offset(url, period)
    slot = math.ceil((when - offset) / period) * period + offset
    return when + min(slot - when, reach)
