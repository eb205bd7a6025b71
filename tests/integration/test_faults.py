"""Hostile feeds over loopback: hangs, trickles, storms, bombs, endless bodies, truncation,
redirect chains, 410 and 429. One bad feed never delays the others and nothing crashes a poll."""

from __future__ import annotations

import asyncio
import gzip
import io
import json
import tracemalloc
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.app import App
from bot.classify import ClassifierCache
from bot.feeds.fetch import FetchLimits, make_client
from bot.poller import Poller, PollOutcome, PollPolicy
from bot.settings import Settings
from bot.status import collect_status
from bot.store import Store
from bot.store.records import FeedRecord, FeedSpec
from tests.fakes.feed_server import Fault, FeedServer, rss
from tests.helpers import OLD_ITEMS, free_port, write_config

LIMITS = FetchLimits(connect_timeout=2, read_timeout=1.5, total_timeout=3, max_body_bytes=2_000_000)


@pytest.fixture
async def slow_server() -> AsyncIterator[FeedServer]:
    """A second host (another port) for the misbehaving feeds."""
    async with FeedServer() as server:
        yield server


async def add(store: Store, name: str, url: str) -> FeedRecord:
    await store.feeds.add(FeedSpec(name, url, 60), origin="config")
    feed = await store.feeds.get(name)
    assert feed is not None
    return feed


async def poll(store: Store, *feeds: FeedRecord, now: float = 1000.0) -> list[PollOutcome]:
    """Poll `feeds` concurrently; outcomes in the order the polls finished."""
    async with make_client(LIMITS) as client:
        poller = Poller(
            store,
            client,
            ClassifierCache([]),
            policy=PollPolicy(limits=LIMITS),
            clock=lambda: now,
        )
        finished: list[PollOutcome] = []
        for next_done in asyncio.as_completed([poller.poll(f) for f in feeds]):
            finished.append(await next_done)
        return finished


async def test_a_hanging_feed_never_delays_the_healthy_ones(
    store: Store, feed_server: FeedServer, slow_server: FeedServer
) -> None:
    for i in range(4):
        feed_server.publish(f"ok{i}.xml", rss(OLD_ITEMS))
    slow_server.fault("hang.xml", Fault(hang=True))
    slow_server.fault("trickle.xml", Fault(trickle_delay=0.5))
    feeds = [
        await add(store, "hang", slow_server.url("hang.xml")),
        await add(store, "trickle", slow_server.url("trickle.xml")),
        *[await add(store, f"ok{i}", feed_server.url(f"ok{i}.xml")) for i in range(4)],
    ]
    finished = await poll(store, *feeds)
    order = [o.feed for o in finished]
    assert set(order[:4]) == {"ok0", "ok1", "ok2", "ok3"}, order
    assert all(o.status == "primed" for o in finished[:4])
    slow = {o.feed: o for o in finished[4:]}
    assert slow["hang"].status == "error" and "timed out (ReadTimeout)" in (
        slow["hang"].error or ""
    )
    assert slow["trickle"].status == "error" and "no complete answer" in (
        slow["trickle"].error or ""
    )


@pytest.mark.parametrize(
    ("fault", "expected"),
    [
        (Fault(status=500), "HTTP 500"),
        (Fault(status=503, headers={"Retry-After": "120"}), "HTTP 503"),
        (Fault(status=429, headers={"Retry-After": "600"}), "HTTP 429"),
        (Fault(endless=True), "cap"),
        (Fault(raw_gzip=gzip.compress(b"\0" * 50_000_000)), "cap (after decompression)"),
        (Fault(status=200, body=b"<html><body>Not a feed</body></html>"), "not a feed"),
    ],
)
async def test_faults_become_typed_errors_and_backoff(
    store: Store, feed_server: FeedServer, fault: Fault, expected: str
) -> None:
    feed_server.fault("bad.xml", fault)
    feed = await add(store, "bad", feed_server.url("bad.xml"))
    tracemalloc.start()
    try:
        (outcome,) = await poll(store, feed)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert outcome.status == "error" and expected in (outcome.error or ""), outcome
    assert peak < 3 * LIMITS.max_body_bytes, f"peak Python memory {peak / 1e6:.1f} MB"
    retry_after = float(fault.headers.get("Retry-After", 0))
    assert outcome.next_delay >= max(retry_after, 60)
    stored = await store.feeds.get("bad")
    assert stored is not None and stored.failures == 1 and stored.last_error


