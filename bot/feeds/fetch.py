"""HTTP for feeds: conditional GET, bounded in time, size and redirects; typed failures.

feedparser never fetches (its client has no timeout); this module does: with a pooled aiohttp
session for the configured feeds, with httpx where each connection must go through a transport of
the caller's (the SSRF guard pins feeds from chat to the addresses it checked). Either way the
rules are the same and live here: redirects are followed hop by hop, so each hop can be checked
(`guard`) and a chain of permanent redirects can move the stored URL; the body is decompressed
here under the size cap.
"""

from __future__ import annotations

import asyncio
import contextlib
import email.utils
import re
import time
import zlib
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass
from urllib.parse import urljoin

import aiohttp
import httpx

from bot import __version__
from bot.feeds.proxy import ProxyRoute
from bot.text.plain import ascii_count
from bot.text.reasons import os_reason
from bot.text.urls import web_url_problem

_REDIRECTS = frozenset((301, 302, 303, 307, 308))
USER_AGENT = f"newsbot/{__version__} (+feed alerts; RSS/Atom/JSON Feed reader)"
ACCEPT = (
    "application/rss+xml, application/atom+xml, application/feed+json, application/rdf+xml, "
    "application/xml;q=0.9, text/xml;q=0.9, application/json;q=0.8, */*;q=0.5"
)
_HEADERS = {"User-Agent": USER_AGENT, "Accept": ACCEPT, "Accept-Encoding": "gzip, deflate"}
_MAX_HEADER_LINE = 16384
"""Longest response header line accepted (cookie-heavy sites send long ones)."""


@dataclass(frozen=True, slots=True)
class FetchLimits:
    connect_timeout: float = 10.0
    read_timeout: float = 20.0
    total_timeout: float = 45.0
    max_body_bytes: int = 10 * 1024 * 1024
    """Cap on the body after decompression: a gzip bomb stops here."""
    max_redirects: int = 5


class FetchError(Exception):
    """A feed could not be fetched; the message names the URL and what went wrong."""

    retry_after: float | None = None
    permanent: bool = False


class FetchTimeout(FetchError):
    pass


class BodyTooLarge(FetchError):
    permanent = False


class TooManyRedirects(FetchError):
    pass


class URLRefused(FetchError):
    """The URL (or a redirect hop) points somewhere the bot must not go."""

    permanent = True


class HTTPStatusError(FetchError):
    def __init__(self, url: str, status: int, retry_after: float | None) -> None:
        super().__init__(f"{url}: HTTP {status}")
        self.status = status
        self.retry_after = retry_after
        self.permanent = status == 410


@dataclass(frozen=True, slots=True)
class FetchResult:
    """A feed response: 200 with a body, or 304 (not modified) without one."""

    status: int
    url: str
    """The URL that answered, after redirects."""
    body: bytes
    headers: dict[str, str]
    etag: str | None
    last_modified: str | None
    moved_to: str | None
    """Where the feed now lives, when every redirect on the way was permanent (301/308)."""
    retry_after: float | None
    max_age: float | None
    elapsed: float

    @property
    def not_modified(self) -> bool:
        return self.status == 304


Guard = Callable[[str], Awaitable[None]]
"""Checks a URL before each request; raises URLRefused to stop."""


