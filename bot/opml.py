"""OPML 2.0 in and out, so a feed list moves between newsbot and other feed readers."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Iterable
from dataclasses import dataclass
from email.utils import formatdate
from urllib.parse import urlsplit


@dataclass(frozen=True, slots=True)
class Outline:
    name: str
    url: str


FEED_TYPES = frozenset({"rss", "atom", "link"})
"""Outline types that stand for a feed (a folder has none)."""


class OPMLError(ValueError):
    """The document is not OPML this module can read."""


def read_opml(data: bytes) -> list[Outline]:
    """Every outline with an `xmlUrl`, at any depth (folders are flattened), and every outline
    that stands for a feed or a site yet has no `xmlUrl`, with the URL "" (for the importer to
    name, not to lose silently). An outline of text alone is a folder or a label."""
    if b"<!DOCTYPE" in data[:2048].upper() or b"<!ENTITY" in data[:4096].upper():
        raise OPMLError("OPML with a DOCTYPE is refused (entity expansion)")
    try:
        root = ET.fromstring(data)
    except (ET.ParseError, LookupError, ValueError) as exc:  # an unknown encoding is LookupError
        raise OPMLError(f"not well-formed XML: {exc}") from None
    if root.tag.lower() != "opml":
        raise OPMLError(f"root element is <{root.tag}>, not <opml>")
    out = []
    for node in root.iter():
        if node.tag.lower() != "outline":
            continue
        url = (node.get("xmlUrl") or node.get("xmlurl") or "").strip()
        title = (node.get("title") or node.get("text") or "").strip()
        if url or _stands_for_a_feed(node):
            out.append(Outline(title, url))
    return out


def _stands_for_a_feed(node: ET.Element) -> bool:
    """An outline typed as a feed, or giving a site's or a link's address: a reader's export
    meant a feed by it."""
    kind = (node.get("type") or "").lower()
    return kind in FEED_TYPES or any(node.get(key) for key in ("htmlUrl", "htmlurl", "url"))


def write_opml(feeds: Iterable[Outline], title: str = "newsbot feeds") -> str:
    root = ET.Element("opml", version="2.0")
    head = ET.SubElement(root, "head")
    ET.SubElement(head, "title").text = title
    ET.SubElement(head, "dateCreated").text = formatdate(usegmt=True)
    body = ET.SubElement(root, "body")
    for feed in feeds:
        ET.SubElement(body, "outline", type="rss", text=feed.name, title=feed.name, xmlUrl=feed.url)
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def slug(title: str, url: str) -> str:
    """A feed name from an outline's title (or its URL's host, never the user and password
    before it), fit for `[\\w.-]{1,64}`."""
    base = title or _host(url).removeprefix("www.")
    name = re.sub(r"[^\w.\-]+", "-", base.strip().lower()).strip("-.")
    return name[:64] or "feed"


def _host(url: str) -> str:
    """The host of `url`; "" when it has none or cannot be read."""
    try:
        return urlsplit(url).hostname or ""
    except ValueError:  # a broken IPv6 address
        return ""
