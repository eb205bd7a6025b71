"""Which feed a URL names: two spellings of one feed are one feed, so its stories alert once.

`http://` and `https://`, a host in capitals, a default port, a trailing slash, a fragment, the
order of query parameters and tracking parameters (`utm_*`, `fbclid`, `gclid`) do not make another
feed; everything else (the path's case, other parameters) may, and is kept.
"""

from __future__ import annotations

from collections.abc import Iterable

from bot.text.urls import address_identity


def feed_identity(url: str) -> str:
    """The normalised form of `url` that names its feed: `host[:port]/path[?query]`."""
    return address_identity(url)


def duplicate_feeds(feeds: Iterable[tuple[str, str]]) -> list[tuple[str, str, str]]:
    """(first name, later name, identity) for each (name, url) whose feed an earlier one names."""
    first: dict[str, str] = {}
    out = []
    for name, url in feeds:
        identity = feed_identity(url)
        if identity in first:
            out.append((first[identity], name, identity))
        else:
            first[identity] = name
    return out