def parse_retry_after(value: str | None, now: float) -> float | None:
    """Seconds to wait from a Retry-After header: delta-seconds or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    if (seconds := ascii_count(value)) is not None:  # `²` aborted every poll of its feed
        return float(seconds)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - now)


def max_age_seconds(cache_control: str | None) -> float | None:
    if not cache_control:
        return None
    for part in cache_control.split(","):
        name, _, value = part.strip().partition("=")
        if name.lower() == "max-age" and (seconds := ascii_count(value)) is not None:
            return float(seconds)
    return None


GIST_CHARS = 160
_QUOTED_MESSAGE = re.compile(r"message='([^']*)'")
_QUOTED_BYTES = re.compile(r"""(?:bytearray\()?\bb['"]""")
"""Where a library's message starts quoting what the server sent (`illegal status line:
bytearray(b'HTTP/1.1 2x0 ...`)."""


def make_client(
    limits: FetchLimits = FetchLimits(),
    transport: httpx.AsyncBaseTransport | None = None,
    proxy: ProxyRoute | None = None,
) -> httpx.AsyncClient:
    """An httpx client for feeds whose every connection goes through `transport` (the SSRF
    guard's pinned transport for feeds from chat; a test transport), or through `proxy`. It
    never reads the environment's proxy variables itself: `ProxyRules` reads them the way curl
    does, where httpx stops the bot on a NO_PROXY entry it cannot parse (`[::1]:80`)."""
    return httpx.AsyncClient(
        trust_env=False,
        proxy=httpx.Proxy(proxy.url, auth=proxy.auth) if proxy else None,
        timeout=httpx.Timeout(
            limits.read_timeout, connect=limits.connect_timeout, pool=limits.total_timeout
        ),
        follow_redirects=False,
        headers=_HEADERS,
        transport=transport,
        limits=httpx.Limits(max_connections=100, max_keepalive_connections=50),
    )


def make_session(limits: FetchLimits = FetchLimits()) -> aiohttp.ClientSession:
    """The pooled aiohttp session the configured feeds are fetched with: about a seventh of
    httpx's CPU per request. It never decompresses (`_read_capped` does, under the cap)."""
    return aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(limit=100, ttl_dns_cache=300),
        timeout=aiohttp.ClientTimeout(
            total=None, sock_connect=limits.connect_timeout, sock_read=limits.read_timeout
        ),
        headers=_HEADERS,
        auto_decompress=False,
        max_line_size=_MAX_HEADER_LINE,
        max_field_size=_MAX_HEADER_LINE,
    )


FeedClient = httpx.AsyncClient | aiohttp.ClientSession
"""What fetches: an aiohttp session (proxy per request) or an httpx client (its transport
decides where each connection goes)."""


async def fetch_feed(
    client: FeedClient,
    url: str,
    *,
    etag: str | None = None,
    last_modified: str | None = None,
    limits: FetchLimits = FetchLimits(),
    guard: Guard | None = None,
    headers: Mapping[str, str] | None = None,
    proxy: ProxyRoute | None = None,
) -> FetchResult:
    """GET `url` conditionally; 200 and 304 are results, anything else raises a FetchError.

    `headers` are sent on every hop besides the conditional ones; `proxy` is the proxy to go
    through (an aiohttp session only: an httpx client's transport decides where it connects)."""
    started = time.monotonic()
    request_headers = dict(headers or {})
    if etag:
        request_headers["If-None-Match"] = etag
    if last_modified:
        request_headers["If-Modified-Since"] = last_modified
    try:
        async with asyncio.timeout(limits.total_timeout):
            return await _fetch(client, url, request_headers, proxy, limits, guard, started)
    except aiohttp.ServerTimeoutError as exc:  # before TimeoutError: it is one too
        kind = (
            "ConnectTimeout" if isinstance(exc, aiohttp.ConnectionTimeoutError) else "ReadTimeout"
        )
        raise FetchTimeout(f"{url}: timed out ({kind})") from None
    except TimeoutError:
        raise FetchTimeout(f"{url}: no complete answer within {limits.total_timeout:g}s") from None
    except httpx.TimeoutException as exc:
        raise FetchTimeout(f"{url}: timed out ({type(exc).__name__})") from None
    except aiohttp.ClientProxyConnectionError as exc:  # the proxy's address, not the feed's
        where = f"[{exc.host}]" if ":" in exc.host else exc.host
        raise FetchError(
            f"{url}: cannot connect to its proxy {where}:{exc.port}: {os_reason(exc)}"
        ) from None
    except (httpx.ConnectError, aiohttp.ClientConnectorError) as exc:
        raise FetchError(f"{url}: cannot connect: {os_reason(exc)}") from None
    except aiohttp.ClientHttpProxyError as exc:  # an https feed's tunnel the proxy refused
        named = f"its proxy {proxy.url}" if proxy is not None else "its proxy"
        said = f"HTTP {exc.status} {_gist(exc.message)}"
        raise FetchError(f"{url}: {named} refused the connection ({said})") from None
    except aiohttp.ClientResponseError as exc:  # the answer broke HTTP (a bad status line...)
        raise FetchError(f"{url}: not a valid HTTP answer ({_gist(exc.message)})") from None
    except aiohttp.ClientPayloadError as exc:  # its words are in a repr inside its message
        quoted = _QUOTED_MESSAGE.search(str(exc))
        detail = _gist(quoted[1] if quoted else str(exc)).rstrip(".")
        raise FetchError(f"{url}: the body broke off ({detail})") from None
    except (httpx.HTTPError, httpx.InvalidURL, aiohttp.ClientError) as exc:
        raise FetchError(f"{url}: {type(exc).__name__}: {_gist(str(exc))}") from None


def _gist(message: str) -> str:
    """A library's message cut to its first line and at most GIST_CHARS: aiohttp quotes the
    bytes it choked on (a megabyte of body after a short Content-Length), which is no log line."""
    line = _QUOTED_BYTES.split(message.strip().split("\n", 1)[0], 1)[0].rstrip(" :")
    return line if len(line) <= GIST_CHARS else line[: GIST_CHARS - 1] + "…"


@dataclass(frozen=True, slots=True)
class _Reply:
    """One hop's response, whichever client got it: status, headers, the raw body's chunks."""

    status: int
    headers: dict[str, str]
    """Names lower-cased."""
    chunks: AsyncIterator[bytes]


@contextlib.asynccontextmanager
async def _exchange(
    client: FeedClient, url: str, headers: dict[str, str], proxy: ProxyRoute | None
) -> AsyncIterator[_Reply]:
    """One GET, redirects not followed, the body not read until asked for."""
    if isinstance(client, httpx.AsyncClient):
        if proxy is not None:
            raise ValueError("an httpx client takes its proxy from its transport")
        response = await client.send(client.build_request("GET", url, headers=headers), stream=True)
        try:
            reply_headers = {k.lower(): v for k, v in response.headers.items()}
            yield _Reply(response.status_code, reply_headers, response.aiter_raw())
        finally:
            await response.aclose()
        return
    proxy_headers = None
    if proxy is not None and proxy.auth:
        # https goes through a CONNECT tunnel, which carries the credentials; plain http is
        # forwarded by the proxy, and the request itself does
        credentials = {"Proxy-Authorization": proxy.authorization}
        if url.startswith("https:"):
            proxy_headers = credentials
        else:
            headers = {**headers, **credentials}
    async with client.get(
        url,
        headers=headers,
        proxy=proxy.url if proxy else None,
        proxy_headers=proxy_headers,
        allow_redirects=False,
    ) as answer:
        reply_headers = {k.lower(): v for k, v in answer.headers.items()}
        yield _Reply(answer.status, reply_headers, answer.content.iter_any())


async def _fetch(
    client: FeedClient,
    url: str,
    headers: dict[str, str],
    proxy: ProxyRoute | None,
    limits: FetchLimits,
    guard: Guard | None,
    started: float,
) -> FetchResult:
    current = url
    all_permanent = True
    for _hop in range(limits.max_redirects + 1):
        if problem := web_url_problem(current):  # a redirect's `http://host:99999/`
            raise FetchError(f"{current}: {problem}")
        if guard is not None:
            await guard(current)
        async with _exchange(client, current, headers, proxy) as reply:
            if reply.status in _REDIRECTS:
                location = reply.headers.get("location", "")
                if not location:
                    raise HTTPStatusError(current, reply.status, None)
                all_permanent = all_permanent and reply.status in (301, 308)
                try:
                    current = urljoin(current, location)
                except ValueError as exc:  # `Location: http://[::1`
                    raise FetchError(f"{current}: redirected to {location!r} ({exc})") from None
                continue
            retry_after = parse_retry_after(reply.headers.get("retry-after"), time.time())
            if reply.status == 304:
                body = b""
            elif reply.status == 200:
                body = await _read_capped(reply, current, limits.max_body_bytes)
            else:
                raise HTTPStatusError(current, reply.status, retry_after)
            return FetchResult(
                status=reply.status,
                url=current,
                body=body,
                headers=reply.headers,
                etag=reply.headers.get("etag"),
                last_modified=reply.headers.get("last-modified"),
                moved_to=current if current != url and all_permanent else None,
                retry_after=retry_after,
                max_age=max_age_seconds(reply.headers.get("cache-control")),
                elapsed=time.monotonic() - started,
            )
    raise TooManyRedirects(f"{url}: more than {limits.max_redirects} redirects")


async def _read_capped(reply: _Reply, url: str, cap: int) -> bytes:
    """The body, decompressed here rather than by httpx so that the cap holds inside each chunk:
    one 64 KB chunk of a gzip bomb inflates to 64 MB, and that must never be held at once."""
    declared = reply.headers.get("content-length", "")
    encoding = reply.headers.get("content-encoding", "identity").strip().lower()
    size = ascii_count(declared)
    if size is not None and size > cap and encoding == "identity":
        raise BodyTooLarge(f"{url}: body of {size} bytes exceeds the {cap}-byte cap")
    if encoding in ("gzip", "x-gzip", "deflate"):
        # wbits 47: gzip or zlib header, detected; raw deflate is tried when that fails
        inflater = zlib.decompressobj(47)
    elif encoding in ("identity", ""):
        inflater = None
    else:
        raise FetchError(f"{url}: unsupported Content-Encoding {encoding!r}")
    chunks: list[bytes] = []
    size = 0
    async for raw in reply.chunks:
        pending = raw
        while pending:
            if inflater is None:
                data, pending = pending, b""
            else:
                try:
                    data = inflater.decompress(pending, cap - size + 1)
                except zlib.error as exc:
                    raise FetchError(f"{url}: corrupt {encoding} body: {exc}") from None
                pending = inflater.unconsumed_tail
            size += len(data)
            if size > cap:
                raise BodyTooLarge(f"{url}: body exceeds the {cap}-byte cap (after decompression)")
            chunks.append(data)
            if inflater is not None and not data and pending:
                break
    return b"".join(chunks)