@pytest.mark.parametrize(
    ("written", "shown"),
    [
        ("http://reader:pw123@127.0.0.1:{port}/f.xml", "http://reader:***@127.0.0.1:{port}/f.xml"),
        (
            "http://127.0.0.1:{port}/f.xml?page=1&api_key=pw123&access_token=pw123",
            "http://127.0.0.1:{port}/f.xml?page=1&api_key=***&access_token=***",
        ),
    ],
    ids=["password", "query-token"],
)
async def test_a_password_in_a_feed_url_stays_out_of_errors(
    store: Store, written: str, shown: str
) -> None:
    port = free_port()  # nothing listens there: the connection is refused, naming the URL
    feed = await add(store, "private", written.format(port=port))
    (outcome,) = await poll(store, feed)
    stored = await store.feeds.get("private")
    assert stored is not None and stored.last_error and outcome.error
    assert outcome.error == f"{shown.format(port=port)}: cannot connect: Connection refused"
    assert "pw123" not in stored.last_error
    assert "pw123" not in json.dumps(await collect_status(store)), "`newsbot status` shows it"


async def test_a_500_storm_backs_off_and_recovers(store: Store, feed_server: FeedServer) -> None:
    feed_server.fault("storm.xml", Fault(status=500))
    feed = await add(store, "storm", feed_server.url("storm.xml"))
    delays = []
    for _ in range(5):
        (outcome,) = await poll(store, feed)
        delays.append(outcome.next_delay)
        refreshed = await store.feeds.get("storm")
        assert refreshed is not None
        feed = refreshed
    assert delays == sorted(delays) and delays[-1] > 4 * delays[0], delays
    feed_server.clear_fault("storm.xml")
    feed_server.publish("storm.xml", rss(OLD_ITEMS))
    (outcome,) = await poll(store, feed)
    assert outcome.status == "primed"
    recovered = await store.feeds.get("storm")
    assert recovered is not None and recovered.failures == 0 and recovered.failing_since is None


async def test_truncated_and_entity_bomb_documents_are_survived(
    store: Store, feed_server: FeedServer
) -> None:
    whole = rss(OLD_ITEMS)
    feed_server.publish("truncated.xml", whole[: whole.index("</item>") + 40])
    laughs = '<!ENTITY l0 "lol">' + "".join(
        f'<!ENTITY l{i} "{f"&l{i - 1};" * 10}">' for i in range(1, 10)
    )
    bomb = whole.replace(
        '<?xml version="1.0" encoding="utf-8"?>',
        f'<?xml version="1.0" encoding="utf-8"?><!DOCTYPE rss [{laughs}]>',
    ).replace("Clear skies.", "&l9;")
    feed_server.publish("bomb.xml", bomb)
    feeds = [
        await add(store, "truncated", feed_server.url("truncated.xml")),
        await add(store, "bomb", feed_server.url("bomb.xml")),
    ]
    tracemalloc.start()
    try:
        outcomes = {o.feed: o for o in await poll(store, *feeds)}
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert outcomes["truncated"].status == "primed"
    assert outcomes["bomb"].status == "primed"
    assert peak < 50_000_000, f"peak Python memory {peak / 1e6:.1f} MB"
    assert await store.polls.seen_keys(feeds[0].id, ["n-1"]) == {"n-1"}


