"""Plain-text helpers shared by the input and output sides: excerpts cut at a sentence or a word,
safe URLs, control characters out, local times."""

from __future__ import annotations

import re
from datetime import datetime
from urllib.parse import quote, urlsplit

from bot.text.zones import zone_or_utc

_CONTROL_OR_BREAK = re.compile(r"[\x00-\x08\x0b-\x1f\x7f\u200b\u202a-\u202e\u2066-\u2069\ufeff]")
"""As `html._CONTROL`, and line breaks but `\n`."""
_SURROGATE = re.compile(r"[\ud800-\udfff]")
# RFC 3986 reserved characters and `%` stay; spaces, quotes, `<`, `>`, `|`, controls and non-ASCII
# characters are percent-encoded, so the URL is one clean token in any markup
_URL_SAFE = "!#$%&'()*+,/:;=?@[]~"
_SENTENCE_END = re.compile(r"[.!?。？！…](?:[\"'”’)\]]*)\s|다\.\s|요\.\s")


def ascii_count(text: str, most_digits: int = 12) -> int | None:
    """The whole number `text` spells in ASCII digits, at most `most_digits` of them (spaces
    around allowed); None for anything else. A header, a feed or a request gives counts as text,
    and `str.isdigit` takes `²` and `١٢` too, which `int` and `float` refuse or read."""
    text = text.strip()
    if 0 < len(text) <= most_digits and text.isascii() and text.isdigit():
        return int(text)
    return None


def excerpt(text: str, limit: int) -> str:
    """At most `limit` characters of `text`, cut after a sentence when one ends in the second half
    of the budget, else at a word, with an ellipsis when anything was cut."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    budget = text[: limit - 1]
    sentence_ends = [m.end() for m in _SENTENCE_END.finditer(budget + " ")]
    good = [end for end in sentence_ends if end >= limit // 2]
    if good:
        return budget[: good[-1]].rstrip()
    space = budget.rfind(" ")
    cut = budget[:space] if space >= limit // 2 else budget
    return cut.rstrip(" ,;:-") + "…"


def first_sentences(text: str, count: int) -> str:
    """The first `count` sentences of `text` (all of it when it has no more)."""
    ends = [m.end() for m in _SENTENCE_END.finditer(text + " ")]
    if len(ends) <= count:
        return text
    return text[: ends[count - 1]].rstrip()


def clean_lines(text: str) -> str:
    """Control characters (but newlines) and broken surrogates out: safe for any markup."""
    return _SURROGATE.sub("\ufffd", _CONTROL_OR_BREAK.sub(" ", text or ""))


def clean_line(text: str) -> str:
    """`clean_lines` on one line: every run of whitespace, newlines too, made one space."""
    return " ".join(clean_lines(text).split())


def safe_url(url: str | None) -> str | None:
    """`url` as a clean absolute http(s) URL, or None for anything else (javascript:, at://,
    relative or malformed links)."""
    if not url:
        return None
    url = _SURROGATE.sub("", _CONTROL_OR_BREAK.sub("", url)).strip()
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return None
    return quote(url, safe=_URL_SAFE)


def without_title(summary: str, title: str) -> str:
    """Many feeds repeat the headline as the summary's opening: say it once."""
    if title and summary.startswith(title):
        return summary[len(title) :].lstrip(" :·-–—|")
    return summary


def local_time(when: datetime | None, timezone: str) -> str:
    """`2024-06-12 14:03 KST` in the IANA zone `timezone` (UTC when it is empty or unknown)."""
    if when is None:
        return ""
    return when.astimezone(zone_or_utc(timezone)).strftime("%Y-%m-%d %H:%M %Z")
