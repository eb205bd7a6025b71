"""Where a feed is pushed from: its hub and self (topic) URLs, from the document or `Link:`.

WebSub names them as `<link rel="hub">` / `<atom:link rel="hub">` (and `rel="self"`) inside the
feed, a JSON Feed's `hubs`, or an HTTP `Link:` header; the header wins when both are there. The
topic is the self URL, as the hub knows the feed by it, else the URL the document came from.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import httpx

from bot.text.urls import absolute_web_url


@dataclass(frozen=True, slots=True)
class HubLinks:
    hub: str
    topic: str


def discover(
    links: Iterable[tuple[str, str]], headers: Mapping[str, str], url: str
) -> HubLinks | None:
    """The hub and topic a document names (None: it names no http(s) hub)."""
    found: dict[str, str] = {}
    for rel, href in links:
        for word in rel.lower().split():
            found.setdefault(word, href)
    header = {k.lower(): v for k, v in headers.items()}.get("link")
    if header:
        for link in httpx.Response(200, headers={"link": header}).links.values():
            for word in str(link.get("rel", "")).lower().split():
                found[word] = link.get("url", "")
    hub = absolute_web_url(url, found["hub"]) if found.get("hub") else None
    if hub is None:
        return None
    topic = absolute_web_url(url, found["self"]) if found.get("self") else None
    return HubLinks(hub, topic or url)
