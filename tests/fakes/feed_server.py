"""A feed server on loopback: documents with ETag/Last-Modified/304 and gzip, plus faults.

Tests publish documents at paths, then point the bot at `server.url(path)`. Conditional requests
are answered as RFC 9110 says: ``If-None-Match`` (a list, ``*`` or weak tags) decides when it is
sent, else ``If-Modified-Since`` (304 when the document has not changed since that date); gzip
when ``Accept-Encoding`` allows it. `add_item` puts a new first item into a published document
(RSS, RDF or Atom, whatever its namespace prefix), so its ETag and Last-Modified move on, which is
how the poll benchmark changes N of its many feeds before a sweep.

Faults are per path: a status (with headers such as Retry-After), a redirect, a hang, a slow
trickle, an endless body. Every request is recorded with its headers, to prove what went out on
the wire; `status_counts()` sums them up.
"""

from __future__ import annotations

import asyncio
import gzip
import hashlib
import re
import time
from collections import Counter
from dataclasses import dataclass, field
from email.utils import formatdate, parsedate_to_datetime
from html import escape
from typing import Any

from aiohttp import web

from tests.fakes.loopback import LoopbackServer

FIRST_MODIFIED = 1_700_000_000
"""Last-Modified of the first document published (2023-11-14); each publish moves on a minute."""

# the first entry element, with any namespace prefix: <item ...>, <rss:item>, <entry>, <atom:entry>
_FIRST_ITEM = re.compile(rb"<((?:[A-Za-z_][\w.\-]*:)?)(item|entry)(?=[\s>/])")


@dataclass
class Document:
    body: bytes
    content_type: str
    etag: str | None
    last_modified: str | None
    extra_headers: dict[str, str] = field(default_factory=dict)
    modified_at: int = 0
    """Last-Modified as a Unix time, for If-Modified-Since."""
    _gzipped: bytes | None = field(default=None, repr=False)

    @property
    def gzipped(self) -> bytes:
        """The body gzipped once, not on every request."""
        if self._gzipped is None:
            self._gzipped = gzip.compress(self.body, 6, mtime=0)
        return self._gzipped


@dataclass(frozen=True)
class RecordedRequest:
    path: str
    headers: dict[str, str]
    status: int


@dataclass
class Fault:
    status: int = 0
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    times: int | None = None
    """How many requests it answers before the path serves its document again (None: forever)."""
    redirect_to: str | None = None
    hang: bool = False
    delay: float = 0.0
    """Seconds to wait before answering as the path otherwise would."""
    trickle_delay: float = 0.0
    endless: bool = False
    raw_gzip: bytes | None = None
    """A gzip body sent as-is with Content-Encoding: gzip (bombs)."""


class FeedServer(LoopbackServer):
    """``async with FeedServer() as server:``; publish documents, point feeds at `url(path)`."""

    def __init__(self, *, port: int = 0) -> None:
        super().__init__(port=port)
        self.documents: dict[str, Document] = {}
        self.faults: dict[str, Fault] = {}
        self.requests: list[RecordedRequest] = []
        self._clock_tick = 0

    def make_app(self) -> web.Application:
        app = web.Application()
        app.router.add_route("GET", "/{tail:.*}", self._handle)
        return app

    def url(self, path: str) -> str:
        return f"{self.base_url}/{path.lstrip('/')}"

    def publish(
        self,
        path: str,
        body: bytes | str,
        *,
        content_type: str = "application/rss+xml; charset=utf-8",
        validators: bool = True,
        headers: dict[str, str] | None = None,
    ) -> None:
        """Serve `body` at `path` from now on (a new ETag and Last-Modified when it changed)."""
        data = body.encode() if isinstance(body, str) else body
        self._clock_tick += 1
        modified_at = FIRST_MODIFIED + self._clock_tick * 60
        self.documents["/" + path.lstrip("/")] = Document(
            data,
            content_type,
            f'"{hashlib.sha1(data).hexdigest()[:16]}"' if validators else None,
            formatdate(modified_at, usegmt=True) if validators else None,
            dict(headers or {}),
            modified_at if validators else 0,
        )

    def add_item(self, path: str, guid: str, title: str, *, summary: str = "") -> bool:
        """Publish the document at `path` again with a new first item (see `insert_item`);
        False, and nothing changes, when the document has no item to put it before."""
        key = "/" + path.lstrip("/")
        document = self.documents[key]
        body = insert_item(
            document.body, guid, title, FIRST_MODIFIED + (self._clock_tick + 1) * 60, summary
        )
        if body is None:
            return False
        self.publish(
            path,
            body,
            content_type=document.content_type,
            validators=document.etag is not None,
            headers=document.extra_headers,
        )
        return True

    def fault(self, path: str, fault: Fault) -> None:
        self.faults["/" + path.lstrip("/")] = fault

    def clear_fault(self, path: str) -> None:
        self.faults.pop("/" + path.lstrip("/"), None)

    def requests_to(self, path: str) -> list[RecordedRequest]:
        return [r for r in self.requests if r.path == "/" + path.lstrip("/")]

    def status_counts(self) -> Counter[int]:
        """How many requests were answered with each status, since `requests` was last cleared."""
        return Counter(r.status for r in self.requests)

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        path = request.path
        fault = self.faults.get(path)
        if fault is not None and fault.times is not None:
            if fault.times <= 0:
                fault = None
            else:
                fault.times -= 1
        response = await self._answer(request, path, fault)
        self.requests.append(RecordedRequest(path, dict(request.headers), response.status))
        return response

    async def _answer(
        self, request: web.Request, path: str, fault: Fault | None
    ) -> web.StreamResponse:
        if fault is not None:
            if fault.hang:
                await asyncio.sleep(3600)
            await asyncio.sleep(fault.delay)
            if fault.redirect_to is not None:
                return web.Response(
                    status=fault.status or 301, headers={"Location": fault.redirect_to}
                )
            if fault.raw_gzip is not None:
                return web.Response(
                    body=fault.raw_gzip,
                    headers={"Content-Encoding": "gzip", "Content-Type": "application/rss+xml"},
                )
            if fault.endless or fault.trickle_delay:
                return await self._stream(request, fault)
            if fault.status:
                return web.Response(status=fault.status, headers=fault.headers, body=fault.body)
        document = self.documents.get(path)
        if document is None:
            return web.Response(status=404, text="not found")
        headers = {
            "Content-Type": document.content_type,
            "Vary": "Accept-Encoding",
            **document.extra_headers,
        }
        if document.etag:
            headers["ETag"] = document.etag
        if document.last_modified:
            headers["Last-Modified"] = document.last_modified
        if _not_modified(request.headers, document):
            return web.Response(status=304, headers=headers)
        if _accepts_gzip(request.headers.get("Accept-Encoding", "")):
            headers["Content-Encoding"] = "gzip"
            return web.Response(body=document.gzipped, headers=headers)
        return web.Response(body=document.body, headers=headers)

    async def _stream(self, request: web.Request, fault: Fault) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "application/rss+xml"})
        await response.prepare(request)
        chunk = b"<!-- " + b"x" * 65_000 + b" -->\n"
        try:
            await response.write(b'<?xml version="1.0"?><rss version="2.0"><channel>')
            for _ in range(1_000_000):
                if fault.trickle_delay:
                    await asyncio.sleep(fault.trickle_delay)
                    await response.write(b" ")
                else:
                    await response.write(chunk)
        except (ConnectionError, asyncio.CancelledError):
            pass
        return response


