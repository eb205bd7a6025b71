"""Both feed clients (the pooled aiohttp session of configured feeds, the httpx client of feeds
from chat) keep the same rules over loopback: conditional GET, time, size and redirect caps."""

from __future__ import annotations

import asyncio
import gzip
import re
import tracemalloc
from collections.abc import AsyncIterator, Callable

import httpx
import pytest

from bot.feeds.fetch import (
    BodyTooLarge,
    FeedClient,
    FetchError,
    FetchLimits,
    FetchTimeout,
    TooManyRedirects,
    fetch_feed,
    make_client,
    make_session,
)
from tests.fakes.feed_server import Fault, FeedServer, rss
from tests.helpers import OLD_ITEMS

LIMITS = FetchLimits(connect_timeout=2, read_timeout=1.0, total_timeout=3, max_body_bytes=2_000_000)
CLIENTS: dict[str, Callable[[FetchLimits], FeedClient]] = {
    "aiohttp": make_session,
    "httpx": make_client,
}


@pytest.fixture(params=sorted(CLIENTS))
async def client(request: pytest.FixtureRequest) -> AsyncIterator[FeedClient]:
    made = CLIENTS[request.param](LIMITS)
    try:
        yield made
    finally:
        await (made.aclose() if isinstance(made, httpx.AsyncClient) else made.close())


async def test_conditional_get_and_304(client: FeedClient, feed_server: FeedServer) -> None:
    feed_server.publish("feed.xml", rss(OLD_ITEMS))
    first = await fetch_feed(client, feed_server.url("feed.xml"), limits=LIMITS)
    assert first.status == 200 and b"<rss" in first.body
    assert first.headers["content-encoding"] == "gzip", "the body came compressed"
    again = await fetch_feed(
        client,
        feed_server.url("feed.xml"),
        etag=first.etag,
        last_modified=first.last_modified,
        limits=LIMITS,
        headers={"Cookie": "wall=passed"},
    )
    assert again.not_modified and again.body == b""
    sent = feed_server.requests_to("feed.xml")[-1].headers
    assert sent["If-None-Match"] == first.etag
    assert sent["If-Modified-Since"] == first.last_modified
    assert sent["Cookie"] == "wall=passed"
    assert sent["User-Agent"].startswith("newsbot/")


async def test_a_hanging_feed_times_out_on_read(
    client: FeedClient, feed_server: FeedServer
) -> None:
    feed_server.fault("hang.xml", Fault(hang=True))
    with pytest.raises(FetchTimeout, match=r"timed out \(ReadTimeout\)"):
        await fetch_feed(client, feed_server.url("hang.xml"), limits=LIMITS)


async def test_a_trickle_hits_the_total_cap(client: FeedClient, feed_server: FeedServer) -> None:
    feed_server.fault("trickle.xml", Fault(trickle_delay=0.5))
    with pytest.raises(FetchTimeout, match="no complete answer within 3s"):
        await fetch_feed(client, feed_server.url("trickle.xml"), limits=LIMITS)


@pytest.mark.parametrize(
    ("fault", "message"),
    [
        (Fault(endless=True), "exceeds the 2000000-byte cap"),
        (Fault(raw_gzip=gzip.compress(b"\0" * 50_000_000)), "cap (after decompression)"),
    ],
)
async def test_bodies_are_capped_after_decompression(
    client: FeedClient, feed_server: FeedServer, fault: Fault, message: str
) -> None:
    feed_server.fault("big.xml", fault)
    tracemalloc.start()
    try:
        with pytest.raises(BodyTooLarge, match=re.escape(message)):
            await fetch_feed(client, feed_server.url("big.xml"), limits=LIMITS)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 3 * LIMITS.max_body_bytes, f"peak Python memory {peak / 1e6:.1f} MB"


async def test_redirects_are_capped_and_permanent_ones_move(
    client: FeedClient, feed_server: FeedServer
) -> None:
    feed_server.publish("end.xml", rss(OLD_ITEMS))
    for hop in range(7):
        target = feed_server.url(f"r{hop + 1}") if hop < 6 else feed_server.url("end.xml")
        feed_server.fault(f"r{hop}", Fault(status=301, redirect_to=target))
    moved = await fetch_feed(client, feed_server.url("r3"), limits=LIMITS)
    assert moved.status == 200 and moved.moved_to == feed_server.url("end.xml")
    with pytest.raises(TooManyRedirects):
        await fetch_feed(client, feed_server.url("r0"), limits=LIMITS)


async def test_a_closed_port_is_a_fetch_error(client: FeedClient) -> None:
    async with FeedServer() as gone:
        url = gone.url("feed.xml")
    with pytest.raises(FetchError, match=r"^http://127\.0\.0\.1:\d+/feed\.xml: "):
        await fetch_feed(client, url, limits=LIMITS)


@pytest.mark.parametrize("location", ["http://[::1/feed.xml", "http://127.0.0.1:99999/feed.xml"])
async def test_a_redirect_to_a_malformed_address_is_a_fetch_error(
    client: FeedClient, feed_server: FeedServer, location: str
) -> None:
    feed_server.fault("moved.xml", Fault(status=302, redirect_to=location))
    with pytest.raises(FetchError, match=r"^http://127\.0\.0\.1:\d+/"):
        await fetch_feed(client, feed_server.url("moved.xml"), limits=LIMITS)


BROKEN_ANSWERS = {
    "short-content-length": b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\nConnection: close\r\n\r\n",
    "long-content-length": b"HTTP/1.1 200 OK\r\nContent-Length: 5000000\r\n\r\n",
    "bad-status-line": b"HTTP/1.1 2x0 OK" + b"A" * 5000 + b"\r\n\r\n",
}


@pytest.mark.parametrize("answer", sorted(BROKEN_ANSWERS))
async def test_an_answer_that_breaks_http_is_a_short_error_without_its_body(
    client: FeedClient, answer: str
) -> None:
    """aiohttp quoted the bytes it choked on in its message: a 1 MB body after `Content-Length:
    10` made a 128 KB log line on every poll."""
    body = b"<rss>" + b"BODYTEXT " * 100_000

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(BROKEN_ANSWERS[answer] + body)
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    url = f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}/feed.xml"
    try:
        if answer == "short-content-length" and isinstance(client, httpx.AsyncClient):
            fetched = await fetch_feed(client, url, limits=LIMITS)  # httpx reads the 10 bytes
            assert fetched.body == body[:10]
            return
        with pytest.raises(FetchError) as caught:
            await fetch_feed(client, url, limits=LIMITS)
    finally:
        server.close()
    message = str(caught.value)
    assert message.startswith(f"{url}: ") and len(message) < 250, message
    assert "BODYTEXT" not in message and "AAAAAAAAAA" not in message, message
