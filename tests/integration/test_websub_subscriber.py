"""The subscriber's decisions against the store (SQLite and PostgreSQL), with the hub's side
recorded by an httpx transport: a hub named by a chat-added feed is checked like the feed, a
feed that names another hub moves its subscription, and a hub's refusal is retried later."""

from __future__ import annotations

import httpx

from bot.netguard import URLGuard
from bot.store import Store
from bot.store.records import FeedSpec
from bot.store.websub import PushState
from bot.websub import PushTiming, Subscriber

TIMING = PushTiming(retry_first=60.0)


def recording(status: int = 202) -> tuple[httpx.AsyncClient, list[httpx.Request]]:
    seen: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(status, text="hub says no\nmore" if status >= 400 else "")

    return httpx.AsyncClient(transport=httpx.MockTransport(answer)), seen


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
