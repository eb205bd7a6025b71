"""The subscriber's decisions against the store (SQLite and PostgreSQL), with the hub's side
recorded by an httpx transport: a hub named by a chat-added feed is checked like the feed, a
feed that names another hub moves its subscription, and a hub's refusal is retried later."""

from __future__ import annotations

import httpx
import pytest

from bot.feeds.parse import ParsedFeed
from bot.netguard import PinnedTransport, URLGuard
from bot.store import Store
from bot.store.records import FeedSpec, PollRecord
from bot.store.websub import PushState
from bot.websub import PushTiming, Subscriber

TIMING = PushTiming(retry_first=60.0)


def hub_side(status: int = 202) -> tuple[httpx.MockTransport, list[httpx.Request]]:
    seen: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(status, text="hub says no\nmore" if status >= 400 else "")

    return httpx.MockTransport(answer), seen


def recording(status: int = 202) -> tuple[httpx.AsyncClient, list[httpx.Request]]:
    transport, seen = hub_side(status)
    return httpx.AsyncClient(transport=transport), seen


async def test_a_chat_feeds_hub_on_loopback_is_refused_without_a_request(store: Store) -> None:
    feed = await store.feeds.add(FeedSpec("chatfeed", "https://news.example/rss", 300.0))
    assert feed is not None and feed.origin == "chat"
    await store.websub.discovered(feed.id, "http://127.0.0.1:9/hub", feed.url, now=1000.0)
    client, seen = recording()
    subscriber = Subscriber(
        store.websub, client, "https://bot.example", timing=TIMING, chat_guard=URLGuard
    )
    async with client:
        await subscriber.step()
    [sub] = await store.websub.all()
    assert seen == []
    assert sub.state is PushState.PENDING and sub.failures == 1
    assert "loopback" in (sub.last_error or "")


async def test_a_chat_feeds_hub_is_asked_at_the_address_its_guard_approved(store: Store) -> None:
    feed = await store.feeds.add(FeedSpec("chatfeed", "https://news.example/rss", 300.0))
    assert feed is not None
    await store.websub.discovered(feed.id, "https://hub.example/", feed.url, now=1000.0)
    lookups: list[str] = []

    async def resolver(host: str, port: int) -> list[str]:
        lookups.append(host)
        return ["93.184.216.34"]

    guard = URLGuard(resolver=resolver)
    client, unpinned = recording()
    hub, seen = hub_side()
    subscriber = Subscriber(
        store.websub,
        client,
        "https://bot.example",
        timing=TIMING,
        chat_guard=lambda: guard,
        chat_transport=lambda approved: PinnedTransport(approved, hub),
    )
    async with client:
        await subscriber.step()
    assert unpinned == [], "never through the client that looks names up again"
    [request] = seen
    assert lookups == ["hub.example"], "one lookup, by the guard"
    assert request.url.host == "93.184.216.34" and request.headers["Host"] == "hub.example"
    assert request.extensions["sni_hostname"] == "hub.example"
    [sub] = await store.websub.all()
    assert sub.failures == 0 and sub.state is PushState.REQUESTED


async def test_a_refusing_hub_is_retried_later_and_another_hub_moves_the_subscription(
    store: Store,
) -> None:
    feed = await store.feeds.add(FeedSpec("blog", "https://blog.example/feed", 300.0), "config")
    assert feed is not None
    await store.websub.discovered(feed.id, "https://hub.example/", feed.url, now=1000.0)
    client, seen = recording(status=400)
    subscriber = Subscriber(
        store.websub, client, "https://bot.example/", timing=TIMING, clock=lambda: 5000.0
    )
    async with client:
        await subscriber.step()
    [request] = seen
    form = dict(httpx.QueryParams(request.content.decode()))
    [sub] = await store.websub.all()
    assert form["hub.mode"] == "subscribe" and form["hub.topic"] == feed.url
    assert form["hub.callback"] == f"https://bot.example/websub/{sub.callback_token}"
    assert form["hub.secret"] == sub.secret and len(sub.secret) >= 32
    assert sub.failures == 1 and "HTTP 400 hub says no" in (sub.last_error or "")
    assert sub.next_action_at == 5060.0  # retried a minute later, polled meanwhile

    # the feed now names another hub: a new subscription, the old one is let go
    assert await store.websub.discovered(feed.id, "https://hub2.example/", feed.url, now=2000.0)
    assert not await store.websub.discovered(feed.id, "https://hub2.example/", feed.url, 2001.0)
    old, new = await store.websub.all()
    assert (old.feed_id, old.state, old.feed_wanted) == (None, PushState.UNSUBSCRIBING, False)
    assert (new.feed_id, new.hub, new.state) == (
        feed.id,
        "https://hub2.example/",
        PushState.PENDING,
    )
    assert new.callback_token != old.callback_token and new.secret != old.secret


