"""HTTP for feeds: conditional GET, bounded in time, size and redirects; typed failures.

feedparser never fetches (its client has no timeout); this module does, with httpx. Redirects are
followed here, hop by hop, so each hop can be checked (`guard`) and a chain of permanent redirects
can move the stored URL.
"""

from __future__ import annotations

import asyncio
import email.utils
import time
import zlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from urllib.parse import urljoin

import httpx

from bot import __version__

_REDIRECTS = frozenset((301, 302, 303, 307, 308))
USER_AGENT = f"newsbot/{__version__} (+feed alerts; RSS/Atom/JSON Feed reader)"
ACCEPT = (
    "application/rss+xml, application/atom+xml, application/feed+json, application/rdf+xml, "
    "application/xml;q=0.9, text/xml;q=0.9, application/json;q=0.8, */*;q=0.5"
)


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
    if value.isdigit():
        return float(value)
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
        if name.lower() == "max-age" and value.strip().isdigit():
            return float(value.strip())
    return None


def make_client(
    limits: FetchLimits = FetchLimits(), transport: httpx.AsyncBaseTransport | None = None
) -> httpx.AsyncClient:
    """The one HTTP client feeds are fetched with (a transport can stand in for the network)."""
    return httpx.AsyncClient(
        timeout=httpx.Timeout(
            limits.read_timeout, connect=limits.connect_timeout, pool=limits.total_timeout
        ),
        follow_redirects=False,
        headers={"User-Agent": USER_AGENT, "Accept": ACCEPT, "Accept-Encoding": "gzip, deflate"},
        transport=transport,
        limits=httpx.Limits(max_connections=100, max_keepalive_connections=50),
    )


async def fetch_feed(
    client: httpx.AsyncClient,
    url: str,
    *,
    etag: str | None = None,
    last_modified: str | None = None,
    limits: FetchLimits = FetchLimits(),
    guard: Guard | None = None,
) -> FetchResult:
    """GET `url` conditionally; 200 and 304 are results, anything else raises a FetchError."""
    started = time.monotonic()
    try:
        async with asyncio.timeout(limits.total_timeout):
            return await _fetch(client, url, etag, last_modified, limits, guard, started)
    except TimeoutError:
        raise FetchTimeout(f"{url}: no complete answer within {limits.total_timeout:g}s") from None
    except httpx.TimeoutException as exc:
        raise FetchTimeout(f"{url}: timed out ({type(exc).__name__})") from None
    except httpx.HTTPError as exc:
        raise FetchError(f"{url}: {type(exc).__name__}: {exc}") from None


async def _fetch(
    client: httpx.AsyncClient,
    url: str,
    etag: str | None,
    last_modified: str | None,
    limits: FetchLimits,
    guard: Guard | None,
    started: float,
) -> FetchResult:
    headers = {}
    if etag:
        headers["If-None-Match"] = etag
    if last_modified:
        headers["If-Modified-Since"] = last_modified
    current = url
    all_permanent = True
    for _hop in range(limits.max_redirects + 1):
        if guard is not None:
            await guard(current)
        request = client.build_request("GET", current, headers=headers)
        response = await client.send(request, stream=True)
        try:
            if response.status_code in _REDIRECTS:
                location = response.headers.get("location", "")
                if not location:
                    raise HTTPStatusError(current, response.status_code, None)
                all_permanent = all_permanent and response.status_code in (301, 308)
                current = urljoin(current, location)
                continue
            now = time.time()
            retry_after = parse_retry_after(response.headers.get("retry-after"), now)
            if response.status_code == 304:
                body = b""
            elif response.status_code == 200:
                body = await _read_capped(response, current, limits.max_body_bytes)
            else:
                raise HTTPStatusError(current, response.status_code, retry_after)
            return FetchResult(
                status=response.status_code,
                url=current,
                body=body,
                headers={k.lower(): v for k, v in response.headers.items()},
                etag=response.headers.get("etag"),
                last_modified=response.headers.get("last-modified"),
                moved_to=current if current != url and all_permanent else None,
                retry_after=retry_after,
                max_age=max_age_seconds(response.headers.get("cache-control")),
                elapsed=time.monotonic() - started,
            )
        finally:
            await response.aclose()
    raise TooManyRedirects(f"{url}: more than {limits.max_redirects} redirects")


async def _read_capped(response: httpx.Response, url: str, cap: int) -> bytes:
    """The body, decompressed here rather than by httpx so that the cap holds inside each chunk:
    one 64 KB chunk of a gzip bomb inflates to 64 MB, and that must never be held at once."""
    declared = response.headers.get("content-length", "")
    encoding = response.headers.get("content-encoding", "identity").strip().lower()
    if declared.isdigit() and int(declared) > cap and encoding == "identity":
        raise BodyTooLarge(f"{url}: body of {int(declared)} bytes exceeds the {cap}-byte cap")
    if encoding in ("gzip", "x-gzip", "deflate"):
        # wbits 47: gzip or zlib header, detected; raw deflate is tried when that fails
        inflater = zlib.decompressobj(47)
    elif encoding in ("identity", ""):
        inflater = None
    else:
        raise FetchError(f"{url}: unsupported Content-Encoding {encoding!r}")
    chunks: list[bytes] = []
    size = 0
    async for raw in response.aiter_raw():
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
