"""The `also: 한겨레 · 서울신문 (+2)` line under a story's alert: who else reported it."""

from __future__ import annotations

from collections.abc import Sequence

from bot.models import Source

SHOWN_SOURCES = 3
"""Sources named on the line; the rest are counted."""


def visible_sources(also: Sequence[Source]) -> tuple[tuple[Source, ...], int]:
    """The sources to name, and how many more there are."""
    return tuple(also[:SHOWN_SOURCES]), max(0, len(also) - SHOWN_SOURCES)


def more_suffix(hidden: int) -> str:
    return f" (+{hidden})" if hidden else ""