def _not_modified(request_headers: Any, document: Document) -> bool:
    """RFC 9110 13.2.2: If-None-Match decides when present; If-Modified-Since only without it."""
    if_none_match = request_headers.get("If-None-Match")
    if if_none_match is not None:
        if document.etag is None:
            return False
        tags = [tag.strip() for tag in if_none_match.split(",")]
        return any(tag == "*" or tag.removeprefix("W/") == document.etag for tag in tags)
    since = request_headers.get("If-Modified-Since")
    if not since or not document.modified_at:
        return False
    try:
        return document.modified_at <= parsedate_to_datetime(since).timestamp()
    except (TypeError, ValueError, IndexError):
        return False


def _accepts_gzip(accept_encoding: str) -> bool:
    """Whether gzip is acceptable: listed (or ``*``) without ``q=0``."""
    for part in accept_encoding.split(","):
        name, _, params = part.strip().partition(";")
        if name.strip().lower() in ("gzip", "x-gzip", "*"):
            q = params.strip().removeprefix("q=")
            return not (params and q.replace(".", "").strip("0") == "")
    return False


def insert_item(body: bytes, guid: str, title: str, when: float, summary: str = "") -> bytes | None:
    """`body` with a new first item, of the same element and namespace prefix as its first one
    (RSS and RDF ``<item>``, Atom ``<entry>``), whose id is ``urn:newsbot-test:{guid}``; None if
    there is no item to put it before. The new text is ASCII (anything else as character
    references), so it fits a document in any ASCII-compatible encoding."""
    match = _FIRST_ITEM.search(body)
    if match is None:
        return None
    p = match.group(1).decode()
    link = f"http://feed.invalid/{guid}"
    title = _ascii(title)
    summary = _ascii(summary or f"New item {guid}.")
    if match.group(2) == b"entry":
        stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(when))
        xml = (
            f"<{p}entry><{p}id>urn:newsbot-test:{guid}</{p}id><{p}title>{title}</{p}title>"
            f'<{p}link rel="alternate" href="{link}"/><{p}updated>{stamp}</{p}updated>'
            f"<{p}summary>{summary}</{p}summary></{p}entry>\n"
        )
    else:
        about = f' rdf:about="{link}"' if b"rdf:RDF" in body[:4096] else ""
        xml = (
            f"<{p}item{about}><{p}title>{title}</{p}title><{p}link>{link}</{p}link>"
            f'<guid isPermaLink="false">urn:newsbot-test:{guid}</guid>'
            f"<{p}description>{summary}</{p}description>"
            f"<pubDate>{formatdate(when, usegmt=True)}</pubDate></{p}item>\n"
        )
    return body[: match.start()] + xml.encode("ascii") + body[match.start() :]


def _ascii(text: str) -> str:
    return escape(text, quote=False).encode("ascii", "xmlcharrefreplace").decode("ascii")


def rss(items: list[dict[str, str]], *, title: str = "Test feed", ttl: int | None = None) -> str:
    """A small RSS 2.0 document; each item dict may have title, link, guid, description, pubDate."""
    parts = [
        '<?xml version="1.0" encoding="utf-8"?>',
        '<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/"><channel>',
        f"<title>{escape(title)}</title><link>https://news.example/</link>",
        "<description>test</description>",
    ]
    if ttl is not None:
        parts.append(f"<ttl>{ttl}</ttl>")
    for item in items:
        parts.append("<item>")
        for tag in ("title", "link", "guid", "description", "pubDate", "category"):
            if tag in item:
                parts.append(f"<{tag}>{escape(item[tag])}</{tag}>")
        if "content" in item:
            parts.append(f"<content:encoded>{escape(item['content'])}</content:encoded>")
        parts.append("</item>")
    parts.append("</channel></rss>")
    return "".join(parts)
