"""SSRF: feed URLs from chat are refused when any address they reach is not public."""

from __future__ import annotations

import ipaddress
from collections.abc import AsyncIterator

import httpx
import pytest

from bot.feeds.fetch import URLRefused, fetch_feed, make_client
from bot.netguard import PinnedTransport, URLGuard, refusal

PUBLIC = "93.184.216.34"


class Body(httpx.AsyncByteStream):
    """A response body that arrives as a stream, as it does from a real connection."""

    def __init__(self, data: bytes) -> None:
        self.data = data

    async def __aiter__(self) -> AsyncIterator[bytes]:
        yield self.data


def resolver_for(table: dict[str, list[str]]):  # type: ignore[no-untyped-def]
    async def resolve(host: str, port: int) -> list[str]:
        if host not in table:
            raise OSError(f"unknown host {host}")
        return table[host]

    return resolve


@pytest.mark.parametrize(
    ("address", "why"),
    [
        ("127.0.0.1", "loopback"),
        ("127.8.9.10", "loopback"),
        ("::1", "loopback"),
        ("10.1.2.3", "private"),
        ("172.16.0.1", "private"),
        ("192.168.1.1", "private"),
        ("fc00::1", "private"),
        ("169.254.169.254", "link-local"),  # cloud metadata
        ("fe80::1", "link-local"),
        ("224.0.0.1", "multicast"),
        ("ff02::1", "multicast"),
        ("240.0.0.1", "reserved"),
        ("0.0.0.0", "unspecified"),
        ("::", "unspecified"),
        ("::ffff:127.0.0.1", "loopback"),
        ("::ffff:10.0.0.1", "private"),
        ("2002:7f00:1::", "loopback"),  # 6to4 of 127.0.0.1
        ("2002:a9fe:a9fe::1", "link-local"),  # 6to4 of 169.254.169.254
        ("100.64.0.1", "not globally routable"),  # carrier-grade NAT
    ],
)
def test_non_public_address_classes_are_refused(address: str, why: str) -> None:
    assert refusal(ipaddress.ip_address(address)) == why


@pytest.mark.parametrize("address", [PUBLIC, "1.1.1.1", "2606:4700:4700::1111", "2002:101:101::"])
def test_public_addresses_pass(address: str) -> None:
    assert refusal(ipaddress.ip_address(address)) is None


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("ftp://news.example/feed", "only http and https"),
        ("file:///etc/passwd", "only http and https"),
        ("http://127.0.0.1:8080/feed", "loopback"),
        ("http://[::1]/feed", "loopback"),
        ("http://[::ffff:7f00:1]/feed", "loopback"),
        ("http://internal.example/feed", "private"),
        ("http://mixed.example/feed", "private"),
        ("http://nowhere.example/feed", "cannot resolve"),
        ("http://[::1/feed", "invalid IPv6 URL"),  # malformed: one line, not a crash
        ("http://news.example:99999/feed", "port out of range"),
        ("http:///feed", "no host"),
    ],
)
async def test_the_guard_refuses_urls_reaching_inside(url: str, message: str) -> None:
    guard = URLGuard(
        resolver_for({"internal.example": ["10.0.0.5"], "mixed.example": [PUBLIC, "192.168.0.10"]})
    )
    with pytest.raises(URLRefused, match=message):
        await guard(url)


async def test_a_redirect_to_loopback_is_refused_at_the_hop() -> None:
    seen: list[httpx.Request] = []

    def upstream(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(302, headers={"Location": "http://127.0.0.1:6379/"})

    guard = URLGuard(resolver_for({"feeds.example": [PUBLIC]}))
    transport = PinnedTransport(guard, httpx.MockTransport(upstream))
    async with make_client(transport=transport) as client:
        with pytest.raises(URLRefused, match="loopback"):
            await fetch_feed(client, "http://feeds.example/rss", guard=guard)
    assert len(seen) == 1, "the redirect target was never requested"


async def test_the_connection_goes_to_the_address_that_was_checked() -> None:
    answers = iter([[PUBLIC], ["127.0.0.1"]])  # DNS rebinding: a second lookup says loopback

    async def rebinding(host: str, port: int) -> list[str]:
        return next(answers)

    seen: list[httpx.Request] = []

    def upstream(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, stream=Body(b"<rss version='2.0'><channel/></rss>"))

    guard = URLGuard(rebinding)
    transport = PinnedTransport(guard, httpx.MockTransport(upstream))
    async with make_client(transport=transport) as client:
        result = await fetch_feed(client, "http://feeds.example/rss", guard=guard)
    assert result.status == 200
    (request,) = seen
    assert request.url.host == PUBLIC, "connected to the checked address, not a new lookup"
    assert request.headers["Host"] == "feeds.example"
    assert request.extensions["sni_hostname"] == "feeds.example"


async def test_an_unchecked_host_is_never_connected() -> None:
    guard = URLGuard(resolver_for({}))
    transport = PinnedTransport(guard, httpx.MockTransport(lambda r: httpx.Response(200)))
    async with make_client(transport=transport) as client:
        with pytest.raises(URLRefused, match="not checked"):
            await client.get("http://feeds.example/rss")
