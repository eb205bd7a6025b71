"""How much of an item's text an alert shows for each `/format` length, on every platform."""

from __future__ import annotations

from typing import Final

from bot.models import ExcerptLength
from bot.text.plain import first_sentences

EXCERPT_CHARS: Final = 600
"""`full`: a few sentences, not the article."""
COMPACT_CHARS: Final = 240
"""`compact`: at most this, and no more than `COMPACT_SENTENCES`."""
COMPACT_SENTENCES: Final = 2


def budget(length: ExcerptLength) -> int:
    """The excerpt's budget in characters; 0 for `title` (no excerpt)."""
    if length is ExcerptLength.FULL:
        return EXCERPT_CHARS
    if length is ExcerptLength.COMPACT:
        return COMPACT_CHARS
    return 0


def lead(text: str, length: ExcerptLength) -> str:
    """`text` as the excerpt of this length begins it: its first two sentences for `compact`."""
    return first_sentences(text, COMPACT_SENTENCES) if length is ExcerptLength.COMPACT else text
