"""Where a feed is pushed from: its hub and self (topic) URLs, from the document or `Link:`.

WebSub names them as `<link rel="hub">` / `<atom:link rel="hub">` (and `rel="self"`) inside the
feed, a JSON Feed's `hubs`, or an HTTP `Link:` header; the header wins when both are there. The
topic is the self URL, as the hub knows the feed by it, else the URL the document came from.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from urllib.parse import urljoin

import httpx


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
    hub = _absolute(url, found.get("hub", ""))
    if not hub or not found.get("hub"):
        return None
    topic = _absolute(url, found.get("self", "")) if found.get("self") else url
    return HubLinks(hub, topic or url)


def _absolute(base: str, href: str) -> str:
    """`href` made absolute against `base` when it is an http(s) address, else "" (a malformed
    one, `http://[::1`, among them)."""
    try:
        absolute = urljoin(base, href.strip())
    except ValueError:
        return ""
    return absolute if absolute.startswith(("http://", "https://")) else ""
