"""Lengths and cuts in UTF-16 code units, the unit of Telegram's limits."""

from __future__ import annotations


def utf16_len(text: str) -> int:
    """Length in UTF-16 code units."""
    return len(text) + sum(1 for char in text if ord(char) > 0xFFFF)


def chars_within(text: str, units: int) -> int:
    """How many leading characters of `text` fit in `units` UTF-16 units."""
    used = 0
    for index, char in enumerate(text):
        used += 2 if ord(char) > 0xFFFF else 1
        if used > units:
            return index
    return len(text)


def clip(text: str, limit: int) -> str:
    """At most `limit` UTF-16 units of `text`, with an ellipsis when cut."""
    if utf16_len(text) <= limit:
        return text
    return text[: chars_within(text, limit - 1)] + "…"
