"""The whole pipeline over loopback, on SQLite and PostgreSQL: config, poll, alert, console."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from bot.app import App
from bot.cli.opml import export_opml
from bot.config import LoadedConfig, parse_config
from bot.netguard import URLGuard
from bot.opml import Outline, read_opml
from bot.poller import PollPolicy
from bot.settings import Settings
from bot.status import collect_status
from bot.store import connect
from tests.fakes.feed_server import Fault, FeedServer, rss
from tests.helpers import (
    OLD_ITEMS,
    config_for,
    config_with_feeds,
    config_yaml,
    one_feed,
    seed_items,
)


async def run_once(
    database_url: str,
    loaded: LoadedConfig,
    guard: URLGuard | None = None,
    policy: PollPolicy | None = None,
) -> str:
    """The console's output of one `run --once` (with this URL guard and poll policy, if given)."""
    out = io.StringIO()
    app = App(Settings(database_url=database_url), loaded, stdout=out, poll_policy=policy)
    if guard is not None:
        app.url_guard = guard
    await app.start()
    try:
        await app.run_once()
    finally:
        await app.close()
    return out.getvalue()


async def test_prime_then_seed_once_then_nothing(
    database_url: str, feed_server: FeedServer
) -> None:
    feed_server.publish("feed.xml", rss(OLD_ITEMS))
    loaded = config_for(feed_server.url("feed.xml"))

    first = await run_once(database_url, loaded)
    assert first == "", "the first poll primes and sends nothing"

    feed_server.publish("feed.xml", rss(seed_items()))
    second = await run_once(database_url, loaded)
    assert second.count("https://news.example/seed") == 1
    header = second.splitlines()[0]
    for topic in ("ai", "policy-finance", "breaking"):
        assert topic in header
    assert "반도체 수출" not in second, "primed items never alert"

    third = await run_once(database_url, loaded)
    assert third == "", "seen items survive the restart and do not alert again"


async def test_conditional_get_on_the_wire(database_url: str, feed_server: FeedServer) -> None:
    feed_server.publish("feed.xml", rss(OLD_ITEMS))
    loaded = config_for(feed_server.url("feed.xml"))
    await run_once(database_url, loaded)
    await run_once(database_url, loaded)
    first, second = feed_server.requests_to("feed.xml")
    assert "If-None-Match" not in first.headers
    assert second.headers["If-None-Match"] == feed_server.documents["/feed.xml"].etag
    assert second.headers["If-Modified-Since"] == feed_server.documents["/feed.xml"].last_modified
    assert second.status == 304
    assert "gzip" in first.headers["Accept-Encoding"]
    assert first.headers["User-Agent"].startswith("newsbot/")


async def test_backlog_delivers_the_newest_on_first_poll(
    database_url: str, feed_server: FeedServer
) -> None:
    feed_server.publish("feed.xml", rss(seed_items()))
    loaded = config_with_feeds(
        f'  - {{name: local, url: "{feed_server.url("feed.xml")}", backlog: 1}}\n'
    )
    out = await run_once(database_url, loaded)
    assert out.count("https://news.example/seed") == 1


async def test_permanent_redirect_moves_the_feed(
    database_url: str,
    feed_server: FeedServer,
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
) -> None:
    feed_server.publish("new.xml", rss(OLD_ITEMS))
    feed_server.fault("old.xml", Fault(status=301, redirect_to=feed_server.url("new.xml")))
    loaded = config_for(feed_server.url("old.xml"))
    app = App(Settings(database_url=database_url), loaded, stdout=io.StringIO())
    await app.start()
    try:
        outcomes = await app.run_once()
        assert outcomes[0].status == "primed"
        assert app.store is not None
        feed = await app.store.feeds.get("local")
        assert feed is not None and feed.url == feed_server.url("new.xml")
    finally:
        await app.close()
    moved = f"feed local: moved permanently to {feed_server.url('new.xml')}; write it in the config"
    assert moved in caplog.messages
    # the export lists it once, under its new URL (the config's old one is the same feed)
    await export_opml(database_url, [Outline("local", feed_server.url("old.xml"))])
    assert [o.url for o in read_opml(capsys.readouterr().out.encode())] == [
        feed_server.url("new.xml")
    ]


async def test_a_feed_that_renames_its_items_on_every_fetch_alerts_once(
    database_url: str, feed_server: FeedServer
) -> None:
    """Each fetch gave the same article a new guid (and a new `?sid=`): with stories off, every
    poll alerted it again."""
    text = config_yaml(one_feed(feed_server.url("feed.xml"))) + "stories: {enabled: false}\n"
    loaded = LoadedConfig(parse_config(text), Path("subscriptions.yaml"))
    feed_server.publish("feed.xml", rss(OLD_ITEMS))
    await run_once(database_url, loaded)  # primes
    article = {
        "title": "인공지능 칩 수출 두 배로",
        "description": "AI 반도체 수출이 두 배가 됐다.",
        "pubDate": "Mon, 01 Jan 2024 09:00:00 GMT",
    }
    outputs = []
    for fetch in range(3):
        link = "https://news.example/chips" + (f"?sid={fetch}" if fetch == 2 else "")
        renamed = {**article, "guid": f"urn:session-{fetch}:chips", "link": link}
        feed_server.publish("feed.xml", rss([renamed, *OLD_ITEMS]))
        outputs.append(await run_once(database_url, loaded))
    assert [out.count("인공지능 칩 수출 두 배로") for out in outputs] == [1, 0, 0]
    store = await connect(database_url)
    try:
        (feed,) = (await collect_status(store))["feeds"]
    finally:
        await store.close()
    assert feed["items_seen"] == len(OLD_ITEMS) + 3, "keys, not the fingerprints beside them"


async def test_a_broken_feed_does_not_stop_the_others(
    database_url: str, feed_server: FeedServer
) -> None:
    feed_server.publish("good.xml", rss(OLD_ITEMS))
    feed_server.fault("bad.xml", Fault(status=500))
    feed_server.publish("junk.xml", b"this is not a feed", content_type="text/html")
    loaded = config_with_feeds(
        "".join(
            f'  - {{name: {n}, url: "{feed_server.url(n + ".xml")}", interval: 5s}}\n'
            for n in ("good", "bad", "junk")
        )
    )
    app = App(Settings(database_url=database_url), loaded, stdout=io.StringIO())
    await app.start()
    try:
        outcomes = {o.feed: o for o in await app.run_once()}
        assert outcomes["good"].status == "primed"
        assert outcomes["bad"].status == "error" and "HTTP 500" in (outcomes["bad"].error or "")
        assert outcomes["junk"].status == "error"
        assert app.store is not None
        bad = await app.store.feeds.get("bad")
        assert bad is not None and bad.failures == 1 and "500" in (bad.last_error or "")
    finally:
        await app.close()
