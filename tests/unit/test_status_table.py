"""`format_status`'s table as a terminal shows it: columns line up under wide (Hangul) names."""

from __future__ import annotations

import unicodedata
from typing import Any

from bot.status import format_status


def feed(name: str, error: str | None = None) -> dict[str, Any]:
    return {
        "name": name,
        "state": "ok",
        "failures": 0,
        "last_poll": "2026-12-06T15:59:45+00:00",
        "next_poll": None,
        "items_seen": 3,
        "last_error": error,
    }


def column_of(line: str, text: str) -> int:
    """The terminal column where `text` starts in `line` (wide characters take two)."""
    before = line[: line.index(text)]
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in before)


def test_columns_line_up_under_korean_feed_names() -> None:
    status = {
        "feeds": [feed("한국일보테스트"), feed("hani")],
        "outbox": {},
        "senders": [],
        "chats": 0,
        "subscriptions": 0,
    }
    header, korean, latin = format_status(status).splitlines()[:3]
    for line in (korean, latin):
        assert column_of(line, "ok") == column_of(header, "STATE"), line
        assert column_of(line, "2026-12-06") == column_of(header, "LAST POLL"), line