async def test_a_nul_in_a_guid_or_link_is_no_reason_to_lose_a_feed(
    store: Store, feed_server: FeedServer
) -> None:
    """PostgreSQL keeps no NUL in text: a guid or link with one failed every poll of its feed."""
    feed_server.publish(
        "nul.xml", rss([{"title": "a", "guid": "g-\x00-1", "link": "https://x.example/\x00"}])
    )
    json_feed = {
        "version": "https://jsonfeed.org/version/1.1",
        "items": [{"id": "j-\u0000-1", "url": "https://x.example/\u0000", "title": "b"}],
    }
    feed_server.publish("nul.json", json.dumps(json_feed), content_type="application/feed+json")
    feeds = [
        await add(store, "nul-rss", feed_server.url("nul.xml")),
        await add(store, "nul-json", feed_server.url("nul.json")),
    ]
    outcomes = await poll(store, *feeds)
    assert {o.status for o in outcomes} == {"primed"}, outcomes
    assert await store.polls.seen_keys(feeds[0].id, ["g--1"]) == {"g--1"}
    assert await store.polls.seen_keys(feeds[1].id, ["j--1"]) == {"j--1"}


async def test_redirect_chains_are_capped(store: Store, feed_server: FeedServer) -> None:
    feed_server.publish("end.xml", rss(OLD_ITEMS))
    for hop in range(8):
        target = feed_server.url(f"r{hop + 1}") if hop < 7 else feed_server.url("end.xml")
        feed_server.fault(f"r{hop}", Fault(status=302, redirect_to=target))
    short = await add(store, "short", feed_server.url("r4"))
    long = await add(store, "long", feed_server.url("r0"))
    outcomes = {o.feed: o for o in await poll(store, short, long)}
    assert outcomes["short"].status == "primed"
    assert outcomes["long"].status == "error" and "redirects" in (outcomes["long"].error or "")
    moved = await store.feeds.get("short")
    assert moved is not None and moved.url == feed_server.url("r4"), "302 does not move a feed"


async def test_410_disables_the_feed_and_admins_hear_once(
    tmp_path: Path, feed_server: FeedServer
) -> None:
    feed_server.fault("feed.xml", Fault(status=410))
    out = io.StringIO()
    from bot.config import load_config

    app = App(
        Settings(database_url=f"sqlite+aiosqlite:///{tmp_path / 'db.sqlite'}"),
        load_config(write_config(tmp_path, feed_server.url("feed.xml"))),
        stdout=out,
    )
    await app.start()
    try:
        (outcome,) = await app.run_once()
        assert outcome.status == "disabled"
        assert await app.run_once() == [], "a disabled feed is not polled again"
        assert app.store is not None
        feed = await app.store.feeds.get("local")
        assert feed is not None and feed.state == "disabled"
    finally:
        await app.close()
    assert out.getvalue().count("Feed local is gone and was disabled") == 1
    assert out.getvalue().count(feed_server.url("feed.xml")) == 1, "the URL is named once"


async def test_a_day_of_failures_marks_the_feed_failing_then_recovered(
    tmp_path: Path, feed_server: FeedServer
) -> None:
    from bot.config import load_config

    now = [1_000_000.0]
    feed_server.publish("feed.xml", rss(OLD_ITEMS))
    out = io.StringIO()
    app = App(
        Settings(database_url=f"sqlite+aiosqlite:///{tmp_path / 'db.sqlite'}"),
        load_config(write_config(tmp_path, feed_server.url("feed.xml"))),
        stdout=out,
        clock=lambda: now[0],
    )
    await app.start()
    try:
        await app.run_once()
        feed_server.fault("feed.xml", Fault(status=500))
        states = []
        for hours in (1, 6, 12, 25, 31, 37):
            now[0] = 1_000_000.0 + hours * 3600
            (outcome,) = await app.run_once()
            states.append(outcome.state)
        assert states == ["active", "active", "active", "failing", "failing", "failing"]
        assert out.getvalue().count("Feed local is failing") == 1
        feed_server.clear_fault("feed.xml")
        now[0] += 6 * 3600
        (outcome,) = await app.run_once()
        assert outcome.state == "active"
        assert out.getvalue().count("Feed local is back") == 1
    finally:
        await app.close()