async def test_a_pushed_feed_is_polled_when_its_lease_ends_if_the_hub_will_not_renew(
    store: Store,
) -> None:
    """A pushed feed is polled hourly; a renewal its hub refuses must not leave it so once the
    lease ends (pushes stop then), and one refused after the lease ended has it polled now."""
    feed = await store.feeds.add(FeedSpec("blog", "https://blog.example/feed", 60.0), "config")
    assert feed is not None
    await store.websub.discovered(feed.id, "https://hub.example/", feed.url, now=1000.0)
    [sub] = await store.websub.all()
    await store.websub.verified(sub.id, lease=1000.0, now=1000.0, renew_at=1800.0)
    client, seen = recording(status=503)
    async with client:
        # (a poll an hour before the next, the hub refusing at, the feed's next poll then)
        for polled, now, polled_by in ((1000.0, 1800.0, 2000.0), (2400.0, 2500.0, 2500.0)):
            hourly = PollRecord("active", None, None, None, 1, None, polled + 3600, True)
            await store.polls.record(feed.id, hourly, polled)
            subscriber = Subscriber(
                store.websub, client, "https://bot.example/", timing=TIMING, clock=lambda t=now: t
            )
            await subscriber.step()
            refreshed = await store.feeds.get("blog")
            assert refreshed is not None and refreshed.next_poll_at == polled_by, now
    assert len(seen) == 2


async def test_a_public_config_feed_cannot_point_the_bot_at_a_hub_inside(
    store: Store, caplog: pytest.LogCaptureFixture
) -> None:
    """The hub comes from the feed's document, written by whoever runs the feed: a public feed
    naming `http://127.0.0.1/…` as its hub made the bot POST there."""

    async def resolver(host: str, port: int) -> list[str]:
        return {"news.example": ["93.184.216.34"], "intranet.example": ["10.0.0.7"]}[host]

    public = await store.feeds.add(FeedSpec("public", "https://news.example/rss", 300.0), "config")
    inside = await store.feeds.add(
        FeedSpec("inside", "http://intranet.example/rss", 300.0), "config"
    )
    assert public is not None and inside is not None
    client, seen = recording()
    subscriber = Subscriber(
        store.websub,
        client,
        "https://bot.example",
        timing=TIMING,
        chat_guard=lambda: URLGuard(resolver=resolver),
    )
    hub_inside = ParsedFeed("t", (), links=(("hub", "http://127.0.0.1:9/hub"),))
    async with client:
        for _ in range(2):  # said once
            await subscriber.document(public, hub_inside, {}, public.url)
        await subscriber.document(inside, hub_inside, {}, inside.url)  # a hub beside its feed
        await subscriber.step()
    [sub] = await store.websub.all()
    assert sub.feed_id == inside.id
    assert [str(r.url) for r in seen] == ["http://127.0.0.1:9/hub"]
    refusals = [m for m in caplog.messages if "will not use" in m]
    assert refusals == [
        "feed public: names a WebSub hub the bot will not use: "
        "http://127.0.0.1:9/hub: 127.0.0.1 resolves to a loopback address (127.0.0.1)"
    ], refusals
