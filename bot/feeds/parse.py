"""Feed bytes (+ response headers) -> `ParsedFeed` of `FeedItem`s. Pure; call it off the event loop.

RSS, Atom and RDF go through feedparser (never letting it fetch); JSON Feed 1.0/1.1, which
feedparser does not read, is handled here. A DOCTYPE internal subset is cut out first: entity
expansion inside it can make feedparser quadratic in time and memory. `bozo` is not failure: an
ill-formed feed still yields what feedparser could read. A body its server gzipped without
saying so (no Content-Encoding) is inflated first, up to MAX_INFLATED_BYTES.
"""

from __future__ import annotations

import calendar
import hashlib
import json
import re
import zlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from xml.sax import SAXParseException

import feedparser

from bot.feeds.charset import korean_as_utf8
from bot.models import FeedItem
from bot.text.html import first_image, html_to_text, plain_to_text
from bot.text.plain import ascii_count
from bot.text.urls import absolute_web_url

MAX_KEY_LENGTH = 512
MAX_INFLATED_BYTES = 10 * 1024 * 1024
"""A gzipped body inflates to at most this (the fetcher's own cap on a body): a gzip bomb stops."""
_GZIP_MAGIC = b"\x1f\x8b"
_DOUBLED_ORIGIN = re.compile(r"https?://[^/?#]*?(?=https?://)", re.IGNORECASE)
"""A site's address glued before an address that was absolute already
(`http://daily.example.comhttp://daily.example.com/news/1`): only the second is a page."""
_DOCTYPE_SUBSET = re.compile(rb"<!DOCTYPE[^>\[]*\[.*?\]\s*>", re.DOTALL | re.IGNORECASE)
MAX_TITLE_CHARS = 1000
"""An item's title is cut here: no headline is longer, and a broken feed that gives a whole
article as a title gets an alert that reads like one (the rest stays in no message anyway)."""
EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
LATEST = datetime(2100, 1, 1, tzinfo=UTC)
"""Publication dates outside these are a broken feed's (`31 Dec 9999`): the item is undated."""
_UNSTORABLE_ESCAPE = re.compile(r"\\u(?:[dD][89a-fA-F]|0000)")
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
"""What no PostgreSQL text holds: NUL, which goes, and half a UTF-16 pair (JSON may escape one,
`"\\ud800"`), which no UTF-8 text or chat API takes either and becomes U+FFFD. (A whole pair is
one character.) A guid or link with a NUL failed every poll of its feed on PostgreSQL."""
_CHAR_REF = re.compile(rb"&#(?:[xX]0*([0-9a-fA-F]{1,8})|0*([0-9]{1,10}));")
"""A numeric character reference: one that names no character (`&#x110000;`, a surrogate) broke
feedparser's reading of the whole document; it is read as U+FFFD."""


class ParseError(Exception):
    """The bytes are not a feed at all (nothing could be read from them)."""


@dataclass(frozen=True, slots=True)
class ParsedFeed:
    title: str
    items: tuple[FeedItem, ...]
    ttl: float | None = None
    """Seconds the feed asks readers to wait between polls (RSS `<ttl>`)."""
    bozo: str | None = None
    """Why feedparser found the document ill-formed, when it did (informational)."""
    links: tuple[tuple[str, str], ...] = ()
    """The feed's own links as (rel, href): `hub` and `self` name its WebSub hub and topic."""


def parse_feed(
    body: bytes, *, headers: Mapping[str, str] | None = None, source: str = "", base_url: str = ""
) -> ParsedFeed:
    """Parse a fetched document into items, newest first as the feed lists them."""
    headers = {k.lower(): v for k, v in (headers or {}).items()}
    if body.startswith(_GZIP_MAGIC):
        body = _inflated(body)
    if _looks_like_json(body, headers.get("content-type", "")):
        return _parse_json_feed(body, source, base_url)
    body, headers = korean_as_utf8(body, headers)
    body = _CHAR_REF.sub(_character_or_replacement, strip_doctype_subset(body))
    return _parse_xml_feed(body, headers, source, base_url)


def _character_or_replacement(found: re.Match[bytes]) -> bytes:
    code = int(found[1], 16) if found[1] else int(found[2])
    named = 0 < code <= 0x10FFFF and not 0xD800 <= code <= 0xDFFF
    return found[0] if named else b"&#xFFFD;"


def strip_doctype_subset(body: bytes) -> bytes:
    """The document without a DOCTYPE internal subset (only the prolog is searched)."""
    head = body[:4096]
    start = head.upper().find(b"<!DOCTYPE")
    if start < 0 or b"[" not in head:
        return body
    # matched at the first DOCTYPE only: tried at each of many, the search took quadratic time
    found = _DOCTYPE_SUBSET.match(body, start)
    return body[:start] + body[found.end() :] if found else body


