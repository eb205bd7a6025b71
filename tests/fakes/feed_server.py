"""A feed server on loopback: documents with ETag/Last-Modified/304 and gzip, plus faults.

Tests publish documents at paths, then point the bot at `server.url(path)`. Faults are per path:
a status (with headers such as Retry-After), a redirect, a hang, a slow trickle, an endless body.
Every request is recorded with its headers, to prove what went out on the wire.
"""

from __future__ import annotations

import asyncio
import gzip
import hashlib
from dataclasses import dataclass, field
from email.utils import formatdate
from types import TracebackType

from aiohttp import web


@dataclass
class Document:
    body: bytes
    content_type: str
    etag: str | None
    last_modified: str | None
    extra_headers: dict[str, str] = field(default_factory=dict)


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
    trickle_delay: float = 0.0
    endless: bool = False
    raw_gzip: bytes | None = None
    """A gzip body sent as-is with Content-Encoding: gzip (bombs)."""


class FeedServer:
    def __init__(self) -> None:
        self.documents: dict[str, Document] = {}
        self.faults: dict[str, Fault] = {}
        self.requests: list[RecordedRequest] = []
        self._runner: web.AppRunner | None = None
        self.port = 0
        self._clock_tick = 0

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

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
        etag = f'"{hashlib.sha1(data).hexdigest()[:16]}"' if validators else None
        modified = (
            formatdate(1_700_000_000 + self._clock_tick * 60, usegmt=True) if validators else None
        )
        self.documents["/" + path.lstrip("/")] = Document(
            data, content_type, etag, modified, dict(headers or {})
        )

    def fault(self, path: str, fault: Fault) -> None:
        self.faults["/" + path.lstrip("/")] = fault

    def clear_fault(self, path: str) -> None:
        self.faults.pop("/" + path.lstrip("/"), None)

    def requests_to(self, path: str) -> list[RecordedRequest]:
        return [r for r in self.requests if r.path == "/" + path.lstrip("/")]

    async def __aenter__(self) -> FeedServer:
        app = web.Application()
        app.router.add_route("GET", "/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.5)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        server = site._server
        assert server is not None
        self.port = server.sockets[0].getsockname()[1]  # type: ignore[attr-defined]
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

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
        headers = {"Content-Type": document.content_type, **document.extra_headers}
        if document.etag:
            headers["ETag"] = document.etag
        if document.last_modified:
            headers["Last-Modified"] = document.last_modified
        if document.etag and request.headers.get("If-None-Match") == document.etag:
            return web.Response(status=304, headers=headers)
        if (
            document.last_modified
            and not document.etag
            and request.headers.get("If-Modified-Since") == document.last_modified
        ):
            return web.Response(status=304, headers=headers)
        body = document.body
        if "gzip" in request.headers.get("Accept-Encoding", ""):
            body = gzip.compress(body)
            headers["Content-Encoding"] = "gzip"
        return web.Response(body=body, headers=headers)

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


def rss(items: list[dict[str, str]], *, title: str = "Test feed", ttl: int | None = None) -> str:
    """A small RSS 2.0 document; each item dict may have title, link, guid, description, pubDate."""
    from html import escape

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
