"""The `also: 한겨레 · 서울신문 (+2)` line under a story's alert: who else reported it."""

from __future__ import annotations

from collections.abc import Sequence

from bot.models import FeedItem, Source

SHOWN_SOURCES = 3
"""Sources named on the line; the rest are counted."""


def other_sources(sources: Sequence[Source], item: FeedItem) -> tuple[Source, ...]:
    """The story's sources besides `item`'s own outlet."""
    return tuple(s for s in sources if s.name != item.source and s.link != item.link)


def visible_sources(also: Sequence[Source]) -> tuple[tuple[Source, ...], int]:
    """The sources to name, and how many more there are."""
    return tuple(also[:SHOWN_SOURCES]), max(0, len(also) - SHOWN_SOURCES)


def more_suffix(hidden: int) -> str:
    return f" (+{hidden})" if hidden else ""
