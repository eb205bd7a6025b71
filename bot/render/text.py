"""Text shared by every renderer: HTML -> plain text, the first image, excerpts cut at a sentence
or a word, safe URLs, control characters out, local times."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from html import unescape
from html.parser import HTMLParser
from urllib.parse import quote, urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

_BLOCK = frozenset(
    [
        "p",
        "div",
        "br",
        "li",
        "ul",
        "ol",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "tr",
        "table",
        "blockquote",
        "pre",
        "section",
        "article",
        "header",
        "footer",
        "figure",
        "figcaption",
        "hr",
        "dd",
        "dt",
    ]
)
_SKIP = frozenset(("script", "style", "noscript", "template", "head", "title", "iframe", "svg"))
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u200b\ufeff]")
_CONTROL_OR_BREAK = re.compile(r"[\x00-\x08\x0b-\x1f\x7f\u200b\ufeff]")
_SURROGATE = re.compile(r"[\ud800-\udfff]")
# RFC 3986 reserved characters and `%` stay; spaces, quotes, `<`, `>`, `|`, controls and non-ASCII
# characters are percent-encoded, so the URL is one clean token in any markup
_URL_SAFE = "!#$%&'()*+,/:;=?@[]~"
_SENTENCE_END = re.compile(r"[.!?。？！…](?:[\"'”’)\]]*)\s|다\.\s|요\.\s")


@dataclass(frozen=True, slots=True)
class Image:
    src: str
    alt: str


class _TextExtractor(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.images: list[Image] = []
        self._skipping = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIP:
            self._skipping += 1
        elif tag in _BLOCK:
            self.parts.append("\n")
        elif tag == "img":
            values = dict(attrs)
            src = (values.get("src") or "").strip()
            if src:
                self.images.append(Image(src, (values.get("alt") or "").strip()))

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIP:
            self._skipping = max(0, self._skipping - 1)
        elif tag in _BLOCK:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self._skipping:
            self.parts.append(data)


def _parse(html: str) -> _TextExtractor:
    extractor = _TextExtractor()
    try:
        extractor.feed(html)
        extractor.close()
    except (AssertionError, ValueError):  # html.parser gives up on some broken markup
        pass
    return extractor


def html_to_text(html: str) -> str:
    """Readable plain text of an HTML fragment: tags dropped, entities decoded, blank runs folded.

    Paragraph breaks survive as single newlines; other whitespace becomes one space.
    """
    raw = "".join(_parse(html).parts) if "<" in html or "&" in html else html
    raw = _CONTROL.sub("", unescape(raw) if "&" in raw else raw).replace("\xa0", " ")
    lines = (" ".join(line.split()) for line in raw.splitlines())
    return "\n".join(line for line in lines if line)


def first_image(html: str) -> Image | None:
    """The first `<img>` with a source in `html`."""
    if "<img" not in html.lower():
        return None
    images = _parse(html).images
    return images[0] if images else None


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
    try:
        zone = ZoneInfo(timezone or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        zone = ZoneInfo("UTC")
    return when.astimezone(zone).strftime("%Y-%m-%d %H:%M %Z")