def _inflated(body: bytes) -> bytes:
    """A gzipped body inflated, at most MAX_INFLATED_BYTES of it."""
    inflater = zlib.decompressobj(47)  # a gzip or zlib header, detected
    try:
        inflated = inflater.decompress(body, MAX_INFLATED_BYTES + 1)
    except zlib.error as exc:
        raise ParseError(f"not a feed: a corrupt gzip body ({exc})") from None
    if len(inflated) > MAX_INFLATED_BYTES:
        raise ParseError(f"not a feed: its gzip body inflates beyond {MAX_INFLATED_BYTES} bytes")
    return inflated


def item_key(guid: str | None, link: str | None, title: str, content: str) -> str:
    """Dedupe key: the guid, else the link, else a hash of title and content; long ones hashed."""
    key = (guid or "").strip() or (link or "").strip()
    if not key:
        digest = hashlib.sha256(f"{title}\n{content}".encode()).hexdigest()
        return f"sha256:{digest}"
    if len(key) > MAX_KEY_LENGTH:
        return "sha256:" + hashlib.sha256(key.encode()).hexdigest()
    return key


def _looks_like_json(body: bytes, content_type: str) -> bool:
    if "json" in content_type.lower():
        return True
    return body.lstrip(b"\xef\xbb\xbf \t\r\n")[:1] == b"{"


def _reason(exc: object) -> str | None:
    """What feedparser found wrong, in words: an XML error without the parser's own position
    (`<unknown>:2:0: syntax error` is `not well-formed XML (syntax error)`)."""
    if exc is None:
        return None
    if isinstance(exc, SAXParseException):
        detail = exc.getMessage().removeprefix("not well-formed").strip(" ()")
        return f"not well-formed XML ({detail})" if detail else "not well-formed XML"
    return str(exc)


def _parse_xml_feed(
    body: bytes, headers: Mapping[str, str], source: str, base_url: str
) -> ParsedFeed:
    # no Content-Location: feedparser would resolve relative guids against it, and an item's
    # key must not change when its feed moves to another URL
    response_headers = {k: v for k, v in headers.items() if k != "content-location"}
    # no HTML leaves this module: `html_to_text` keeps text and image addresses only (scripts
    # dropped, links made absolute by `_absolute`), so feedparser's sanitizer and URI rewriting,
    # a third of its time, would clean markup nobody sees
    try:
        parsed = feedparser.parse(
            body,
            response_headers=response_headers,
            sanitize_html=False,
            resolve_relative_uris=False,
        )
    except Exception as exc:  # feedparser's fallback parser gives up on some broken documents
        raise ParseError(f"not a feed: {type(exc).__name__}: {exc!s:.200}") from None
    if not parsed.entries and (not parsed.get("version") or (parsed.bozo and not parsed.feed)):
        # an HTML page, a JSON error, an empty body: nothing feed-like was recognised
        reason = _reason(parsed.get("bozo_exception")) or "no RSS, Atom or RDF document recognised"
        raise ParseError(f"not a feed: {reason:.200}")
    items = tuple(_xml_item(entry, source, base_url) for entry in parsed.entries)
    ttl = ascii_count(str(parsed.feed.get("ttl") or ""), most_digits=7)  # minutes
    ttl_seconds = ttl * 60.0 if ttl is not None else None
    bozo = str(parsed.get("bozo_exception"))[:200] if parsed.bozo else None
    links = tuple(
        (str(link.get("rel", "")), str(link["href"]))
        for link in parsed.feed.get("links", [])
        if link.get("href")
    )
    return ParsedFeed(html_to_text(parsed.feed.get("title", "")), items, ttl_seconds, bozo, links)


def _xml_item(entry: Any, source: str, base_url: str) -> FeedItem:
    plain = entry.get("title_detail", {}).get("type") == "text/plain"
    title = (plain_to_text if plain else html_to_text)(entry.get("title", "") or "")
    title = title[:MAX_TITLE_CHARS]
    summary_html = entry.get("summary", "") or ""
    contents = entry.get("content") or []
    content_html = "\n".join(c.get("value", "") for c in contents if c.get("value"))
    summary = html_to_text(summary_html)
    content = html_to_text(content_html) if content_html != summary_html else ""
    if not summary and content:
        summary, content = content, ""
    guid = _storable(entry.get("id") or "") or None
    raw_link = _storable(entry.get("link") or "") or None
    image_url, image_alt = _xml_image(entry, summary_html, content_html)
    return FeedItem(
        key=item_key(guid, raw_link, title, summary + content),
        guid=guid,
        link=_absolute(base_url, raw_link),
        title=title,
        summary=summary,
        content=content,
        published=_struct_time(entry.get("published_parsed") or entry.get("updated_parsed")),
        image=_absolute(base_url, image_url),
        image_alt=image_alt,
        categories=tuple(
            t.get("term") or t.get("label")
            for t in entry.get("tags", [])
            if t.get("term") or t.get("label")
        ),
        source=source,
    )


