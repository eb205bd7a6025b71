"""Which items of a fetched document are new: pure decisions over keys already seen."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from bot.models import FeedItem

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class Decision:
    """Outcome of comparing one document with the seen set."""

    listed: tuple[str, ...]
    """Every distinct key in the document: all of them are recorded as seen."""
    alert: tuple[FeedItem, ...]
    """Items to alert about, oldest first."""
    primes: bool
    """This was the feed's first poll: it fills the seen set (and sends at most the backlog)."""


def decide(
    items: Sequence[FeedItem], seen: set[str] | frozenset[str], *, primed: bool, backlog: int
) -> Decision:
    """New items of `items` (a document in feed order) given the keys `seen` before.

    The first poll of a feed sends nothing but its `backlog` newest items. An item whose key was
    seen is never new again, whatever its title or body now say: edits do not alert twice.
    """
    unique: dict[str, FeedItem] = {}
    for item in items:
        unique.setdefault(item.key, item)
    fresh = [item for key, item in unique.items() if key not in seen]
    if not primed:
        fresh = _newest(fresh, backlog)
    return Decision(tuple(unique), tuple(_oldest_first(fresh)), primes=not primed)


def _newest(items: list[FeedItem], count: int) -> list[FeedItem]:
    if count <= 0:
        return []
    ranked = sorted(
        enumerate(items), key=lambda pair: (pair[1].published or _EPOCH, -pair[0]), reverse=True
    )
    return [item for _, item in ranked[:count]]


def _oldest_first(items: list[FeedItem]) -> list[FeedItem]:
    """Publication order; undated items keep the feed's order, which lists the newest first."""
    indexed = list(enumerate(items))
    indexed.sort(key=lambda pair: (pair[1].published or _EPOCH, -pair[0]))
    return [item for _, item in indexed]
