"""Polls that write thousands of alerts, and polls whose commit the store refuses."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator

import pytest

from bot.app import App
from bot.config import LoadedConfig, parse_config
from bot.models import FeedCondition, Platform, PollStatus, Recipient
from bot.settings import Settings
from tests.fakes.feed_server import FeedServer, rss
from tests.helpers import OLD_ITEMS, REPO, config_yaml, one_feed

CHATS = [Recipient(Platform.TELEGRAM, str(1000 + n)) for n in range(90)]


@pytest.fixture
async def app(database_url: str, feed_server: FeedServer) -> AsyncIterator[App]:
    """The bot polling `local` (stories off: every item alerts), primed, 90 chats on `ai`."""
    text = config_yaml(one_feed(feed_server.url("feed.xml"))) + "stories: {enabled: false}\n"
    app = App(
        Settings(database_url=database_url),
        LoadedConfig(parse_config(text), REPO / "subscriptions.yaml"),
        stdout=io.StringIO(),
    )
    await app.start()
    assert app.store is not None
    for chat in CHATS:
        await app.store.chats.subscribe(chat, ["ai"], 1.0)
    feed_server.publish("feed.xml", rss(OLD_ITEMS))
    await app.poll_all()
    try:
        yield app
    finally:
        await app.close()


def ai_items(count: int) -> list[dict[str, str]]:
    return [
        {
            "title": f"AI chip export record number {n}",
            "link": f"https://news.example/ai/{n}",
            "guid": f"ai-{n}",
            "description": f"Exports of AI chips, report {n}.",
        }
        for n in range(count)
    ]


async def test_fifty_new_items_for_ninety_chats_queue_every_alert(
    app: App, feed_server: FeedServer
) -> None:
    feed_server.publish("feed.xml", rss(ai_items(50) + OLD_ITEMS))
    (outcome,) = await app.poll_all()
    assert outcome.status is PollStatus.NEW
    assert outcome.queued["telegram"] == 50 * 90
    assert app.store is not None
    feed = await app.store.feeds.get("local")
    assert feed is not None and feed.condition is FeedCondition.OK


async def refuse_alerts(app: App) -> None:
    """Make the database itself refuse every new outbox row, as a full disk would."""
    assert app.store is not None
    async with app.store.db.transaction() as conn:
        if app.store.dialect == "postgresql":
            await conn.exec_driver_sql(
                "CREATE FUNCTION refuse() RETURNS trigger AS "
                "$$ BEGIN RAISE EXCEPTION 'outbox refused'; END $$ LANGUAGE plpgsql"
            )
            await conn.exec_driver_sql(
                "CREATE TRIGGER refuse BEFORE INSERT ON outbox "
                "FOR EACH ROW EXECUTE FUNCTION refuse()"
            )
        else:
            await conn.exec_driver_sql(
                "CREATE TRIGGER refuse BEFORE INSERT ON outbox "
                "BEGIN SELECT RAISE(ABORT, 'outbox refused'); END"
            )


async def test_a_poll_the_store_refuses_is_a_failure_of_its_feed(
    app: App, feed_server: FeedServer
) -> None:
    assert app.store is not None and app.ops is not None
    await refuse_alerts(app)
    feed_server.publish("feed.xml", rss(ai_items(1) + OLD_ITEMS))
    (outcome,) = await app.poll_all()
    assert outcome.status is PollStatus.ERROR
    feed = await app.store.feeds.get("local")
    assert feed is not None and feed.condition is FeedCondition.FAILING
    assert feed.last_error is not None and "outbox refused" in feed.last_error
    _, details = await app.ops.health()
    assert details["failing_feeds"] == ["local"]
    page, _ = await app.ops.metrics_text()
    assert 'newsbot_polls_total{outcome="error"} 1.0' in page.decode()

    async with app.store.db.transaction() as conn:
        await conn.exec_driver_sql(
            "DROP TRIGGER refuse" + (" ON outbox" if app.store.dialect == "postgresql" else "")
        )
    (again,) = await app.poll_all()
    assert again.queued["telegram"] == 90, "the refused poll's items are still new"