def _absolute(base_url: str, url: str | None) -> str | None:
    """`url` made absolute against the feed's address; only http(s) results are kept, None for
    anything else (a malformed address among them)."""
    if not url:
        return None
    url = _storable(url).strip()
    if doubled := _DOUBLED_ORIGIN.match(url):
        url = url[doubled.end() :]
    return absolute_web_url(base_url, url)  # a malformed one is no link, and no reason to fail


def _xml_image(entry: Any, summary_html: str, content_html: str) -> tuple[str | None, str]:
    inline = first_image(summary_html) or first_image(content_html)
    alt = inline.alt if inline else ""
    for media in entry.get("media_content", []):
        if media.get("url") and (
            media.get("medium") == "image" or str(media.get("type", "")).startswith("image/")
        ):
            return media["url"], alt
    for thumb in entry.get("media_thumbnail", []):
        if thumb.get("url"):
            return thumb["url"], alt
    for link in entry.get("links", []):
        if link.get("rel") == "enclosure" and str(link.get("type", "")).startswith("image/"):
            return link.get("href"), alt
    if inline and inline.src.startswith(("http://", "https://")):
        return inline.src, alt
    return None, alt


def _struct_time(value: Any) -> datetime | None:
    if not value:
        return None
    try:
        return _plausible(datetime.fromtimestamp(calendar.timegm(value), UTC))
    except (OverflowError, ValueError, TypeError):
        return None


def _plausible(when: datetime) -> datetime | None:
    return when if EARLIEST <= when < LATEST else None


def _parse_json_feed(body: bytes, source: str, base_url: str) -> ParsedFeed:
    try:
        text = body.decode("utf-8-sig", errors="replace")
        document = json.loads(text)
    except ValueError as exc:
        raise ParseError(f"not a JSON Feed: {exc}") from None
    except RecursionError:
        raise ParseError("not a JSON Feed: nested too deep") from None
    if _UNSTORABLE_ESCAPE.search(text):
        document = _storable_json(document)
    if not isinstance(document, dict):
        raise ParseError("not a JSON Feed: not a JSON object")
    raw_items = document.get("items")
    versioned = str(document.get("version", "")).startswith("https://jsonfeed.org/version/")
    if not versioned and not isinstance(raw_items, list):  # `"version": "1.1"` with items is one
        raise ParseError("not a JSON Feed: no jsonfeed.org version and no items")
    items = []
    for raw in raw_items if isinstance(raw_items, list) else []:
        if isinstance(raw, dict):
            items.append(_json_item(raw, source, base_url))
    links = [("self", str(document["feed_url"]))] if document.get("feed_url") else []
    hubs = document.get("hubs")
    for hub in hubs if isinstance(hubs, list) else []:
        if (
            isinstance(hub, dict)
            and str(hub.get("type", "")).lower() == "websub"
            and hub.get("url")
        ):
            links.append(("hub", str(hub["url"])))
    return ParsedFeed(str(document.get("title", "")), tuple(items), links=tuple(links))


def _json_item(raw: dict[str, Any], source: str, base_url: str) -> FeedItem:
    def text(name: str) -> str:
        value = raw.get(name)
        return value if isinstance(value, str) else ""

    title = html_to_text(text("title"))[:MAX_TITLE_CHARS]
    body_html = text("content_html")
    content = html_to_text(body_html) if body_html else text("content_text")
    summary = text("summary") or content
    if summary == content:
        content = ""
    guid = str(raw["id"]) if raw.get("id") not in (None, "") else None
    link = _absolute(base_url, text("url") or text("external_url"))  # never `javascript:`
    inline = first_image(body_html) if body_html else None
    image = _absolute(
        base_url, text("image") or text("banner_image") or (inline.src if inline else "")
    )
    tags = raw.get("tags")
    return FeedItem(
        key=item_key(guid, link, title, summary + content),
        guid=guid,
        link=link,
        title=title,
        summary=summary,
        content=content,
        published=iso_date(text("date_published") or text("date_modified")),
        image=image,
        image_alt=inline.alt if inline else "",
        categories=tuple(str(t) for t in tags) if isinstance(tags, list) else (),
        source=source,
    )


def _storable(text: str) -> str:
    return _UNSTORABLE.sub(lambda found: "" if found[0] == "\x00" else "\ufffd", text)


def _storable_json(value: Any) -> Any:
    if isinstance(value, str):
        return _storable(value)
    if isinstance(value, list):
        return [_storable_json(v) for v in value]
    if isinstance(value, dict):
        return {_storable(k): _storable_json(v) for k, v in value.items()}
    return value


def iso_date(value: str) -> datetime | None:
    """An ISO 8601 date or time (`2026-03-02`, `…T09:30:00Z`), naive ones taken as UTC."""
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return _plausible(parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC))
