"""Refuses feed URLs that point inside the network (SSRF), for feeds that arrive through chat.

A URL must be http(s); its host is resolved and refused when any address is loopback, private,
link-local, multicast, reserved or unspecified (IPv4-mapped IPv6 unwrapped first). Every redirect
hop is checked again by `fetch_feed`'s guard, and `PinnedTransport` connects to the addresses
that were checked, so a second DNS answer cannot swap in an internal one.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Awaitable, Callable
from urllib.parse import urlsplit

import httpx

from bot.feeds.fetch import FetchLimits, FetchResult, URLRefused, fetch_feed, make_client
from bot.text.urls import web_url_problem

Resolver = Callable[[str, int], Awaitable[list[str]]]
"""(host, port) -> IP addresses as text."""

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


async def system_resolver(host: str, port: int) -> list[str]:
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def refusal(address: IPAddress) -> str | None:
    """Why the bot must not connect to `address`, or None when it may."""
    if isinstance(address, ipaddress.IPv6Address):
        # an IPv4 address inside (`::ffff:127.0.0.1`, 6to4's `2002:7f00:1::`) is where it goes
        address = address.ipv4_mapped or address.sixtofour or address
    # the specific classes first: Python counts most of them as `is_private` too
    checks = (
        ("unspecified", address.is_unspecified),
        ("loopback", address.is_loopback),
        ("link-local", address.is_link_local),
        ("multicast", address.is_multicast),
        ("reserved", address.is_reserved),
        ("private", address.is_private),
        ("not globally routable", not address.is_global),
    )
    return next((name for name, hit in checks if hit), None)


class URLGuard:
    """Checks URLs from chat before each request, and remembers the addresses it approved."""

    def __init__(
        self,
        resolver: Resolver = system_resolver,
        refuse: Callable[[IPAddress], str | None] = refusal,
    ) -> None:
        self._resolver = resolver
        self._refuse = refuse
        self.approved: dict[str, list[str]] = {}

    async def __call__(self, url: str) -> None:
        if problem := web_url_problem(url):
            raise URLRefused(f"{url}: {problem}")
        parts = urlsplit(url)
        host = parts.hostname or ""
        port = parts.port or (443 if parts.scheme == "https" else 80)
        try:
            literal: IPAddress | None = ipaddress.ip_address(host)
        except ValueError:
            literal = None
        if literal is not None:
            addresses = [str(literal)]
        else:
            try:
                addresses = await self._resolver(host, port)
            except OSError as exc:
                raise URLRefused(f"{url}: cannot resolve {host}: {exc}") from None
        if not addresses:
            raise URLRefused(f"{url}: {host} has no address")
        for text in addresses:
            reason = self._refuse(ipaddress.ip_address(text))
            if reason:
                raise URLRefused(f"{url}: {host} resolves to a {reason} address ({text})")
        self.approved[host.lower()] = addresses


class PinnedTransport(httpx.AsyncBaseTransport):
    """Sends each request to an address the guard approved for its host, never a fresh lookup.

    The URL keeps its host name (so TLS checks the right certificate and the Host header stays),
    while the connection itself goes to the pinned IP through httpx's `sni_hostname` extension.
    """

    def __init__(self, guard: URLGuard, inner: httpx.AsyncBaseTransport | None = None) -> None:
        self._guard = guard
        self._inner = inner or httpx.AsyncHTTPTransport()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        host = request.url.host
        addresses = self._guard.approved.get(host.lower())
        if not addresses:
            raise URLRefused(f"{request.url}: host {host} was not checked")
        pinned = request.url.copy_with(host=addresses[0])
        request.url = pinned
        request.headers["Host"] = (
            host if request.url.port in (None, 80, 443) else f"{host}:{request.url.port}"
        )
        request.extensions = {**request.extensions, "sni_hostname": host}
        return await self._inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self._inner.aclose()


async def fetch_checked(
    url: str,
    guard: URLGuard,
    *,
    etag: str | None = None,
    last_modified: str | None = None,
    limits: FetchLimits | None = None,
) -> FetchResult:
    """`fetch_feed` for a URL that came from a chat: every hop is checked by `guard` and each
    connection is pinned to the address it checked (no DNS rebinding in between)."""
    limits = limits or FetchLimits()
    async with make_client(limits, PinnedTransport(guard)) as client:
        return await fetch_feed(
            client, url, etag=etag, last_modified=last_modified, limits=limits, guard=guard
        )
