"""Which items of a fetched document are new: pure decisions over keys already seen.

An item is known by its key (guid, else link) and by fingerprints that outlive a key some feeds
regenerate on every fetch (a guid with a session or a timestamp in it, a link with `?sid=N`):
its link without tracking and session parameters, when no other item of the document shares it;
its headline with its publication time; undated, its headline with its summary. An item is new
only when neither its key nor a fingerprint was seen.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from bot.models import FeedItem
from bot.text.urls import SESSION_PARAMETERS, TRACKING_PARAMETERS, address_identity

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
FINGERPRINT = "fingerprint:"
"""The prefix of a fingerprint among a feed's seen keys (`status` counts the keys only)."""


@dataclass(frozen=True, slots=True)
class Decision:
    """Outcome of comparing one document with the seen set."""

    listed: tuple[str, ...]
    """Every distinct key and fingerprint in the document: all are recorded as seen."""
    new_items: int
    """Items found new: neither key nor fingerprint seen (0 on a first poll)."""
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
    unique = _by_key(items)
    prints = _fingerprints(unique.values())
    listed: dict[str, None] = dict.fromkeys(unique)
    fresh = []
    taken: set[str] = set()  # fingerprints of this document's new items
    for key, item in unique.items():
        known = prints[key]
        listed.update(dict.fromkeys(known))
        if key not in seen and not any(p in seen or p in taken for p in known):
            fresh.append(item)
            taken.update(known)
    new_items = len(fresh) if primed else 0
    if not primed:
        fresh = _newest(fresh, backlog)
    return Decision(tuple(listed), new_items, tuple(_oldest_first(fresh)), primes=not primed)


def candidate_keys(items: Sequence[FeedItem]) -> list[str]:
    """Every key and fingerprint of `items`: the ones to look up among those seen."""
    unique = _by_key(items)
    return [*unique, *(p for known in _fingerprints(unique.values()).values() for p in known)]


def _by_key(items: Iterable[FeedItem]) -> dict[str, FeedItem]:
    unique: dict[str, FeedItem] = {}
    for item in items:
        unique.setdefault(item.key, item)
    return unique


def _fingerprints(items: Iterable[FeedItem]) -> dict[str, tuple[str, ...]]:
    """Each item's fingerprints, by key: its link without tracking or session parameters, when
    no other item has that link (a feed whose every item links its home page names no item by
    it); its headline with its publication time; and, undated, its headline with its summary."""
    items = list(items)
    links = {item.key: _link_identity(item.link) for item in items if item.link}
    shared = Counter(links.values())
    out: dict[str, tuple[str, ...]] = {}
    for item in items:
        known = []
        link = links.get(item.key)
        if link and shared[link] == 1:  # also when the link is the key: `?sid=` may change
            known.append(f"{FINGERPRINT}link:{_digest(link)}")
        if item.title and item.published is not None:
            dated = f"{item.title}\n{item.published.isoformat()}"
            known.append(f"{FINGERPRINT}headline:{_digest(dated)}")
        elif item.title and item.summary:
            undated = f"{item.title}\n{item.summary}"
            known.append(f"{FINGERPRINT}text:{_digest(undated)}")
        out[item.key] = tuple(known)
    return out


def _link_identity(link: str) -> str:
    return address_identity(link, ignored=TRACKING_PARAMETERS | SESSION_PARAMETERS)


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:32]


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
