"""The store on SQLite and PostgreSQL: seen keys, outbox claims in order, leases, chat changes."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import event, func, select

from bot.models import FeedItem, Platform, Recipient
from bot.store import Store, connect
from bot.store import chats as chats_module
from bot.store.codec import decode_alert, encode_alert
from bot.store.records import FeedSpec, PollRecord, QueuedAlert
from bot.store.schema import stories

ALICE = Recipient(Platform.TELEGRAM, "1")
BOB = Recipient(Platform.TELEGRAM, "2")
OK = PollRecord("active", None, None, None, 0, None, None, succeeded=True)


def alert(recipient: Recipient, key: str) -> QueuedAlert:
    item = FeedItem(key=key, guid=key, link=f"https://n/{key}", title=f"title {key}", summary="")
    return QueuedAlert(recipient, key, encode_alert(item, ()), None)


async def feed_id(store: Store, name: str = "f") -> int:
    await store.feeds.sync([FeedSpec(name, f"https://n/{name}.xml", 60)])
    feed = await store.feeds.get(name)
    assert feed is not None
    return feed.id


async def test_seen_keys_and_alerts_commit_together(store: Store) -> None:
    fid = await feed_id(store)
    queued = await store.polls.record(
        fid, OK, 1.0, listed_keys=["a", "b"], alerts=[alert(ALICE, "a"), alert(BOB, "a")]
    )
    assert queued == {"telegram": 2}
    assert await store.polls.seen_keys(fid, ["a", "b", "c"]) == {"a", "b"}
    again = await store.polls.record(fid, OK, 2.0, listed_keys=["a"], alerts=[alert(ALICE, "a")])
    assert again == {}, "a key inserted once queues its alerts once, even if a poll repeats"


async def test_claims_hand_out_each_chats_oldest_alert_first(store: Store) -> None:
    fid = await feed_id(store)
    alerts = [alert(ALICE, "a1"), alert(BOB, "b1"), alert(ALICE, "a2"), alert(ALICE, "a3")]
    await store.polls.record(fid, OK, 1.0, listed_keys=["a1", "b1", "a2", "a3"], alerts=alerts)
    sent: list[str] = []
    for now in range(2, 10):
        batch = await store.outbox.claim(Platform.TELEGRAM, float(now))
        assert len({e.chat_ref for e in batch}) == len(batch), "one alert per chat at a time"
        for entry in batch:
            sent.append(decode_alert(entry.payload)[0].key)
            await store.outbox.mark_sent(entry, float(now))
    assert sent == ["a1", "b1", "a2", "a3"]


async def test_a_retrying_alert_holds_back_the_rest_of_its_chat(store: Store) -> None:
    fid = await feed_id(store)
    await store.polls.record(
        fid, OK, 1.0, listed_keys=["a1", "a2"], alerts=[alert(ALICE, "a1"), alert(ALICE, "a2")]
    )
    (first,) = await store.outbox.claim(Platform.TELEGRAM, 2.0)
    await store.outbox.retry_later(first, 100.0, "HTTP 502")
    assert await store.outbox.claim(Platform.TELEGRAM, 3.0) == []
    (again,) = await store.outbox.claim(Platform.TELEGRAM, 100.0)
    assert again.id == first.id and again.attempts == 2


async def test_an_expired_lease_is_claimed_again(store: Store) -> None:
    fid = await feed_id(store)
    await store.polls.record(fid, OK, 1.0, listed_keys=["a"], alerts=[alert(ALICE, "a")])
    (entry,) = await store.outbox.claim(Platform.TELEGRAM, 2.0, lease=30)
    assert await store.outbox.claim(Platform.TELEGRAM, 10.0) == []
    (reclaimed,) = await store.outbox.claim(Platform.TELEGRAM, 40.0)
    assert reclaimed.id == entry.id


async def test_two_processes_never_claim_the_same_row(database_url: str) -> None:
    first, second = await connect(database_url), await connect(database_url)
    try:
        fid = await feed_id(first)
        recipients = [Recipient(Platform.TELEGRAM, str(n)) for n in range(40)]
        await first.polls.record(
            fid, OK, 1.0, listed_keys=["k"], alerts=[alert(r, "k") for r in recipients]
        )
        claimed: list[int] = []
        for _ in range(20):
            a, b = await asyncio.gather(
                first.outbox.claim(Platform.TELEGRAM, 2.0, limit=5),
                second.outbox.claim(Platform.TELEGRAM, 2.0, limit=5),
            )
            claimed += [e.id for e in a + b]
        assert len(claimed) == len(set(claimed)), "a row was leased to both processes"
        assert len(claimed) == 40
    finally:
        await first.close()
        await second.close()


async def test_deactivating_a_chat_fails_its_queue_and_drops_it_from_routing(store: Store) -> None:
    fid = await feed_id(store)
    await store.chats.subscribe(ALICE, ["ai"], 1.0)
    await store.polls.record(fid, OK, 1.0, listed_keys=["a"], alerts=[alert(ALICE, "a")])
    chat = await store.chats.get(ALICE)
    assert chat is not None
    await store.chats.deactivate(chat.id, "Forbidden: bot was blocked by the user")
    assert await store.chats.subscriptions() == []
    assert await store.outbox.claim(Platform.TELEGRAM, 5.0) == []
    assert (await store.outbox.counts())[("telegram", "failed")] == 1
    # back: the user subscribes again, and starts afresh (the old topics were not shown)
    await store.chats.set_keyword(ALICE, "반도체", True, 5.0)
    assert await store.chats.subscribe(ALICE, ["breaking"], 6.0) == ["breaking"]
    (back,) = await store.chats.subscriptions()
    assert (back.recipient, back.topics, back.keywords) == (ALICE, {"breaking"}, frozenset())


async def test_a_migrated_group_keeps_its_subscriptions_and_queue(store: Store) -> None:
    group = Recipient(Platform.TELEGRAM, "-100")
    fid = await feed_id(store)
    await store.chats.subscribe(group, ["ai"], 1.0)
    await store.polls.record(fid, OK, 1.0, listed_keys=["a"], alerts=[alert(group, "a")])
    (entry,) = await store.outbox.claim(Platform.TELEGRAM, 2.0)
    await store.chats.move(entry.chat_ref, "-1009")
    await store.outbox.retry_later(entry, 2.0, "migrated")
    (moved,) = await store.outbox.claim(Platform.TELEGRAM, 3.0)
    assert moved.recipient == Recipient(Platform.TELEGRAM, "-1009")
    subs = await store.chats.subscriptions()
    assert [(s.recipient.chat_id, set(s.topics)) for s in subs] == [("-1009", {"ai"})]


async def test_subscriptions_keywords_and_static_ones(store: Store) -> None:
    assert await store.chats.subscribe(ALICE, ["ai", "breaking"], 1.0) == ["ai", "breaking"]
    assert await store.chats.subscribe(ALICE, ["ai"], 1.0) == []
    assert await store.chats.set_keyword(ALICE, "반도체", True, 1.0)
    await store.chats.sync_static({BOB: (frozenset({"policy-finance"}), frozenset())}, 1.0)
    subs = {s.recipient: s for s in await store.chats.subscriptions()}
    assert subs[ALICE].topics == {"ai", "breaking"} and subs[ALICE].keywords == {"반도체"}
    assert subs[BOB].topics == {"policy-finance"}
    await store.chats.sync_static({}, 2.0)
    assert BOB not in {s.recipient for s in await store.chats.subscriptions()}
    assert await store.chats.unsubscribe(ALICE, None) == ["ai", "breaking"]
    assert await store.chats.subscriptions() == []


async def test_routing_is_reused_until_a_change_or_its_ttl(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    here, other = await connect(database_url), await connect(database_url)
    try:
        monkeypatch.setattr(chats_module, "ROUTING_TTL", 3600.0)
        assert await here.chats.routing() == []
        await here.chats.subscribe(ALICE, ["ai"], 1.0)
        assert [s.recipient for s in await here.chats.routing()] == [ALICE], "own change: read"
        await other.chats.subscribe(BOB, ["ai"], 1.0)
        assert [s.recipient for s in await here.chats.routing()] == [ALICE], "reused"
        monkeypatch.setattr(chats_module, "ROUTING_TTL", 0.0)
        assert {s.recipient for s in await here.chats.routing()} == {ALICE, BOB}, "read again"
    finally:
        await here.close()
        await other.close()


async def test_prune_keeps_keys_the_feed_still_lists(store: Store) -> None:
    fid = await feed_id(store)
    await store.polls.record(fid, OK, 1.0, listed_keys=["old", "still-listed"])
    await store.polls.record(fid, OK, 500.0, listed_keys=["still-listed"])
    await store.prune(before=100.0)
    assert await store.polls.seen_keys(fid, ["old", "still-listed"]) == {"still-listed"}


async def add_report(store: Store, story: int | None, feed: str, now: float) -> int:
    story_id, *_ = await store.stories.add_item(
        story,
        feed_name=feed,
        item_key=f"{feed}-1",
        source=feed,
        title="산업부, AI 반도체 지원",
        link=f"https://{feed}.example/1",
        features={"t": ["산업부"]},
        topics=["ai"],
        now=now,
    )
    return story_id


async def test_stories_keep_one_source_per_feed_and_are_pruned_with_their_items(
    store: Store,
) -> None:
    old = await add_report(store, None, "hani", 1.0)
    assert await add_report(store, old, "seoul", 2.0) == old
    assert await add_report(store, None, "hani", 3.0) == old, "a filed item keeps its story"
    async with store.db.reading() as conn:
        assert (await conn.execute(select(func.count()).select_from(stories))).scalar() == 1
    fresh = await add_report(store, None, "kmib", 500.0)
    assert [s.name for s in await store.stories.sources(old)] == ["hani", "seoul"]

    await store.prune(before=100.0)
    assert await store.stories.sources(old) == []
    assert [s.name for s in await store.stories.sources(fresh)] == ["kmib"]
    assert [r.story_id for r in await store.stories.items_since(0, 0.0)] == [fresh]


async def test_a_list_of_feeds_is_added_in_a_few_statements_and_no_feed_twice(
    store: Store,
) -> None:
    """An OPML import of thousands read every stored feed once per feed it added (20,000 feeds
    did not finish in five minutes); now once for the list, whatever its length."""
    await store.feeds.add(FeedSpec("stored", "https://one.example/feed", 600.0))
    specs = [FeedSpec(f"f{n}", f"https://site{n}.example/feed", 600.0) for n in range(300)]
    specs += [
        FeedSpec("stored", "https://other.example/feed", 600.0),  # a stored feed's name
        FeedSpec("again", "http://ONE.example/feed/?utm_source=x", 600.0),  # its URL, respelled
        FeedSpec("twice", "https://site7.example/feed", 600.0),  # a URL earlier in the list
    ]
    statements: list[str] = []

    def count(conn: object, cursor: object, statement: str, *args: object) -> None:
        statements.append(statement)

    event.listen(store.db.engine.sync_engine, "before_cursor_execute", count)
    try:
        added = await store.feeds.add_many(specs, "opml")
    finally:
        event.remove(store.db.engine.sync_engine, "before_cursor_execute", count)
    assert added == [True] * 300 + [False, False, False]
    assert len(await store.feeds.all()) == 301
    assert len(statements) <= 4, statements  # one read, then the rows in multi-row batches


async def test_processes_starting_at_once_sync_the_config_one_after_the_other(
    database_url: str,
) -> None:
    """Two processes started together on a new database each write the config's feeds and
    declared subscriptions: neither is refused for a row the other inserted meanwhile."""
    specs = [FeedSpec(f"feed-{n}", f"https://n/{n}.xml", 60) for n in range(20)]
    wanted = {Recipient(Platform.TELEGRAM, "-100"): (frozenset({"ai"}), frozenset({"반도체"}))}
    stores = [await connect(database_url) for _ in range(3)]
    try:
        await asyncio.gather(*(store.feeds.sync(specs) for store in stores))
        await asyncio.gather(*(store.chats.sync_static(wanted, 1.0) for store in stores))
        assert sorted(feed.name for feed in await stores[0].feeds.all()) == sorted(
            spec.name for spec in specs
        )
    finally:
        for store in stores:
            await store.close()
