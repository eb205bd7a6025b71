"""A single article file as one feed item: a post with YAML front matter, as Jekyll and Hugo and
most blog exports write them (`---`, `title:`, `excerpt:`, `categories:`, `---`, then the HTML or
Markdown body), so that `newsbot classify` and `newsbot stories` read an article the way they
read a feed.

The front matter gives the title, the summary (`excerpt`, `description` or `summary`), the date,
the image, the categories and tags and the link (`link`, `url` or `permalink`, when absolute);
the body gives the content, and its first image's alt text, where some outlets put their
"breaking" marker.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError

from bot.feeds.parse import ParsedFeed, ParseError, iso_date, item_key
from bot.models import FeedItem
from bot.text.html import first_image, html_to_text

FENCE = "---"


def looks_like_post(body: bytes) -> bool:
    """Whether `body` opens with a front matter fence (after a byte-order mark or blank lines)."""
    head = body[:64].decode("utf-8-sig", errors="replace").lstrip()
    return head.startswith(FENCE + "\n") or head.startswith(FENCE + "\r\n")


def parse_post(body: bytes, *, source: str = "") -> ParsedFeed:
    """The post in `body` as a feed of one item; ParseError says in one line what is wrong."""
    text = body.decode("utf-8-sig", errors="replace").lstrip()
    parts = text.split("\n" + FENCE, 1)
    if len(parts) != 2:
        raise ParseError("not a post: the front matter has no closing '---'")
    front, rest = parts[0][len(FENCE) :], parts[1].split("\n", 1)
    try:
        meta = YAML(typ="safe").load(front)
    except YAMLError as exc:
        problem = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise ParseError(f"not a post: front matter: {problem}") from None
    if not isinstance(meta, dict) or not _text(meta.get("title")):
        raise ParseError("not a post: its front matter has no title")
    body_html = rest[1] if len(rest) > 1 else ""
    title = html_to_text(_text(meta["title"]))
    content = html_to_text(body_html)
    summary = html_to_text(_first_text(meta, "excerpt", "description", "summary")) or content
    if summary == content:
        content = ""
    link = _first_text(meta, "link", "url", "permalink")
    link = link if link.startswith(("http://", "https://")) else ""
    inline = first_image(body_html)
    images = (_text(meta.get("image")), inline.src if inline else "")
    image = next((url for url in images if url.startswith(("http://", "https://"))), None)
    item = FeedItem(
        key=item_key(None, link or None, title, summary + content),
        guid=None,
        link=link or None,
        title=title,
        summary=summary,
        content=content,
        published=_published(meta.get("date")),
        image=image,
        image_alt=inline.alt if inline else "",
        categories=_labels(meta.get("categories")) + _labels(meta.get("tags")),
        source=source,
    )
    return ParsedFeed(title, (item,))


def _text(value: Any) -> str:
    return value.strip() if isinstance(value, str) else ""


def _first_text(meta: dict[str, Any], *names: str) -> str:
    return next((_text(meta.get(name)) for name in names if _text(meta.get(name))), "")


def _labels(value: Any) -> tuple[str, ...]:
    """`categories: [a, b]`, a YAML list, or `categories: a b` as Jekyll allows."""
    if isinstance(value, str):
        return tuple(value.split())
    if isinstance(value, list):
        return tuple(str(v).strip() for v in value if str(v).strip())
    return ()


def _published(value: Any) -> datetime | None:
    """YAML reads `date: 2024-06-01 09:30:00 +09:00` as a datetime or a date or a string."""
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=UTC)
    return iso_date(value.strip()) if isinstance(value, str) else None
