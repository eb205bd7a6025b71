"""How configured feeds are requested, over loopback: through their own proxy or the
environment's, with their extra headers, and never more at once per host than the config says."""

from __future__ import annotations

import asyncio
import base64
from collections.abc import AsyncIterator

import pytest
from aiohttp import web

from bot.classify import ClassifierCache
from bot.feeds.fetch import FetchError, fetch_feed, make_session
from bot.feeds.options import FeedOptions
from bot.feeds.proxy import ProxyRoute, ProxyRules
from bot.poller import Poller, PollPolicy
from bot.store import Store
from bot.store.records import FeedRecord, FeedSpec
from tests.fakes.feed_server import FeedServer, rss
from tests.fakes.http_proxy import HttpProxy
from tests.fakes.loopback import LoopbackServer
from tests.helpers import OLD_ITEMS


class SlowFeeds(LoopbackServer):
    """Answers every path with a small feed after `delay` seconds; counts requests at once."""

    def __init__(self, delay: float = 0.3) -> None:
        super().__init__()
        self.delay = delay
        self.now = 0
        self.most = 0

    def make_app(self) -> web.Application:
        app = web.Application()
        app.router.add_get("/{tail:.*}", self._answer)
        return app

    async def _answer(self, _request: web.Request) -> web.Response:
        self.now += 1
        self.most = max(self.most, self.now)
        try:
            await asyncio.sleep(self.delay)
        finally:
            self.now -= 1
        return web.Response(body=rss(OLD_ITEMS).encode(), content_type="application/rss+xml")

    def url(self, path: str) -> str:
        return f"{self.base_url}/{path}"


@pytest.fixture
async def proxy() -> AsyncIterator[HttpProxy]:
    async with HttpProxy() as server:
        yield server


async def add(store: Store, name: str, url: str) -> FeedRecord:
    """A feed of the config's, as the poller gets it."""
    added = await store.feeds.add(FeedSpec(name, url, 60), origin="config")
    assert added is not None
    return added


async def test_feeds_go_through_their_proxy_with_their_headers(
    store: Store, feed_server: FeedServer, proxy: HttpProxy
) -> None:
    for name in ("own", "env", "direct"):
        feed_server.publish(f"{name}.xml", rss(OLD_ITEMS))
    own_proxy = proxy.base_url.replace("http://", "http://bot:s3cret@")
    options = {
        "own": FeedOptions({"Cookie": "wall=passed"}, own_proxy),
        "direct": FeedOptions(proxy="direct"),
    }
    feeds = [await add(store, n, feed_server.url(f"{n}.xml")) for n in ("own", "env", "direct")]
    async with make_session() as session:
        poller = Poller(
            store,
            session,
            ClassifierCache([]),
            feed_options=options,
            proxies=ProxyRules(http=proxy.base_url),
        )
        outcomes = await asyncio.gather(*(poller.poll(feed) for feed in feeds))
    assert [o.status for o in outcomes] == ["primed"] * 3, outcomes
    through = {r.target: r.headers for r in proxy.requests}
    assert set(through) == {feed_server.url("own.xml"), feed_server.url("env.xml")}
    expected = "Basic " + base64.b64encode(b"bot:s3cret").decode()
    assert through[feed_server.url("own.xml")]["Proxy-Authorization"] == expected
    assert "Proxy-Authorization" not in through[feed_server.url("env.xml")]
    assert feed_server.requests_to("own.xml")[0].headers["Cookie"] == "wall=passed"
    assert "Cookie" not in feed_server.requests_to("env.xml")[0].headers
    assert len(feed_server.requests_to("direct.xml")) == 1, "fetched without the proxy"


async def test_a_proxy_that_refuses_fails_the_feed_without_its_password(
    store: Store, feed_server: FeedServer
) -> None:
    async with HttpProxy() as gone:
        dead_proxy = gone.base_url.replace("http://", "http://bot:s3cret@")
    feed_server.publish("feed.xml", rss(OLD_ITEMS))
    feed = await add(store, "feed", feed_server.url("feed.xml"))
    async with make_session() as session:
        poller = Poller(
            store,
            session,
            ClassifierCache([]),
            feed_options={"feed": FeedOptions(proxy=dead_proxy)},
        )
        outcome = await poller.poll(feed)
    assert outcome.status == "error" and outcome.error, outcome
    assert "s3cret" not in outcome.error
    port = gone.base_url.rsplit(":", 1)[1]
    assert outcome.error == (
        f"{feed.url}: cannot connect to its proxy 127.0.0.1:{port}: Connection refused"
    ), "the proxy is named, not the feed's host"
    stored = await store.feeds.get("feed")
    assert stored is not None and "s3cret" not in (stored.last_error or "")


@pytest.mark.parametrize(("hosts", "most"), [({}, 2), ({"127.0.0.1": 4}, 4)])
async def test_requests_to_one_host_are_limited_and_other_hosts_go_on(
    store: Store, feed_server: FeedServer, hosts: dict[str, int], most: int
) -> None:
    feed_server.publish("quick.xml", rss(OLD_ITEMS))
    async with SlowFeeds() as slow:
        feeds = [await add(store, f"slow{n}", slow.url(f"feed/{n}.xml")) for n in range(8)]
        other_host = feed_server.url("quick.xml").replace("127.0.0.1", "localhost")
        quick = await add(store, "quick", other_host)
        async with make_session() as session:
            poller = Poller(
                store,
                session,
                ClassifierCache([]),
                policy=PollPolicy(max_concurrent=6, hosts=hosts),
            )
            finished: list[str] = []

            async def poll(feed: FeedRecord) -> None:
                outcome = await poller.poll(feed)
                assert outcome.status == "primed", outcome
                finished.append(feed.name)

            await asyncio.gather(*(poll(feed) for feed in [*feeds, quick]))
        assert slow.most == most, f"{slow.most} requests at once to one host"
    assert finished.index("quick") < most, f"the other host waited: {finished}"


async def test_a_proxy_that_refuses_the_tunnel_is_named() -> None:
    """An https feed's CONNECT answered 403 read `not a valid HTTP answer (Forbidden)`."""

    async def refuse(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n")
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(refuse, "127.0.0.1", 0)
    proxy = f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}"
    feed = "https://127.0.0.1:9/feed.xml"  # never reached
    try:
        async with make_session() as session:
            with pytest.raises(FetchError) as refused:
                await fetch_feed(session, feed, proxy=ProxyRoute(proxy))
    finally:
        server.close()
    assert str(refused.value) == (
        f"{feed}: its proxy {proxy} refused the connection (HTTP 403 Forbidden)"
    )
